"""Crowdfunding campaigns and pledges; settlement is in :mod:`.settlement`.

- A pledge saves a card with a Stripe SetupIntent (the ``stripe`` payment
  provider's ``save_card_setup``): nothing is charged until the campaign
  succeeds.
- A limited tier's place is taken with one conditional UPDATE
  (``claimed = claimed + 1 WHERE quantity IS NULL OR claimed < quantity``), so
  of many members asking for the last place exactly one gets it. It is given
  back exactly once: only by the UPDATE that moves the pledge off the tier
  (cancelled, released, or changed to another tier).
- A member has one open pledge (pending_setup or active) per campaign: the
  partial unique index ``uq_hc_pledge_open`` says so under concurrency too.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Sequence
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from werkzeug.datastructures import FileStorage

from hotel_community.database import session, to_naive_utc, transaction, utcnow
from hotel_community.errors import (
    Conflict, Forbidden, NotFound, PaymentProviderError, SoldOut, ValidationFailed,
)
from hotel_community.i18n import lazy_gettext as _l
from hotel_community.models import (
    Campaign, CampaignEligibility, CampaignStatus, CampaignUpdate, Member, Pledge, PledgeStatus,
    Property, RewardTier, Stay, StayGuest, StayStatus,
)
from hotel_community.models.campaigns import COUNTING
from hotel_community.services import orders, storage
from hotel_community.services.events import notify

#: The payment provider that saves cards (plugins/stripe).
PROVIDER = "stripe"
#: Amounts live in INTEGER columns (32 bits).
MAX_AMOUNT = 2**31 - 1
#: Pledges that can still change: they hold their tier and may be cancelled.
OPEN = (PledgeStatus.pending_setup, PledgeStatus.active)
#: Settled campaigns stay on the guest list this long after their deadline.
RECENT = timedelta(days=30)
#: Notification kind sent to every backer when staff post an update.
CAMPAIGN_UPDATE = "campaign_update"


@dataclass(frozen=True)
class CampaignFields:
    """What staff enter; times are the property's local time."""

    title_en: str
    goal: int
    starts_local: datetime
    deadline_local: datetime
    eligibility: CampaignEligibility = CampaignEligibility.stayed
    title_zh: str = ""
    story_en: str = ""
    story_zh: str = ""
    disclaimer_en: str = ""
    disclaimer_zh: str = ""


@dataclass(frozen=True)
class TierFields:
    minimum: int
    description_en: str
    description_zh: str = ""
    #: How many places; None for no limit.
    quantity: int | None = None


@dataclass(frozen=True)
class Progress:
    """How a campaign stands, for its page."""

    total: int
    backers: int
    goal: int
    #: total / goal (1.0 is the goal; may pass it).
    share: float
    days_left: int
    #: Each tier with its places left (None: no limit).
    tiers: list[tuple[RewardTier, int | None]]


# --------------------------------------------------------------------------- staff: campaigns

def create_campaign(prop: Property, fields: CampaignFields, actor: str) -> Campaign:
    """A draft campaign in the property's currency."""
    values = _campaign_values(prop, fields)
    with transaction():
        campaign = Campaign(property_id=prop.id, currency=prop.currency,
                            status=CampaignStatus.draft, created_by=actor[:100], **values)
        session.add(campaign)
    return campaign


def update_campaign(campaign_id: int, fields: CampaignFields) -> Campaign:
    """Change a draft or live campaign; a settled one stays as it was."""
    with transaction():
        campaign = get_campaign(campaign_id)
        _check_not_settled(campaign)
        for name, value in _campaign_values(campaign.property, fields).items():
            setattr(campaign, name, value)
    return campaign


def _campaign_values(prop: Property, fields: CampaignFields) -> dict[str, Any]:
    _check_fields(fields)
    zone = ZoneInfo(prop.timezone)
    return {"title_en": fields.title_en.strip(), "title_zh": fields.title_zh.strip(),
            "story_en": fields.story_en, "story_zh": fields.story_zh,
            "disclaimer_en": fields.disclaimer_en, "disclaimer_zh": fields.disclaimer_zh,
            "goal": fields.goal, "eligibility": fields.eligibility,
            "starts_at": to_naive_utc(fields.starts_local.replace(tzinfo=zone)),
            "deadline": to_naive_utc(fields.deadline_local.replace(tzinfo=zone))}


