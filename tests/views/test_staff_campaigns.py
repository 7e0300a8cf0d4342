"""The front desk's campaign pages: create and edit with tiers, publish, cancel, and one
campaign's pledges, totals by tier, chart, CSV, updates and settlement report."""
from __future__ import annotations

import csv
import io
import os
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from sqlalchemy import select

from hotel_community.database import session, transaction
from hotel_community.models import Notification
from hotel_community.models.campaigns import (
    Campaign, CampaignStatus, Pledge, PledgeStatus, RewardTier,
)
from hotel_community.services import campaigns
from hotel_community.services.properties import create_property
from tests.factories import check_in_by_hand, csrf_token, member_of
from tests.services.test_events import guests
from tests.views.test_staff import text

CAMPAIGNS = "/community/staff/campaigns"


@pytest.fixture
def app_config(tmp_path) -> dict:
    return {"HOTEL_COMMUNITY_UPLOAD_FOLDER": str(tmp_path / "media")}


def campaign_form(**changes) -> dict:
    start = datetime.now(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=1)
    return {"title_en": "A hotel by the lake", "title_zh": "湖边酒店", "story_en": "We build.",
            "story_zh": "", "disclaimer_en": "All or nothing.", "disclaimer_zh": "",
            "goal": "5000.00", "start_date": start.isoformat(), "start_time": "10:00",
            "deadline_date": (start + timedelta(days=30)).isoformat(), "deadline_time": "18:00",
            "eligibility": "members", **changes}


def make_campaign(prop, title: str = "A hotel by the lake", goal: int = 500000) -> Campaign:
    now = datetime.now(ZoneInfo(prop.timezone)).replace(tzinfo=None, microsecond=0)
    return campaigns.create_campaign(prop, campaigns.CampaignFields(
        title_en=title, goal=goal, starts_local=now - timedelta(days=2),
        deadline_local=now + timedelta(days=10)), "test")


def tier(campaign: Campaign, minimum: int = 80000, description: str = "Two nights",
         quantity: int | None = 20) -> RewardTier:
    return campaigns.add_tier(campaign.id, campaigns.TierFields(minimum, description,
                                                                quantity=quantity))


def pledge(campaign: Campaign, member, amount: int, tier_row: RewardTier | None = None,
           status: PledgeStatus = PledgeStatus.active, **more) -> Pledge:
    with transaction():
        row = Pledge(campaign_id=campaign.id, member_id=member.id, amount=amount, status=status,
                     tier_id=tier_row.id if tier_row else None, **more)
        session.add(row)
    return row


def post(client, path: str, data: dict | None = None):
    token = csrf_token(client.get(f"{CAMPAIGNS}/new"))
    return client.post(path, data={"csrf_token": token, **(data or {})},
                       content_type="multipart/form-data", follow_redirects=True)


def jpeg() -> tuple[io.BytesIO, str]:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 40), "teal").save(buffer, format="JPEG")
    buffer.seek(0)
    return buffer, "cover.jpg"


def fresh(campaign: Campaign) -> Campaign:
    session.expire_all()
    return session.get(Campaign, campaign.id)


def section(page, name: str) -> str:
    return re.search(rf"<table data-{name}>(.*?)</table>", text(page), flags=re.S).group(1)


# --------------------------------------------------------------------------- access

@pytest.mark.parametrize("method, path", [
    ("get", ""), ("get", "/new"), ("post", "/new"), ("get", "/{c}"), ("get", "/{c}/edit"),
    ("post", "/{c}/edit"), ("post", "/{c}/tiers"), ("post", "/{c}/publish"),
    ("post", "/{c}/cancel"), ("get", "/{c}/pledges.csv"), ("post", "/{c}/updates")])
def test_strangers_are_sent_to_sign_in(app, client, prop, method, path):
    campaign = make_campaign(prop)
    token = csrf_token(client.get("/community/staff/login"))
    response = getattr(client, method)(CAMPAIGNS + path.format(c=campaign.id),
                                       data={"csrf_token": token, **campaign_form()})
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/community/staff/login"
    assert fresh(campaign).status == CampaignStatus.draft


