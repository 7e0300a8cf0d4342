"""The front desk's view of a property's campaigns: figures per campaign, the pledges,
totals by tier, pledges over time and CSV rows.

Reading only; the changes (create, tiers, publish, cancel, updates) are in
:mod:`hotel_community.services.campaigns`, settlement in
:mod:`hotel_community.services.settlement`. Every query is bounded: the list is
two statements, a campaign's figures one each. A pledge counts toward a total
while its status is in :data:`~hotel_community.models.campaigns.COUNTING`.
Times are the property's.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Sequence

from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload

from hotel_community.database import session
from hotel_community.models import Property
from hotel_community.models.campaigns import (
    COUNTING, Campaign, CampaignStatus, Pledge, PledgeStatus, RewardTier,
)
from hotel_community.services.access import today_at
from hotel_community.services.health import day_bounds
from hotel_community.services.products import minor_to_decimal
from hotel_community.services.staff_orders import defused, local_time

#: The chart of pledges over time covers at most this many days (the last ones).
CHART_DAYS = 60

CAMPAIGN_STATUS_TEXT = {
    CampaignStatus.draft: "Draft",
    CampaignStatus.live: "Live",
    CampaignStatus.succeeded: "Succeeded",
    CampaignStatus.failed: "Failed (goal missed)",
    CampaignStatus.cancelled: "Cancelled",
}
PLEDGE_STATUS_TEXT = {
    PledgeStatus.pending_setup: "Saving the card",
    PledgeStatus.active: "Active",
    PledgeStatus.cancelled: "Cancelled",
    PledgeStatus.collected: "Collected",
    PledgeStatus.payment_failed: "Payment failed",
    PledgeStatus.uncollected: "Uncollected",
    PledgeStatus.released: "Released",
}

#: The rows of the settlement report (``settlement.report``) staff see, in this order.
SETTLEMENT_STATUSES = (PledgeStatus.collected, PledgeStatus.payment_failed,
                       PledgeStatus.uncollected, PledgeStatus.released)


@dataclass(frozen=True)
class Figures:
    """What counts toward a campaign's goal: the sum pledged and how many back it."""

    total: int = 0
    backers: int = 0


@dataclass(frozen=True)
class TierTotal:
    """Counting pledges of a tier (None: pledges without a tier)."""

    tier: RewardTier | None
    pledges: int
    amount: int


@dataclass(frozen=True)
class PledgedOverTime:
    """Minor units pledged per local day (oldest first) and the running total."""

    days: list[date]
    per_day: list[int]
    cumulative: list[int]


# --------------------------------------------------------------------------- the list

def campaigns_with_figures(campaigns: Sequence[Campaign]) -> dict[int, Figures]:
    """The figures of each campaign, in one grouped statement (as ``campaigns.progress``
    counts them: backers are members)."""
    rows = session.execute(
        select(Pledge.campaign_id, func.sum(Pledge.amount),
               func.count(func.distinct(Pledge.member_id)))
        .where(Pledge.campaign_id.in_([c.id for c in campaigns]), Pledge.status.in_(COUNTING))
        .group_by(Pledge.campaign_id))
    return {campaign_id: Figures(int(total or 0), backers)
            for campaign_id, total, backers in rows}


# --------------------------------------------------------------------------- one campaign

def pledges(campaign_id: int) -> Sequence[Pledge]:
    """Every pledge of the campaign, whatever its status, oldest first, with member and tier."""
    return session.scalars(
        select(Pledge).where(Pledge.campaign_id == campaign_id)
        .options(joinedload(Pledge.member), joinedload(Pledge.tier))
        .order_by(Pledge.created_at, Pledge.id)).all()


def totals_by_tier(campaign: Campaign) -> list[TierTotal]:
    """Each tier (cheapest first, unclaimed ones included), then pledges without a tier."""
    rows = session.execute(
        select(Pledge.tier_id, func.count(Pledge.id), func.sum(Pledge.amount))
        .where(Pledge.campaign_id == campaign.id, Pledge.status.in_(COUNTING))
        .group_by(Pledge.tier_id))
    counted = {tier_id: (count, int(amount or 0)) for tier_id, count, amount in rows}
    totals = [TierTotal(tier, *counted.get(tier.id, (0, 0))) for tier in campaign.tiers]
    if None in counted:
        totals.append(TierTotal(None, *counted[None]))
    return totals


def pledged_over_time(prop: Property, campaign: Campaign,
                      today: date | None = None) -> PledgedOverTime:
    """Counting pledges by the local day they were made, from the campaign's start to today
    or its deadline (whichever is first), at most :data:`CHART_DAYS` days."""
    first = local_time(prop, campaign.starts_at).date()
    last = min(today or today_at(prop), local_time(prop, campaign.deadline).date())
    first = max(first, last - timedelta(days=CHART_DAYS - 1))
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)] or [last]
    bounds = day_bounds(prop, days)
    index = case(*((Pledge.created_at < end, n) for n, end in enumerate(bounds[1:])))
    rows = (select(index.label("day"), Pledge.amount.label("amount"))
            .where(Pledge.campaign_id == campaign.id, Pledge.status.in_(COUNTING),
                   Pledge.created_at < bounds[-1]).subquery())
    per_day = [0] * len(days)
    for day, amount in session.execute(select(rows.c.day, func.sum(rows.c.amount))
                                       .group_by(rows.c.day)):
        per_day[day] = int(amount or 0)
    earlier = session.scalar(select(func.coalesce(func.sum(Pledge.amount), 0)).where(
        Pledge.campaign_id == campaign.id, Pledge.status.in_(COUNTING),
        Pledge.created_at < bounds[0]))
    return PledgedOverTime(days, per_day, _running(int(earlier or 0), per_day))


def _running(start: int, values: list[int]) -> list[int]:
    totals, total = [], start
    for value in values:
        total += value
        totals.append(total)
    return totals


# --------------------------------------------------------------------------- CSV

CSV_HEADER = ("Pledge", "Backer", "Email", "Tier", "Amount", "Currency", "Status", "Created",
              "Collected at", "Last error")


def pledges_csv(prop: Property, campaign: Campaign) -> str:
    """The pledges as CSV text, starting with a UTF-8 BOM (Chinese names read right in
    spreadsheets); what members or staff typed is defused so it never runs as a formula."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    for pledge in pledges(campaign.id):
        writer.writerow(_csv_row(prop, campaign.currency, pledge))
    return buffer.getvalue()


def _csv_row(prop: Property, currency: str, pledge: Pledge) -> list[Any]:
    def when(moment: datetime | None) -> str:
        local = local_time(prop, moment)
        return local.strftime("%Y-%m-%d %H:%M") if local else ""

    typed = (pledge.member.full_name, pledge.member.email or "",
             pledge.tier.description_en if pledge.tier else "", pledge.last_error or "")
    name, email, tier, error = (defused(value) for value in typed)
    return [pledge.id, name, email, tier, minor_to_decimal(pledge.amount, currency), currency,
            PLEDGE_STATUS_TEXT[pledge.status], when(pledge.created_at), when(pledge.collected_at),
            error]
