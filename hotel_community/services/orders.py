"""Orders: one flow for every payment provider, exact under concurrency.

- Placing an order reserves its stock with one conditional UPDATE
  (``stock = stock - n WHERE stock >= n``): of N buyers of the last item
  exactly one gets it, the others a :class:`~hotel_community.errors.SoldOut`.
- Every status change is a conditional UPDATE on the expected old status, so
  a webhook delivered twice, a guest reloading and a clerk clicking at once
  change the order once; the step that wins writes the history line and sends
  the signal.
- Stock goes back exactly once: when a pending payment fails or expires, or
  staff cancel the order.
- A refund is booked on the order *before* the provider is asked (and given
  back if the provider refuses), so two clicks never refund more than was paid.

The reserving transaction is short: the provider is called after it commits,
so a slow payment system never holds the product row lock.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from flask import current_app
from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import joinedload

from hotel_community import signals
from hotel_community.database import session, transaction, utcnow
from hotel_community.errors import (
    Conflict, NotFound, PaymentProviderError, SoldOut, ValidationFailed,
)
from hotel_community.hookspecs import PaymentProvider, PaymentStart, PaymentUpdate
from hotel_community.i18n import lazy_gettext as _l
from hotel_community.models import (
    Member, Order, OrderEvent, OrderStatus, Placement, Product, Property, Stay,
)
from hotel_community.services import shop
from hotel_community.settings import config_value

GUEST = "guest"
SYSTEM = "system"
DESK_PROVIDER = "pay_at_desk"

#: Statuses in which the guest has paid and the money is still (partly) held.
PAID_STATUSES = (OrderStatus.paid, OrderStatus.fulfilled)
#: What a shipping address must have.
ADDRESS_REQUIRED = ("ship_name", "ship_address", "ship_city", "ship_country")


@dataclass(frozen=True)
class ShippingAddress:
    ship_name: str = ""
    ship_phone: str = ""
    ship_address: str = ""
    ship_city: str = ""
    ship_postcode: str = ""
    ship_country: str = ""


@dataclass(frozen=True)
class OrderRequest:
    """What the guest chose on the product page."""

    quantity: int
    delivery: str
    provider: str
    address: ShippingAddress = ShippingAddress()
    locale: str = "en"


# --------------------------------------------------------------------------- providers

def providers() -> dict[str, PaymentProvider]:
    return current_app.extensions["hotel_community"].plugins.payment_providers


def provider_of(order: Order) -> PaymentProvider:
    try:
        return providers()[order.provider]
    except KeyError:
        raise PaymentProviderError(
            f"The payment provider {order.provider!r} of order {order.id} is not installed.") from None


def available_providers(prop: Property, stay: Stay | None) -> list[PaymentProvider]:
    """The ways the guest (in house on ``stay``, or not signed in) can pay, in a stable order."""
    return [provider for _name, provider in sorted(providers().items())
            if provider.is_available(prop, stay)]


# --------------------------------------------------------------------------- placing

def place_order(code: str, member: Member | None, wanted: OrderRequest,
                actor: str = GUEST) -> Order:
    """Reserve the stock, store the order, and start its payment.

    Raises :class:`SoldOut` when the stock is not there (nothing is stored),
    :class:`ValidationFailed` for a choice the guest may not make, and
    :class:`PaymentProviderError` when the provider fails to start (the stock
    goes back at once).
    """
    placement = shop.placement_for_code(code)
    stays = shop.in_house_stays(member, placement.property_id)
    stay = shop.stay_for_delivery(stays, placement, wanted.delivery)
    provider = provider_for(placement.property, stay, wanted.provider)
    _check_choice(placement, stays, wanted)
    order = _reserve(placement, member, stay, provider, wanted, actor)
    return start_payment(order.id, provider)


def start_payment(order_id: int, provider: PaymentProvider) -> Order:
    """Ask the provider to start paying a stored, pending order (after the commit that
    reserved what it buys, so a slow provider never holds a lock). If the provider
    fails, the order is cancelled and what it reserved goes back."""
    try:
        with transaction():
            order = session.get(Order, order_id)
            _apply_start(order, provider.start_payment(order), provider)
    except Exception as exc:
        cancel_unpaid(order_id, SYSTEM, "payment_failed", f"The payment could not start: {exc}")
        if isinstance(exc, PaymentProviderError):
            raise
        raise PaymentProviderError("The payment could not be started; nothing was charged. "
                                   "Please try again or choose another way to pay.") from exc
    if order.status == OrderStatus.paid:
        _send(signals.order_paid, order)
    return order


def provider_for(prop: Property, stay: Stay | None, name: str) -> PaymentProvider:
    """The provider the guest chose, if they may pay that way."""
    provider = providers().get(name)
    if provider is None or not provider.is_available(prop, stay):
        raise ValidationFailed(_l("That way to pay is not available."),
                               {"provider": ["Not available."]})
    return provider


def _check_choice(placement: Placement, stays: list[Stay], wanted: OrderRequest) -> None:
    if not 1 <= wanted.quantity <= shop.MAX_QUANTITY:
        raise ValidationFailed(_l("Choose a quantity from 1 to %(most)d.", most=shop.MAX_QUANTITY),
                               {"quantity": ["Out of range."]})
    if wanted.delivery == shop.TAKE_FROM_ROOM and wanted.quantity != 1:
        raise ValidationFailed(_l("There is one in the room: to take more, choose another delivery."),
                               {"quantity": ["One from the room."]})
    if wanted.delivery not in shop.delivery_options(placement, stays):
        raise ValidationFailed(_l("That delivery is not available to you."),
                               {"delivery": ["Not available."]})
    if wanted.delivery == shop.SHIP_HOME:
        missing = [name for name in ADDRESS_REQUIRED
                   if not getattr(wanted.address, name).strip()]
        if missing:
            raise ValidationFailed(_l("Please fill in the address to ship to."),
                                   {name: ["Required."] for name in missing})


def _reserve(placement: Placement, member: Member | None, stay: Stay | None,
             provider: PaymentProvider, wanted: OrderRequest, actor: str) -> Order:
    product = placement.product
    for attempt in (1, 2):
        with transaction():
            taken = session.execute(
                update(Product)
                .where(Product.id == product.id, Product.active.is_(True),
                       Product.stock >= wanted.quantity)
                .values(stock=Product.stock - wanted.quantity)
                .returning(Product.price)).scalar()
            if taken is not None:
                order = _new_order(placement, member, stay, provider, wanted, unit_price=taken)
                session.add(order)
                session.flush()
                log_step(order, actor, "placed")
                return order
        # Units held by payments that have run out may be back on sale: free them, try once more.
        if attempt == 1 and not expire_pending(product_id=product.id):
            break
    raise SoldOut(_l("Sorry, this item is sold out."))


def _new_order(placement: Placement, member: Member | None, stay: Stay | None,
               provider: PaymentProvider, wanted: OrderRequest, unit_price: int) -> Order:
    product = placement.product
    chinese = wanted.locale.startswith("zh")
    address = vars(wanted.address) if wanted.delivery == shop.SHIP_HOME else {}
    room = None
    if wanted.delivery == shop.TAKE_FROM_ROOM:
        room = placement.location
    elif wanted.delivery == shop.BRING_TO_ROOM and stay is not None:
        room = stay.room
    return Order(
        token=secrets.token_urlsafe(16), property_id=placement.property_id,
        member_id=member.id if member else None, stay_id=stay.id if stay else None,
        placement_id=placement.id, product_id=product.id,
        product_name=(chinese and product.name_zh) or product.name_en,
        unit_price=unit_price, quantity=wanted.quantity, total=unit_price * wanted.quantity,
        currency=product.currency, refunded=0, status=OrderStatus.pending_payment,
        provider=provider.name, delivery=wanted.delivery, room=room, locale=wanted.locale,
        expires_at=hold_until(provider),
        **{name: value.strip() or None for name, value in address.items()})


def hold_until(provider: PaymentProvider) -> datetime:
    """When a new order's pending payment stops holding what it reserved."""
    return utcnow() + (provider.hold or config_value("ORDER_HOLD"))


