"""Charge to my room: the order is paid at once and the charge goes to the room charge outbox.

The outbox (:mod:`hotel_community.services.room_charges`) posts it to the
stay's PMS folio, with retries, or queues it for the front desk.
"""
from __future__ import annotations

from hotel_community.database import transaction
from hotel_community.hookspecs import PaymentProvider, PaymentStart, hookimpl
from hotel_community.i18n import lazy_gettext as _l
from hotel_community.models import Order, Property, Stay, StayStatus
from hotel_community.services import room_charges


class RoomChargeProvider(PaymentProvider):
    name = "room_charge"
    label = _l("Charge to my room")

    def is_available(self, prop: Property, stay: Stay | None) -> bool:
        """Only for a signed-in guest in house at this property."""
        return (stay is not None and stay.property_id == prop.id
                and stay.status == StayStatus.in_house)

    def start_payment(self, order: Order) -> PaymentStart:
        room_charges.enqueue(order, order.total, _description(order))
        return PaymentStart(status="paid")

    def refund(self, order: Order, amount: int, idempotency_key: str) -> str:
        """Credit the folio: a negative charge through the same outbox."""
        key = f"{idempotency_key}-credit"
        with transaction():
            room_charges.enqueue(order, -amount, "Refund: " + _description(order), key)
        return key


def _description(order: Order) -> str:
    return f"{order.quantity} x {order.product_name}"


@hookimpl
def hotel_community_payment_providers() -> list[PaymentProvider]:
    return [RoomChargeProvider()]
