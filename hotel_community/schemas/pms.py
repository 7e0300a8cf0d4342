"""The PMS event API's request and response bodies."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from hotel_community.models import StayStatus
from hotel_community.services.checkin import GuestSnapshot, StayEvent, StaySnapshot

_text = {"validate": validate.Length(max=100)}


class UtcDateTime(fields.DateTime):
    """Stored naive UTC, written with its offset (``...+00:00``)."""

    def _serialize(self, value: datetime | None, attr: Any, obj: Any, **kwargs: Any) -> str | None:
        aware = value.replace(tzinfo=timezone.utc) if value is not None else None
        return super()._serialize(aware, attr, obj, **kwargs)


class GuestSchema(Schema):
    pms_guest_id = fields.String(load_default=None, allow_none=True, **_text)
    first_name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    last_name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    email = fields.Email(load_default=None, allow_none=True)
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40))
    language = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=16),
                             metadata={"description": "BCP 47 tag, e.g. en, zh-CN"})
    primary = fields.Boolean(load_default=False)

    @post_load
    def make(self, data: dict[str, Any], **kwargs: Any) -> GuestSnapshot:
        return GuestSnapshot(**data)


class StaySchema(Schema):
    reservation_id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    status = fields.Enum(StayStatus, by_value=True, required=True)
    room = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20))
    arrival = fields.Date(required=True)
    departure = fields.Date(required=True)
    guests = fields.List(fields.Nested(GuestSchema), load_default=list,
                         validate=validate.Length(max=50))

    @validates_schema
    def departure_after_arrival(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("arrival") and data.get("departure") and data["departure"] < data["arrival"]:
            raise ValidationError("Must not be before arrival.", "departure")

    @post_load
    def make(self, data: dict[str, Any], **kwargs: Any) -> StaySnapshot:
        return StaySnapshot(**{**data, "guests": tuple(data["guests"])})


class PmsEventSchema(Schema):
    id = fields.String(required=True, validate=validate.Length(min=1, max=200),
                       metadata={"description": "Unique per property; repeats are duplicates."})
    occurred_at = fields.AwareDateTime(required=True, default_timezone=None,
                                       metadata={"description": "When the PMS state was read."})
    property = fields.String(required=True, validate=validate.Length(min=1, max=32))
    stay = fields.Nested(StaySchema, required=True)

    @post_load
    def make(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        event = StayEvent(id=data["id"], occurred_at=data["occurred_at"], stay=data["stay"])
        return {"property": data["property"], "event": event}


class GuestOutSchema(Schema):
    member_id = fields.Integer()
    pms_guest_id = fields.String(allow_none=True)
    first_name = fields.String()
    last_name = fields.String()
    primary = fields.Boolean()


class StayOutSchema(Schema):
    """Dumps a :class:`~hotel_community.services.checkin.StayRecord`."""

    property = fields.String()
    reservation_id = fields.String()
    status = fields.Enum(StayStatus, by_value=True)
    room = fields.String(allow_none=True)
    arrival = fields.Date()
    departure = fields.Date()
    snapshot_at = UtcDateTime()
    guests = fields.List(fields.Nested(GuestOutSchema))


class EventResultSchema(Schema):
    event = fields.String(attribute="event_id")
    result = fields.String(validate=validate.OneOf(["applied", "duplicate", "stale"]))
    stay = fields.Nested(StayOutSchema, attribute="record", allow_none=True)


class GroupMemberSchema(Schema):
    member_id = fields.Integer()
    display_name = fields.String(attribute="member.display_name")
    role = fields.String()
    joined_at = UtcDateTime()


class GroupMembersSchema(Schema):
    property = fields.String()
    group = fields.String()
    members = fields.List(fields.Nested(GroupMemberSchema))
    next = fields.Integer(allow_none=True,
                          metadata={"description": "Pass as `after` for the next page; null at the end."})


class PageQuerySchema(Schema):
    after = fields.Integer(load_default=None, validate=validate.Range(min=0))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    property = fields.String(load_default=None)


class ErrorBodySchema(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    details = fields.Dict()


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema, required=True)