def _check_fields(fields: CampaignFields) -> None:
    errors: dict[str, list[str]] = {}
    if not fields.title_en.strip():
        errors["title_en"] = ["Required."]
    if len(fields.title_en.strip()) > 200 or len(fields.title_zh.strip()) > 200:
        errors["title_en"] = ["At most 200 characters."]
    if not 0 < fields.goal <= MAX_AMOUNT:
        errors["goal"] = ["More than zero, and less than 21,474,836.47."]
    if not 2000 <= fields.starts_local.year <= 2100:
        errors["starts_local"] = ["Not a date the hotel will see."]
    if not fields.starts_local < fields.deadline_local or fields.deadline_local.year > 2100:
        errors["deadline_local"] = ["After the start."]
    if errors:
        raise ValidationFailed("Please correct the campaign's details.", errors)


def _check_not_settled(campaign: Campaign) -> None:
    if campaign.status not in (CampaignStatus.draft, CampaignStatus.live):
        raise Conflict(f"The campaign is {campaign.status.value}: it cannot change any more.")


def add_tier(campaign_id: int, fields: TierFields) -> RewardTier:
    errors: dict[str, list[str]] = {}
    if not 0 < fields.minimum <= MAX_AMOUNT:
        errors["minimum"] = ["More than zero."]
    if not fields.description_en.strip():
        errors["description_en"] = ["Required."]
    if fields.quantity is not None and not 0 < fields.quantity <= MAX_AMOUNT:
        errors["quantity"] = ["At least one, or no limit."]
    if errors:
        raise ValidationFailed("Please correct the tier.", errors)
    with transaction():
        _check_not_settled(get_campaign(campaign_id))
        tier = RewardTier(campaign_id=campaign_id, minimum=fields.minimum,
                          description_en=fields.description_en.strip(),
                          description_zh=fields.description_zh.strip(),
                          quantity=fields.quantity, claimed=0)
        session.add(tier)
    return tier


def remove_tier(tier_id: int) -> None:
    """Remove a tier no open or counting pledge holds."""
    with transaction():
        tier = session.get(RewardTier, tier_id)
        if tier is None:
            raise NotFound("There is no such tier.")
        held = session.scalar(select(exists().where(
            Pledge.tier_id == tier_id, Pledge.status.in_(OPEN + COUNTING))))
        if held:
            raise Conflict("Pledges hold this tier: it cannot be removed.")
        session.delete(tier)


def set_cover(campaign_id: int, upload: FileStorage) -> Campaign:
    """Store the cover image (checked by storage.save_photo); the old one is deleted."""
    key = storage.save_photo(upload)
    try:
        with transaction():
            campaign = get_campaign(campaign_id)
            old, campaign.cover = campaign.cover, key
    except BaseException:
        storage.delete_photo(key)  # nothing refers to it
        raise
    storage.delete_photo(old)
    return campaign


def publish(campaign_id: int) -> Campaign:
    """Draft -> live: members may pledge from its start until its deadline."""
    campaign = get_campaign(campaign_id)
    if campaign.deadline <= utcnow():
        raise Conflict("The deadline has passed: move it before publishing.")
    with transaction():
        changed = session.execute(
            update(Campaign).where(Campaign.id == campaign_id,
                                   Campaign.status == CampaignStatus.draft)
            .values(status=CampaignStatus.live).returning(Campaign.id)).scalar()
    if changed is None:
        raise Conflict("Only a draft campaign can be published.")
    session.refresh(campaign)
    return campaign


