"""Check-in, check-out and room moves, applied as stay snapshots.

PMS webhooks arrive duplicated, late and out of order, so the core never
applies a *change*; it applies the stay's *current state* (a snapshot) and
derives group membership from the stored stays:

* a member is in the property's stay group while any of their stays there is
  ``in_house``;
* a member is in the alumni community once any of their stays there is
  ``checked_out``.

Each event is one transaction: it is recorded in the inbox (a second delivery
of the same event id is a ``duplicate``), the stay row is locked (two workers
cannot interleave on one stay), a snapshot older than the stored one is
``stale``, and otherwise the stay, its guests and the affected memberships are
brought in line. Signals are sent after the commit.

A check-in is the busiest write of a hotel's day, so each event costs a fixed,
small number of statements whatever the size of the hotel: conflicts are
settled with ``INSERT ... ON CONFLICT DO NOTHING`` rather than savepoints, new
rows of one table go in one INSERT (on PostgreSQL), and what the API answers is
read before the commit (which expires every object of the host's session).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any
from uuid import uuid4

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from hotel_community import signals
from hotel_community.database import insert_or_ignore, session, to_naive_utc, transaction, utcnow
from hotel_community.errors import ServiceUnavailable, ValidationFailed
from hotel_community.models import (
    GroupKind, GuestIdentity, Member, Membership, PmsEvent, Property, Stay, StayGuest, StayStatus,
)
from hotel_community.services.properties import groups_by_kind

APPLIED, DUPLICATE, STALE = "applied", "duplicate", "stale"


@dataclass(frozen=True)
class GuestSnapshot:
    first_name: str
    last_name: str
    pms_guest_id: str | None = None
    email: str | None = None
    phone: str | None = None
    language: str | None = None
    primary: bool = False


@dataclass(frozen=True)
class StaySnapshot:
    reservation_id: str
    status: StayStatus
    arrival: date
    departure: date
    room: str | None = None
    guests: tuple[GuestSnapshot, ...] = ()

    def __post_init__(self) -> None:
        if self.departure < self.arrival:
            raise ValidationFailed("Departure is before arrival.",
                                   {"stay": {"departure": ["Must not be before arrival."]}})


@dataclass(frozen=True)
class StayEvent:
    """A PMS event: the stay's state at ``occurred_at``, identified by ``id``."""

    id: str
    occurred_at: datetime
    stay: StaySnapshot
    source: str = "api"


@dataclass(frozen=True)
class GuestRecord:
    member_id: int
    pms_guest_id: str | None
    first_name: str
    last_name: str
    primary: bool


@dataclass(frozen=True)
class StayRecord:
    """A stored stay as plain values: what the API answers about it."""

    property: str
    reservation_id: str
    status: StayStatus
    room: str | None
    arrival: date
    departure: date
    snapshot_at: datetime
    guests: tuple[GuestRecord, ...]


@dataclass
class Outcome:
    event_id: str
    result: str
    stay: Stay | None
    #: The stay as this event's transaction left it, read before the commit.
    record: StayRecord | None = None
    _signals: list[tuple[Any, dict[str, Any]]] = field(default_factory=list, repr=False)


#: Tries per event when a concurrent transaction wrote the same new rows first.
ATTEMPTS = 3


def apply_event(prop: Property, event: StayEvent, payload: dict[str, Any] | None = None) -> Outcome:
    """Apply one stay event exactly once; see the module docstring."""
    occurred_at = to_naive_utc(event.occurred_at)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with transaction():
                outcome = _apply_once(prop, event, occurred_at, payload)
                # Read now: the commit expires the stay, and the answer would reload it.
                outcome.record = record_of(prop, outcome.stay) if outcome.stay else None
            break
        except ServiceUnavailable as exc:
            # Two stays naming the same new guest, applied at once by two workers:
            # the later one breaks a unique constraint; tried again, it finds the
            # member the first one created.
            if attempt == ATTEMPTS or not isinstance(exc.__cause__, IntegrityError):
                raise
    _send(outcome)
    return outcome


