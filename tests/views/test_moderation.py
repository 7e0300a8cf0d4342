"""Report pages for guests, and the staff moderation queue and its buttons."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from flask import current_app
from sqlalchemy import func, select

from hotel_community.database import session, transaction
from hotel_community.errors import Forbidden
from hotel_community.models import (
    Connection, ConnectionStatus, GroupKind, Member, Membership, Post, Profile, Report,
)
from hotel_community.services import access, community, moderation
from hotel_community.services.properties import create_property, groups_by_kind
from hotel_community.services.staff import create_staff
from tests.factories import check_in_by_hand, csrf_token

REPORT = "/community/report"
QUEUE = "/community/staff/moderation/"
USERNAME, PASSWORD = "desk", "correct-horse-battery"
SECRET_CONTACT = "wechat-id-SECRET-4711"


def text(response) -> str:
    return response.get_data(as_text=True)


def sign_in_guest(app, stay, index: int = 0):
    """A fresh client signed in with the guest's access link."""
    client = app.test_client()
    with current_app.test_request_context():
        path = urlsplit(access.access_url(stay.guests[index].member, stay)).path
    assert client.get(path).status_code == 302
    return client


@pytest.fixture
def desk(app, prop):
    """A client signed in as staff."""
    create_staff(USERNAME, PASSWORD, "Front Desk")
    client = app.test_client()
    page = client.get("/community/staff/login")
    response = client.post("/community/staff/login", data={
        "csrf_token": csrf_token(page), "username": USERNAME, "password": PASSWORD})
    assert response.status_code == 302
    return client


@pytest.fixture
def hotel(app, prop):
    """Mei (1204) and Ana (1301) in house; Ana wrote a post. Returns (mei_stay, ana_stay, post)."""
    mei_stay = check_in_by_hand(prop, "1204", ("Mei", "Chen"))
    ana_stay = check_in_by_hand(prop, "1301", ("Ana", "Lopez"))
    with transaction():
        post = Post(group_id=groups_by_kind(prop)[GroupKind.stay].id,
                    author_id=ana_stay.guests[0].member_id,
                    body='<script>alert("owned")</script> rooftop party at 9?')
        session.add(post)
    return mei_stay, ana_stay, post


def reports() -> list[Report]:
    session.expire_all()
    return list(session.scalars(select(Report).order_by(Report.id)))


def submit(client, url: str, reason: str, with_token: bool = True):
    data = {"reason": reason}
    if with_token:
        data["csrf_token"] = csrf_token(client.get(url))
    return client.post(url, data=data)


# --- guests report -----------------------------------------------------------------------------

def test_a_guest_reports_a_post(app, prop, hotel):
    mei_stay, _, post = hotel
    guest = sign_in_guest(app, mei_stay)
    url = f"{REPORT}/post/{post.id}"

    form = guest.get(url)
    assert form.status_code == 200
    assert "Report a post" in text(form) and "<textarea" in text(form)

    response = submit(guest, url, "Spam, and a script in it")
    assert response.status_code == 200
    assert "Thank you for telling us" in text(response)
    [report] = reports()
    assert (report.post_id, report.reporter_id, report.property_id, report.reason) == (
        post.id, mei_stay.guests[0].member_id, prop.id, "Spam, and a script in it")


def test_a_second_report_of_the_same_post_is_refused_politely(app, prop, hotel):
    mei_stay, _, post = hotel
    guest = sign_in_guest(app, mei_stay)
    submit(guest, f"{REPORT}/post/{post.id}", "spam here")
    response = submit(guest, f"{REPORT}/post/{post.id}", "spam again")
    assert response.status_code == 409
    assert "already reported" in text(response)
    assert len(reports()) == 1