def test_a_guest_is_not_staff(app, prop):
    from tests.factories import signed_in

    (mei,) = guests(prop, 1)
    assert signed_in(app, mei).get(CAMPAIGNS).status_code == 302


def test_another_propertys_campaign_is_not_found(app, desk, prop):
    other = make_campaign(create_property("ELSE", "Elsewhere", "Europe/Paris", "EUR"))
    desk.get(f"{CAMPAIGNS}?property=TEST")
    for path in (f"/{other.id}", f"/{other.id}/edit", f"/{other.id}/pledges.csv"):
        assert desk.get(CAMPAIGNS + path).status_code == 404
    assert post(desk, f"{CAMPAIGNS}/{other.id}/publish").status_code == 404
    assert fresh(other).status == CampaignStatus.draft


def test_a_post_without_csrf_token_is_refused(app, desk, prop):
    campaign = make_campaign(prop)
    response = desk.post(f"{CAMPAIGNS}/{campaign.id}/publish")
    assert response.status_code == 400 and "CSRF" in text(response)
    assert fresh(campaign).status == CampaignStatus.draft


# --------------------------------------------------------------------------- create and edit

def test_create_shows_what_to_correct(app, desk, prop):
    page = post(desk, f"{CAMPAIGNS}/new", campaign_form(goal="5,000"))
    assert "Not an amount" in text(page)
    page = post(desk, f"{CAMPAIGNS}/new", campaign_form(deadline_date=campaign_form()["start_date"],
                                                        deadline_time="09:00"))
    assert "After the start." in text(page)
    page = post(desk, f"{CAMPAIGNS}/new", campaign_form(title_en=""))
    assert "This field is required." in text(page)
    assert session.scalar(select(Campaign)) is None


def test_create_a_draft_in_the_property_time_zone(app, desk, prop):
    form = campaign_form()
    page = post(desk, f"{CAMPAIGNS}/new", form)
    assert "Created the draft" in text(page)
    campaign = session.scalar(select(Campaign))
    assert (campaign.status, campaign.goal, campaign.currency) == (CampaignStatus.draft, 500000,
                                                                   "CNY")
    assert campaign.starts_at == datetime.fromisoformat(f"{form['start_date']}T02:00")  # UTC+8
    assert campaign.disclaimer_en == "All or nothing."
    page = desk.get(f"{CAMPAIGNS}/{campaign.id}/edit")
    assert 'value="5000.00"' in text(page) and 'value="10:00"' in text(page)


def test_edit_saves_the_changes(app, desk, prop):
    campaign = make_campaign(prop)
    page = post(desk, f"{CAMPAIGNS}/{campaign.id}/edit",
                campaign_form(title_en="A bigger hotel", goal="8000"))
    assert "Saved." in text(page)
    assert (fresh(campaign).title_en, fresh(campaign).goal) == ("A bigger hotel", 800000)


def test_the_cover_is_uploaded(app, desk, prop, tmp_path):
    campaign = make_campaign(prop)
    page = post(desk, f"{CAMPAIGNS}/{campaign.id}/edit", campaign_form(cover=jpeg()))
    assert "Saved." in text(page) and "data-cover" in text(page)
    assert os.listdir(tmp_path / "media") == [fresh(campaign).cover]
    fake = (io.BytesIO(b"<html><script>alert(1)</script>"), "evil.jpg")
    page = post(desk, f"{CAMPAIGNS}/{campaign.id}/edit", campaign_form(cover=fake))
    assert "Please choose a JPEG, PNG or WebP photo." in text(page)
    assert os.listdir(tmp_path / "media") == [fresh(campaign).cover]


