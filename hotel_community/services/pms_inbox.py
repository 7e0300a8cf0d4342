"""Vendor webhooks in, stays applied: the inbox of PMS notifications, and ``pms-sync``.

A vendor webhook is answered as soon as the ids it names are stored
(:func:`receive`); a slow PMS can never time it out. Each stored
notification is then fetched from the PMS and applied (:func:`process_due`),
right after the response and again from cron until it works:

- a notification is claimed with a lease (``FOR UPDATE SKIP LOCKED`` on
  PostgreSQL), so two workers never fetch it at once;
- the PMS is asked outside any transaction, and only once it has answered in
  full are the stays applied (each in its own transaction, as snapshots): a
  PMS that times out or fails leaves nothing half-applied, and the
  notification waits for its retry, with a doubling delay;
- a webhook repeating a waiting notification bumps its ``version``; a fetch
  that started before the repeat does not close it, and it is fetched again.

:func:`sync` reconciles a property against its PMS's in-house list.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from datetime import datetime, timedelta, timezone
from typing import Callable, Sequence

from flask import Flask, Request, Response, current_app
from sqlalchemy import func, or_, select, text, update
from sqlalchemy.orm import joinedload

from hotel_community.database import (
    lease_next, release_connection, session, transaction, upsert, utcnow,
)
from hotel_community.errors import CommunityError, MalformedRequest, NotFound, PmsError
from hotel_community.hookspecs import Notification
from hotel_community.models import PmsLink, PmsNotification, PmsNotificationStatus, Property
from hotel_community.services import checkin, pms_links, reconcile
from hotel_community.services.checkin import StayEvent, StaySnapshot
from hotel_community.settings import config_value

#: How long a worker holds a notification it is fetching; after that another may take it over.
LEASE = timedelta(minutes=2)
#: The kind every adapter understands: ``ref`` is a reservation id, as in its snapshots.
RESERVATION = "reservation"

DONE, AGAIN, FAILED, GAVE_UP = "done", "again", "failed", "gave_up"
PENDING = PmsNotificationStatus.pending


@dataclass
class ProcessCounts:
    """What a run of :func:`process_due` did."""

    done: int = 0
    retried: int = 0
    gave_up: int = 0

    def add(self, outcome: str | None) -> None:
        if outcome == DONE:
            self.done += 1
        elif outcome == FAILED:
            self.retried += 1
        elif outcome == GAVE_UP:
            self.gave_up += 1

    def summary(self) -> str:
        return (f"Applied {self.done} notifications, {self.retried} failed (to be retried), "
                f"{self.gave_up} given up.")


# --------------------------------------------------------------------------- receiving

def receive(prop: Property, adapter_name: str, token: str | None, request: Request) -> list[int]:
    """Authenticate a vendor webhook and store what it names; the ids of the notifications.

    Only the URL's token, the adapter's own check and the body are looked at:
    nothing here calls the PMS.
    """
    adapter, connection = pms_links.authenticate_webhook(prop, adapter_name, token)
    adapter.verify_webhook(request, connection)
    try:
        wanted = list(dict.fromkeys(adapter.notifications_from_webhook(request, connection)))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        # An adapter that trusted the body's shape: still the sender's error, not ours.
        raise MalformedRequest(f"This is not a {adapter.label} webhook body.") from exc
    with transaction():
        return [_store(prop, adapter.name, notification) for notification in wanted]


def _store(prop: Property, adapter_name: str, notification: Notification) -> int:
    """Insert the notification, or bump the waiting one for the same (kind, ref)."""
    now = utcnow()
    table = PmsNotification.__table__
    statement = upsert(PmsNotification).values(
        property_id=prop.id, adapter=adapter_name, kind=notification.kind[:30],
        ref=notification.ref[:200], status=PENDING, version=1, deliveries=1, received_at=now,
        last_received_at=now, attempts=0, next_attempt_at=now, last_error="", result="")
    statement = statement.on_conflict_do_update(
        index_elements=["property_id", "kind", "ref"], index_where=text("status = 'pending'"),
        # A new delivery is news: a notification waiting out a retry delay is due at once.
        set_={"version": table.c.version + 1, "deliveries": table.c.deliveries + 1,
              "last_received_at": now, "next_attempt_at": now})
    return session.scalar(statement.returning(PmsNotification.id))


def process_after(response: Response, notification_ids: Sequence[int]) -> Response:
    """Have the notifications fetched and applied once ``response`` is sent (unless
    ``PMS_PROCESS_AFTER_RESPONSE`` is off: cron does it then)."""
    if notification_ids and config_value("PMS_PROCESS_AFTER_RESPONSE"):
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        response.call_on_close(partial(_process_after_response, app, list(notification_ids)))
    return response


def _process_after_response(app: Flask, notification_ids: Sequence[int]) -> None:
    try:
        with app.app_context():
            process_due(limit=len(notification_ids), notification_ids=notification_ids)
    except Exception:  # noqa: BLE001 - the webhook was answered; cron retries them
        app.logger.warning("PMS notifications %s left for the retry", notification_ids,
                           exc_info=True)


# --------------------------------------------------------------------------- processing

def count_due(now: datetime | None = None) -> int:
    return session.scalar(select(func.count()).where(*_due(now or utcnow())))


def process_due(limit: int = 100, now: datetime | None = None,
                notification_ids: Sequence[int] | None = None,
                on_each: Callable[[str | None], None] | None = None) -> ProcessCounts:
    """Fetch and apply up to ``limit`` due notifications, one claim at a time.

    Safe to run from several workers at once: each notification is claimed by one.
    """
    counts = ProcessCounts()
    for _ in range(limit):
        claimed = _claim_next(now or utcnow(), notification_ids)
        if claimed is None:
            break
        outcome = _process_claimed(*claimed)
        counts.add(outcome)
        if on_each is not None:
            on_each(outcome)
    return counts


def _due(now: datetime) -> tuple:
    return (PmsNotification.status == PENDING, PmsNotification.next_attempt_at <= now,
            or_(PmsNotification.claimed_until.is_(None), PmsNotification.claimed_until < now))


def _claim_next(now: datetime, ids: Sequence[int] | None) -> tuple[int, int, datetime] | None:
    """Lease the next due notification: its id, version and lease; None when none is left.

    The lease runs from the clock, not the run's start: a long run keeps its leases."""
    due = _due(now) if ids is None else (*_due(now), PmsNotification.id.in_(ids))
    lease = utcnow() + LEASE
    row = lease_next(PmsNotification, due, lease, PmsNotification.version)
    return (row.id, row.version, lease) if row is not None else None


