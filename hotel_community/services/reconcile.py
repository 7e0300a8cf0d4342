"""Bring stored stays in line with the PMS's full list of in-house stays."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Mapping

from marshmallow import EXCLUDE, Schema, ValidationError, fields
from sqlalchemy import select, text
from sqlalchemy.orm import selectinload

from hotel_community.database import session, transaction
from hotel_community.errors import ValidationFailed
from hotel_community.models import (
    GuestIdentity, Member, Membership, PmsEvent, Property, Stay, StayGuest, StayStatus,
)
from hotel_community.services.checkin import (
    APPLIED, StayEvent, StaySnapshot, apply_event, snapshot_of,
)

SOURCE = "reconcile"
#: The tables a reconcile fills, and that check-ins then query.
FILLED = (PmsEvent, Stay, StayGuest, Member, GuestIdentity, Membership)


@dataclass
class Plan:
    events: list[StayEvent]


@dataclass
class Report:
    results: Counter = field(default_factory=Counter)

    def summary(self) -> str:
        parts = ", ".join(f"{count} {result}" for result, count in sorted(self.results.items()))
        return f"Reconciled {sum(self.results.values())} stays: {parts or 'nothing to do'}."


def plan(prop: Property, document: dict[str, Any]) -> Plan:
    """The events that make the stored stays match ``document``'s in-house list.

    Event ids derive from the document's ``generated_at``, so running the same
    file twice changes nothing the second time.
    """
    from hotel_community.schemas.pms import StaySchema

    # Both keys required: a file without "stays" must not check every guest out.
    schema = Schema.from_dict({
        "generated_at": fields.AwareDateTime(required=True, default_timezone=None),
        "stays": fields.List(fields.Nested(StaySchema), required=True),
    })(unknown=EXCLUDE)
    try:
        loaded = schema.load(document)
    except ValidationError as exc:  # messages keyed by field: generated_at, stays.<n>.<field>
        raise ValidationFailed("The in-house list is not valid.", exc.messages) from exc
    return plan_snapshots(prop, loaded["generated_at"], loaded["stays"])


def plan_snapshots(prop: Property, generated_at: datetime, stays: list[StaySnapshot],
                   departed: Mapping[str, StaySnapshot] | None = None,
                   unknown: frozenset[str] = frozenset()) -> Plan:
    """The events that make the stored stays match the in-house list ``stays``.

    A stay stored as in house but not listed is checked out, or brought to its
    state in ``departed`` (by reservation id) where the PMS was asked about it;
    one whose state could not be learned (``unknown``) is left as it is.
    """
    listed = {snapshot.reservation_id for snapshot in stays}
    events = [_event(generated_at, snapshot) for snapshot in stays]
    for stay in stored_in_house(prop):
        if stay.reservation_id not in listed | unknown:
            current = (departed or {}).get(stay.reservation_id)
            events.append(_event(generated_at,
                                 current or snapshot_of(stay, status=StayStatus.checked_out)))
    return Plan(events)


def apply(prop: Property, events: Iterable[StayEvent]) -> Report:
    report = Report()
    for event in events:
        report.results[apply_event(prop, event, {"source": SOURCE}).result] += 1
    if report.results[APPLIED]:
        refresh_planner_statistics()
    return report


def refresh_planner_statistics() -> None:
    """``ANALYZE`` the tables a reconcile fills, on PostgreSQL.

    A reconcile is a bulk load (a hotel's first one fills empty tables). Until
    autovacuum analyses them, PostgreSQL plans the check-in's queries with the
    statistics of the tables as they were, and picks the wrong indexes.
    """
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return
    tables = ", ".join(bind.dialect.identifier_preparer.format_table(model.__table__)
                       for model in FILLED)
    with transaction():
        session.execute(text(f"ANALYZE {tables}"))


def _event(generated_at: datetime, snapshot: StaySnapshot) -> StayEvent:
    return StayEvent(id=f"{SOURCE}:{generated_at.isoformat()}:{snapshot.reservation_id}",
                     occurred_at=generated_at, stay=snapshot, source=SOURCE)


def stored_in_house(prop: Property) -> list[Stay]:
    return list(session.scalars(
        select(Stay).options(selectinload(Stay.guests).selectinload(StayGuest.member))
        .where(Stay.property_id == prop.id, Stay.status == StayStatus.in_house)))
