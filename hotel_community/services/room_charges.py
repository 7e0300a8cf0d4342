"""Room charges: the outbox of charges (and credits) to post to a stay's PMS folio.

- :func:`enqueue` only adds a :class:`~hotel_community.models.RoomCharge` to
  the session, so the charge is stored in the same transaction that makes the
  order paid: it is never lost.
- :func:`post_due` claims one due charge at a time with a conditional UPDATE
  (a lease in ``claimed_until``; on PostgreSQL the candidate is picked with
  ``FOR UPDATE SKIP LOCKED``), so two workers never post one charge at once,
  and calls the PMS after that claim is committed, outside any write
  transaction. The idempotency key is the same on every attempt, so a PMS that
  took a charge whose answer was lost does not take it twice.
- A failure is retried with a doubling delay; after ``ROOM_CHARGE_MAX_ATTEMPTS``
  the charge goes to the front desk's queue, as it does at once when the
  stay's property is not linked to a PMS with a folio API. A clerk posts it by hand and marks it
  (:func:`mark_posted_by_desk`).

Every outcome writes a line in the order's history.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Sequence

from flask import Flask, current_app
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import joinedload

from hotel_community import signals
from hotel_community.database import (
    lease_next, release_connection, session, transaction, utcnow,
)
from hotel_community.errors import CommunityError, Conflict, NotFound, PmsError
from hotel_community.hookspecs import FolioCharge, PmsConnection, PMSAdapter
from hotel_community.models import (
    Order, OrderEvent, Property, RoomCharge, RoomChargeStatus, Stay, StayGuest,
)
from hotel_community.services import pms_links
from hotel_community.settings import config_value

SYSTEM = "system"
#: How long a worker holds a charge it is posting; after that another may take it over
#: (the idempotency key keeps the PMS from posting it twice even then).
LEASE = timedelta(minutes=5)

POSTED, FAILED, DESK = "posted", "failed", "desk"


@dataclass
class PostCounts:
    """What a run of :func:`post_due` did."""

    posted: int = 0
    failed: int = 0
    to_desk: int = 0

    def add(self, outcome: str | None) -> None:
        if outcome == POSTED:
            self.posted += 1
        elif outcome == FAILED:
            self.failed += 1
        elif outcome == DESK:
            self.to_desk += 1

    def summary(self) -> str:
        return (f"Posted {self.posted}, failed {self.failed} (to be retried), "
                f"sent to the front desk {self.to_desk}.")


@dataclass(frozen=True)
class Overview:
    """The staff page: what the desk must post, what is still being tried, what went through."""

    desk: Sequence[RoomCharge]
    pending: Sequence[RoomCharge]
    posted: Sequence[RoomCharge]


# --------------------------------------------------------------------------- the PMS adapter

def folio_adapter(stay: Stay | None) -> tuple[PMSAdapter, PmsConnection] | None:
    """The PMS holding the stay's folio: its property's linked adapter; ``None`` when the
    property is not linked (the front desk posts by hand)."""
    if stay is None:
        return None
    try:
        return pms_links.connection_for(stay.property)
    except PmsError:  # its settings cannot be read: the desk posts it
        current_app.logger.warning("PMS settings of %s unreadable", stay.property.code)
        return None


def has_folio_api(adapter: PMSAdapter) -> bool:
    """Whether the adapter implements the folio hook (the default raises NotImplementedError)."""
    return getattr(type(adapter), "post_folio_charge", None) is not PMSAdapter.post_folio_charge


def _desk_reason(stay: Stay | None, linked: tuple[PMSAdapter, PmsConnection] | None) -> str | None:
    """Why a charge on this stay must be posted by hand, or None when the PMS can take it."""
    if stay is None:
        return "The stay is no longer on record."
    if linked is None:
        return "The property is not linked to a PMS (or its settings cannot be read)."
    if not has_folio_api(linked[0]):
        return f"The PMS adapter {linked[0].label} has no folio API."
    return None


# --------------------------------------------------------------------------- enqueueing

def enqueue(order: Order, amount: int, description: str,
            idempotency_key: str | None = None) -> RoomCharge:
    """Add a charge (a credit when ``amount`` is negative) to the outbox; the caller commits.

    The key defaults to ``hc-room-charge-<order id>-<n>``, n counting the order's charges.
    """
    stay = order.stay
    reason = _desk_reason(stay, folio_adapter(stay))
    charge = RoomCharge(
        order_id=order.id, property_id=order.property_id, stay_id=order.stay_id,
        room=stay.room if stay is not None else order.room, amount=amount,
        currency=order.currency, description=description[:200],
        idempotency_key=idempotency_key or _next_key(order),
        status=RoomChargeStatus.desk if reason else RoomChargeStatus.pending,
        attempts=0, next_attempt_at=utcnow(), last_error=reason or "")
    session.add(charge)
    if reason:
        _log(order.id, SYSTEM, "charge_to_desk", amount, reason)
    return charge


def _next_key(order: Order) -> str:
    count = session.scalar(select(func.count()).where(RoomCharge.order_id == order.id))
    return f"hc-room-charge-{order.id}-{count + 1}"


# --------------------------------------------------------------------------- posting

def count_due(now: datetime | None = None) -> int:
    return session.scalar(select(func.count()).where(*_due(now or utcnow())))


def post_due(limit: int = 100, now: datetime | None = None, order_id: int | None = None,
             on_each: Callable[[str | None], None] | None = None) -> PostCounts:
    """Post up to ``limit`` due charges (only the order's, given ``order_id``), one claim at a time.

    Safe to run from several workers at once: each charge is claimed by one.
    ``on_each`` is told each outcome (``"posted"``, ``"failed"``, ``"desk"``).
    """
    now = now or utcnow()
    counts = PostCounts()
    for _ in range(limit):
        charge_id = _claim_next(now, order_id)
        if charge_id is None:
            break
        outcome = _post_claimed(charge_id, now)
        counts.add(outcome)
        if on_each is not None:
            on_each(outcome)
    return counts


def _due(now: datetime) -> tuple:
    return (RoomCharge.status == RoomChargeStatus.pending, RoomCharge.next_attempt_at <= now,
            or_(RoomCharge.claimed_until.is_(None), RoomCharge.claimed_until < now))


def _claim_next(now: datetime, order_id: int | None) -> int | None:
    """Lease the next due charge to this worker; its id, or None when none is left.

    The lease runs from the clock, not the run's start: a long run keeps its leases."""
    due = _due(now) if order_id is None else (*_due(now), RoomCharge.order_id == order_id)
    row = lease_next(RoomCharge, due, utcnow() + LEASE)
    return row.id if row is not None else None


def _post_claimed(charge_id: int, now: datetime) -> str | None:
    """Send one claimed charge to the PMS and record the outcome; None if the lease was lost."""
    charge = session.scalar(select(RoomCharge).where(RoomCharge.id == charge_id)
                            .options(joinedload(RoomCharge.stay).joinedload(Stay.property),
                                     joinedload(RoomCharge.stay).selectinload(Stay.guests)
                                     .joinedload(StayGuest.member)))
    if charge is None:  # its order was deleted meanwhile
        return None
    linked = folio_adapter(charge.stay)
    reason = _desk_reason(charge.stay, linked)
    if reason:
        return _to_desk(charge, reason)
    adapter, connection = linked
    voided = _voidable(charge)
    release_connection()
    try:
        pms_charge_id = _send(adapter, connection, charge, voided)
    except NotImplementedError:
        return _to_desk(charge, f"The PMS adapter {adapter.label} has no folio API.")
    except Exception as exc:  # noqa: BLE001 - any failure of the PMS is retried
        current_app.logger.warning("Room charge %s not posted", charge.id, exc_info=True)
        message = exc.message if isinstance(exc, CommunityError) else f"{type(exc).__name__}: {exc}"
        return _failed(charge, now, message)
    return _posted(charge, adapter.name, str(pms_charge_id), now)


def _send(adapter: PMSAdapter, connection: PmsConnection, charge: RoomCharge,
          voided: RoomCharge | None) -> str:
    """Post the charge; a credit that takes back a whole posted charge (``voided``) voids
    it, where the adapter can (the folio then shows no charge rather than a charge and a
    credit)."""
    if voided is not None:
        try:
            return adapter.void_folio_charge(connection, charge.stay, voided.pms_charge_id,
                                             charge.idempotency_key)
        except NotImplementedError:
            pass
    return adapter.post_folio_charge(connection, charge.stay, folio_charge(charge))


def _voidable(credit: RoomCharge) -> RoomCharge | None:
    """The order's one charge a credit cancels in full: posted to the PMS, same amount,
    and no other credit on the order yet."""
    if credit.amount >= 0:
        return None
    others = session.scalars(select(RoomCharge).where(RoomCharge.order_id == credit.order_id,
                                                      RoomCharge.id != credit.id)).all()
    charges = [other for other in others if other.amount > 0]
    if (len(others) == 1 and len(charges) == 1 and charges[0].amount == -credit.amount
            and charges[0].status == RoomChargeStatus.posted):
        return charges[0]
    return None


def folio_charge(charge: RoomCharge) -> FolioCharge:
    """What :meth:`PMSAdapter.post_folio_charge` is given."""
    return FolioCharge(amount=charge.amount, currency=charge.currency,
                       description=charge.description, idempotency_key=charge.idempotency_key)


def _posted(charge: RoomCharge, actor: str, pms_charge_id: str, now: datetime) -> str | None:
    """Record the PMS's charge id; also over a move to the desk by a worker whose lease
    overlapped, since the clerk must then not post it again."""
    with transaction():
        done = _update(charge.id, (RoomCharge.status.in_(
            (RoomChargeStatus.pending, RoomChargeStatus.desk)),),
            status=RoomChargeStatus.posted, pms_charge_id=pms_charge_id[:200], posted_at=now,
            claimed_until=None, attempts=RoomCharge.attempts + 1, last_error="")
        if done:
            _log(charge.order_id, actor, "charge_posted", charge.amount,
                 f"Posted to the folio as {pms_charge_id}.")
        elif _status(charge.id) == RoomChargeStatus.desk_posted:
            # The PMS answered after the lease ran out and a clerk posted it by hand meanwhile.
            current_app.logger.error("Room charge %s is on the folio twice (%s and by hand)",
                                     charge.id, pms_charge_id)
            _log(charge.order_id, actor, "charge_posted_twice", charge.amount,
                 f"The PMS also took it as {pms_charge_id}: remove one from the folio.")
    return POSTED if done else None


def _status(charge_id: int) -> RoomChargeStatus | None:
    return session.scalar(select(RoomCharge.status).where(RoomCharge.id == charge_id))


def _failed(charge: RoomCharge, now: datetime, error: str) -> str | None:
    attempts = charge.attempts + 1
    if attempts >= config_value("ROOM_CHARGE_MAX_ATTEMPTS"):
        return _to_desk(charge, f"{attempts} attempts failed; last: {error}", attempts)
    retry_at = now + config_value("ROOM_CHARGE_RETRY_DELAY") * 2 ** (attempts - 1)
    with transaction():
        done = _update(charge.id, _held(charge), attempts=attempts, last_error=error,
                       next_attempt_at=retry_at, claimed_until=None)
        if done:
            _log(charge.order_id, SYSTEM, "charge_failed", charge.amount,
                 f"Attempt {attempts}: {error}")
    return FAILED if done else None


def _to_desk(charge: RoomCharge, reason: str, attempts: int | None = None) -> str | None:
    with transaction():
        done = _update(charge.id, _held(charge), status=RoomChargeStatus.desk, last_error=reason,
                       claimed_until=None, attempts=attempts or charge.attempts)
        if done:
            _log(charge.order_id, SYSTEM, "charge_to_desk", charge.amount, reason)
    return DESK if done else None


def _held(charge: RoomCharge) -> tuple:
    """Still pending and still leased to this worker (the lease it read after claiming)."""
    return (RoomCharge.status == RoomChargeStatus.pending,
            RoomCharge.claimed_until == charge.claimed_until)


def _update(charge_id: int, conditions: tuple, **values: Any) -> bool:
    """One conditional UPDATE; True if it changed the charge."""
    return session.execute(
        update(RoomCharge).where(RoomCharge.id == charge_id, *conditions).values(**values)
        .returning(RoomCharge.id).execution_options(synchronize_session=False)
    ).scalar() is not None


# --------------------------------------------------------------------------- posting at once

def init_app(app: Flask) -> None:
    """Post an order's charges as soon as it is paid or refunded, after the commit.

    A failure leaves the charge to the retries (``flask community room-charges post``).
    """
    signals.order_paid.connect(_post_now, sender=app)
    signals.order_refunded.connect(_post_now, sender=app)


def _post_now(sender: Flask, order: Order, **_: Any) -> None:
    try:
        post_due(limit=10, order_id=order.id)
    except Exception:  # noqa: BLE001 - the guest's order is done; cron retries the charge
        current_app.logger.warning("Room charges of order %s left for the retry", order.id,
                                   exc_info=True)


# --------------------------------------------------------------------------- the front desk

def overview(prop: Property, limit: int) -> Overview:
    query = (select(RoomCharge).where(RoomCharge.property_id == prop.id)
             .options(joinedload(RoomCharge.order).joinedload(Order.member)).limit(limit))
    return Overview(
        desk=session.scalars(query.where(RoomCharge.status == RoomChargeStatus.desk)
                             .order_by(RoomCharge.id)).all(),
        pending=session.scalars(query.where(RoomCharge.status == RoomChargeStatus.pending)
                                .order_by(RoomCharge.next_attempt_at, RoomCharge.id)).all(),
        posted=session.scalars(query.where(RoomCharge.status.in_(
            (RoomChargeStatus.posted, RoomChargeStatus.desk_posted)))
            .order_by(RoomCharge.posted_at.desc(), RoomCharge.id.desc())).all())


def charge_of(prop: Property, charge_id: int) -> RoomCharge:
    charge = session.get(RoomCharge, charge_id)
    if charge is None or charge.property_id != prop.id:
        raise NotFound("There is no such room charge.")
    return charge


def mark_posted_by_desk(charge_id: int, actor: str) -> RoomCharge:
    """A clerk posted a charge of the desk queue by hand: desk -> desk_posted, once."""
    with transaction():
        done = _update(charge_id, (RoomCharge.status == RoomChargeStatus.desk,),
                       status=RoomChargeStatus.desk_posted, posted_at=utcnow(),
                       posted_by=actor[:100])
        charge = session.get(RoomCharge, charge_id, populate_existing=True)
        if charge is None:
            raise NotFound("There is no such room charge.")
        if not done:
            raise Conflict(_already_said(charge))
        _log(charge.order_id, actor, "charge_posted", charge.amount, "Posted by hand at the desk.")
    return charge


def _already_said(charge: RoomCharge) -> str:
    if charge.status == RoomChargeStatus.desk_posted:
        who = (charge.posted_by or "").removeprefix("staff:")
        return f"This charge was already posted by hand by {who}."
    if charge.status == RoomChargeStatus.posted:
        return "This charge was already posted to the PMS; do not post it by hand."
    return "This charge is not waiting for the desk: the PMS is still being tried."


def _log(order_id: int, actor: str, action: str, amount: int, note: str) -> None:
    session.add(OrderEvent(order_id=order_id, actor=actor[:100], action=action, amount=amount,
                           note=note))