def test_add_and_remove_a_tier(app, desk, prop):
    campaign = make_campaign(prop)
    page = post(desk, f"{CAMPAIGNS}/{campaign.id}/tiers",
                {"minimum": "800.00", "description_en": "Two nights", "quantity": "20"})
    assert "Reward tier added." in text(page)
    (added,) = fresh(campaign).tiers
    assert (added.minimum, added.quantity) == (80000, 20)
    assert f'data-tier="{added.id}"' in text(page) and "0/20 taken" in text(page)
    page = post(desk, f"{CAMPAIGNS}/{campaign.id}/tiers", {"minimum": "8,00",
                                                           "description_en": "Nope"})
    assert "decimal point" in text(page)
    page = post(desk, f"{CAMPAIGNS}/{campaign.id}/tiers/{added.id}/remove")
    assert "Reward tier removed." in text(page)
    assert fresh(campaign).tiers == []


def test_a_tier_a_pledge_holds_stays(app, desk, prop):
    campaign = make_campaign(prop)
    held = tier(campaign)
    (mei,) = guests(prop, 1)
    pledge(campaign, mei, 80000, held)
    page = post(desk, f"{CAMPAIGNS}/{campaign.id}/tiers/{held.id}/remove")
    assert "cannot be removed" in text(page)
    assert len(fresh(campaign).tiers) == 1
    other = make_campaign(prop, "Another")
    assert post(desk, f"{CAMPAIGNS}/{other.id}/tiers/{held.id}/remove").status_code == 404


def test_publish_then_cancel(app, desk, prop):
    campaign = make_campaign(prop)
    (mei,) = guests(prop, 1)
    page = post(desk, f"{CAMPAIGNS}/{campaign.id}/publish")
    assert "Published" in text(page)
    assert fresh(campaign).status == CampaignStatus.live
    page = post(desk, f"{CAMPAIGNS}/{campaign.id}/publish")
    assert "Only a draft campaign can be published." in text(page)
    held = pledge(campaign, mei, 1000, status=PledgeStatus.pending_setup)
    page = post(desk, f"{CAMPAIGNS}/{campaign.id}/cancel")
    assert "Campaign cancelled" in text(page)
    assert fresh(campaign).status == CampaignStatus.cancelled
    assert session.get(Pledge, held.id).status == PledgeStatus.released


# --------------------------------------------------------------------------- one campaign

@pytest.fixture
def backed(prop) -> tuple[Campaign, RewardTier, list]:
    """A campaign with a tier, two active pledges (one in the tier) and a cancelled one."""
    campaign = make_campaign(prop)
    nights = tier(campaign)
    members = guests(prop, 3)
    pledge(campaign, members[0], 80000, nights)
    pledge(campaign, members[1], 2500)
    pledge(campaign, members[2], 99900, nights, status=PledgeStatus.cancelled)
    return campaign, nights, members


def test_the_list_shows_each_campaigns_progress(app, desk, prop, backed):
    campaign, _, _ = backed
    make_campaign(prop, "Nothing yet")
    page = desk.get(CAMPAIGNS)
    row = re.search(rf'<tr data-campaign="{campaign.id}">(.*?)</tr>', text(page), re.S).group(1)
    assert "Draft" in row and "CN¥5,000.00" in row
    assert re.search(r"data-total>CN¥825.00<", row) and re.search(r"data-backers>2<", row)
    assert "<svg" in row and "CN¥825.00 of CN¥5,000.00 from 2 backers" in row


def test_detail_lists_the_pledges(app, desk, backed):
    campaign, nights, members = backed
    page = desk.get(f"{CAMPAIGNS}/{campaign.id}")
    rows = re.findall(r'<tr data-pledge="\d+">(.*?)</tr>', section(page, "pledges"), re.S)
    assert len(rows) == 3
    assert members[0].full_name in rows[0] and "Two nights" in rows[0]
    assert "CN¥800.00" in rows[0] and "Active" in rows[0]
    assert "Cancelled" in rows[2]
    assert re.search(r'data-figure="total"><div class="value">CN¥825.00<', text(page))
    assert re.search(r'data-figure="backers"><div class="value">2<', text(page))