def _apply_start(order: Order, start: PaymentStart, provider: PaymentProvider) -> None:
    order.provider_ref = start.provider_ref
    if start.status == "paid":
        order.status, order.paid_at, order.expires_at = OrderStatus.paid, utcnow(), None
        log_step(order, provider.name, "paid")


# --------------------------------------------------------------------------- payment outcome

def apply_payment_update(provider_name: str, update_: PaymentUpdate, actor: str | None = None) -> Order | None:
    """Apply what a provider reports (webhook or status check), exactly once.

    Returns the order, or ``None`` when the payment is not one of ours (a
    Stripe account shared with other systems sends their events too).
    """
    order = session.scalar(select(Order).where(Order.provider == provider_name,
                                                Order.provider_ref == update_.provider_ref))
    if order is None:
        return None
    actor = actor or provider_name
    if update_.outcome == "succeeded":
        if not _amount_matches(order, update_):
            with transaction():
                log_step(order, actor, "payment_mismatch",
                     note=f"Paid {update_.amount} {update_.currency}, expected {order.total} {order.currency}.")
            return order
        mark_paid(order.id, actor)
    elif update_.outcome == "failed":
        cancel_unpaid(order.id, actor, "payment_failed", update_.message)
    return session.get(Order, order.id)


def _amount_matches(order: Order, update_: PaymentUpdate) -> bool:
    if update_.amount is None:
        return True
    return update_.amount == order.total and (update_.currency or "").upper() == order.currency.upper()