def cancel_campaign(campaign_id: int, actor: str) -> Campaign:
    """Stop a draft or live campaign: every open pledge is released and its card let go."""
    campaign = get_campaign(campaign_id)
    with transaction():
        changed = session.execute(
            update(Campaign).where(Campaign.id == campaign_id,
                                   Campaign.status.in_((CampaignStatus.draft, CampaignStatus.live)))
            .values(status=CampaignStatus.cancelled)
            .returning(Campaign.id)).scalar()
    if changed is None:
        raise Conflict(f"The campaign is {campaign.status.value}: it cannot be cancelled.")
    current_app.logger.info("Campaign %s cancelled by %s", campaign_id, actor)
    for pledge_id in list(session.scalars(select(Pledge.id).where(
            Pledge.campaign_id == campaign_id, Pledge.status.in_(OPEN)))):
        _end_pledge(pledge_id, PledgeStatus.released)
    session.refresh(campaign)
    return campaign


# --------------------------------------------------------------------------- reading

def get_campaign(campaign_id: int, prop: Property | None = None) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or (prop is not None and campaign.property_id != prop.id):
        raise NotFound(_l("There is no such campaign."))
    return campaign


def campaigns_of(prop: Property) -> Sequence[Campaign]:
    """Every campaign of the property, newest first (staff)."""
    return session.scalars(select(Campaign).where(Campaign.property_id == prop.id)
                           .order_by(Campaign.id.desc())).all()


def visible_campaigns(prop: Property) -> Sequence[Campaign]:
    """What guests see: live campaigns, and those settled in the last 30 days."""
    settled = (Campaign.status.in_((CampaignStatus.succeeded, CampaignStatus.failed))
               & (Campaign.deadline >= utcnow() - RECENT))
    return session.scalars(
        select(Campaign).where(Campaign.property_id == prop.id,
                               (Campaign.status == CampaignStatus.live) | settled)
        .options(joinedload(Campaign.tiers))
        .order_by((Campaign.status != CampaignStatus.live), Campaign.deadline)).unique().all()


def progress(campaign: Campaign, now: datetime | None = None) -> Progress:
    """Totals of the pledges that count (active, collected, payment failed)."""
    total, backers = session.execute(
        select(func.coalesce(func.sum(Pledge.amount), 0), func.count(func.distinct(Pledge.member_id)))
        .where(Pledge.campaign_id == campaign.id, Pledge.status.in_(COUNTING))).one()
    seconds = (campaign.deadline - (now or utcnow())).total_seconds()
    # claimed moves by UPDATEs the session has not seen: read it afresh
    tiers = list(session.scalars(select(RewardTier).where(RewardTier.campaign_id == campaign.id)
                                 .order_by(RewardTier.minimum, RewardTier.id)
                                 .execution_options(populate_existing=True)))
    return Progress(total=total, backers=backers, goal=campaign.goal,
                    share=total / campaign.goal, days_left=max(0, math.ceil(seconds / 86400)),
                    tiers=[(tier, None if tier.quantity is None else tier.quantity - tier.claimed)
                           for tier in tiers])


def may_pledge(member: Member | None, campaign: Campaign) -> bool:
    """Whether the member may pledge now: the campaign is open and they are eligible."""
    return member is not None and _open_reason(campaign) is None and _eligible(member, campaign)


def _eligible(member: Member, campaign: Campaign) -> bool:
    """``stayed``: a checked-out stay at the property; ``members``: any stay there,
    in house or checked out."""
    statuses = [StayStatus.checked_out]
    if campaign.eligibility == CampaignEligibility.members:
        statuses.append(StayStatus.in_house)
    return session.scalar(select(exists().where(
        StayGuest.member_id == member.id, StayGuest.stay_id == Stay.id,
        Stay.property_id == campaign.property_id, Stay.status.in_(statuses)))) or False


def _open_reason(campaign: Campaign, now: datetime | None = None) -> Any:
    """Why the campaign takes no pledges (or changes to them) now; None when it does."""
    now = now or utcnow()
    if campaign.status != CampaignStatus.live:
        return _l("This campaign is not taking pledges.")
    if now < campaign.starts_at:
        return _l("This campaign has not started yet.")
    if now >= campaign.deadline:
        return _l("This campaign has ended: pledges can no longer change.")
    return None


