"""Pay at the front desk: the order waits, with its stock held, for the clerk to take the money."""
from __future__ import annotations

from datetime import timedelta

from hotel_community.hookspecs import PaymentProvider, PaymentStart, hookimpl
from hotel_community.i18n import lazy_gettext as _l
from hotel_community.models import Order


class PayAtDesk(PaymentProvider):
    name = "pay_at_desk"
    label = _l("Pay at the front desk")
    #: Long enough to come down to the desk today.
    hold = timedelta(hours=24)

    def start_payment(self, order: Order) -> PaymentStart:
        return PaymentStart(status="pending")

    def refund(self, order: Order, amount: int, idempotency_key: str) -> str:
        """The clerk gives the money back in person; the history records who did."""
        return f"desk-{idempotency_key}"


@hookimpl
def hotel_community_payment_providers() -> list[PaymentProvider]:
    return [PayAtDesk()]
