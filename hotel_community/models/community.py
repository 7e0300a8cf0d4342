"""What members do together: profiles, interests, posts, connections, blocks, reports."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON, Boolean, DateTime, ForeignKey, Index, String, Text, UniqueConstraint, text,
)
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from hotel_community.database import Base, utcnow
from hotel_community.models.stays import Group, Member, Property, _enum


class Profile(Base):
    """What a member tells other guests about themselves; theirs to edit and delete."""

    __tablename__ = "hc_profile"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("hc_member.id", ondelete="CASCADE"), primary_key=True)
    #: Shown instead of "first name and last initial" when set.
    display_name: Mapped[str | None] = mapped_column(String(60))
    #: Storage key of the resized photo (see services/storage.py).
    photo: Mapped[str | None] = mapped_column(String(200))
    home_city: Mapped[str | None] = mapped_column(String(100))
    #: Languages spoken, as codes: ["en", "zh"].
    languages: Mapped[list] = mapped_column(JSON, default=list)
    #: What a connection sees: "wechat", "email", "phone" or "other".
    contact_kind: Mapped[str | None] = mapped_column(String(20))
    contact_value: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    member: Mapped[Member] = relationship(backref=backref("profile", uselist=False))


class Interest(Base):
    """A tag: from the list the hotel curates, or added by a guest."""

    __tablename__ = "hc_interest"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Lower-case, trimmed: what two members must share.
    slug: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    curated: Mapped[bool] = mapped_column(Boolean, default=False)


class MemberInterest(Base):
    __tablename__ = "hc_member_interest"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("hc_member.id", ondelete="CASCADE"), primary_key=True)
    interest_id: Mapped[int] = mapped_column(
        ForeignKey("hc_interest.id", ondelete="CASCADE"), primary_key=True, index=True)

    interest: Mapped[Interest] = relationship()


class PostKind(str, enum.Enum):
    post = "post"
    announcement = "announcement"  # by staff; can be pinned


class Post(Base):
    """A post in a group's feed, or a reply to one (``parent_id``)."""

    __tablename__ = "hc_post"
    __table_args__ = (
        # The feed: a group's top-level posts, newest first, keyset on id.
        Index("ix_hc_post_feed", "group_id", "parent_id", "id"),
        Index("ix_hc_post_replies", "parent_id", "id"),
        Index("ix_hc_post_author", "author_id", "id"),
        Index("ix_hc_post_group_created", "group_id", "created_at"),  # health: posts per day
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("hc_group.id", ondelete="CASCADE"))
    #: Empty for staff announcements and for posts of a deleted account.
    author_id: Mapped[int | None] = mapped_column(ForeignKey("hc_member.id", ondelete="SET NULL"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("hc_post.id", ondelete="CASCADE"))
    kind: Mapped[PostKind] = mapped_column(_enum(PostKind, "post_kind"), default=PostKind.post)
    #: Who wrote an announcement, as staff signed it.
    staff_author: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    photo: Mapped[str | None] = mapped_column(String(200))
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Set when staff hid the post (moderation); hidden posts are shown to nobody.
    hidden_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    group: Mapped[Group] = relationship()
    author: Mapped[Member | None] = relationship()


class Reaction(Base):
    __tablename__ = "hc_reaction"
    __table_args__ = (UniqueConstraint("post_id", "member_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("hc_post.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(
        ForeignKey("hc_member.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ConnectionStatus(str, enum.Enum):
    pending = "pending"
    accepted = "accepted"
    declined = "declined"


class Connection(Base):
    """A "say hello" request and, once accepted, the connection it became."""

    __tablename__ = "hc_connection"
    __table_args__ = (
        UniqueConstraint("requester_id", "addressee_id"),
        Index("ix_hc_connection_addressee", "addressee_id", "status"),
        Index("ix_hc_connection_property_created", "property_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("hc_member.id", ondelete="CASCADE"))
    addressee_id: Mapped[int] = mapped_column(ForeignKey("hc_member.id", ondelete="CASCADE"))
    #: Where the two met.
    property_id: Mapped[int] = mapped_column(ForeignKey("hc_property.id", ondelete="CASCADE"))
    status: Mapped[ConnectionStatus] = mapped_column(
        _enum(ConnectionStatus, "connection_status"), default=ConnectionStatus.pending)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    responded_at: Mapped[datetime | None] = mapped_column(DateTime)

    requester: Mapped[Member] = relationship(foreign_keys=[requester_id])
    addressee: Mapped[Member] = relationship(foreign_keys=[addressee_id])
    property: Mapped[Property] = relationship()


class Block(Base):
    """``blocker`` never hears from ``blocked`` again: no requests, no posts, no suggestion."""

    __tablename__ = "hc_block"

    blocker_id: Mapped[int] = mapped_column(
        ForeignKey("hc_member.id", ondelete="CASCADE"), primary_key=True)
    blocked_id: Mapped[int] = mapped_column(
        ForeignKey("hc_member.id", ondelete="CASCADE"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Report(Base):
    """A member's report of a post or of another member, for the staff queue."""

    __tablename__ = "hc_report"
    __table_args__ = (
        Index("ix_hc_report_queue", "property_id", "handled_at", "id"),
        # One open report per reporter and target, even under concurrent submissions.
        Index("uq_hc_report_open_post", "reporter_id", "post_id", unique=True,
              sqlite_where=text("handled_at IS NULL AND post_id IS NOT NULL"),
              postgresql_where=text("handled_at IS NULL AND post_id IS NOT NULL")),
        Index("uq_hc_report_open_member", "reporter_id", "reported_member_id", unique=True,
              sqlite_where=text("handled_at IS NULL AND reported_member_id IS NOT NULL"),
              postgresql_where=text("handled_at IS NULL AND reported_member_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    property_id: Mapped[int] = mapped_column(ForeignKey("hc_property.id", ondelete="CASCADE"))
    reporter_id: Mapped[int | None] = mapped_column(
        ForeignKey("hc_member.id", ondelete="SET NULL"))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("hc_post.id", ondelete="CASCADE"))
    reported_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("hc_member.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: Set when staff dealt with it; ``action`` says how ("hide", "mute", "remove", "dismiss").
    handled_at: Mapped[datetime | None] = mapped_column(DateTime)
    handled_by: Mapped[str | None] = mapped_column(String(200))
    action: Mapped[str | None] = mapped_column(String(20))

    post: Mapped[Post | None] = relationship()
    reported_member: Mapped[Member | None] = relationship(foreign_keys=[reported_member_id])
