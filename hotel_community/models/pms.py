"""The PMS API's keys, its inbox of events, and each property's link to its PMS."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotel_community.database import Base, utcnow
from hotel_community.models.stays import Property, _enum


class ApiKey(Base):
    """A property's API credential. The secret is stored encrypted, never in clear."""

    __tablename__ = "hc_api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    property_id: Mapped[int] = mapped_column(
        ForeignKey("hc_property.id", ondelete="CASCADE"), index=True)
    key_id: Mapped[str] = mapped_column(String(64), unique=True)
    secret_encrypted: Mapped[str] = mapped_column(String(500))
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)

    property: Mapped[Property] = relationship()


class PmsEvent(Base):
    """Every PMS event received, once per (property, event id), with its outcome."""

    __tablename__ = "hc_pms_event"
    __table_args__ = (
        UniqueConstraint("property_id", "event_id"),
        Index("ix_hc_pms_event_received", "property_id", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    property_id: Mapped[int] = mapped_column(ForeignKey("hc_property.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(50), default="api")
    reservation_id: Mapped[str] = mapped_column(String(100))
    occurred_at: Mapped[datetime] = mapped_column(DateTime)
    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    deliveries: Mapped[int] = mapped_column(Integer, default=1)
    result: Mapped[str] = mapped_column(String(20))
    payload: Mapped[dict] = mapped_column(JSON)


class PmsLink(Base):
    """A property's link to its PMS: the adapter, its settings, the webhook's token.

    Settings an adapter marks secret (API tokens, passwords) and the webhook
    token are kept encrypted in ``secrets_encrypted``; the others, in clear in
    ``settings``, are shown to staff.
    """

    __tablename__ = "hc_pms_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    property_id: Mapped[int] = mapped_column(
        ForeignKey("hc_property.id", ondelete="CASCADE"), unique=True)
    adapter: Mapped[str] = mapped_column(String(50))
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    secrets_encrypted: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    #: The last "test the connection": when, whether it worked, what the PMS said.
    checked_at: Mapped[datetime | None] = mapped_column(DateTime)
    check_ok: Mapped[bool | None] = mapped_column(Boolean)
    check_message: Mapped[str] = mapped_column(Text, default="")
    #: The last reconcile against the PMS's in-house list (``flask community pms-sync``).
    synced_at: Mapped[datetime | None] = mapped_column(DateTime)
    sync_summary: Mapped[str] = mapped_column(Text, default="")

    property: Mapped[Property] = relationship()


class PmsNotificationStatus(str, enum.Enum):
    #: To fetch (now, or at ``next_attempt_at`` after a failure).
    pending = "pending"
    #: Fetched and applied.
    done = "done"
    #: Gave up after ``PMS_MAX_ATTEMPTS``; ``flask community pms-sync`` still reconciles the stay.
    failed = "failed"


class PmsNotification(Base):
    """What a vendor webhook said changed (ids only), waiting to be fetched and applied.

    The webhook answers once these rows are stored; fetching the reservation
    from the PMS happens after the response or in a job, with retries. One
    pending row per (property, kind, ref): a repeated webhook bumps its
    ``version``, so a fetch that started before the repeat is made again.
    """

    __tablename__ = "hc_pms_notification"
    __table_args__ = (
        Index("uq_hc_pms_notification_pending", "property_id", "kind", "ref", unique=True,
              postgresql_where=text("status = 'pending'"), sqlite_where=text("status = 'pending'")),
        Index("ix_hc_pms_notification_due", "status", "next_attempt_at"),
        Index("ix_hc_pms_notification_property", "property_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    property_id: Mapped[int] = mapped_column(ForeignKey("hc_property.id", ondelete="CASCADE"))
    adapter: Mapped[str] = mapped_column(String(50))
    #: What the id names, in the adapter's words (``reservation``, ``customer``).
    kind: Mapped[str] = mapped_column(String(30))
    ref: Mapped[str] = mapped_column(String(200))
    status: Mapped[PmsNotificationStatus] = mapped_column(
        _enum(PmsNotificationStatus, "pms_notification_status"))
    #: Bumped by every delivery; a fetch is only done if no delivery came in meanwhile.
    version: Mapped[int] = mapped_column(Integer, default=1)
    deliveries: Mapped[int] = mapped_column(Integer, default=1)
    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: A worker fetching it holds it until then; another may take it over after.
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    #: What applying it did, e.g. ``"R-1 applied"``.
    result: Mapped[str] = mapped_column(Text, default="")
    done_at: Mapped[datetime | None] = mapped_column(DateTime)

    property: Mapped[Property] = relationship()