def apply_staff_change(prop: Property, snapshot: StaySnapshot) -> Outcome:
    """A change made by hand at the front desk, for hotels without a linked PMS."""
    event = StayEvent(id=f"staff:{uuid4().hex}", occurred_at=datetime.now(timezone.utc),
                      stay=snapshot, source="staff")
    return apply_event(prop, event, {"source": "staff"})


def snapshot_of(stay: Stay, **changes: Any) -> StaySnapshot:
    """The stay's stored state as a snapshot, with ``changes`` applied."""
    guests = tuple(
        GuestSnapshot(first_name=g.member.first_name, last_name=g.member.last_name,
                      pms_guest_id=g.pms_guest_id, email=g.member.email, phone=g.member.phone,
                      language=g.member.language, primary=g.is_primary)
        for g in stay.guests)
    stored = {"reservation_id": stay.reservation_id, "status": stay.status, "room": stay.room,
              "arrival": stay.arrival, "departure": stay.departure, "guests": guests}
    return StaySnapshot(**{**stored, **changes})


def find_stay(prop: Property, reservation_id: str) -> Stay | None:
    return _find_stay(prop, reservation_id)


def record_of(prop: Property, stay: Stay) -> StayRecord:
    """``stay`` (of ``prop``) as plain values."""
    guests = tuple(GuestRecord(member_id=g.member_id, pms_guest_id=g.pms_guest_id,
                               first_name=g.member.first_name, last_name=g.member.last_name,
                               primary=g.is_primary)
                   for g in stay.guests)
    return StayRecord(property=prop.code, reservation_id=stay.reservation_id, status=stay.status,
                      room=stay.room, arrival=stay.arrival, departure=stay.departure,
                      snapshot_at=stay.snapshot_at, guests=guests)


def stay_group_members(prop: Property, after: int | None = None,
                       limit: int = 100) -> list[Membership]:
    """A page of open memberships of the property's stay group, oldest first.

    Keyset pagination: pass the last membership id of a page as ``after``.
    """
    group = groups_by_kind(prop)[GroupKind.stay]
    query = (select(Membership)
             .options(joinedload(Membership.member).joinedload(Member.profile))
             .where(Membership.group_id == group.id, Membership.left_at.is_(None))
             .order_by(Membership.id).limit(limit))
    if after is not None:
        query = query.where(Membership.id > after)
    return list(session.scalars(query))


def _apply_once(prop: Property, event: StayEvent, occurred_at: datetime,
                payload: dict[str, Any] | None) -> Outcome:
    """The body of the event's transaction: the inbox first, then the stay.

    The inbox row is the first write: a second delivery of the event waits
    for it, and on SQLite it takes the database's write lock, under which the
    stay is then read. Workers so take their locks in one order, event then
    stay. The row goes in as applied, the usual result; a stale event
    corrects it before the commit (no other transaction sees it before).
    """
    inbox_id = _record_in_inbox(prop, event, occurred_at, payload)
    if inbox_id is None:
        return Outcome(event.id, DUPLICATE, _find_stay(prop, event.stay.reservation_id,
                                                       with_guests=True))
    outcome = _apply_snapshot(prop, event, occurred_at)
    if outcome.result != APPLIED:
        session.execute(update(PmsEvent).where(PmsEvent.id == inbox_id)
                        .values(result=outcome.result))
    return outcome


