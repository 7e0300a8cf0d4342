"""The PMS API's keys and its inbox of events."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotel_community.database import Base, utcnow
from hotel_community.models.stays import Property


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
