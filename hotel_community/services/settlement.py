"""Settling crowdfunding campaigns past their deadline: all or nothing, each pledge charged once.

- One campaign at a time: the next live campaign past its deadline is picked with
  ``FOR UPDATE SKIP LOCKED`` (PostgreSQL; SQLite's writes are serial) and decided in one
  transaction by a conditional UPDATE from ``live``: goal met (the active pledges add up
  to it) -> succeeded; short -> failed, its pledges released and their tiers' places
  given back, and after the commit the saved cards let go.
- Charging survives a crash without relying on idempotency keys (localstripe ignores
  them): the pledge's attempt is claimed (``charge_attempts``), the PaymentIntent created
  unconfirmed and its id stored in ``charge_ref`` and committed, and only then confirmed.
  A run that finds a ``charge_ref`` asks Stripe how it stands and finishes that attempt.
  An intent a crashed run created but never stored is never confirmed, so never charges.
  The key ``hc-pledge-<id>-<attempt>`` still lets Stripe itself return the same intent.
- A declined card makes the pledge ``payment_failed``: the member is told and may save a
  new card until ``retry_until`` (``CAMPAIGN_RETRY_GRACE`` after the first decline);
  :func:`retry_failed` charges the new card, or gives the pledge up as ``uncollected``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from flask import current_app
from sqlalchemy import case, exists, func, select, update

from hotel_community.database import session, transaction, utcnow
from hotel_community.errors import PaymentProviderError
from hotel_community.hookspecs import PaymentProvider
from hotel_community.models import (
    Campaign, CampaignStatus, Pledge, PledgeStatus, RewardTier,
)
from hotel_community.services import orders
from hotel_community.services.events import notify
from hotel_community.services.products import format_price
from hotel_community.settings import config_value

PROVIDER = "stripe"
#: Notification kind for a member whose card was declined at settlement.
PAYMENT_FAILED = "pledge_payment_failed"
#: Pledges a failed campaign releases (a pending one holds its tier's place too).
RELEASABLE = (PledgeStatus.pending_setup, PledgeStatus.active)
#: PaymentIntent statuses after which this attempt will never be paid.
DECLINED = ("requires_payment_method", "requires_action", "canceled")

COLLECTED, FAILED, PENDING = "collected", "payment_failed", "pending"


@dataclass
class SettlementRun:
    """What a run of :func:`settle_due` or :func:`retry_failed` did."""

    succeeded: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    #: Every campaign whose pledges this run touched.
    campaigns: set[int] = field(default_factory=set)
    collected: int = 0
    payment_failed: int = 0
    #: Left for the next run: Stripe is still processing, or could not be reached.
    pending: int = 0
    uncollected: int = 0
    released: int = 0

    def add(self, outcome: str | None) -> None:
        if outcome == COLLECTED:
            self.collected += 1
        elif outcome == FAILED:
            self.payment_failed += 1
        elif outcome == PENDING:
            self.pending += 1

    def summary(self) -> str:
        return (f"Campaigns succeeded {len(self.succeeded)}, failed {len(self.failed)}; "
                f"pledges collected {self.collected}, payment failed {self.payment_failed}, "
                f"left for the next run {self.pending}, uncollected {self.uncollected}, "
                f"released {self.released}.")


def _stripe() -> PaymentProvider:
    provider = orders.providers().get(PROVIDER)
    if provider is None:
        raise PaymentProviderError("The Stripe payment provider is not installed.")
    return provider


# --------------------------------------------------------------------------- settling

def count_due(now: datetime | None = None) -> int:
    """Campaigns :func:`settle_due` would take up now (to size a progress bar)."""
    return len(_unfinished()) + session.scalar(
        select(func.count()).where(*_due(now or utcnow())))


def settle_due(now: datetime | None = None,
               on_each: Callable[[int], None] | None = None) -> SettlementRun:
    """Settle every live campaign past its deadline, then finish the charging of any
    succeeded campaign a crashed run left half-way. ``on_each`` gets each campaign's id."""
    now = now or utcnow()
    run = SettlementRun()
    while (campaign_id := _settle_next(now, run)) is not None:
        if on_each is not None:
            on_each(campaign_id)
    for campaign_id in _unfinished():
        if campaign_id not in run.campaigns:
            _charge_campaign(campaign_id, now, run)
            if on_each is not None:
                on_each(campaign_id)
    return run


def _due(now: datetime) -> tuple:
    return Campaign.status == CampaignStatus.live, Campaign.deadline <= now


def _unfinished() -> list[int]:
    """Succeeded campaigns with pledges still to charge."""
    return list(session.scalars(select(Campaign.id).where(
        Campaign.status == CampaignStatus.succeeded,
        exists().where(Pledge.campaign_id == Campaign.id, Pledge.status == PledgeStatus.active))
        .order_by(Campaign.id)))