def mark_paid(order_id: int, actor: str, note: str = "") -> bool:
    """Pending payment -> paid. True if this call made it paid.

    Money that arrives for a cancelled order is handled by :func:`_paid_when_cancelled`.
    """
    if _settle(order_id, actor, note):
        return True
    return _paid_when_cancelled(order_id, actor)


def _settle(order_id: int, actor: str, note: str = "") -> bool:
    with transaction():
        changed = _transition(order_id, (OrderStatus.pending_payment,), OrderStatus.paid,
                              paid_at=utcnow(), expires_at=None)
        if changed:
            log_step(changed, actor, "paid", note=note)
    if changed:
        _send(signals.order_paid, changed)
    return changed is not None


def _paid_when_cancelled(order_id: int, actor: str) -> bool:
    """A payment succeeded for an order that is cancelled.

    If the order only ran out of time, it takes its units back when they are
    still there. Otherwise (sold out meanwhile, or cancelled on purpose) the
    money goes back; a refund the provider refuses is tried again when the
    provider reports the payment again (webhooks are redelivered until they
    succeed). True if the order is paid now.
    """
    order = session.get(Order, order_id)
    if order is None or order.status != OrderStatus.cancelled:
        return False
    if order.paid_at is None and _expired(order) and _take_back(order, actor):
        return True
    with transaction():
        first = session.execute(update(Order).where(Order.id == order_id, Order.paid_at.is_(None))
                                .values(paid_at=utcnow()).returning(Order.id)).scalar()
        if first:
            log_step(order, actor, "paid", note="Paid after the order was cancelled; refunding.")
    session.refresh(order)
    if order.refunded < order.total:
        refund(order_id, order.total - order.refunded, SYSTEM)
    return False


def _expired(order: Order) -> bool:
    return any(event.action == "expired" for event in order.events)


def _take_back(order: Order, actor: str) -> bool:
    with transaction():
        taken = order.product_id is not None and session.execute(
            update(Product).where(Product.id == order.product_id, Product.stock >= order.quantity)
            .values(stock=Product.stock - order.quantity).returning(Product.id)).scalar()
        changed = taken and _transition(order.id, (OrderStatus.cancelled,), OrderStatus.paid,
                                         paid_at=utcnow(), cancelled_at=None)
        if changed:
            log_step(changed, actor, "paid", note="Paid after the hold ran out; the item was still there.")
        else:
            session.rollback()
    if changed:
        _send(signals.order_paid, changed)
    return bool(changed)


def cancel_unpaid(order_id: int, actor: str, action: str = "cancelled", note: str = "") -> bool:
    """Pending payment -> cancelled, stock back on sale. True if this call did it."""
    with transaction():
        changed = _transition(order_id, (OrderStatus.pending_payment,), OrderStatus.cancelled,
                              cancelled_at=utcnow(), expires_at=None)
        if changed:
            _restock(changed)
            log_step(changed, actor, action, note=note)
    if not changed:
        return False
    _cancel_at_provider(changed)  # a failed attempt leaves it open to another card: close it
    _send(signals.order_cancelled, changed)
    return True


