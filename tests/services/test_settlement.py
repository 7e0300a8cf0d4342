"""Settling campaigns against localstripe: all or nothing, each pledge charged once, even
across a crash; declined cards, updated cards and the grace period."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
import stripe as stripe_sdk
from sqlalchemy import select

from hotel_community.database import session, transaction, utcnow
from hotel_community.extension import state
from hotel_community.models import (
    Campaign, CampaignEligibility, CampaignStatus, Notification, Pledge, PledgeStatus, RewardTier,
)
from hotel_community.services import settlement
from tests.factories import check_in_by_hand, member_of
from tests.stripe_server import SECRET_KEY

VISA = "pm_card_visa"
DECLINES = "pm_card_chargeCustomerFail"


@pytest.fixture
def app_config(stripe_config: dict) -> dict:
    return stripe_config


@pytest.fixture
def dashboard(localstripe) -> stripe_sdk.StripeClient:
    """The real stripe library on localstripe, as Stripe's dashboard would show things."""
    return stripe_sdk.StripeClient(SECRET_KEY, base_addresses={"api": localstripe.url})


def make_campaign(prop, goal: int = 30000, deadline_in: timedelta = timedelta(hours=-1),
                  status: CampaignStatus = CampaignStatus.live) -> Campaign:
    now = utcnow()
    with transaction():
        campaign = Campaign(property_id=prop.id, title_en="The new rooftop", goal=goal,
                            currency="CNY", starts_at=now - timedelta(days=30),
                            deadline=now + deadline_in, eligibility=CampaignEligibility.members,
                            status=status)
        campaign.tiers.append(RewardTier(minimum=5000, description_en="Two nights", quantity=10,
                                         claimed=0))
        session.add(campaign)
    return campaign


def saved_card(dashboard, payment_method: str = VISA, customer: str | None = None) -> tuple[str, str]:
    """A customer and the card a confirmed SetupIntent saved on it."""
    customer = customer or dashboard.v1.customers.create().id
    setup = dashboard.v1.setup_intents.create(params={"customer": customer, "usage": "off_session"})
    confirmed = dashboard.v1.setup_intents.confirm(setup.id, params={"payment_method": payment_method})
    assert confirmed.status == "succeeded"
    return customer, confirmed.payment_method


def pledge(prop, campaign: Campaign, dashboard, amount: int = 10000,
           payment_method: str = VISA, tier: bool = True) -> Pledge:
    member = member_of(check_in_by_hand(prop, "1204", ("Mei", "Chen")))
    customer, card = saved_card(dashboard, payment_method)
    with transaction():
        tier_row = session.get(RewardTier, campaign.tiers[0].id) if tier else None
        if tier_row is not None:
            tier_row.claimed += 1
        row = Pledge(campaign_id=campaign.id, member_id=member.id, amount=amount,
                     tier_id=tier_row.id if tier_row else None, status=PledgeStatus.active,
                     customer_ref=customer, payment_method_ref=card)
        session.add(row)
    return row


def fresh(row):
    session.expire_all()
    return session.get(type(row), row.id)


def charges(dashboard, status: str = "succeeded") -> Counter:
    """Customer -> how many PaymentIntents of that status localstripe holds."""
    intents = dashboard.v1.payment_intents.list(params={"limit": 100}).data
    return Counter(intent.customer for intent in intents if status is None or intent.status == status)


def all_intents(dashboard) -> list:
    return dashboard.v1.payment_intents.list(params={"limit": 100}).data


def test_a_campaign_that_met_its_goal_charges_every_active_pledge_once(prop, dashboard):
    campaign = make_campaign(prop, goal=30000)
    pledges = [pledge(prop, campaign, dashboard) for _ in range(3)]
    future = make_campaign(prop, deadline_in=timedelta(days=2))

    run = settlement.settle_due()

    assert (run.succeeded, run.failed, run.collected) == ([campaign.id], [], 3)
    assert fresh(campaign).status == CampaignStatus.succeeded
    assert fresh(campaign).settled_at is not None
    assert fresh(future).status == CampaignStatus.live
    assert charges(dashboard) == Counter({p.customer_ref: 1 for p in pledges})
    for row in map(fresh, pledges):
        assert (row.status, row.charge_attempts) == (PledgeStatus.collected, 1)
        assert row.collected_at is not None and row.charge_ref.startswith("pi_")
    again = settlement.settle_due()
    assert (again.succeeded, again.collected) == ([], 0)
    assert len(all_intents(dashboard)) == 3
    facts = settlement.report(fresh(campaign))
    assert facts["collected"] == {"count": 3, "amount": 30000}
    assert facts["released"] == {"count": 0, "amount": 0}


