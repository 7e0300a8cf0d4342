"""Properties, members, stays and the groups stays put members into."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    Boolean, Date, DateTime, Enum, ForeignKey, Index, String, Text, UniqueConstraint, text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotel_community.database import Base, utcnow


class StayStatus(str, enum.Enum):
    expected = "expected"
    in_house = "in_house"
    checked_out = "checked_out"
    cancelled = "cancelled"
    no_show = "no_show"


class GroupKind(str, enum.Enum):
    stay = "stay"      # everyone in house now
    alumni = "alumni"  # everyone who has checked out at least once


def _enum(enum_class: type[enum.Enum], name: str) -> Enum:
    # Stored as plain strings with a CHECK constraint: portable and readable.
    return Enum(enum_class, name=name, native_enum=False, length=20,
                values_callable=lambda e: [m.value for m in e], create_constraint=True)


class Property(Base):
    __tablename__ = "hc_property"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    welcome_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    groups: Mapped[list[Group]] = relationship(back_populates="property")

    def __repr__(self) -> str:
        return f"<Property {self.code}>"


class Member(Base):
    """One person, across every stay at every property of the chain."""

    __tablename__ = "hc_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    language: Mapped[str | None] = mapped_column(String(16))
    visible: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    #: Set when the member deleted their account: the row stays (stays refer to
    #: it), emptied of everything personal.
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)

    @property
    def display_name(self) -> str:
        """The profile's chosen name, else first name and last initial."""
        chosen = self.profile.display_name if self.profile is not None else None
        initial = f" {self.last_name[:1]}." if self.last_name else ""
        return chosen or f"{self.first_name}{initial}".strip() or "Guest"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def __repr__(self) -> str:
        return f"<Member {self.id} {self.full_name}>"


class GuestIdentity(Base):
    """Maps a PMS's guest id at one property to the member it is."""

    __tablename__ = "hc_guest_identity"
    __table_args__ = (UniqueConstraint("property_id", "pms_guest_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    property_id: Mapped[int] = mapped_column(ForeignKey("hc_property.id", ondelete="CASCADE"))
    pms_guest_id: Mapped[str] = mapped_column(String(100))
    member_id: Mapped[int] = mapped_column(
        ForeignKey("hc_member.id", ondelete="CASCADE"), index=True)


class Stay(Base):
    """A reservation at a property, as last reported by the PMS or the front desk."""

    __tablename__ = "hc_stay"
    __table_args__ = (
        UniqueConstraint("property_id", "reservation_id"),
        Index("ix_hc_stay_property_status_room", "property_id", "status", "room"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    property_id: Mapped[int] = mapped_column(ForeignKey("hc_property.id", ondelete="CASCADE"))
    reservation_id: Mapped[str] = mapped_column(String(100))
    room: Mapped[str | None] = mapped_column(String(20))
    arrival: Mapped[date] = mapped_column(Date)
    departure: Mapped[date] = mapped_column(Date)
    status: Mapped[StayStatus] = mapped_column(_enum(StayStatus, "stay_status"))
    #: When the PMS produced the snapshot stored here; older snapshots are stale.
    snapshot_at: Mapped[datetime] = mapped_column(DateTime)
    last_event_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    property: Mapped[Property] = relationship()
    guests: Mapped[list[StayGuest]] = relationship(
        back_populates="stay", cascade="all, delete-orphan", order_by="StayGuest.id")

    def __repr__(self) -> str:
        return f"<Stay {self.reservation_id} {self.status.value} room {self.room}>"


class StayGuest(Base):
    """A guest on a stay; several guests can share one reservation."""

    __tablename__ = "hc_stay_guest"
    __table_args__ = (UniqueConstraint("stay_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    stay_id: Mapped[int] = mapped_column(ForeignKey("hc_stay.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(
        ForeignKey("hc_member.id", ondelete="CASCADE"), index=True)
    pms_guest_id: Mapped[str | None] = mapped_column(String(100))
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)

    stay: Mapped[Stay] = relationship(back_populates="guests")
    member: Mapped[Member] = relationship()


class Group(Base):
    __tablename__ = "hc_group"
    __table_args__ = (UniqueConstraint("property_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    property_id: Mapped[int] = mapped_column(ForeignKey("hc_property.id", ondelete="CASCADE"))
    kind: Mapped[GroupKind] = mapped_column(_enum(GroupKind, "group_kind"))
    name: Mapped[str] = mapped_column(String(200))

    property: Mapped[Property] = relationship(back_populates="groups")


class Membership(Base):
    """A member's time in a group; ``left_at`` is empty while it lasts."""

    __tablename__ = "hc_membership"
    __table_args__ = (
        # At most one open membership per member and group.
        Index("uq_hc_membership_open", "group_id", "member_id", unique=True,
              sqlite_where=text("left_at IS NULL"), postgresql_where=text("left_at IS NULL")),
        Index("ix_hc_membership_member_open", "member_id", "left_at"),
        Index("ix_hc_membership_group_open", "group_id", "left_at", "joined_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("hc_group.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("hc_member.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20), default="member")
    joined_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    left_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: Staff moderation: a muted member reads but cannot post; a removed one
    #: neither, until this membership ends (their next stay starts afresh).
    muted_at: Mapped[datetime | None] = mapped_column(DateTime)
    removed_at: Mapped[datetime | None] = mapped_column(DateTime)

    group: Mapped[Group] = relationship()
    member: Mapped[Member] = relationship()