def _process_claimed(notification_id: int, version: int, lease: datetime) -> str | None:
    note = session.scalar(select(PmsNotification).where(PmsNotification.id == notification_id)
                          .options(joinedload(PmsNotification.property)))
    prop = note.property
    try:
        found = pms_links.connection_for(prop)
    except CommunityError as exc:  # its settings cannot be read
        return _failed(note, version, lease, exc.message)
    if found is None or found[0].name != note.adapter:
        return _close(note, version, lease, PmsNotificationStatus.failed,
                      f"The property is no longer linked to {note.adapter}.")
    adapter, connection = found
    asked = Notification(note.kind, note.ref)
    release_connection()
    fetched_at = datetime.now(timezone.utc)
    try:
        snapshots = adapter.fetch_stays(connection, asked)
    except Exception as exc:  # noqa: BLE001 - any failure of the PMS is retried
        current_app.logger.warning("PMS notification %s not fetched", note.id, exc_info=True)
        return _failed(note, version, lease, _error_text(exc))
    results = []
    for snapshot in snapshots:
        try:
            outcome = checkin.apply_event(prop, _event(adapter.name, fetched_at, snapshot),
                                          {"source": adapter.name, "notification": note.id})
        except Exception as exc:  # noqa: BLE001 - the stays before it are applied, each alone
            current_app.logger.warning("PMS notification %s not applied", note.id, exc_info=True)
            return _failed(note, version, lease, f"{snapshot.reservation_id}: {_error_text(exc)}")
        results.append(f"{snapshot.reservation_id} {outcome.result}")
    return _close(note, version, lease, PmsNotificationStatus.done,
                  ", ".join(results) or "Nothing to apply.")


def _event(source: str, fetched_at: datetime, snapshot: StaySnapshot) -> StayEvent:
    """The stay as fetched: as of the moment the fetch began (a later fetch sees a newer
    state, and an older one arriving late is stale)."""
    return StayEvent(id=f"{source}:{snapshot.reservation_id}:{fetched_at.isoformat()}",
                     occurred_at=fetched_at, stay=snapshot, source=source)


def _error_text(exc: Exception) -> str:
    return exc.message if isinstance(exc, CommunityError) else f"{type(exc).__name__}: {exc}"


def _held(note: PmsNotification, lease: datetime) -> tuple:
    return (PmsNotification.id == note.id, PmsNotification.status == PENDING,
            PmsNotification.claimed_until == lease)


