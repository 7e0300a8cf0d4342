"""Member events: the nightly mixer, a tea tasting, a harbour tour.

An :class:`Event` is what staff create; each date it happens on is an
:class:`EventOccurrence` with its own capacity and attendees (a one-off event
has one). A :class:`Ticket` is one member's place (or places, with a +1) at an
occurrence, or their place in its waitlist. ``EventOccurrence.taken`` counts
the places held, and only moves by conditional UPDATEs
(``taken + n <= capacity``), so the last place goes to exactly one member.
"""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON, Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, Text,
    UniqueConstraint, text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotel_community.database import Base, utcnow
from hotel_community.models.orders import Order
from hotel_community.models.stays import Member, Property, _enum


class EventAudience(str, enum.Enum):
    #: Guests staying now (the stay group).
    in_house = "in_house"
    #: Every member of the hotel's community, alumni included.
    members = "members"
    #: Anyone with the link; RSVP still needs a member (a guest link or sign-in).
    public = "public"


class Event(Base):
    __tablename__ = "hc_event"
    __table_args__ = (
        CheckConstraint("capacity > 0", name="capacity_positive"),
        CheckConstraint("price >= 0", name="price_not_negative"),
        Index("ix_hc_event_property", "property_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    property_id: Mapped[int] = mapped_column(ForeignKey("hc_property.id", ondelete="CASCADE"))
    title_en: Mapped[str] = mapped_column(String(200))
    title_zh: Mapped[str] = mapped_column(String(200), default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    description_zh: Mapped[str] = mapped_column(Text, default="")
    place: Mapped[str] = mapped_column(String(200), default="")
    audience: Mapped[EventAudience] = mapped_column(_enum(EventAudience, "event_audience"))
    #: Places per occurrence (each occurrence keeps its own copy, which staff may change).
    capacity: Mapped[int] = mapped_column(Integer)
    #: Whether a member may bring one guest (+1): a ticket of two places.
    plus_ones: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Per place, in minor units of ``currency``; 0 is a free event (RSVP).
    price: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    #: The first (or only) start, naive UTC; occurrences repeat its local time of day.
    starts_at: Mapped[datetime] = mapped_column(DateTime)
    duration_minutes: Mapped[int] = mapped_column(Integer, default=60)
    #: Recurring: every day at the same local time until this date (inclusive).
    repeat_daily_until: Mapped[date | None] = mapped_column(Date)
    #: RSVPs close this many minutes before an occurrence starts.
    rsvp_closes_minutes: Mapped[int] = mapped_column(Integer, default=0)
    #: The stay group announcement that told guests about it.
    announcement_post_id: Mapped[int | None] = mapped_column(
        ForeignKey("hc_post.id", ondelete="SET NULL"))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    property: Mapped[Property] = relationship()
    occurrences: Mapped[list[EventOccurrence]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="EventOccurrence.starts_at")


class EventOccurrence(Base):
    """One date of an event, with its own capacity and attendees."""

    __tablename__ = "hc_event_occurrence"
    __table_args__ = (
        UniqueConstraint("event_id", "starts_at"),
        CheckConstraint("taken >= 0 AND taken <= capacity", name="taken_within_capacity"),
        Index("ix_hc_event_occurrence_starts", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("hc_event.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(DateTime)
    ends_at: Mapped[datetime] = mapped_column(DateTime)
    capacity: Mapped[int] = mapped_column(Integer)
    #: Places held by confirmed, offered and pending-payment tickets.
    taken: Mapped[int] = mapped_column(Integer, default=0)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime)

    event: Mapped[Event] = relationship(back_populates="occurrences")


class TicketStatus(str, enum.Enum):
    #: A place held while the member pays (a paid event); the order says how.
    pending_payment = "pending_payment"
    #: A place: the ticket to show at the door.
    confirmed = "confirmed"
    #: In line for a place; ``Ticket.id`` orders the line (guests in house first).
    waitlisted = "waitlisted"
    #: Promoted from the waitlist of a paid event: the place is held until ``offered_until``.
    offered = "offered"
    cancelled = "cancelled"


#: Statuses that hold places of the occurrence (counted in ``EventOccurrence.taken``).
HOLDING = (TicketStatus.pending_payment, TicketStatus.confirmed, TicketStatus.offered)


class Ticket(Base):
    """A member's RSVP to one occurrence: their place(s), or their place in line."""

    __tablename__ = "hc_ticket"
    __table_args__ = (
        CheckConstraint("places IN (1, 2)", name="one_or_two_places"),
        Index("uq_hc_ticket_open", "occurrence_id", "member_id", unique=True,
              sqlite_where=text("status != 'cancelled'"),
              postgresql_where=text("status != 'cancelled'")),
        Index("ix_hc_ticket_occurrence_status", "occurrence_id", "status", "id"),
        Index("ix_hc_ticket_member", "member_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurrence_id: Mapped[int] = mapped_column(
        ForeignKey("hc_event_occurrence.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("hc_member.id", ondelete="CASCADE"))
    #: 2 with a +1.
    places: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[TicketStatus] = mapped_column(_enum(TicketStatus, "ticket_status"))
    #: Unguessable; the ticket's QR code carries it and the door reads it.
    code: Mapped[str] = mapped_column(String(32), unique=True)
    #: The order paying for a paid ticket (the latest attempt).
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("hc_order.id", ondelete="SET NULL"), index=True)
    offered_until: Mapped[datetime | None] = mapped_column(DateTime)
    checked_in_at: Mapped[datetime | None] = mapped_column(DateTime)
    checked_in_by: Mapped[str | None] = mapped_column(String(100))
    #: The door device's id for the scan that admitted it: the same scan sent again
    #: (a queued scan retried on a bad connection) is not "already used".
    check_in_scan: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime)

    occurrence: Mapped[EventOccurrence] = relationship()
    member: Mapped[Member] = relationship()
    order: Mapped[Order | None] = relationship()


class Notification(Base):
    """Something the product tells a member (a place freed for them, an event cancelled).

    Stored as a kind and parameters, and worded when shown, in the reader's language.
    """

    __tablename__ = "hc_notification"
    __table_args__ = (Index("ix_hc_notification_member", "member_id", "read_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("hc_member.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    #: Where it leads, a path inside the extension.
    link: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)