def test_a_guest_reports_a_member_and_only_a_visible_ones_name_is_shown(app, prop, hotel):
    mei_stay, ana_stay, _ = hotel
    ana = ana_stay.guests[0].member
    guest = sign_in_guest(app, mei_stay)
    url = f"{REPORT}/member/{ana.id}"

    hidden = text(guest.get(url))
    assert "Report a guest" in hidden and "Ana" not in hidden and "Lopez" not in hidden
    community.set_visible(ana.id, True)
    assert "Report Ana L." in text(guest.get(url))

    assert "Thank you" in text(submit(guest, url, "knocks on my door at night"))
    [report] = reports()
    assert (report.reported_member_id, report.post_id) == (ana.id, None)


def test_a_too_short_reason_shows_the_form_again(app, prop, hotel):
    mei_stay, _, post = hotel
    guest = sign_in_guest(app, mei_stay)
    response = submit(guest, f"{REPORT}/post/{post.id}", "no")
    assert response.status_code == 200
    assert 'class="errors"' in text(response)
    assert reports() == []


def test_a_guest_cannot_report_in_a_group_they_are_not_in(app, prop, hotel):
    _, ana_stay, post = hotel
    other = create_property("OTHER", "Other Hotel", "Europe/Paris", "EUR")
    stranger_stay = check_in_by_hand(other, "10", ("Sam", "Roe"))
    stranger = sign_in_guest(app, stranger_stay)
    ana = ana_stay.guests[0].member

    for url in (f"{REPORT}/post/{post.id}", f"{REPORT}/member/{ana.id}"):
        page = stranger.get(url)
        assert page.status_code == 403
        assert "rooftop" not in text(page) and "Ana" not in text(page)
        token = csrf_token(stranger.get("/community/group"))
        response = stranger.post(url, data={"csrf_token": token, "reason": "let me in"})
        assert response.status_code == 403
    assert stranger.get(f"{REPORT}/post/999999").status_code == 404
    assert reports() == []


def test_report_pages_need_a_signed_in_guest(app, client, prop, hotel):
    _, _, post = hotel
    response = client.get(f"{REPORT}/post/{post.id}")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/community/login"


def test_a_report_without_the_csrf_token_is_refused(app, prop, hotel):
    mei_stay, _, post = hotel
    guest = sign_in_guest(app, mei_stay)
    response = submit(guest, f"{REPORT}/post/{post.id}", "spam here", with_token=False)
    assert response.status_code == 400
    assert reports() == []


def test_the_report_link_partial(app, prop):
    from flask import render_template_string

    with app.test_request_context():
        html = render_template_string(
            '{% include "hotel_community/guest/_report_link.html" %}', report_url="/r?a=1&b=2")
    assert 'href="/r?a=1&amp;b=2"' in html and ">Report<" in html


# --- the staff queue -----------------------------------------------------------------------

@pytest.mark.parametrize("path", ["", "members"])
def test_strangers_and_guests_cannot_see_the_queue(app, client, prop, hotel, path):
    mei_stay, _, _ = hotel
    for visitor in (client, sign_in_guest(app, mei_stay)):
        response = visitor.get(QUEUE + path)
        assert response.status_code == 302
        assert urlsplit(response.headers["Location"]).path == "/community/staff/login"


@pytest.mark.parametrize("action", ["reports/{report}/hide", "reports/{report}/dismiss",
                                    "posts/{post}/hide", "groups/{group}/members/{ana}/remove"])
def test_strangers_and_guests_cannot_act(app, client, prop, hotel, action):
    mei_stay, ana_stay, post = hotel
    report = moderation.report_post(mei_stay.guests[0].member, post, "spam here")
    url = QUEUE + action.format(report=report.id, post=post.id, ana=ana_stay.guests[0].member_id,
                                group=groups_by_kind(prop)[GroupKind.stay].id)
    guest = sign_in_guest(app, mei_stay)
    for visitor, page in ((client, "/community/staff/login"), (guest, "/community/group")):
        response = visitor.post(url, data={"csrf_token": csrf_token(visitor.get(page))})
        assert response.status_code == 302
        assert urlsplit(response.headers["Location"]).path == "/community/staff/login"
    session.expire_all()
    assert session.get(Report, report.id).handled_at is None
    assert session.get(Post, post.id).hidden_at is None
    assert community.membership_in(ana_stay.guests[0].member_id,
                                   groups_by_kind(prop)[GroupKind.stay].id) is not None


