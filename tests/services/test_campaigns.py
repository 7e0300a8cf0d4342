"""Campaigns and pledges against localstripe: SetupIntents saved server side as Stripe.js
would, limited tiers claimed and given back exactly once, eligibility and the deadline."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import stripe
from sqlalchemy import select, update

from hotel_community.database import session, transaction, utcnow
from hotel_community.errors import Conflict, Forbidden, SoldOut, ValidationFailed
from hotel_community.models import (
    Campaign, CampaignEligibility, CampaignStatus, Member, Notification, Pledge, PledgeStatus,
    RewardTier,
)
from hotel_community.services import campaigns
from hotel_community.services.campaigns import CampaignFields, TierFields
from tests.factories import check_in_by_hand, member_of, run_at_once
from tests.stripe_server import SECRET_KEY


@pytest.fixture
def app_config(stripe_config: dict) -> dict:
    return stripe_config


def local_now(prop) -> datetime:
    return datetime.now(ZoneInfo(prop.timezone)).replace(tzinfo=None, microsecond=0)


def make_campaign(prop, eligibility=CampaignEligibility.stayed, goal: int = 100_000) -> Campaign:
    now = local_now(prop)
    fields = CampaignFields("The new wing", goal, now - timedelta(days=1), now + timedelta(days=10),
                            eligibility=eligibility, title_zh="新楼")
    campaign = campaigns.create_campaign(prop, fields, "Lin")
    campaigns.add_tier(campaign.id, TierFields(5_000, "A thank-you card"))
    campaigns.add_tier(campaign.id, TierFields(50_000, "Two nights in the opening week", quantity=1))
    return campaigns.publish(campaign.id)


def guests(prop, count: int, status: str = "checked_out") -> list[Member]:
    """Members with a stay at the property (checked out: they have stayed)."""
    return [member_of(check_in_by_hand(prop, str(300 + n), (f"G{n}", "Guest"), status=status))
            for n in range(count)]


def tier(campaign: Campaign, minimum: int) -> RewardTier:
    return next(t for t in campaign.tiers if t.minimum == minimum)


def claimed(tier_id: int) -> int:
    return session.scalar(select(RewardTier.claimed).where(RewardTier.id == tier_id))


def save_card(localstripe, setup_ref: str, card: str = "pm_card_visa") -> None:
    """What Stripe.js's confirmCardSetup does on the guest's phone."""
    client = stripe.StripeClient(SECRET_KEY, base_addresses={"api": localstripe.url})
    client.v1.setup_intents.confirm(setup_ref, params={"payment_method": card})


def pledge(localstripe, campaign: Campaign, member: Member, amount: int, tier_id=None):
    started, _secret = campaigns.start_pledge(campaign.id, member, amount, tier_id)
    save_card(localstripe, started.setup_ref)
    return campaigns.confirm_pledge(started.id, member)


def test_create_and_publish(prop):
    campaign = make_campaign(prop)
    assert campaign.status == CampaignStatus.live
    assert campaign.currency == "CNY" and campaign.created_by == "Lin"
    # Asia/Shanghai is UTC+8: stored as naive UTC
    assert campaign.deadline - campaign.starts_at == timedelta(days=11)
    assert [t.minimum for t in campaign.tiers] == [5_000, 50_000]
    assert campaigns.visible_campaigns(prop) == [campaign]
    with pytest.raises(Conflict):
        campaigns.publish(campaign.id)


def test_campaign_fields_are_checked(prop):
    now = local_now(prop)
    with pytest.raises(ValidationFailed) as caught:
        campaigns.create_campaign(prop, CampaignFields(" ", 0, now, now - timedelta(days=1)), "Lin")
    assert set(caught.value.details) == {"title_en", "goal", "deadline_local"}


def test_start_pledge_saves_a_card_and_confirm_makes_it_active(prop, localstripe):
    campaign = make_campaign(prop)
    [member] = guests(prop, 1)
    started, secret = campaigns.start_pledge(campaign.id, member, 8_000, tier(campaign, 5_000).id)
    assert started.status == PledgeStatus.pending_setup
    intent = localstripe.get(f"/v1/setup_intents/{started.setup_ref}")
    assert intent["client_secret"] == secret and intent["usage"] == "off_session"
    assert intent["customer"] == started.customer_ref
    with pytest.raises(Conflict):  # Stripe.js has not saved the card yet
        campaigns.confirm_pledge(started.id, member)

    save_card(localstripe, started.setup_ref)
    active = campaigns.confirm_pledge(started.id, member)
    assert active.status == PledgeStatus.active
    assert active.payment_method_ref.startswith("pm_")
    assert campaigns.pledge_of(member, campaign.id).id == active.id


def test_one_open_pledge_per_member(prop, localstripe):
    campaign = make_campaign(prop)
    [member] = guests(prop, 1)
    first, _ = campaigns.start_pledge(campaign.id, member, 6_000, None)
    second, _ = campaigns.start_pledge(campaign.id, member, 7_000, None)  # replaces the unfinished
    session.refresh(first)
    assert first.status == PledgeStatus.cancelled
    assert second.customer_ref == first.customer_ref
    save_card(localstripe, second.setup_ref)
    campaigns.confirm_pledge(second.id, member)
    with pytest.raises(Conflict):
        campaigns.start_pledge(campaign.id, member, 9_000, None)


def test_tier_minimum_and_positive_amount(prop, localstripe):
    campaign = make_campaign(prop)
    [member] = guests(prop, 1)
    with pytest.raises(ValidationFailed):
        campaigns.start_pledge(campaign.id, member, 4_999, tier(campaign, 5_000).id)
    with pytest.raises(ValidationFailed):
        campaigns.start_pledge(campaign.id, member, 0, None)
    assert campaigns.start_pledge(campaign.id, member, 5_000, tier(campaign, 5_000).id)[0].amount == 5_000


def test_the_last_place_of_a_limited_tier_goes_to_one(prop, localstripe):
    campaign = make_campaign(prop)
    first, second = guests(prop, 2)
    limited = tier(campaign, 50_000).id
    taken = pledge(localstripe, campaign, first, 50_000, limited)
    with pytest.raises(SoldOut):
        campaigns.start_pledge(campaign.id, second, 60_000, limited)
    assert claimed(limited) == 1
    campaigns.cancel_pledge(taken.id, first)
    assert claimed(limited) == 0
    assert campaigns.start_pledge(campaign.id, second, 60_000, limited)[0].tier_id == limited


def test_concurrent_pledges_for_the_last_place(app, prop, localstripe, postgresql_only):
    campaign = make_campaign(prop)
    limited = tier(campaign, 50_000).id
    member_ids = [member.id for member in guests(prop, 4)]

    def start(member_id: int):
        pledge, _ = campaigns.start_pledge(campaign.id, session.get(Member, member_id), 50_000, limited)
        return pledge.id

    results = run_at_once(app, [lambda m=m: start(m) for m in member_ids])
    assert sum(isinstance(result, int) for result in results) == 1
    assert all(isinstance(result, (int, SoldOut)) for result in results), results
    assert claimed(limited) == 1


def test_change_and_cancel_give_the_place_back_once(prop, localstripe):
    campaign = make_campaign(prop)
    [member] = guests(prop, 1)
    small, limited = tier(campaign, 5_000).id, tier(campaign, 50_000).id
    active = pledge(localstripe, campaign, member, 50_000, limited)
    assert claimed(limited) == 1

    changed = campaigns.change_pledge(active.id, member, 6_000, small)
    assert (changed.amount, changed.tier_id, claimed(limited), claimed(small)) == (6_000, small, 0, 1)
    campaigns.change_pledge(active.id, member, 50_000, limited)
    assert (claimed(limited), claimed(small)) == (1, 0)

    assert campaigns.cancel_pledge(active.id, member).status == PledgeStatus.cancelled
    with pytest.raises(Conflict):
        campaigns.cancel_pledge(active.id, member)
    assert claimed(limited) == 0
    assert localstripe.get(f"/v1/payment_methods/{active.payment_method_ref}")["customer"] is None


def test_cancelling_the_campaign_releases_its_pledges(prop, localstripe):
    campaign = make_campaign(prop)
    [member] = guests(prop, 1)
    limited = tier(campaign, 50_000).id
    active = pledge(localstripe, campaign, member, 50_000, limited)
    campaigns.cancel_campaign(campaign.id, "Lin")
    session.refresh(active)
    assert active.status == PledgeStatus.released and claimed(limited) == 0
    with pytest.raises(Conflict):
        campaigns.cancel_campaign(campaign.id, "Lin")


def test_members_who_may_not_pledge_are_refused(prop, localstripe):
    stayed_only = make_campaign(prop)
    everyone = make_campaign(prop, CampaignEligibility.members)
    [in_house] = guests(prop, 1, status="in_house")
    assert not campaigns.may_pledge(in_house, stayed_only)
    with pytest.raises(Forbidden):
        campaigns.start_pledge(stayed_only.id, in_house, 6_000, None)
    assert campaigns.may_pledge(in_house, everyone)
    assert campaigns.start_pledge(everyone.id, in_house, 6_000, None)[0].status == PledgeStatus.pending_setup


def test_nothing_changes_after_the_deadline(prop, localstripe):
    campaign = make_campaign(prop)
    first, second = guests(prop, 2)
    active = pledge(localstripe, campaign, first, 6_000)
    with transaction():
        session.execute(update(Campaign).where(Campaign.id == campaign.id)
                        .values(deadline=utcnow() - timedelta(minutes=1)))
    session.expire_all()
    assert not campaigns.may_pledge(second, campaign)
    with pytest.raises(Conflict):
        campaigns.start_pledge(campaign.id, second, 6_000, None)
    with pytest.raises(Conflict):
        campaigns.change_pledge(active.id, first, 7_000, None)
    with pytest.raises(Conflict):
        campaigns.cancel_pledge(active.id, first)


def test_progress_counts_active_pledges(prop, localstripe):
    campaign = make_campaign(prop)
    first, second, third = guests(prop, 3)
    pledge(localstripe, campaign, first, 50_000, tier(campaign, 50_000).id)
    pledge(localstripe, campaign, second, 10_000, tier(campaign, 5_000).id)
    campaigns.start_pledge(campaign.id, third, 7_000, None)  # card not saved: does not count

    progress = campaigns.progress(campaign)
    assert (progress.total, progress.backers, progress.goal) == (60_000, 2, 100_000)
    assert progress.share == pytest.approx(0.6)
    assert progress.days_left == 10
    assert [(t.minimum, left) for t, left in progress.tiers] == [(5_000, None), (50_000, 0)]


def test_updates_notify_the_backers(prop, localstripe):
    campaign = make_campaign(prop)
    backer, _onlooker = guests(prop, 2)
    pledge(localstripe, campaign, backer, 6_000)
    news = campaigns.post_update(campaign.id, "The roof is on!", "封顶了！", "Lin")
    assert campaigns.updates_of(campaign.id) == [news]
    notes = session.scalars(select(Notification).where(Notification.kind == "campaign_update")).all()
    assert [(n.member_id, n.params) for n in notes] == [
        (backer.id, {"campaign": campaign.id, "update": news.id})]


def test_a_failed_charge_gets_a_new_card(prop, localstripe):
    campaign = make_campaign(prop)
    [member] = guests(prop, 1)
    failed = pledge(localstripe, campaign, member, 6_000)
    old_card = failed.payment_method_ref
    with transaction():  # as settlement leaves it
        session.execute(update(Pledge).where(Pledge.id == failed.id).values(
            status=PledgeStatus.payment_failed, retry_until=utcnow() + timedelta(days=7)))
    secret = campaigns.update_card(failed.id, member)
    session.refresh(failed)
    assert localstripe.get(f"/v1/setup_intents/{failed.setup_ref}")["client_secret"] == secret
    save_card(localstripe, failed.setup_ref)
    updated = campaigns.confirm_pledge(failed.id, member)
    assert updated.payment_method_ref != old_card and updated.card_updated_at is not None
    assert updated.status == PledgeStatus.payment_failed  # settlement retries it


def test_a_member_cannot_cancel_or_change_a_pledge_once_its_charge_has_begun(prop, localstripe):
    campaign = make_campaign(prop)
    [member] = guests(prop, 1)
    active = pledge(localstripe, campaign, member, 6_000)
    with transaction():  # settlement has claimed it (its clock ran ahead of this one)
        session.execute(update(Pledge).where(Pledge.id == active.id).values(charge_attempts=1))

    with pytest.raises(Conflict):
        campaigns.change_pledge(active.id, member, 7_000, None)
    with pytest.raises(Conflict):
        campaigns.cancel_pledge(active.id, member)
    session.expire_all()
    found = session.get(Pledge, active.id)
    assert (found.status, found.amount) == (PledgeStatus.active, 6_000)


def test_a_member_cannot_change_a_pledge_of_a_campaign_being_settled(prop, localstripe):
    campaign = make_campaign(prop)
    [member] = guests(prop, 1)
    active = pledge(localstripe, campaign, member, 6_000)
    with transaction():
        session.execute(update(Campaign).where(Campaign.id == campaign.id)
                        .values(status=CampaignStatus.succeeded))
    with pytest.raises(Conflict):
        campaigns.cancel_pledge(active.id, member)
