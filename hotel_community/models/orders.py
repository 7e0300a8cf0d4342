"""Orders: what a guest bought, how it is paid, and every step taken on it.

An order is one product in some quantity: scan to buy is one item at a time.
Its status only ever moves through conditional UPDATEs (``WHERE status = ...``)
in :mod:`hotel_community.services.orders`, so two workers, a webhook and a
clerk can act on one order at once and each change happens exactly once.
"""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotel_community.database import Base, utcnow
from hotel_community.models.shop import Placement, Product
from hotel_community.models.stays import Member, Property, Stay, _enum


class OrderStatus(str, enum.Enum):
    pending_payment = "pending_payment"
    paid = "paid"
    fulfilled = "fulfilled"
    cancelled = "cancelled"
    #: Refunded in full; a partial refund keeps the status and raises ``Order.refunded``.
    refunded = "refunded"


class Order(Base):
    __tablename__ = "hc_order"
    __table_args__ = (
        UniqueConstraint("provider", "provider_ref"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("total >= 0", name="total_not_negative"),
        CheckConstraint("refunded >= 0 AND refunded <= total", name="refund_within_total"),
        Index("ix_hc_order_property_status", "property_id", "status", "id"),
        Index("ix_hc_order_member", "member_id", "id"),
        Index("ix_hc_order_expiry", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Unguessable: the order page's URL, so a guest who is not signed in can come back to it.
    token: Mapped[str] = mapped_column(String(32), unique=True)
    property_id: Mapped[int] = mapped_column(ForeignKey("hc_property.id", ondelete="CASCADE"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("hc_member.id", ondelete="SET NULL"))
    #: The in-house stay the order was placed from (room delivery, room charge).
    stay_id: Mapped[int | None] = mapped_column(
        ForeignKey("hc_stay.id", ondelete="SET NULL"), index=True)
    placement_id: Mapped[int | None] = mapped_column(
        ForeignKey("hc_placement.id", ondelete="SET NULL"), index=True)
    product_id: Mapped[int | None] = mapped_column(
        ForeignKey("hc_product.id", ondelete="SET NULL"), index=True)
    #: The product's name as the guest read it when buying.
    product_name: Mapped[str] = mapped_column(String(200))
    #: Minor units, like ``Product.price``; ``total = unit_price * quantity``.
    unit_price: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    #: Minor units refunded so far (never more than ``total``).
    refunded: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[OrderStatus] = mapped_column(_enum(OrderStatus, "order_status"))
    #: Payment provider name (``stripe``, ``room_charge``, ``pay_at_desk``).
    provider: Mapped[str] = mapped_column(String(40))
    #: The provider's id for the payment (a Stripe PaymentIntent id).
    provider_ref: Mapped[str | None] = mapped_column(String(200))
    #: One of the delivery choices in :mod:`hotel_community.services.shop`.
    delivery: Mapped[str] = mapped_column(String(20))
    room: Mapped[str | None] = mapped_column(String(20))
    ship_name: Mapped[str | None] = mapped_column(String(200))
    ship_phone: Mapped[str | None] = mapped_column(String(40))
    ship_address: Mapped[str | None] = mapped_column(String(500))
    ship_city: Mapped[str | None] = mapped_column(String(100))
    ship_postcode: Mapped[str | None] = mapped_column(String(20))
    ship_country: Mapped[str | None] = mapped_column(String(100))
    locale: Mapped[str] = mapped_column(String(10), default="en")
    #: While pending payment: when the reserved stock goes back on sale.
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime)
    fulfilled_at: Mapped[datetime | None] = mapped_column(DateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime)

    property: Mapped[Property] = relationship()
    member: Mapped[Member | None] = relationship()
    stay: Mapped[Stay | None] = relationship()
    placement: Mapped[Placement | None] = relationship()
    product: Mapped[Product | None] = relationship()
    events: Mapped[list[OrderEvent]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderEvent.id")

    def __repr__(self) -> str:
        return f"<Order {self.id} {self.status.value} {self.total} {self.currency}>"


class OrderEvent(Base):
    """One line of an order's history: who did what, when."""

    __tablename__ = "hc_order_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("hc_order.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: ``guest``, ``staff:<name>``, ``stripe``, ``system``...
    actor: Mapped[str] = mapped_column(String(100))
    #: ``placed``, ``paid``, ``payment_failed``, ``expired``, ``fulfilled``, ``cancelled``,
    #: ``refunded``, ``restocked``, ``charge_posted``...
    action: Mapped[str] = mapped_column(String(30))
    #: Money moved by the step (a refund), in minor units.
    amount: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")

    order: Mapped[Order] = relationship(back_populates="events")


class RoomChargeStatus(str, enum.Enum):
    #: Waiting to be posted to the PMS folio (or for its next retry).
    pending = "pending"
    #: The PMS took it; ``pms_charge_id`` is its id.
    posted = "posted"
    #: For the front desk to post by hand: the PMS has no folio API, or retries ran out.
    desk = "desk"
    #: Posted by hand by a clerk.
    desk_posted = "desk_posted"


class RoomCharge(Base):
    """The outbox of charges (and credits, negative) to post to a stay's folio.

    Written in the transaction that makes the order paid, so a charge is never
    lost; posted under a lease with a stable idempotency key, so it is never
    posted twice.
    """

    __tablename__ = "hc_room_charge"
    __table_args__ = (Index("ix_hc_room_charge_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("hc_order.id", ondelete="CASCADE"), index=True)
    property_id: Mapped[int] = mapped_column(ForeignKey("hc_property.id", ondelete="CASCADE"))
    stay_id: Mapped[int | None] = mapped_column(ForeignKey("hc_stay.id", ondelete="SET NULL"))
    room: Mapped[str | None] = mapped_column(String(20))
    #: Minor units; negative for a refund credited back to the folio.
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    description: Mapped[str] = mapped_column(String(200))
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[RoomChargeStatus] = mapped_column(_enum(RoomChargeStatus, "room_charge_status"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: A worker posting the charge holds it until then; another may take it over after.
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    pms_charge_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    posted_at: Mapped[datetime | None] = mapped_column(DateTime)
    posted_by: Mapped[str | None] = mapped_column(String(100))

    order: Mapped[Order] = relationship()
    stay: Mapped[Stay | None] = relationship()