def pledge_of(member: Member, campaign_id: int) -> Pledge | None:
    """The member's latest pledge to the campaign that was not cancelled."""
    return session.scalar(select(Pledge).where(Pledge.member_id == member.id,
                                               Pledge.campaign_id == campaign_id,
                                               Pledge.status != PledgeStatus.cancelled)
                          .options(joinedload(Pledge.tier)).order_by(Pledge.id.desc()).limit(1))


def pledges_of_campaign(campaign_id: int) -> Sequence[Pledge]:
    """Every pledge, oldest first, with its member and tier (staff)."""
    return session.scalars(select(Pledge).where(Pledge.campaign_id == campaign_id)
                           .options(joinedload(Pledge.member), joinedload(Pledge.tier))
                           .order_by(Pledge.id)).all()


def updates_of(campaign_id: int) -> Sequence[CampaignUpdate]:
    """The campaign's updates, newest first."""
    return session.scalars(select(CampaignUpdate).where(CampaignUpdate.campaign_id == campaign_id)
                           .order_by(CampaignUpdate.id.desc())).all()


# --------------------------------------------------------------------------- pledges

def start_pledge(campaign_id: int, member: Member, amount: int,
                 tier_id: int | None) -> tuple[Pledge, str]:
    """A pending pledge holding its tier, and the client secret for Stripe.js to save the
    card. An unfinished pledge of the member (card never saved) is replaced."""
    campaign = get_campaign(campaign_id)
    _check_may_pledge(campaign, member)
    tier = _tier_for(campaign, tier_id, amount)
    earlier = session.scalar(select(Pledge).where(
        Pledge.campaign_id == campaign_id, Pledge.member_id == member.id,
        Pledge.status == PledgeStatus.pending_setup))
    customer_ref = earlier.customer_ref if earlier else None
    if earlier is not None:
        _end_pledge(earlier.id, PledgeStatus.cancelled)
    with transaction():
        if tier is not None:
            _claim(tier.id)
        pledge = Pledge(campaign_id=campaign_id, member_id=member.id, amount=amount,
                        tier_id=tier_id, status=PledgeStatus.pending_setup)
        session.add(pledge)
        _flush_or_conflict()
    try:
        setup = _provider().save_card_setup(customer_ref, _metadata(pledge))
    except BaseException:
        _end_pledge(pledge.id, PledgeStatus.cancelled)  # give the place back
        raise
    with transaction():
        pledge.customer_ref, pledge.setup_ref = setup["customer"], setup["setup_intent"]
    return pledge, setup["client_secret"]


def _check_may_pledge(campaign: Campaign, member: Member) -> None:
    reason = _open_reason(campaign)
    if reason is not None:
        raise Conflict(reason)
    if not _eligible(member, campaign):
        if campaign.eligibility == CampaignEligibility.stayed:
            raise Forbidden(_l("This campaign is for guests who have stayed with us."))
        raise Forbidden(_l("This campaign is for members of the hotel's community."))


def _tier_for(campaign: Campaign, tier_id: int | None, amount: int) -> RewardTier | None:
    tier = None
    if tier_id is not None:
        tier = session.get(RewardTier, tier_id)
        if tier is None or tier.campaign_id != campaign.id:
            raise ValidationFailed(_l("Please choose one of the campaign's rewards."),
                                   {"tier": ["Not a tier of this campaign."]})
    least = tier.minimum if tier else 1
    if not least <= amount <= MAX_AMOUNT:
        raise ValidationFailed(_l("Please pledge at least the reward's minimum."),
                               {"amount": [f"At least {least}."]})
    return tier


def _claim(tier_id: int) -> None:
    taken = session.execute(
        update(RewardTier).where(RewardTier.id == tier_id,
                                 RewardTier.quantity.is_(None)
                                 | (RewardTier.claimed < RewardTier.quantity))
        .values(claimed=RewardTier.claimed + 1).returning(RewardTier.id)).scalar()
    if taken is None:
        raise SoldOut(_l("Every place of this reward has been taken."))