def expire_pending(now: datetime | None = None, product_id: int | None = None,
                   limit: int = 500) -> int:
    """Cancel orders whose payment hold has run out; returns how many."""
    query = (select(Order.id).where(Order.status == OrderStatus.pending_payment,
                                    Order.expires_at < (now or utcnow()))
             .order_by(Order.expires_at).limit(limit))
    if product_id is not None:
        query = query.where(Order.product_id == product_id)
    expired = list(session.scalars(query))
    session.rollback()  # end the read before each expiry takes its own transaction
    return sum(cancel_unpaid(order_id, SYSTEM, "expired", "The payment was not completed in time.")
               for order_id in expired)


def sync_with_provider(order: Order) -> Order:
    """Ask the provider how a pending payment stands (the guest is back from paying)."""
    if order.status != OrderStatus.pending_payment or not order.provider_ref:
        return order
    found = provider_of(order).payment_status(order)
    if found is not None:
        apply_payment_update(order.provider, found)
        session.refresh(order)
    return order


# --------------------------------------------------------------------------- staff steps

def fulfil(order_id: int, actor: str) -> Order:
    """Paid -> fulfilled (handed over, delivered to the room, or shipped)."""
    with transaction():
        changed = _transition(order_id, (OrderStatus.paid,), OrderStatus.fulfilled,
                              fulfilled_at=utcnow())
        if changed is None:
            raise Conflict(_l("Only a paid order can be fulfilled."))
        log_step(changed, actor, "fulfilled")
    _send(signals.order_fulfilled, changed)
    return changed


def record_desk_payment(order_id: int, actor: str) -> Order:
    """The clerk took the money at the desk for an order the guest chose to pay there."""
    if get_order(order_id).provider != DESK_PROVIDER:
        raise Conflict(_l("Only orders to be paid at the front desk can be marked paid there."))
    if not _settle(order_id, actor, note="Paid at the front desk."):
        raise Conflict(_l("This order is not waiting for payment."))
    return get_order(order_id)


def cancel(order_id: int, actor: str) -> Order:
    """Cancel an order that has not been handed over; a paid one is refunded in full."""
    if cancel_unpaid(order_id, actor):
        return get_order(order_id)
    order = get_order(order_id)
    if order.status == OrderStatus.cancelled:
        raise Conflict(_l("This order is already cancelled."))
    if order.status == OrderStatus.refunded:
        raise Conflict(_l("This order is already refunded."))
    if order.status != OrderStatus.paid:
        raise Conflict(_l("A fulfilled order cannot be cancelled; refund it instead."))
    refund(order_id, order.total - order.refunded, actor, restock=True, cancel_order=True)
    return get_order(order_id)


def refund(order_id: int, amount: int, actor: str, restock: bool = False,
           cancel_order: bool = False) -> Order:
    """Give back ``amount`` minor units through the order's provider.

    The amount is booked first with a conditional UPDATE (so concurrent
    refunds never exceed what was paid), with a history line whose id makes
    the provider's idempotency key: each booking is asked for once, and a
    booking undone after a failure never lends its key to a later one.
    ``restock`` puts the units back when the refund ends an order that holds
    them (not one already cancelled, whose units went back then).
    """
    if amount <= 0:
        raise ValidationFailed(_l("Enter an amount to refund."), {"amount": ["Must be positive."]})
    with transaction():
        booked = session.execute(
            update(Order).where(Order.id == order_id, Order.refunded + amount <= Order.total,
                                Order.status.in_(PAID_STATUSES + (OrderStatus.cancelled,)),
                                Order.paid_at.is_not(None))
            .values(refunded=Order.refunded + amount).returning(Order.id)).scalar()
        if booked:
            request = OrderEvent(order_id=order_id, actor=actor[:100], action="refund_requested",
                                 amount=amount)
            session.add(request)
            session.flush()
            key = f"hc-refund-{order_id}-{request.id}"
    if not booked:
        get_order(order_id)
        raise Conflict(_l("That is more than is left to refund on this order."))
    order = get_order(order_id)
    try:
        refund_id = provider_of(order).refund(order, amount, key)
    except Exception as exc:
        with transaction():
            session.execute(update(Order).where(Order.id == order_id)
                            .values(refunded=Order.refunded - amount))
            log_step(order, actor, "refund_failed", amount=amount, note=str(exc))
        raise PaymentProviderError(f"The refund was not made: {exc}") from exc
    with transaction():
        order = get_order(order_id)
        session.refresh(order)
        log_step(order, actor, "refunded", amount=amount, note=f"Refund {refund_id}")
        if order.refunded == order.total or cancel_order:
            _end_refunded(order, actor, restock, cancel_order)
    _send(signals.order_refunded, order, amount=amount)
    if cancel_order:
        _send(signals.order_cancelled, order)
    return get_order(order_id)