def test_staff_actions_need_the_csrf_token(app, prop, hotel, desk):
    mei_stay, _, post = hotel
    report = moderation.report_post(mei_stay.guests[0].member, post, "spam here")
    response = desk.post(f"{QUEUE}reports/{report.id}/hide", data={})
    assert response.status_code == 400
    assert "CSRF" in text(response)
    session.expire_all()
    assert session.get(Post, post.id).hidden_at is None
    assert session.get(Report, report.id).handled_at is None


def test_the_queue_shows_names_text_and_reasons_escaped_and_never_contacts(app, prop, hotel,
                                                                          desk):
    mei_stay, ana_stay, post = hotel
    mei, ana = mei_stay.guests[0].member, ana_stay.guests[0].member
    with transaction():  # Mei and Ana are connected and each chose what the other sees
        session.add(Profile(member_id=mei.id, display_name="Mei <b>from</b> Chengdu",
                            contact_kind="wechat", contact_value=SECRET_CONTACT))
        session.add(Profile(member_id=ana.id, contact_kind="email",
                            contact_value="ana.secret@example.com"))
        session.add(Connection(requester_id=mei.id, addressee_id=ana.id, property_id=prop.id,
                               status=ConnectionStatus.accepted))
    session.expire_all()
    moderation.report_post(session.get(Member, mei.id), session.get(Post, post.id),
                           "Script & <i>spam</i>")
    moderation.report_member(session.get(Member, ana.id), session.get(Member, mei.id),
                             "asks everyone for their WeChat")

    html = text(desk.get(QUEUE))

    assert "Reports at Test Hotel" in html
    assert "&lt;script&gt;alert(&#34;owned&#34;)&lt;/script&gt; rooftop party at 9?" in html
    assert "<script>alert" not in html
    assert "Script &amp; &lt;i&gt;spam&lt;/i&gt;" in html
    assert "Mei &lt;b&gt;from&lt;/b&gt; Chengdu" in html and "Ana L." in html
    assert "asks everyone for their WeChat" in html
    assert SECRET_CONTACT not in html and "ana.secret@example.com" not in html
    assert html.count("data-report=") == 2
    members_page = text(desk.get(QUEUE + "members"))
    assert SECRET_CONTACT not in members_page and "ana.secret" not in members_page


def test_the_queue_pages_by_keyset(app, prop, hotel, desk):
    mei_stay, _, post = hotel
    app.config["HOTEL_COMMUNITY_PAGE_SIZE"] = 2
    mei = mei_stay.guests[0].member
    more = [check_in_by_hand(prop, f"140{n}", (f"Guest{n}", "Test")) for n in range(3)]
    for stay in more:
        moderation.report_post(stay.guests[0].member, post, f"reason from {stay.room}")
    moderation.report_member(mei, post.author, "reason from Mei")

    first = text(desk.get(QUEUE))
    assert "reason from 1400" in first and "reason from 1401" in first
    assert "reason from 1402" not in first
    ids = [r.id for r in reports()]
    assert f"after={ids[1]}" in first
    second = text(desk.get(f"{QUEUE}?after={ids[1]}"))
    assert "reason from 1402" in second and "reason from Mei" in second
    assert "reason from 1400" not in second


def test_hide_from_the_queue(app, prop, hotel, desk):
    mei_stay, _, post = hotel
    report = moderation.report_post(mei_stay.guests[0].member, post, "spam here")
    token = csrf_token(desk.get(QUEUE))

    response = desk.post(f"{QUEUE}reports/{report.id}/hide",
                         data={"csrf_token": token, "next": QUEUE})
    assert response.status_code == 302 and response.headers["Location"] == QUEUE
    session.expire_all()
    assert session.get(Post, post.id).hidden_at is not None
    assert (session.get(Report, report.id).action,
            session.get(Report, report.id).handled_by) == ("hide", "Front Desk")
    page = text(desk.get(QUEUE))
    assert "Post hidden." in page and "No open reports" in page