def _settle_next(now: datetime, run: SettlementRun) -> int | None:
    """Decide the next due campaign and charge or release its pledges; its id, or None."""
    decided = _decide_next(now)
    if decided is None:
        return None
    campaign_id, status, released_cards = decided
    run.campaigns.add(campaign_id)
    if status == CampaignStatus.succeeded:
        run.succeeded.append(campaign_id)
        _charge_campaign(campaign_id, now, run)
    elif status == CampaignStatus.failed:
        run.failed.append(campaign_id)
        run.released += len(released_cards)
        _let_cards_go([card for card in released_cards if card])
    return campaign_id


def _decide_next(now: datetime) -> tuple[int, CampaignStatus | None, list[str | None]] | None:
    """Succeeded or failed, in one transaction; the released pledges' cards when it failed."""
    candidate = (select(Campaign.id, Campaign.goal).where(*_due(now))
                 .order_by(Campaign.deadline, Campaign.id).limit(1)
                 .with_for_update(skip_locked=True))  # SQLite: ignored, its writes are serial
    with transaction():
        picked = session.execute(candidate).first()
        if picked is None:
            return None
        met = _active_total(picked.id) >= picked.goal
        status = CampaignStatus.succeeded if met else CampaignStatus.failed
        moved = session.execute(
            update(Campaign).where(Campaign.id == picked.id, Campaign.status == CampaignStatus.live)
            .values(status=status, settled_at=now).returning(Campaign.id)
            .execution_options(synchronize_session=False)).scalar()
        if moved is None:  # settled by another run meanwhile
            return picked.id, None, []
        return picked.id, status, [] if met else _release_pledges(picked.id)


def _active_total(campaign_id: int) -> int:
    return session.scalar(select(func.coalesce(func.sum(Pledge.amount), 0)).where(
        Pledge.campaign_id == campaign_id, Pledge.status == PledgeStatus.active))


def _release_pledges(campaign_id: int) -> list[str | None]:
    """Release the open pledges and give their places back; their saved cards."""
    released = session.execute(
        update(Pledge).where(Pledge.campaign_id == campaign_id, Pledge.status.in_(RELEASABLE))
        .values(status=PledgeStatus.released)
        .returning(Pledge.tier_id, Pledge.payment_method_ref)
        .execution_options(synchronize_session=False)).all()
    held: dict[int, int] = {}
    for tier_id, _card in released:
        if tier_id is not None:
            held[tier_id] = held.get(tier_id, 0) + 1
    for tier_id, count in held.items():
        session.execute(update(RewardTier).where(RewardTier.id == tier_id).values(
            claimed=case((RewardTier.claimed > count, RewardTier.claimed - count), else_=0))
            .execution_options(synchronize_session=False))
    return [card for _tier, card in released]


def _let_cards_go(cards: list[str]) -> None:
    """Detach the released cards; a failure is logged (nothing will ever charge them)."""
    release = getattr(_stripe(), "release_card", None)
    if release is None:
        return
    for card in cards:
        try:
            release(card)
        except PaymentProviderError:
            current_app.logger.warning("Saved card %s not released", card, exc_info=True)


# --------------------------------------------------------------------------- charging

def _charge_campaign(campaign_id: int, now: datetime, run: SettlementRun) -> None:
    run.campaigns.add(campaign_id)
    for pledge_id in session.scalars(select(Pledge.id).where(
            Pledge.campaign_id == campaign_id, Pledge.status == PledgeStatus.active)
            .order_by(Pledge.id)).all():
        run.add(_charge(pledge_id, now))


def _charge(pledge_id: int, now: datetime) -> str | None:
    """One attempt at one active pledge; its outcome, or None when another run has it."""
    pledge = _claim(pledge_id)
    if pledge is None:
        return None
    provider, card = _stripe(), pledge.payment_method_ref
    try:
        if pledge.charge_ref is None:
            answer = provider.charge_saved(
                pledge.amount, pledge.campaign.currency, pledge.customer_ref, card,
                {"pledge": str(pledge.id), "campaign": str(pledge.campaign_id)},
                idempotency_key=f"hc-pledge-{pledge.id}-{pledge.charge_attempts}")
            if not _store_ref(pledge.id, answer["id"]):
                return None  # another run stored its intent first; ours is never confirmed
        else:
            answer = provider.charge_status(pledge.charge_ref)
        if answer["status"] == "requires_confirmation":
            answer = provider.confirm_charge(answer["id"])
    except PaymentProviderError:
        current_app.logger.warning("Pledge %s not charged; left for the next run", pledge_id,
                                   exc_info=True)
        return PENDING
    return _record(pledge, card, answer, now)


def _claim(pledge_id: int) -> Pledge | None:
    """The active pledge with its attempt number fixed (the first attempt is 1)."""
    with transaction():
        campaign_id = session.scalar(select(Pledge.campaign_id).where(
            Pledge.id == pledge_id, Pledge.status == PledgeStatus.active)
            .with_for_update(skip_locked=True))  # SQLite: ignored, its writes are serial
        if campaign_id is None:
            return None
        _update(pledge_id, (Pledge.status == PledgeStatus.active, Pledge.charge_attempts == 0),
                charge_attempts=1)
    session.get(Campaign, campaign_id)  # pledge.campaign then needs no query of its own
    return session.get(Pledge, pledge_id, populate_existing=True)