def _end_refunded(order: Order, actor: str, restock: bool, cancel_order: bool) -> None:
    final = OrderStatus.cancelled if cancel_order else OrderStatus.refunded
    cancelled_at = utcnow() if cancel_order else order.cancelled_at
    holding = _transition(order.id, PAID_STATUSES, final, cancelled_at=cancelled_at)
    if holding is None:  # already cancelled: its units went back when it was
        _transition(order.id, (OrderStatus.cancelled,), final, cancelled_at=cancelled_at)
        return
    if cancel_order:
        log_step(holding, actor, "cancelled")
    if restock:
        _restock(holding)


# --------------------------------------------------------------------------- reading

def get_order(order_id: int) -> Order:
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound(_l("There is no such order."))
    return order


def order_by_token(token: str) -> Order:
    order = None
    if token and len(token) <= 32:
        order = session.scalar(select(Order).where(Order.token == token)
                               .options(joinedload(Order.property), joinedload(Order.placement)))
    if order is None:
        raise NotFound(_l("There is no such order."))
    return order


def orders_of_member(member: Member, limit: int = 50) -> Sequence[Order]:
    """The member's orders, newest first, at every property."""
    return session.scalars(select(Order).where(Order.member_id == member.id)
                           .options(joinedload(Order.property), joinedload(Order.placement))
                           .order_by(Order.id.desc()).limit(limit)).all()


def orders_query(prop: Property) -> Select:
    return select(Order).where(Order.property_id == prop.id)


# --------------------------------------------------------------------------- helpers

def _transition(order_id: int, from_: Sequence[OrderStatus], to: OrderStatus, **values) -> Order | None:
    """One conditional UPDATE; the order if this call moved it, else None."""
    moved = session.execute(
        update(Order).where(Order.id == order_id, Order.status.in_(from_))
        .values(status=to, **values).returning(Order.id)).scalar()
    if moved is None:
        return None
    order = session.get(Order, order_id)
    session.refresh(order)
    return order


def _restock(order: Order) -> None:
    if order.product_id is not None:
        session.execute(update(Product).where(Product.id == order.product_id)
                        .values(stock=Product.stock + order.quantity))
        log_step(order, SYSTEM, "restocked", note=f"{order.quantity} back in stock.")


def _cancel_at_provider(order: Order) -> None:
    """Stop the provider's side of a payment that is no longer wanted (best effort:
    a payment that still succeeds is handled by :func:`mark_paid`)."""
    if not order.provider_ref:
        return
    try:
        provider_of(order).cancel_payment(order)
    except Exception:  # noqa: BLE001 - logged; the order is cancelled either way
        current_app.logger.warning("Could not cancel payment %s of order %s",
                                   order.provider_ref, order.id, exc_info=True)


def log_step(order: Order, actor: str, action: str, amount: int | None = None, note: str = "") -> None:
    """Add a line to the order's history (in the caller's transaction)."""
    session.add(OrderEvent(order_id=order.id, actor=actor[:100], action=action,
                           amount=amount, note=note))


def _send(signal, order: Order, **extra) -> None:
    signal.send(current_app._get_current_object(), order=order, property=order.property, **extra)


def count_by_status(prop: Property) -> dict[OrderStatus, int]:
    rows = session.execute(select(Order.status, func.count()).where(Order.property_id == prop.id)
                           .group_by(Order.status))
    return {status: count for status, count in rows}