def test_totals_by_tier_count_what_counts(app, desk, backed):
    campaign, nights, _ = backed
    totals = section(desk.get(f"{CAMPAIGNS}/{campaign.id}"), "tier-totals")
    in_tier = re.search(rf'<tr data-tier="{nights.id}">(.*?)</tr>', totals, re.S).group(1)
    assert re.search(r"data-pledges>1<", in_tier) and "CN¥800.00" in in_tier
    untiered = re.search(r'<tr data-tier="none">(.*?)</tr>', totals, re.S).group(1)
    assert re.search(r"data-pledges>1<", untiered) and "CN¥25.00" in untiered


def test_the_chart_shows_the_pledged_amount_per_day(app, desk, backed):
    campaign, _, _ = backed
    page = text(desk.get(f"{CAMPAIGNS}/{campaign.id}"))
    svg = re.search(r"<section class=\"card\" data-chart>(.*?)</section>", page, re.S).group(1)
    chart = ET.fromstring(svg.strip())
    assert chart.get("id") == "chart-pledges"
    titles = [t.text for t in chart.iter("{http://www.w3.org/2000/svg}title")]
    assert len([t for t in titles if t and "pledged that day" in t]) == 3  # the start to today
    assert titles[-1].endswith("825")  # the running total today, in yuan


def test_csv_of_the_pledges(app, desk, prop):
    campaign = make_campaign(prop)
    member = member_of(check_in_by_hand(prop, "1301", ("=HYPERLINK(\"x\")", "Chen")))
    pledge(campaign, member, 12345, tier(campaign, description="@SUM(A1)"),
           last_error="-card declined")
    response = desk.get(f"{CAMPAIGNS}/{campaign.id}/pledges.csv")
    assert response.mimetype == "text/csv"
    assert f"pledges-TEST-{campaign.id}.csv" in response.headers["Content-Disposition"]
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    header, row = list(csv.reader(io.StringIO(body[1:])))
    assert header[:7] == ["Pledge", "Backer", "Email", "Tier", "Amount", "Currency", "Status"]
    assert row[1].startswith("'=HYPERLINK") and row[3] == "'@SUM(A1)"
    assert row[4:7] == ["123.45", "CNY", "Active"] and row[-1] == "'-card declined"


def test_an_update_tells_every_backer(app, desk, backed):
    campaign, _, members = backed
    page = post(desk, f"{CAMPAIGNS}/{campaign.id}/updates",
                {"body_en": "The roof <is> on!", "body_zh": "屋顶好了"})
    assert "every backer is told" in text(page)
    assert "The roof &lt;is&gt; on!" in text(page)
    told = session.scalars(select(Notification.member_id)
                           .where(Notification.kind == "campaign_update")).all()
    assert sorted(told) == sorted([members[0].id, members[1].id])
    page = post(desk, f"{CAMPAIGNS}/{campaign.id}/updates", {"body_en": ""})
    assert "Write the update" in text(page)


def test_the_settlement_report_is_shown(app, desk, prop):
    campaign = make_campaign(prop)
    members = guests(prop, 4)
    collected = {"collected_at": datetime(2026, 3, 1, 4, 30)}
    pledge(campaign, members[0], 80000, status=PledgeStatus.collected, **collected)
    pledge(campaign, members[1], 20000, status=PledgeStatus.collected, **collected)
    pledge(campaign, members[2], 5000, status=PledgeStatus.payment_failed,
           last_error="Your card was declined.")
    pledge(campaign, members[3], 7000, status=PledgeStatus.uncollected)
    page = desk.get(f"{CAMPAIGNS}/{campaign.id}")
    report = section(page, "settlement")
    figures = dict((status, (count, amount)) for status, count, amount in re.findall(
        r'<tr data-report="(\w+)">.*?data-count>(\d+)<.*?data-amount>([^<]+)<', report, re.S))
    assert figures == {"collected": ("2", "CN¥1,000.00"), "payment_failed": ("1", "CN¥50.00"),
                       "uncollected": ("1", "CN¥70.00"), "released": ("0", "CN¥0.00")}
    pledges = section(page, "pledges")
    assert "Sun 01 Mar 2026 12:30" in pledges  # collected at, in Shanghai
    assert "Your card was declined." in pledges