def _release(tier_id: int | None) -> None:
    """Give a place back; only called by the UPDATE that moved a pledge off the tier."""
    if tier_id is not None:
        session.execute(update(RewardTier).where(RewardTier.id == tier_id, RewardTier.claimed > 0)
                        .values(claimed=RewardTier.claimed - 1))


def _flush_or_conflict() -> None:
    try:
        session.flush()
    except IntegrityError:  # two pledges of one member at once: the open-pledge index says no
        session.rollback()
        raise Conflict(_l("You have already pledged to this campaign.")) from None


def _metadata(pledge: Pledge) -> dict[str, str]:
    return {"pledge_id": str(pledge.id), "campaign_id": str(pledge.campaign_id),
            "member_id": str(pledge.member_id)}


def _provider():
    provider = orders.providers().get(PROVIDER)
    if provider is None:
        raise PaymentProviderError(_l("Pledges cannot be taken now: card payments are not set up."))
    return provider


def confirm_pledge(pledge_id: int, member: Member) -> Pledge:
    """After Stripe.js saved the card: a pending pledge becomes active; a pledge whose
    charge failed records the new card, for settlement to retry."""
    pledge = own_pledge(pledge_id, member)
    if pledge.status == PledgeStatus.pending_setup:
        return _activate(pledge)
    if pledge.status == PledgeStatus.payment_failed:
        return _record_new_card(pledge)
    if pledge.status == PledgeStatus.active:
        return pledge
    raise Conflict(_l("This pledge can no longer change."))


def _activate(pledge: Pledge) -> Pledge:
    reason = _open_reason(pledge.campaign)
    if reason is not None:
        raise Conflict(reason)
    card = _saved_card(pledge)
    with transaction():
        session.execute(update(Pledge).where(Pledge.id == pledge.id,
                                             Pledge.status == PledgeStatus.pending_setup)
                        .values(status=PledgeStatus.active, payment_method_ref=card))
    session.refresh(pledge)
    return pledge


def _record_new_card(pledge: Pledge) -> Pledge:
    card = _saved_card(pledge)
    if card != pledge.payment_method_ref:
        with transaction():
            session.execute(update(Pledge).where(Pledge.id == pledge.id,
                                                 Pledge.status == PledgeStatus.payment_failed)
                            .values(payment_method_ref=card, card_updated_at=utcnow()))
        session.refresh(pledge)
    return pledge


def _saved_card(pledge: Pledge) -> str:
    card = _provider().saved_card(pledge.setup_ref) if pledge.setup_ref else None
    if card is None:
        raise Conflict(_l("Your card has not been saved yet. Please enter it again."))
    return card


def change_pledge(pledge_id: int, member: Member, amount: int, tier_id: int | None) -> Pledge:
    """Another amount or tier, until the deadline; a new tier's place is taken first,
    and the old one given back by the same transaction."""
    pledge = own_pledge(pledge_id, member)
    _check_may_change(pledge)
    _tier_for(pledge.campaign, tier_id, amount)
    old_tier = pledge.tier_id
    with transaction():
        _hold_open(pledge.campaign_id)
        if tier_id != old_tier and tier_id is not None:
            _claim(tier_id)
        changed = session.execute(
            update(Pledge).where(Pledge.id == pledge.id, Pledge.status.in_(OPEN),
                                 Pledge.charge_attempts == 0,
                                 Pledge.tier_id.is_(None) if old_tier is None
                                 else Pledge.tier_id == old_tier)
            .values(amount=amount, tier_id=tier_id).returning(Pledge.id)).scalar()
        if changed is None:
            raise Conflict(_l("Your pledge changed meanwhile. Please look at it again."))
        if tier_id != old_tier:
            _release(old_tier)
    session.refresh(pledge)
    return pledge


def cancel_pledge(pledge_id: int, member: Member) -> Pledge:
    """Withdraw the pledge until the deadline: its place and card are let go."""
    pledge = own_pledge(pledge_id, member)
    _check_may_change(pledge)
    if not _end_pledge(pledge.id, PledgeStatus.cancelled, by_member=True):
        raise Conflict(_l("This pledge can no longer change."))
    session.refresh(pledge)
    return pledge