def _record_in_inbox(prop: Property, event: StayEvent, occurred_at: datetime,
                     payload: dict[str, Any] | None) -> int | None:
    """Insert the event into the inbox; None when this id was already received.

    Of two transactions inserting the same id at once, the second waits for
    the first: it gets None if the first commits, the row if it rolls back.
    """
    inserted = session.scalar(
        insert_or_ignore(PmsEvent, "property_id", "event_id")
        .values(property_id=prop.id, event_id=event.id, source=event.source,
                reservation_id=event.stay.reservation_id, occurred_at=occurred_at,
                result=APPLIED, payload=payload or {})
        .returning(PmsEvent.id))
    if inserted is None:
        session.execute(update(PmsEvent)
                        .where(PmsEvent.property_id == prop.id, PmsEvent.event_id == event.id)
                        .values(deliveries=PmsEvent.deliveries + 1))
    return inserted


def _find_stay(prop: Property, reservation_id: str, lock: bool = False,
               with_guests: bool = False) -> Stay | None:
    """The stay; ``lock``: row-locked until the commit, and read afresh.

    Its guests (``with_guests``, with their members) come in a second SELECT,
    which runs once the lock is granted: so it sees the guests written by the
    transaction that held the lock before (a join in the locking SELECT would
    return the guests as they were when it started waiting).
    """
    query = select(Stay).where(Stay.property_id == prop.id, Stay.reservation_id == reservation_id)
    if lock:
        # populate_existing: a stay this session read before the lock is read again.
        query = query.with_for_update().execution_options(populate_existing=True)
    if with_guests:
        query = query.options(selectinload(Stay.guests).joinedload(StayGuest.member))
    return session.scalar(query)


def _create_stay(prop: Property, event: StayEvent, occurred_at: datetime) -> Stay | None:
    """Insert the snapshot's stay; None when another transaction created it first.

    The row is new to this transaction and no other can see it before the
    commit: it is as good as locked.
    """
    snapshot = event.stay
    stay = session.scalars(
        insert_or_ignore(Stay, "property_id", "reservation_id")
        .values(property_id=prop.id, reservation_id=snapshot.reservation_id,
                status=snapshot.status, room=snapshot.room, arrival=snapshot.arrival,
                departure=snapshot.departure, snapshot_at=occurred_at, last_event_id=event.id)
        .returning(Stay)).first()
    if stay is not None:
        set_committed_value(stay, "guests", [])  # a new stay has none: no need to ask
    return stay


def _lock_or_create_stay(prop: Property, event: StayEvent,
                         occurred_at: datetime) -> tuple[Stay, bool]:
    """The stay row, locked for this transaction and with its guests; created when new."""
    reservation_id = event.stay.reservation_id
    stay = _find_stay(prop, reservation_id, lock=True, with_guests=True)
    if stay is None:
        stay = _create_stay(prop, event, occurred_at)
        if stay is not None:
            return stay, True
        # Another worker created it since: its INSERT made ours wait for its commit.
        stay = _find_stay(prop, reservation_id, lock=True, with_guests=True)
    return stay, False


def _apply_snapshot(prop: Property, event: StayEvent, occurred_at: datetime) -> Outcome:
    snapshot = event.stay
    stay, created = _lock_or_create_stay(prop, event, occurred_at)
    if not created and occurred_at < stay.snapshot_at:
        return Outcome(event.id, STALE, stay)
    before_status, before_room = (None, None) if created else (stay.status, stay.room)
    before_members = {guest.member_id for guest in stay.guests}
    if not created:  # a new stay was inserted with the snapshot's values
        stay.status, stay.room = snapshot.status, snapshot.room
        stay.arrival, stay.departure = snapshot.arrival, snapshot.departure
        stay.snapshot_at, stay.last_event_id = occurred_at, event.id
    members, new_members = _sync_guests(prop, stay, snapshot.guests)
    session.flush()
    if stay.status is not before_status or set(members) != before_members:
        # Memberships follow the stays' statuses and guests: when neither
        # changed (a room move, a repeated snapshot), they already match.
        _reconcile_memberships(prop, stay, before_members | set(members), new_members)
    outcome = Outcome(event.id, APPLIED, stay)
    outcome._signals = _transition_signals(prop, stay, before_status, before_room,
                                           before_members, members)
    return outcome


