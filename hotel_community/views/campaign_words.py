"""Campaigns in the guest's words and language: texts with the Chinese fallback, money,
days left, places left, the member's pledge status, and the campaign notifications."""
from __future__ import annotations

from datetime import datetime

from babel.dates import format_skeleton
from flask import url_for
from flask_babel import get_locale

from hotel_community.database import session
from hotel_community.i18n import domain
from hotel_community.i18n import gettext as _
from hotel_community.models import (
    Campaign, CampaignUpdate, Notification, Pledge, PledgeStatus, RewardTier,
)
from hotel_community.services import events
from hotel_community.services.products import format_price

#: Notification kinds the campaigns send (services/campaigns.py and services/settlement.py).
CAMPAIGN_UPDATE = "campaign_update"
PLEDGE_PAYMENT_FAILED = "pledge_payment_failed"
KINDS = (CAMPAIGN_UPDATE, PLEDGE_PAYMENT_FAILED)


def locale() -> str:
    return str(get_locale() or "en")


def _chosen(english: str, chinese: str) -> str:
    """Chinese when the guest reads Chinese and staff wrote it; English otherwise."""
    return (locale() == "zh" and chinese) or english


def title(campaign: Campaign) -> str:
    return _chosen(campaign.title_en, campaign.title_zh)


def story(campaign: Campaign) -> str:
    return _chosen(campaign.story_en, campaign.story_zh)


def disclaimer(campaign: Campaign) -> str:
    return _chosen(campaign.disclaimer_en, campaign.disclaimer_zh)


def tier_description(tier: RewardTier) -> str:
    return _chosen(tier.description_en, tier.description_zh)


def update_body(update: CampaignUpdate) -> str:
    return _chosen(update.body_en, update.body_zh)


def money(amount: int, campaign: Campaign) -> str:
    return format_price(amount, campaign.currency, locale())


def days_left(days: int) -> str:
    if days <= 0:
        return _("Ended")
    return domain.ngettext("%(num)d day left", "%(num)d days left", days)


def places_left(tier: RewardTier, left: int | None) -> str:
    """"3 of 20 left" / "Sold out"; nothing for an unlimited tier."""
    if left is None:
        return ""
    if left <= 0:
        return _("Sold out")
    return _("%(left)d of %(quantity)d left", left=left, quantity=tier.quantity)


def day(campaign: Campaign, utc: datetime) -> str:
    """A stored (naive UTC) time as the day at the hotel: "Nov 25, 2025"."""
    return format_skeleton("yMMMd", events.local_time(campaign.property, utc), locale=locale())


def pledge_status(pledge: Pledge) -> str:
    """The member's own pledge, in words."""
    if pledge.status == PledgeStatus.payment_failed:
        if pledge.card_updated_at:
            return _("Payment failed: your new card is saved and will be charged soon")
        return _("Payment failed: update your card by %(date)s",
                 date=day(pledge.campaign, pledge.retry_until)) if pledge.retry_until \
            else _("Payment failed")
    return str({
        PledgeStatus.pending_setup: _("Waiting for your card"),
        PledgeStatus.active: _("Active: nothing is charged unless the goal is reached"),
        PledgeStatus.collected: _("Collected"),
        PledgeStatus.cancelled: _("Cancelled"),
        PledgeStatus.released: _("Released: the goal was not reached, nothing was charged"),
        PledgeStatus.uncollected: _("Not collected: the payment could not be taken"),
    }[pledge.status])


def note(notification: Notification) -> tuple[str, str]:
    """A campaign notification worded in the reader's language, and where it leads."""
    campaign = session.get(Campaign, notification.params.get("campaign") or 0)
    pledge = session.get(Pledge, notification.params.get("pledge") or 0)
    campaign = campaign or (pledge.campaign if pledge is not None else None)
    name = title(campaign) if campaign is not None else _("A campaign")
    link = notification.link or (url_for("hotel_community.campaigns.page", campaign_id=campaign.id)
                                 if campaign is not None
                                 else url_for("hotel_community.campaigns.list"))
    if notification.kind == CAMPAIGN_UPDATE:
        return _("%(campaign)s has news for its backers.", campaign=name), link
    return _("The payment for your pledge to %(campaign)s failed. Please update your card.",
             campaign=name), link
