"""Crowdfunding: all-or-nothing campaigns toward the hotel's next project.

A :class:`Pledge` saves a payment method (a Stripe SetupIntent) and charges
nothing; when the campaign's deadline passes with its goal met, every active
pledge is charged once, off-session. ``RewardTier.claimed`` moves only by
conditional UPDATEs (``claimed < quantity``), so a limited tier's last place
goes to one member.
"""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotel_community.database import Base, utcnow
from hotel_community.models.stays import Member, Property, _enum


class CampaignStatus(str, enum.Enum):
    draft = "draft"
    live = "live"
    #: The deadline passed with the goal met: pledges are (being) charged.
    succeeded = "succeeded"
    #: The deadline passed short of the goal: nothing is charged.
    failed = "failed"
    cancelled = "cancelled"


class CampaignEligibility(str, enum.Enum):
    #: Members who have stayed at the property at least once (checked out).
    stayed = "stayed"
    #: Every member of the property's community, guests in house included.
    members = "members"


class Campaign(Base):
    __tablename__ = "hc_campaign"
    __table_args__ = (
        CheckConstraint("goal > 0", name="goal_positive"),
        Index("ix_hc_campaign_due", "status", "deadline"),
        Index("ix_hc_campaign_property", "property_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    property_id: Mapped[int] = mapped_column(ForeignKey("hc_property.id", ondelete="CASCADE"))
    title_en: Mapped[str] = mapped_column(String(200))
    title_zh: Mapped[str] = mapped_column(String(200), default="")
    story_en: Mapped[str] = mapped_column(Text, default="")
    story_zh: Mapped[str] = mapped_column(Text, default="")
    #: Storage key of the cover image (services/storage.py).
    cover: Mapped[str | None] = mapped_column(String(200))
    #: Minor units of ``currency``.
    goal: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    starts_at: Mapped[datetime] = mapped_column(DateTime)
    deadline: Mapped[datetime] = mapped_column(DateTime)
    eligibility: Mapped[CampaignEligibility] = mapped_column(
        _enum(CampaignEligibility, "campaign_eligibility"))
    #: Shown before pledging (what a pledge means, the risks, the refund policy).
    disclaimer_en: Mapped[str] = mapped_column(Text, default="")
    disclaimer_zh: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[CampaignStatus] = mapped_column(_enum(CampaignStatus, "campaign_status"))
    settled_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    property: Mapped[Property] = relationship()
    tiers: Mapped[list[RewardTier]] = relationship(
        back_populates="campaign", cascade="all, delete-orphan", order_by="RewardTier.minimum")


class RewardTier(Base):
    __tablename__ = "hc_reward_tier"
    __table_args__ = (
        CheckConstraint("minimum > 0", name="minimum_positive"),
        CheckConstraint("claimed >= 0 AND (quantity IS NULL OR claimed <= quantity)",
                        name="claimed_within_quantity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("hc_campaign.id", ondelete="CASCADE"), index=True)
    #: The least a pledge for this tier may be, in minor units.
    minimum: Mapped[int] = mapped_column(Integer)
    description_en: Mapped[str] = mapped_column(Text)
    description_zh: Mapped[str] = mapped_column(Text, default="")
    #: How many there are (two nights in the opening week: 20), or None for no limit.
    quantity: Mapped[int | None] = mapped_column(Integer)
    #: Held by active pledges.
    claimed: Mapped[int] = mapped_column(Integer, default=0)

    campaign: Mapped[Campaign] = relationship(back_populates="tiers")


class PledgeStatus(str, enum.Enum):
    #: Waiting for the member to save a card (the SetupIntent is not confirmed yet).
    pending_setup = "pending_setup"
    #: A saved payment method, nothing charged: counts toward the goal.
    active = "active"
    cancelled = "cancelled"
    #: The campaign succeeded and the pledge was charged.
    collected = "collected"
    #: The charge failed; the member may update their card until ``retry_until``.
    payment_failed = "payment_failed"
    #: The charge failed and the grace period ended.
    uncollected = "uncollected"
    #: The campaign failed or was cancelled: the payment method is let go.
    released = "released"


#: Statuses that count toward the goal and hold a tier.
COUNTING = (PledgeStatus.active, PledgeStatus.collected, PledgeStatus.payment_failed)


class Pledge(Base):
    __tablename__ = "hc_pledge"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("uq_hc_pledge_open", "campaign_id", "member_id", unique=True,
              sqlite_where=text("status IN ('pending_setup', 'active')"),
              postgresql_where=text("status IN ('pending_setup', 'active')")),
        Index("ix_hc_pledge_campaign_status", "campaign_id", "status", "id"),
        Index("ix_hc_pledge_member", "member_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("hc_campaign.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("hc_member.id", ondelete="CASCADE"))
    tier_id: Mapped[int | None] = mapped_column(
        ForeignKey("hc_reward_tier.id", ondelete="SET NULL"), index=True)
    #: Minor units of the campaign's currency.
    amount: Mapped[int] = mapped_column(Integer)
    status: Mapped[PledgeStatus] = mapped_column(_enum(PledgeStatus, "pledge_status"))
    #: Stripe ids: the customer, the SetupIntent that saved the card, the card saved.
    customer_ref: Mapped[str | None] = mapped_column(String(200))
    setup_ref: Mapped[str | None] = mapped_column(String(200))
    payment_method_ref: Mapped[str | None] = mapped_column(String(200))
    #: The PaymentIntent of the current charge attempt, stored before it is confirmed,
    #: so a settlement run that crashed picks it up instead of charging again.
    charge_ref: Mapped[str | None] = mapped_column(String(200))
    charge_attempts: Mapped[int] = mapped_column(Integer, default=0)
    collected_at: Mapped[datetime | None] = mapped_column(DateTime)
    retry_until: Mapped[datetime | None] = mapped_column(DateTime)
    #: Set when the member saved a new card after a failed charge: retry it.
    card_updated_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    campaign: Mapped[Campaign] = relationship()
    member: Mapped[Member] = relationship()
    tier: Mapped[RewardTier | None] = relationship()


class CampaignUpdate(Base):
    """News from staff to the backers (the building has a roof!)."""

    __tablename__ = "hc_campaign_update"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("hc_campaign.id", ondelete="CASCADE"), index=True)
    body_en: Mapped[str] = mapped_column(Text)
    body_zh: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