def _sync_guests(prop: Property, stay: Stay,
                 guests: tuple[GuestSnapshot, ...]) -> tuple[dict[int, Member], set[int]]:
    """Make the stay's guest list the snapshot's.

    Returns the members by id, and the ids of those created for this event.
    """
    resolved, created = _resolve_members(prop, stay, guests)
    existing = {guest.member_id: guest for guest in stay.guests}
    members: dict[int, Member] = {}
    for snap, member in zip(guests, resolved):
        members[member.id] = member
        row = existing.get(member.id) or StayGuest(member=member)
        row.pms_guest_id, row.is_primary = snap.pms_guest_id, snap.primary
        if member.id not in existing:
            stay.guests.append(row)
            existing[member.id] = row
    for member_id, row in list(existing.items()):
        if member_id not in members:
            stay.guests.remove(row)
    return members, {member.id for member in created}


def _resolve_members(prop: Property, stay: Stay,
                     guests: tuple[GuestSnapshot, ...]) -> tuple[list[Member], list[Member]]:
    """One member per person: by PMS guest id, then e-mail, then name on this stay.

    Returns the members in the snapshot's order, and those created for it:
    flushed (so they have ids) in one INSERT; their PMS guest ids are added
    to the session, for the next flush.
    """
    by_pms_id = _members_by_pms_id(prop, stay, guests)
    emails = [_normal_email(g.email) for g in guests if g.email and _email_matters(g, by_pms_id)]
    by_email = {m.email: m for m in session.scalars(
        select(Member).where(Member.email.in_(emails)))} if emails else {}
    by_name = {(g.member.first_name.lower(), g.member.last_name.lower()): g.member
               for g in stay.guests}
    resolved: list[Member] = []
    created: list[Member] = []
    identities: list[tuple[str, Member]] = []
    for snap in guests:
        member = (by_pms_id.get(snap.pms_guest_id)
                  or by_email.get(_normal_email(snap.email))
                  or by_name.get((snap.first_name.lower(), snap.last_name.lower())))
        if member is None:
            member = Member()
            session.add(member)
            created.append(member)
        _update_member(member, snap, by_email)
        if snap.pms_guest_id and snap.pms_guest_id not in by_pms_id:
            identities.append((snap.pms_guest_id, member))
            by_pms_id[snap.pms_guest_id] = member
        resolved.append(member)
    session.flush()
    session.add_all(GuestIdentity(property_id=prop.id, pms_guest_id=pms_guest_id,
                                  member_id=member.id) for pms_guest_id, member in identities)
    return resolved, created


def _members_by_pms_id(prop: Property, stay: Stay,
                       guests: tuple[GuestSnapshot, ...]) -> dict[str, Member]:
    """The members the snapshot's PMS guest ids name at ``prop``.

    A guest already on this stay under their PMS id is that id's member (the
    id's identity was recorded when they were put on the stay, and identities
    never change): only the other ids are looked up.
    """
    on_stay = {g.pms_guest_id: g.member for g in stay.guests if g.pms_guest_id}
    wanted = {g.pms_guest_id for g in guests if g.pms_guest_id} - set(on_stay)
    found = dict(session.execute(
        select(GuestIdentity.pms_guest_id, Member)
        .join(Member, Member.id == GuestIdentity.member_id)
        .where(GuestIdentity.property_id == prop.id, GuestIdentity.pms_guest_id.in_(wanted))
    ).all()) if wanted else {}
    return {**on_stay, **found}


def _email_matters(snap: GuestSnapshot, by_pms_id: dict[str, Member]) -> bool:
    """Whether the guest's e-mail must be looked up.

    To find the member, when the PMS id did not; or, when that member has no
    e-mail yet, to see whether another member has this one (see
    :func:`_update_member`). A member who has one keeps it.
    """
    member = by_pms_id.get(snap.pms_guest_id) if snap.pms_guest_id else None
    return member is None or member.email is None