def test_a_campaign_that_missed_its_goal_charges_no_one_and_releases(prop, dashboard):
    campaign = make_campaign(prop, goal=50000)
    pledges = [pledge(prop, campaign, dashboard) for _ in range(2)]
    with transaction():
        cancelled = Pledge(campaign_id=campaign.id, member_id=pledges[0].member_id, amount=5000,
                           status=PledgeStatus.cancelled)
        session.add(cancelled)

    run = settlement.settle_due()

    assert (run.succeeded, run.failed, run.released) == ([], [campaign.id], 2)
    assert fresh(campaign).status == CampaignStatus.failed
    assert all_intents(dashboard) == []
    assert [fresh(p).status for p in pledges] == [PledgeStatus.released] * 2
    assert fresh(cancelled).status == PledgeStatus.cancelled
    assert session.get(RewardTier, campaign.tiers[0].id).claimed == 0
    for row in pledges:  # the cards were let go
        assert dashboard.v1.payment_methods.retrieve(row.payment_method_ref).customer is None
    assert settlement.report(fresh(campaign))["released"] == {"count": 2, "amount": 20000}


@pytest.mark.parametrize("crash_at", ["after_second_charge", "before_confirming"])
def test_a_run_that_crashed_half_way_and_runs_again_charges_no_pledge_twice(
        app, prop, dashboard, monkeypatch, crash_at):
    campaign = make_campaign(prop, goal=40000)
    pledges = [pledge(prop, campaign, dashboard) for _ in range(4)]
    stripe = state(app).plugins.payment_providers["stripe"]
    real_confirm = type(stripe).confirm_charge
    confirmed: list[str] = []

    def crashing_confirm(self, intent_id):
        if crash_at == "before_confirming" and len(confirmed) == 2:
            raise RuntimeError("the machine went down after storing the charge_ref")
        answer = real_confirm(self, intent_id)
        confirmed.append(intent_id)
        if crash_at == "after_second_charge" and len(confirmed) == 2:
            raise RuntimeError("the machine went down after the second charge")
        return answer

    monkeypatch.setattr(type(stripe), "confirm_charge", crashing_confirm)
    with pytest.raises(RuntimeError):
        settlement.settle_due()
    session.rollback()
    assert charges(dashboard) == Counter({p.customer_ref: 1 for p in pledges[:2]})
    assert fresh(campaign).status == CampaignStatus.succeeded
    stored = [fresh(p).charge_ref is not None for p in pledges]
    assert stored == [True, True, crash_at == "before_confirming", False]

    monkeypatch.setattr(type(stripe), "confirm_charge", real_confirm)
    run = settlement.settle_due()

    assert run.collected == 4 - (1 if crash_at == "after_second_charge" else 2)
    assert charges(dashboard) == Counter({p.customer_ref: 1 for p in pledges})
    assert [fresh(p).status for p in pledges] == [PledgeStatus.collected] * 4
    assert len(all_intents(dashboard)) == 4  # a stored intent is finished, not replaced


def notifications(member_id: int) -> list[Notification]:
    return list(session.scalars(select(Notification).where(Notification.member_id == member_id)))


def test_a_declined_card_fails_is_updated_and_the_retry_collects_it(prop, dashboard, app):
    campaign = make_campaign(prop, goal=20000)
    good = pledge(prop, campaign, dashboard)
    bad = pledge(prop, campaign, dashboard, payment_method=DECLINES)

    run = settlement.settle_due()

    assert (run.collected, run.payment_failed) == (1, 1)
    failed = fresh(bad)
    assert failed.status == PledgeStatus.payment_failed
    assert failed.last_error and failed.charge_attempts == 1
    grace = app.config.get("HOTEL_COMMUNITY_CAMPAIGN_RETRY_GRACE", timedelta(days=7))
    assert abs(failed.retry_until - (utcnow() + grace)) < timedelta(minutes=5)
    [note] = notifications(bad.member_id)
    assert (note.kind, note.params) == ("pledge_payment_failed",
                                        {"campaign": campaign.id, "pledge": bad.id})
    assert settlement.retry_failed().collected == 0  # no new card yet: nothing retried
    first_intent = failed.charge_ref

    _, card = saved_card(dashboard, VISA, customer=failed.customer_ref)
    with transaction():
        row = session.get(Pledge, bad.id)
        row.payment_method_ref, row.card_updated_at = card, utcnow()
    retried = settlement.retry_failed()

    assert (retried.collected, retried.payment_failed, retried.uncollected) == (1, 0, 0)
    collected = fresh(bad)
    assert (collected.status, collected.charge_attempts) == (PledgeStatus.collected, 2)
    assert collected.charge_ref != first_intent
    assert charges(dashboard) == Counter({good.customer_ref: 1, bad.customer_ref: 1})
    assert settlement.report(fresh(campaign))["collected"] == {"count": 2, "amount": 20000}


def test_a_declined_pledge_past_its_grace_is_uncollected(prop, dashboard):
    campaign = make_campaign(prop, goal=10000)
    bad = pledge(prop, campaign, dashboard, payment_method=DECLINES)
    settlement.settle_due()
    assert fresh(bad).status == PledgeStatus.payment_failed

    later = fresh(bad).retry_until + timedelta(minutes=1)
    run = settlement.retry_failed(now=later)

    assert run.uncollected == 1
    assert fresh(bad).status == PledgeStatus.uncollected
    assert charges(dashboard) == Counter()
    facts = settlement.report(fresh(campaign))
    assert facts["uncollected"] == {"count": 1, "amount": 10000}
