"""The campaign pages of guests: the list and a campaign's page with its progress, pledging
(refusals, CSRF, a card saved through a SetupIntent on localstripe), the member's own
pledge, the campaign notifications, and the page in Chinese."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import stripe

from hotel_community.database import session, transaction
from hotel_community.models import CampaignEligibility, Pledge, PledgeStatus
from hotel_community.services import campaigns
from hotel_community.services.events import notify
from tests.factories import check_in_by_hand, csrf_token, member_of, signed_in
from tests.services.test_campaigns import guests, make_campaign, pledge, tier
from tests.stripe_server import SECRET_KEY


@pytest.fixture
def app_config(stripe_config: dict) -> dict:
    return stripe_config


@pytest.fixture
def campaign(prop):
    return make_campaign(prop, goal=100_000)


@pytest.fixture
def backer(prop):
    return guests(prop, 1)[0]


def page_url(campaign) -> str:
    return f"/community/campaigns/{campaign.id}"


def post_pledge(client, campaign, amount: str, tier_id=None, token: str | None = None):
    token = token or csrf_token(client.get(page_url(campaign)))
    return client.post(f"{page_url(campaign)}/pledge",
                       data={"csrf_token": token, "amount": amount, "tier": tier_id or ""})


def confirm_setup(localstripe, client_secret: str, card: str = "pm_card_visa") -> None:
    """What Stripe.js's confirmCardSetup does on the member's phone."""
    setup_ref = client_secret.split("_secret_")[0]
    client = stripe.StripeClient(SECRET_KEY, base_addresses={"api": localstripe.url})
    client.v1.setup_intents.confirm(setup_ref, params={"payment_method": card})


def test_list_and_page_show_progress(app, campaign, backer, localstripe):
    others = guests(campaign.property, 2)
    pledge(localstripe, campaign, others[0], 30_000)
    pledge(localstripe, campaign, others[1], 50_000, tier(campaign, 50_000).id)
    with transaction():
        campaign.disclaimer_en = "Projects can be late."
    client = signed_in(app, backer)

    listing = client.get("/community/campaigns").get_data(as_text=True)
    assert f'data-campaign="{campaign.id}"' in listing and "The new wing" in listing
    assert 'data-total="80000"' in listing and 'data-backers="2"' in listing
    assert 'aria-valuenow="80"' in listing and "CN¥800.00" in listing
    assert "10 days left" in listing

    html = client.get(page_url(campaign)).get_data(as_text=True)
    assert "CN¥800.00" in html and "of CN¥1,000.00" in html and "2 backers" in html
    assert "Sold out" in html and "Two nights in the opening week" in html
    assert html.index("Projects can be late.") < html.index("data-pledge-button")


def test_drafts_and_other_properties_are_not_found(app, prop, backer):
    from hotel_community.services.properties import create_property

    other = make_campaign(create_property("OTHER", "Other Hotel", "Asia/Shanghai", "CNY"))
    client = signed_in(app, backer)
    assert client.get(page_url(other)).status_code == 404
    draft = campaigns.create_campaign(prop, campaigns.CampaignFields(
        "Draft", 1000, other.starts_at, other.deadline), "Lin")
    assert client.get(f"/community/campaigns/{draft.id}").status_code == 404


def test_pledge_refusals(app, prop, campaign, backer, localstripe):
    in_house = member_of(check_in_by_hand(prop, "501", ("Ina", "House")))
    ineligible = signed_in(app, in_house)
    page = ineligible.get(page_url(campaign)).get_data(as_text=True)
    assert "data-pledge-form" not in page
    refused = post_pledge(ineligible, campaign, "100.00", token=csrf_token(
        ineligible.get("/community/profile")))
    assert refused.status_code == 403
    assert "stayed with us" in refused.get_data(as_text=True)

    client = signed_in(app, backer)
    under = post_pledge(client, campaign, "49.99", tier(campaign, 5_000).id)
    assert under.status_code == 422 and "data-campaign-error" in under.get_data(as_text=True)
    assert post_pledge(client, campaign, "1,000").status_code == 422
    for tier_value in ("²", "9" * 30):  # digits int() refuses, an id past 32 bits
        assert post_pledge(client, campaign, "100.00", tier_value).status_code == 422
    no_csrf = client.post(f"{page_url(campaign)}/pledge", data={"amount": "100.00"})
    assert no_csrf.status_code == 400
    assert session.query(Pledge).count() == 0


def test_pledge_with_a_saved_card_ends_active(app, campaign, backer, localstripe):
    client = signed_in(app, backer)
    started = post_pledge(client, campaign, "", tier(campaign, 5_000).id)
    html = started.get_data(as_text=True)
    assert started.status_code == 200 and "data-card-setup" in html
    secret = re.search(r'data-client-secret="([^"]+)"', html).group(1)
    confirm_url = re.search(r'action="([^"]+/confirm)"', html).group(1)
    confirm_setup(localstripe, secret)

    done = client.post(confirm_url, data={"csrf_token": csrf_token(html)})
    assert done.status_code == 303
    page = client.get(page_url(campaign)).get_data(as_text=True)
    assert 'data-my-pledge-status="active"' in page
    assert "Active: nothing is charged unless the goal is reached" in page
    assert 'data-total="5000"' in page and "data-change-form" in page
    mine = campaigns.pledge_of(backer, campaign.id)
    assert mine.status == PledgeStatus.active and mine.amount == 5_000

    changed = client.post(f"/community/campaigns/pledges/{mine.id}/change",
                          data={"csrf_token": csrf_token(page), "amount": "120.50", "tier": ""})
    assert changed.status_code == 303
    session.refresh(mine)
    assert mine.amount == 12_050 and mine.tier_id is None
    cancelled = client.post(f"/community/campaigns/pledges/{mine.id}/cancel",
                            data={"csrf_token": csrf_token(page)})
    assert cancelled.status_code == 303
    session.refresh(mine)
    assert mine.status == PledgeStatus.cancelled
    assert "data-pledge-form" in client.get(page_url(campaign)).get_data(as_text=True)


def test_another_members_pledge_cannot_be_changed(app, campaign, backer, localstripe):
    theirs = pledge(localstripe, campaign, guests(campaign.property, 2)[1], 10_000)
    client = signed_in(app, backer)
    token = csrf_token(client.get(page_url(campaign)))
    for action in ("change", "cancel", "confirm", "card"):
        answer = client.post(f"/community/campaigns/pledges/{theirs.id}/{action}",
                             data={"csrf_token": token, "amount": "1.00"})
        assert answer.status_code == 404, action
    session.refresh(theirs)
    assert theirs.status == PledgeStatus.active and theirs.amount == 10_000


def test_a_failed_payment_asks_for_a_new_card(app, campaign, backer, localstripe):
    mine = pledge(localstripe, campaign, backer, 10_000)
    with transaction():
        row = session.get(Pledge, mine.id)
        row.status = PledgeStatus.payment_failed
        row.retry_until = campaign.deadline + timedelta(days=7)
    notify(backer.id, "pledge_payment_failed", {"campaign": campaign.id, "pledge": mine.id}, "")
    client = signed_in(app, backer)
    group = client.get("/community/group", follow_redirects=True).get_data(as_text=True)
    assert "The payment for your pledge to The new wing failed" in group
    assert 'data-campaigns-link' in group

    html = client.get(page_url(campaign)).get_data(as_text=True)
    assert "Payment failed: update your card by" in html and "data-update-card-form" in html
    card_form = client.post(f"/community/campaigns/pledges/{mine.id}/card",
                            data={"csrf_token": csrf_token(html)}).get_data(as_text=True)
    assert "data-card-setup" in card_form
    confirm_setup(localstripe, re.search(r'data-client-secret="([^"]+)"', card_form).group(1))
    assert client.post(f"/community/campaigns/pledges/{mine.id}/confirm",
                       data={"csrf_token": csrf_token(card_form)}).status_code == 303
    session.refresh(mine)
    assert mine.card_updated_at is not None
    assert "new card is saved" in client.get(page_url(campaign)).get_data(as_text=True)


def test_campaign_update_notification_and_page_in_chinese(app, prop, localstripe):
    campaign = make_campaign(prop, eligibility=CampaignEligibility.members)
    member = member_of(check_in_by_hand(prop, "808", ("Li", "Wei", "zh")))
    pledge(localstripe, campaign, member, 5_000)
    campaigns.post_update(campaign.id, "The roof is on!", "屋顶完工了！", "Lin")
    client = signed_in(app, member)

    group = client.get("/community/group").get_data(as_text=True)
    assert "新楼" in group and f"/community/campaigns/{campaign.id}" in group
    html = client.get(page_url(campaign)).get_data(as_text=True)
    assert "<h1 data-campaign-title>新楼</h1>" in html
    assert "屋顶完工了！" in html and "The roof is on!" not in html
    assert "Two nights in the opening week" in html  # no Chinese text: English
    assert "¥50.00" in html