def _update_member(member: Member, snap: GuestSnapshot, by_email: dict[str, Member]) -> None:
    member.first_name, member.last_name = snap.first_name, snap.last_name
    member.phone = snap.phone or member.phone
    member.language = snap.language or member.language
    email = _normal_email(snap.email)
    if email and member.email is None and by_email.get(email) in (None, member):
        member.email = email
        by_email[email] = member


def _normal_email(email: str | None) -> str | None:
    return email.strip().lower() if email else None


def _reconcile_memberships(prop: Property, stay: Stay, member_ids: set[int],
                           new_member_ids: set[int]) -> None:
    """Open or close stay-group and alumni memberships to match the stored stays.

    Members created by this event are on this stay only and in no group yet:
    the database is asked about the others only.
    """
    if not member_ids:
        return
    groups = groups_by_kind(prop)
    known = member_ids - new_member_ids
    statuses = [(member_id, stay.status) for member_id in new_member_ids]
    open_rows: list[Membership] = []
    if known:
        statuses += session.execute(
            select(StayGuest.member_id, Stay.status).join(Stay, Stay.id == StayGuest.stay_id)
            .join(Member, Member.id == StayGuest.member_id)
            .where(Stay.property_id == prop.id, StayGuest.member_id.in_(known),
                   Stay.status.in_([StayStatus.in_house, StayStatus.checked_out]),
                   Member.deleted_at.is_(None))  # a deleted account joins no group again
        ).all()
        open_rows = list(session.scalars(
            select(Membership).where(Membership.member_id.in_(known),
                                     Membership.group_id.in_([g.id for g in groups.values()]),
                                     Membership.left_at.is_(None))))
    wanted = {(groups[GroupKind.stay if status is StayStatus.in_house else GroupKind.alumni].id,
               member_id) for member_id, status in statuses
              if status in (StayStatus.in_house, StayStatus.checked_out)}
    now = utcnow()
    for row in open_rows:
        if (row.group_id, row.member_id) not in wanted:
            row.left_at = now
    have = {(row.group_id, row.member_id) for row in open_rows}
    for group_id, member_id in sorted(wanted - have):
        role = "guest" if group_id == groups[GroupKind.stay].id else "alumni"
        session.add(Membership(group_id=group_id, member_id=member_id, role=role, joined_at=now))
    session.flush()


def _transition_signals(prop: Property, stay: Stay, before_status: StayStatus | None,
                        before_room: str | None, before_members: set[int],
                        members: dict[int, Member]) -> list[tuple[Any, dict[str, Any]]]:
    """The signals this snapshot causes, per member, to send after commit."""
    sent: list[tuple[Any, dict[str, Any]]] = []
    was_in = before_status is StayStatus.in_house
    is_in = stay.status is StayStatus.in_house
    for member_id, member in members.items():
        stayed_in = was_in and member_id in before_members
        # A check-out can overtake its check-in (which is then stale): still a check-out.
        was_out = before_status is StayStatus.checked_out and member_id in before_members
        base = {"member": member, "stay": stay, "property": prop}
        if is_in and not stayed_in:
            sent.append((signals.member_checked_in, base))
        elif is_in and before_room != stay.room:
            sent.append((signals.member_moved_room,
                         {**base, "old_room": before_room, "new_room": stay.room}))
        elif is_in:
            continue  # still in house, same room: nothing happened to this member
        elif stay.status is StayStatus.checked_out and not was_out:
            sent.append((signals.member_checked_out, base))
        elif stayed_in:
            sent.append((signals.member_stay_ended, {**base, "status": stay.status.value}))
    if was_in:
        for member_id in before_members - set(members):
            member = session.get(Member, member_id)
            sent.append((signals.member_stay_ended,
                         {"member": member, "stay": stay, "property": prop, "status": "removed"}))
    return sent


def _send(outcome: Outcome) -> None:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    for signal, kwargs in outcome._signals:
        signal.send(app, **kwargs)