def test_mute_remove_and_undo_from_the_staff_pages(app, prop, hotel, desk):
    mei_stay, ana_stay, post = hotel
    mei, ana = mei_stay.guests[0].member, ana_stay.guests[0].member
    stay_group = groups_by_kind(prop)[GroupKind.stay]
    first = moderation.report_post(mei, post, "spam here")
    second = moderation.report_member(ana, mei, "rude at breakfast")
    token = csrf_token(desk.get(QUEUE))

    desk.post(f"{QUEUE}reports/{first.id}/mute", data={"csrf_token": token})
    desk.post(f"{QUEUE}reports/{second.id}/remove", data={"csrf_token": token})

    def flags(member: Member) -> tuple[bool, bool]:
        session.expire_all()
        row = session.scalar(select(Membership).where(
            Membership.member_id == member.id, Membership.group_id == stay_group.id,
            Membership.left_at.is_(None)))
        return row.muted_at is not None, row.removed_at is not None

    assert flags(ana) == (True, False) and flags(mei) == (False, True)
    with pytest.raises(Forbidden):
        community.require_membership(mei.id, stay_group.id)
    listed = text(desk.get(QUEUE + "members"))
    assert "Ana L." in listed and "Mei C." in listed
    assert listed.count("data-membership=") == 2

    base = f"{QUEUE}groups/{stay_group.id}/members"
    desk.post(f"{base}/{ana.id}/unmute", data={"csrf_token": token, "next": QUEUE + "members"})
    desk.post(f"{base}/{mei.id}/restore", data={"csrf_token": token})
    assert flags(ana) == (False, False) and flags(mei) == (False, False)
    assert "Nobody is muted or removed." in text(desk.get(QUEUE + "members"))
    community.require_membership(mei.id, stay_group.id)


def test_direct_hide_and_unhide_of_a_post_come_back_to_the_page(app, prop, hotel, desk):
    _, _, post = hotel
    token = csrf_token(desk.get(QUEUE))
    response = desk.post(f"{QUEUE}posts/{post.id}/hide",
                         data={"csrf_token": token, "next": "/community/staff/feed?x=1"})
    assert response.headers["Location"] == "/community/staff/feed?x=1"
    session.expire_all()
    assert session.get(Post, post.id).hidden_at is not None

    response = desk.post(f"{QUEUE}posts/{post.id}/unhide",
                         data={"csrf_token": token, "next": "//evil.example/"})
    assert response.headers["Location"] == QUEUE  # never off-site
    session.expire_all()
    assert session.get(Post, post.id).hidden_at is None


def test_a_wrong_action_is_an_error_page_not_a_crash(app, prop, hotel, desk):
    mei_stay, _, post = hotel
    report = moderation.report_member(mei_stay.guests[0].member, post.author, "rude words")
    token = csrf_token(desk.get(QUEUE))
    response = desk.post(f"{QUEUE}reports/{report.id}/hide", data={"csrf_token": token})
    assert response.status_code == 422 and "about a member" in text(response)
    assert desk.post(f"{QUEUE}reports/{report.id}/ban",
                     data={"csrf_token": token}).status_code == 404
    assert desk.post(f"{QUEUE}reports/999999/dismiss",
                     data={"csrf_token": token}).status_code == 404
    assert session.scalar(select(func.count()).select_from(Report)
                          .where(Report.handled_at.is_not(None))) == 0


def test_the_staff_nav_links_to_moderation_and_health(app, prop, desk):
    html = text(desk.get("/community/staff/"))
    assert 'href="/community/staff/moderation/"' in html
    assert 'href="/community/staff/health/"' in html