def _close(note: PmsNotification, version: int, lease: datetime,
           status: PmsNotificationStatus, result: str) -> str | None:
    """Done (or failed for good), unless a delivery came in meanwhile: then fetch again."""
    now = utcnow()
    values = {"result": result, "claimed_until": None, "attempts": PmsNotification.attempts + 1}
    with transaction():
        if _update((*_held(note, lease), PmsNotification.version == version),
                   {**values, "status": status, "done_at": now}):
            return DONE if status is PmsNotificationStatus.done else GAVE_UP
        return AGAIN if _update(_held(note, lease), {**values, "next_attempt_at": now}) else None


def _failed(note: PmsNotification, version: int, lease: datetime, error: str) -> str | None:
    """Retry later with a doubling delay; after ``PMS_MAX_ATTEMPTS``, give up, unless a
    delivery came in during this attempt (then it is tried again)."""
    attempts = note.attempts + 1
    values: dict = {"attempts": attempts, "last_error": error[:2000], "claimed_until": None,
                    "next_attempt_at": utcnow() + config_value("PMS_RETRY_DELAY")
                    * 2 ** (attempts - 1)}
    with transaction():
        if attempts >= config_value("PMS_MAX_ATTEMPTS") and _update(
                (*_held(note, lease), PmsNotification.version == version),
                {**values, "status": PmsNotificationStatus.failed, "done_at": utcnow()}):
            return GAVE_UP
        return FAILED if _update(_held(note, lease), values) else None


def _update(conditions: tuple, values: dict) -> bool:
    """One conditional UPDATE of a notification; True if it changed it."""
    return bool(session.execute(update(PmsNotification).where(*conditions).values(**values)
                                .execution_options(synchronize_session=False)).rowcount)


def recent(prop: Property, limit: int = 20) -> list[PmsNotification]:
    """The property's latest notifications, newest first (for the staff page)."""
    return list(session.scalars(select(PmsNotification)
                                .where(PmsNotification.property_id == prop.id)
                                .order_by(PmsNotification.id.desc()).limit(limit)))


def counts_by_status(prop: Property) -> dict[str, int]:
    rows = session.execute(select(PmsNotification.status, func.count())
                           .where(PmsNotification.property_id == prop.id)
                           .group_by(PmsNotification.status)).all()
    return {status.value: count for status, count in rows}


def retry(prop: Property, notification_id: int) -> PmsNotification:
    """A clerk asks for a failed notification to be fetched again (a new pending one)."""
    note = session.get(PmsNotification, notification_id)
    if note is None or note.property_id != prop.id:
        raise NotFound("There is no such notification.")
    with transaction():
        new_id = _store(prop, note.adapter, Notification(note.kind, note.ref))
    return session.get(PmsNotification, new_id)


# --------------------------------------------------------------------------- reconciling

def sync(prop: Property) -> reconcile.Report:
    """Reconcile ``prop`` against its PMS's in-house list.

    Everything is fetched before anything is applied: a PMS whose in-house list
    fails changes nothing. Stays stored as in house that the list leaves out
    are asked about one by one (checked out, or a check-in taken back); one the
    PMS cannot answer about is left as it is.
    """
    found = pms_links.connection_for(prop)
    if found is None:
        raise NotFound(f"{prop.code} is not linked to an installed PMS adapter.")
    adapter, connection = found
    stored = [stay.reservation_id for stay in reconcile.stored_in_house(prop)]
    release_connection()
    fetched_at = datetime.now(timezone.utc)
    try:
        listed = adapter.in_house(connection)
        names = {snapshot.reservation_id for snapshot in listed}
        departed: dict[str, StaySnapshot] = {}
        unknown: set[str] = set()
        for reservation_id in stored:
            if reservation_id not in names:
                try:
                    for snapshot in adapter.fetch_stays(
                            connection, Notification(RESERVATION, reservation_id)):
                        departed[snapshot.reservation_id] = snapshot
                except PmsError as exc:  # this one stays as it is; the others are synced
                    current_app.logger.warning("PMS sync of %s: %s not read: %s", prop.code,
                                               reservation_id, exc.message)
                    unknown.add(reservation_id)
    except CommunityError:
        raise
    except Exception as exc:  # an adapter surprised by the answer: still the PMS's failure
        current_app.logger.warning("PMS sync of %s failed", prop.code, exc_info=True)
        raise PmsError(f"The {adapter.label} adapter could not read the answer "
                       f"({type(exc).__name__}).") from exc
    plan = reconcile.plan_snapshots(prop, fetched_at, listed, departed, frozenset(unknown))
    report = reconcile.apply(prop, plan.events)
    _record_sync(prop, report.summary())
    return report


def _record_sync(prop: Property, summary: str) -> None:
    with transaction():
        session.execute(update(PmsLink).where(PmsLink.property_id == prop.id)
                        .values(synced_at=utcnow(), sync_summary=summary)
                        .execution_options(synchronize_session=False))
