"""The community health page: staff only, the figures of the chosen property, SVG charts."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest

from hotel_community.database import session, transaction
from hotel_community.models import Connection, ConnectionStatus, GroupKind, Post
from hotel_community.services import community
from hotel_community.services.charts import SVG_NS
from hotel_community.services.properties import create_property, groups_by_kind
from hotel_community.services.staff import create_staff
from tests.factories import check_in_by_hand, csrf_token

HEALTH = "/community/staff/health/"


def text(response) -> str:
    return response.get_data(as_text=True)


def figure(html: str, name: str) -> str:
    match = re.search(rf'data-figure="{name}"><div class="value">([^<]*)</div>', html)
    assert match, name
    return match.group(1)


def svgs(html: str) -> dict[str, ET.Element]:
    found = {}
    for chunk in re.findall(r"<svg\b.*?</svg>", html, flags=re.S):
        root = ET.fromstring(chunk)
        found[root.get("id")] = root
    return found


@pytest.fixture
def desk(app, prop):
    create_staff("desk", "correct-horse-battery", "Front Desk")
    client = app.test_client()
    page = client.get("/community/staff/login")
    client.post("/community/staff/login", data={
        "csrf_token": csrf_token(page), "username": "desk", "password": "correct-horse-battery"})
    return client


def test_strangers_and_guests_are_sent_to_sign_in(app, client, prop):
    response = client.get(HEALTH)
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/community/staff/login"


def test_the_page_shows_the_figures_and_three_charts(app, prop, desk):
    stay = check_in_by_hand(prop, "1204", ("Mei", "Chen"), ("Ana", "Lopez"))
    (mei, ana) = (g.member for g in stay.guests)
    (tom,) = (g.member for g in check_in_by_hand(prop, "1301", ("Tom", "Berg")).guests)
    community.set_visible(mei.id, True)
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    with transaction():
        group_id = groups_by_kind(prop)[GroupKind.stay].id
        for n in range(5):
            session.add(Post(group_id=group_id, author_id=mei.id, body=f"post {n}",
                             created_at=now - timedelta(days=n % 3)))
        session.add(Connection(requester_id=mei.id, addressee_id=ana.id, property_id=prop.id,
                               status=ConnectionStatus.accepted, created_at=now,
                               responded_at=now))
        session.add(Connection(requester_id=tom.id, addressee_id=ana.id, property_id=prop.id,
                               created_at=now))

    html = text(desk.get(HEALTH))

    assert "Community health at Test Hotel" in html
    assert figure(html, "in-house") == "3"
    assert figure(html, "opted-in") == "33%"
    assert figure(html, "posts") == "5"
    assert figure(html, "introductions") == "2"
    assert figure(html, "accepted") == "1"
    assert figure(html, "lasting") == "0"
    charts = svgs(html)
    assert set(charts) == {"chart-posts", "chart-opted-in", "chart-introductions"}
    posts_desc = charts["chart-posts"].find(f"{{{SVG_NS}}}desc").text
    assert posts_desc.startswith("5 posts in all")
    assert charts["chart-opted-in"].find(f"{{{SVG_NS}}}text").text == "33%"
    assert "<script" not in html


def test_staff_choose_the_property(app, prop, desk):
    other = create_property("OTHER", "Other & <Hotel>", "Europe/Paris", "EUR")
    check_in_by_hand(other, "1", ("Sam", "Roe"))

    html = text(desk.get(HEALTH + "?property=OTHER"))
    assert "Community health at Other &amp; &lt;Hotel&gt;" in html
    assert figure(html, "in-house") == "1"
    assert "(Europe/Paris)" in html
    assert figure(text(desk.get(HEALTH + "?property=TEST")), "in-house") == "0"
    # remembered for the session, like the other staff pages
    assert "Test Hotel" in text(desk.get(HEALTH))


def test_an_empty_property_shows_dashes_not_errors(app, prop, desk):
    html = text(desk.get(HEALTH))
    assert figure(html, "in-house") == "0" and figure(html, "opted-in") == "–"
    assert len(svgs(html)) == 3