def _store_ref(pledge_id: int, intent_id: str) -> bool:
    with transaction():
        return _update(pledge_id, (Pledge.status == PledgeStatus.active,
                                   Pledge.charge_ref.is_(None)), charge_ref=intent_id)


def _record(pledge: Pledge, card: str | None, answer: dict[str, str], now: datetime) -> str | None:
    held = (Pledge.status == PledgeStatus.active, Pledge.charge_ref == answer["id"])
    if answer["status"] == "succeeded":
        with transaction():
            done = _update(pledge.id, held, status=PledgeStatus.collected, collected_at=now,
                           last_error="")
        return COLLECTED if done else None
    if answer["status"] not in DECLINED:
        return PENDING  # processing: the next run asks again
    with transaction():
        done = _update(
            pledge.id, held, status=PledgeStatus.payment_failed,
            last_error=(answer["error"] or f"The payment is {answer['status']}.")[:2000],
            retry_until=func.coalesce(Pledge.retry_until, now + config_value("CAMPAIGN_RETRY_GRACE")),
            # A card saved while this attempt ran is still to be tried; the one tried is not.
            card_updated_at=case((Pledge.payment_method_ref == card, None),
                                 else_=Pledge.card_updated_at))
        if done:
            notify(pledge.member_id, PAYMENT_FAILED,
                   {"campaign": pledge.campaign_id, "pledge": pledge.id}, "", commit=False)
    return FAILED if done else None


def _update(pledge_id: int, conditions: tuple, **values: Any) -> bool:
    """One conditional UPDATE; True if it changed the pledge."""
    return session.execute(
        update(Pledge).where(Pledge.id == pledge_id, *conditions).values(**values)
        .returning(Pledge.id).execution_options(synchronize_session=False)).scalar() is not None


# --------------------------------------------------------------------------- retrying

def retry_failed(now: datetime | None = None) -> SettlementRun:
    """Charge again the declined pledges whose member saved a new card within the grace
    period; give up on the others once it is over (uncollected)."""
    now = now or utcnow()
    run = SettlementRun()
    for pledge_id, campaign_id in session.execute(select(Pledge.id, Pledge.campaign_id).where(
            *_retryable()).order_by(Pledge.id)).all():
        if _reopen(pledge_id):
            run.campaigns.add(campaign_id)
            run.add(_charge(pledge_id, now))
    with transaction():
        given_up = session.execute(
            update(Pledge).where(Pledge.status == PledgeStatus.payment_failed,
                                 Pledge.retry_until < now)
            .values(status=PledgeStatus.uncollected)
            .returning(Pledge.campaign_id).execution_options(synchronize_session=False)
        ).scalars().all()
    run.uncollected = len(given_up)
    run.campaigns.update(given_up)
    return run


def _retryable() -> tuple:
    return (Pledge.status == PledgeStatus.payment_failed, Pledge.card_updated_at.is_not(None),
            Pledge.card_updated_at <= Pledge.retry_until)


def _reopen(pledge_id: int) -> bool:
    """A new attempt: active again with no intent yet, so a crash resumes it like any other."""
    with transaction():
        return _update(pledge_id, _retryable(), status=PledgeStatus.active, charge_ref=None,
                       charge_attempts=Pledge.charge_attempts + 1, last_error="")


# --------------------------------------------------------------------------- the report

def report(campaign: Campaign) -> dict[str, Any]:
    """Count and amount of the campaign's pledges by status (``collected``,
    ``payment_failed``, ``uncollected``, ``released``, ...), each ``{"count", "amount"}``."""
    rows = session.execute(select(Pledge.status, func.count(), func.sum(Pledge.amount))
                           .where(Pledge.campaign_id == campaign.id).group_by(Pledge.status)).all()
    found = {status: (count, amount or 0) for status, count, amount in rows}
    totals = {status.value: {"count": found.get(status, (0, 0))[0],
                             "amount": found.get(status, (0, 0))[1]} for status in PledgeStatus}
    return {"campaign": campaign.id, "title": campaign.title_en, "status": campaign.status.value,
            "goal": campaign.goal, "currency": campaign.currency, **totals}


def describe(campaign: Campaign) -> str:
    """The report in one line, for the command line."""
    facts = report(campaign)

    def part(status: PledgeStatus, label: str) -> str:
        total = facts[status.value]
        return f"{label} {total['count']} ({format_price(total['amount'], campaign.currency)})"

    return (f"{campaign.title_en} [{campaign.status.value}]: "
            + ", ".join((part(PledgeStatus.collected, "collected"),
                         part(PledgeStatus.payment_failed, "payment failed"),
                         part(PledgeStatus.uncollected, "uncollected"),
                         part(PledgeStatus.released, "released"))))