def _check_may_change(pledge: Pledge) -> None:
    if pledge.status not in OPEN:
        raise Conflict(_l("This pledge can no longer change."))
    reason = _open_reason(pledge.campaign)
    if reason is not None:
        raise Conflict(reason)


def _hold_open(campaign_id: int) -> None:
    """A member's change waits for a settlement deciding the campaign (its row lock) and
    is refused once the campaign is no longer live or past its deadline by this clock."""
    still_open = session.scalar(
        select(Campaign.id).where(Campaign.id == campaign_id,
                                  Campaign.status == CampaignStatus.live,
                                  Campaign.deadline > utcnow())
        .with_for_update(read=True))  # FOR SHARE on PostgreSQL; SQLite's writes are serial
    if still_open is None:
        raise Conflict(_l("This campaign has ended: pledges can no longer change."))


def _end_pledge(pledge_id: int, status: PledgeStatus, by_member: bool = False) -> bool:
    """Move an open pledge to ``status`` (cancelled or released), give its place back and
    let its card go; False when it was no longer open (someone else ended it).

    A member's own cancel also needs the campaign still open and no charge begun."""
    with transaction():
        conditions = [Pledge.id == pledge_id, Pledge.status.in_(OPEN)]
        if by_member:
            _hold_open(session.scalar(select(Pledge.campaign_id).where(Pledge.id == pledge_id)))
            conditions.append(Pledge.charge_attempts == 0)
        ended = session.execute(
            update(Pledge).where(*conditions)
            .values(status=status).returning(Pledge.tier_id, Pledge.payment_method_ref)).first()
        if ended is None:
            return False
        _release(ended.tier_id)
    if ended.payment_method_ref:
        _let_card_go(ended.payment_method_ref)
    return True


def _let_card_go(payment_method_ref: str) -> None:
    """Detach the card; the pledge has ended either way, so a failure is only logged."""
    try:
        _provider().release_card(payment_method_ref)
    except PaymentProviderError:
        current_app.logger.warning("Could not release card %s", payment_method_ref, exc_info=True)


def update_card(pledge_id: int, member: Member) -> str:
    """A new SetupIntent on the pledge's customer after a failed charge, within the grace
    period; confirm_pledge records the card once Stripe.js saved it."""
    pledge = own_pledge(pledge_id, member)
    if pledge.status != PledgeStatus.payment_failed:
        raise Conflict(_l("This pledge does not need a new card."))
    if pledge.retry_until is None or utcnow() > pledge.retry_until:
        raise Conflict(_l("The time to update your card has passed."))
    setup = _provider().save_card_setup(pledge.customer_ref, _metadata(pledge))
    with transaction():
        pledge.customer_ref, pledge.setup_ref = setup["customer"], setup["setup_intent"]
    return setup["client_secret"]


def own_pledge(pledge_id: int, member: Member) -> Pledge:
    """The member's pledge; someone else's is not found."""
    pledge = session.get(Pledge, pledge_id)
    if pledge is None or pledge.member_id != member.id:
        raise NotFound(_l("There is no such pledge."))
    session.refresh(pledge)
    return pledge


# --------------------------------------------------------------------------- updates

def post_update(campaign_id: int, body_en: str, body_zh: str, actor: str) -> CampaignUpdate:
    """Staff news for the backers: each one with a counting pledge is notified."""
    if not body_en.strip():
        raise ValidationFailed("Please write the update.", {"body_en": ["Required."]})
    with transaction():
        get_campaign(campaign_id)
        news = CampaignUpdate(campaign_id=campaign_id, body_en=body_en.strip(),
                              body_zh=body_zh.strip(), author=actor[:100])
        session.add(news)
        session.flush()
        for member_id in session.scalars(select(Pledge.member_id).distinct().where(
                Pledge.campaign_id == campaign_id, Pledge.status.in_(COUNTING))):
            notify(member_id, CAMPAIGN_UPDATE, {"campaign": campaign_id, "update": news.id}, "",
                   commit=False)
    return news
