"""Guest pages: the access link, room sign-in, the stay group, alumni, privacy, languages."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import current_app
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

import hotel_community
from hotel_community.database import session, transaction
from hotel_community.models import Member, StayStatus
from hotel_community.services import access, community, staff_desk
from hotel_community.services.checkin import (
    GuestSnapshot, StaySnapshot, apply_staff_change, snapshot_of,
)
from hotel_community.services.properties import create_property
from tests.factories import check_in_by_hand, csrf_token

GENERIC_LOGIN_ERROR = "We could not find a guest staying in that room with that last name."


def link_path(member: Member, stay) -> str:
    """The path of the guest's access link (the QR code holds the full URL)."""
    with current_app.test_request_context():
        return urlsplit(access.access_url(member, stay)).path


def member_of(stay, index: int = 0) -> Member:
    return stay.guests[index].member


def make_visible(*members: Member) -> None:
    for member in members:
        community.set_visible(member.id, True)


def page_text(response) -> str:
    return response.get_data(as_text=True)


def room_login(client, room: str, last_name: str, **environ):
    token = csrf_token(client.get("/community/login", environ_base=environ))
    return client.post("/community/login", data={"csrf_token": token, "room": room,
                                                 "last_name": last_name},
                       environ_base=environ)


def signed_in_member(client) -> int | None:
    with client.session_transaction() as cookie:
        return cookie.get("hotel_community.member")


# --- the access link ---------------------------------------------------------------------

def test_access_link_signs_in_and_shows_the_welcome_and_only_visible_guests(app, client, prop):
    with transaction():
        prop.welcome_message = "Tea in the lobby at five, every day."
    stay = check_in_by_hand(prop, "1204", ("Mei", "Chen"))
    me = member_of(stay)
    shown = check_in_by_hand(prop, "1205", ("Vera", "Visible"), ("Otto", "Open"))
    hidden = member_of(check_in_by_hand(prop, "1206", ("Hugo", "Hiddenfield")))
    make_visible(member_of(shown, 0), member_of(shown, 1))

    response = client.get(link_path(me, stay))
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/community/group")
    assert signed_in_member(client) == me.id

    html = page_text(client.get("/community/group"))
    assert "Welcome, Mei C." in html
    assert "Tea in the lobby at five, every day." in html
    assert "Vera V." in html and "Otto O." in html
    assert "4 guests are in the group." in html
    # The hidden guest is counted but named nowhere, not even in an attribute.
    assert "Hugo" not in html and "Hiddenfield" not in html
    assert hidden.visible is False


def test_a_tampered_link_is_refused(app, client, prop):
    stay = check_in_by_hand(prop, "1204", ("Mei", "Chen"))
    path = link_path(member_of(stay), stay)
    tampered = path[:-1] + ("A" if path[-1] != "A" else "B")

    response = client.get(tampered)
    assert response.status_code == 403
    assert "This link is not valid." in page_text(response)
    assert signed_in_member(client) is None


def test_a_link_for_someone_not_on_the_stay_is_refused(app, client, prop):
    stay = check_in_by_hand(prop, "1204", ("Mei", "Chen"))
    other = member_of(check_in_by_hand(prop, "1300", ("Ann", "Other")))

    response = client.get(link_path(other, stay))
    assert response.status_code == 403
    assert "This link is no longer valid." in page_text(response)
    assert signed_in_member(client) is None


def test_the_link_of_a_cancelled_stay_is_refused(app, client, prop):
    stay = check_in_by_hand(prop, "1204", ("Mei", "Chen"), status="expected")
    path = link_path(member_of(stay), stay)
    apply_staff_change(prop, snapshot_of(stay, status=StayStatus.cancelled))

    response = client.get(path)
    assert response.status_code == 403
    assert "This link is no longer valid." in page_text(response)
    assert signed_in_member(client) is None


def test_a_link_expires_after_departure_plus_the_grace_period(app, client, prop):
    grace = app.config["HOTEL_COMMUNITY_ACCESS_LINK_GRACE"]
    today = access.today_at(prop)
    # Departed so long ago that the end of the departure day plus the grace is past.
    old = check_in_by_hand(prop, "1204", ("Old", "Guest"), status="checked_out",
                           arrival=today - grace - timedelta(days=5),
                           departure=today - grace - timedelta(days=1))
    # Departed within the grace: the link still works, and shows the alumni community.
    recent = check_in_by_hand(prop, "1205", ("Recent", "Guest"), status="checked_out",
                              arrival=today - grace - timedelta(days=3), departure=today - grace)

    response = client.get(link_path(member_of(old), old))
    assert response.status_code == 403
    assert "This link has expired." in page_text(response)
    assert signed_in_member(client) is None

    response = client.get(link_path(member_of(recent), recent), follow_redirects=True)
    assert response.status_code == 200
    assert "Welcome back, Recent G." in page_text(response)


# --- room number and last name -----------------------------------------------------------

def test_room_and_last_name_sign_in_an_in_house_guest(app, client, prop):
    stay = check_in_by_hand(prop, "1204", ("Mei", "Chen"))

    response = room_login(client, " 1204 ", "  chen ")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/community/group")
    assert signed_in_member(client) == member_of(stay).id
    assert "Welcome, Mei C." in page_text(client.get("/community/group"))


@pytest.mark.parametrize("room, last_name, why", [
    ("1299", "Chen", "wrong room"),
    ("1204", "Chan", "wrong name"),
    ("1310", "Gone", "checked out"),
    ("1320", "Later", "not arrived yet"),
])
def test_room_sign_in_gives_one_generic_error(app, client, prop, room, last_name, why):
    check_in_by_hand(prop, "1204", ("Mei", "Chen"))
    check_in_by_hand(prop, "1310", ("Tom", "Gone"), status="checked_out")
    check_in_by_hand(prop, "1320", ("Sue", "Later"), status="expected")

    response = room_login(client, room, last_name)
    assert response.status_code == 403, why
    html = page_text(response)
    assert GENERIC_LOGIN_ERROR in html, why
    # Nothing tells which part was wrong.
    assert not re.search(r"checked out|not arrived|wrong room|wrong name", html, re.I)
    assert signed_in_member(client) is None
    assert client.get("/community/group").headers["Location"].endswith("/community/login")


class TestRoomSignInRateLimit:
    @pytest.fixture
    def app_config(self) -> dict:
        return {"HOTEL_COMMUNITY_GUEST_LOGIN_RATE_LIMIT": "3 per hour"}

    def test_per_client_address(self, app, client, prop):
        check_in_by_hand(prop, "1204", ("Mei", "Chen"))
        address = {"REMOTE_ADDR": "127.0.0.2"}
        for room in ("1201", "1202", "1203"):
            assert room_login(client, room, "Chen", **address).status_code == 403
        # Even the right room and name are refused from that address now...
        response = room_login(client, "1204", "Chen", **address)
        assert response.status_code == 429
        assert "Too many attempts. Please wait a while, or ask the front desk." in page_text(response)
        assert signed_in_member(client) is None
        # ...but not from another one.
        assert room_login(app.test_client(), "1204", "Chen",
                          REMOTE_ADDR="127.0.0.3").status_code == 302

    def test_per_room(self, app, prop):
        check_in_by_hand(prop, "1204", ("Mei", "Chen"))
        for n, guess in enumerate(("Chan", "Cheng", "Chin")):
            response = room_login(app.test_client(), "1204", guess, REMOTE_ADDR=f"127.0.1.{n}")
            assert response.status_code == 403
        client = app.test_client()
        response = room_login(client, "1204", "Chen", REMOTE_ADDR="127.0.1.9")
        assert response.status_code == 429
        assert "Too many attempts" in page_text(response)
        assert signed_in_member(client) is None
        # Another room is not affected.
        check_in_by_hand(prop, "1205", ("Oliver", "Smith"))
        assert room_login(app.test_client(), "1205", "Smith",
                          REMOTE_ADDR="127.0.1.10").status_code == 302

    def test_the_429_page_is_in_the_guests_language(self, app, prop):
        client = app.test_client()
        zh = {"Accept-Language": "zh-CN,zh;q=0.9"}
        for _ in range(4):
            token = csrf_token(client.get("/community/login", headers=zh))
            response = client.post("/community/login", headers=zh,
                                   data={"csrf_token": token, "room": "1", "last_name": "X"})
        assert response.status_code == 429
        assert "尝试次数过多" in page_text(response)


# --- what a signed-in guest sees ---------------------------------------------------------

def test_after_check_out_the_same_member_sees_the_alumni_community(app, client, prop):
    stay = check_in_by_hand(prop, "1204", ("Mei", "Chen"))
    alumna = member_of(check_in_by_hand(prop, "1100", ("Ada", "Alumna"), status="checked_out"))
    make_visible(alumna)
    client.get(link_path(member_of(stay), stay))
    assert "Who is here" in page_text(client.get("/community/group"))

    staff_desk.check_out(stay)

    html = page_text(client.get("/community/group"))
    assert "Welcome back, Mei C." in html
    assert "Thank you for staying at Test Hotel" in html
    assert "Ada A." in html
    assert "Who is here" not in html


def test_a_guest_never_sees_the_guests_of_another_property(app, client, prop):
    other = create_property("OTHER", "Other Hotel", "Europe/Paris", "EUR")
    here = check_in_by_hand(prop, "1204", ("Mei", "Chen"))
    make_visible(member_of(check_in_by_hand(prop, "1205", ("Nina", "Neighbour"))))
    make_visible(member_of(check_in_by_hand(other, "1205", ("Paul", "Paris"))),
                 member_of(check_in_by_hand(other, "9", ("Ali", "Alum"), status="checked_out")))

    client.get(link_path(member_of(here), here))
    html = page_text(client.get("/community/group"))
    assert "Nina N." in html
    assert "2 guests are in the group." in html
    assert "Paul" not in html and "Paris" not in html and "Ali" not in html
    assert "Other Hotel" not in html


def test_a_guest_only_sees_the_group_of_the_stay_they_signed_in_with(app, client, prop):
    """The same member is in house at two hotels; the link of one shows that one only."""
    other = create_property("OTHER", "Other Hotel", "Europe/Paris", "EUR")
    make_visible(member_of(check_in_by_hand(prop, "1205", ("Nina", "Neighbour"))),
                 member_of(check_in_by_hand(other, "7", ("Paul", "Paris"))))
    today = access.today_at(prop)
    stays = [apply_staff_change(hotel, StaySnapshot(
        reservation_id=f"MEI-{hotel.code}", status=StayStatus.in_house, room="1204",
        arrival=arrival, departure=today + timedelta(days=3),
        guests=(GuestSnapshot("Mei", "Chen", email="mei@example.com", primary=True),))).stay
        for hotel, arrival in ((prop, today - timedelta(days=2)), (other, today))]
    here, there = stays
    assert member_of(here).id == member_of(there).id

    client.get(link_path(member_of(here), here))
    html = page_text(client.get("/community/group"))
    assert "Nina N." in html and "Paul" not in html

    # That stay is cancelled: no stay group at all, not the other hotel's.
    apply_staff_change(prop, snapshot_of(here, status=StayStatus.cancelled))
    html = page_text(client.get("/community/group"))
    assert "Who is here" not in html
    assert "You are not staying at Test Hotel right now." in html
    assert "Paul" not in html and "Other Hotel" not in html


def test_the_visibility_switch(app, client, prop):
    mine = check_in_by_hand(prop, "1204", ("Mei", "Chen"))
    theirs = check_in_by_hand(prop, "1205", ("Oliver", "Smith"))
    me = member_of(mine)
    neighbour = app.test_client()
    neighbour.get(link_path(member_of(theirs), theirs))

    page = client.get(link_path(me, mine), follow_redirects=True)
    assert "Mei C." not in page_text(neighbour.get("/community/group"))

    # Without the CSRF token nothing changes.
    assert client.post("/community/visibility", data={"visible": "on"}).status_code == 400
    session.expire_all()
    assert session.get(Member, me.id).visible is False

    response = client.post("/community/visibility",
                           data={"csrf_token": csrf_token(page), "visible": "on"})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Member, me.id).visible is True
    assert "Mei C." in page_text(neighbour.get("/community/group"))
    assert 'name="visible" checked' in page_text(client.get("/community/group"))

    client.post("/community/visibility", data={"csrf_token": csrf_token(page)})
    session.expire_all()
    assert session.get(Member, me.id).visible is False
    assert "Mei C." not in page_text(neighbour.get("/community/group"))


def test_guest_text_is_escaped(app, client, prop):
    evil = "<script>alert(1)</script>"
    mine = check_in_by_hand(prop, "1204", (evil, "<b>Bold"))
    make_visible(member_of(check_in_by_hand(prop, "1205", (evil, "Twin"))))

    client.get(link_path(member_of(mine), mine))
    html = page_text(client.get("/community/group"))
    assert evil not in html and "<b>" not in html
    assert "Welcome, &lt;script&gt;alert(1)&lt;/script&gt; &lt;." in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; T." in html


def test_sign_out(app, client, prop):
    stay = check_in_by_hand(prop, "1204", ("Mei", "Chen"))
    page = client.get(link_path(member_of(stay), stay), follow_redirects=True)
    assert client.post("/community/logout").status_code == 400
    assert signed_in_member(client) == member_of(stay).id

    response = client.post("/community/logout", data={"csrf_token": csrf_token(page)})
    assert response.headers["Location"].endswith("/community/login")
    assert signed_in_member(client) is None


# --- languages ---------------------------------------------------------------------------

def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', page_text(response)).group(1)


def test_english_by_default(app, client, prop):
    response = client.get("/community/login", headers={"Accept-Language": "de-DE,fr;q=0.8"})
    assert html_lang(response) == "en"
    assert "Join the guests staying with us" in page_text(response)


def test_the_browser_language_chooses_chinese(app, client, prop):
    response = client.get("/community/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert html_lang(response) == "zh-Hans"
    html = page_text(response)
    assert "加入在住客人社群" in html and "房间号" in html and "姓氏" in html
    assert "Join the guests" not in html

    response = client.get("/community/a/not-a-token", headers={"Accept-Language": "zh-CN"})
    assert "此链接无效。" in page_text(response)


def test_the_guests_pms_language_beats_the_browser(app, client, prop):
    stay = check_in_by_hand(prop, "1204", ("Mei", "Chen", "zh-CN"))
    english_browser = {"Accept-Language": "en-US,en;q=0.9"}
    client.get(link_path(member_of(stay), stay), headers=english_browser)

    response = client.get("/community/group", headers=english_browser)
    assert html_lang(response) == "zh-Hans"
    html = page_text(response)
    assert "欢迎您，Mei C." in html and "谁在这里" in html and "群里共有 1 位客人。" in html


def test_the_switcher_beats_everything(app, client, prop):
    stay = check_in_by_hand(prop, "1204", ("Mei", "Chen", "zh-CN"))
    client.get(link_path(member_of(stay), stay))
    chinese_browser = {"Accept-Language": "zh-CN"}

    response = client.get("/community/language/en?next=/community/group", headers=chinese_browser)
    assert response.headers["Location"] == "/community/group"
    response = client.get("/community/group", headers=chinese_browser)
    assert html_lang(response) == "en"
    assert "Who is here" in page_text(response)

    client.get("/community/language/zh")
    response = client.get("/community/group", headers={"Accept-Language": "en"})
    assert html_lang(response) == "zh-Hans"
    assert "谁在这里" in page_text(response)


def test_the_switcher_stays_on_this_site(app, client, prop):
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = client.get("/community/language/zh", query_string={"next": target})
        assert response.headers["Location"] == "/community/login", target
    # An unknown language changes nothing.
    client.get("/community/language/xx")
    assert html_lang(client.get("/community/login", headers={"Accept-Language": "en"})) == "zh-Hans"


def test_the_switcher_links_come_back_to_the_page(app, client, prop):
    html = page_text(client.get("/community/login?property=TEST"))
    assert 'href="/community/language/zh?next=/community/login?property%3DTEST"' in html


REPO = Path(hotel_community.__file__).parent.parent
CATALOG = Path(hotel_community.__file__).parent / "translations" / "zh" / "LC_MESSAGES"


def test_every_guest_string_has_a_chinese_translation_and_the_mo_is_compiled():
    method_map = [("hotel_community/**.py", "python"), ("plugins/**.py", "python"),
                  ("templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None,
                "_l": None, "lazy_ngettext": (1, 2), "_ln": (1, 2)}
    extracted = {message[2] if isinstance(message[2], str) else message[2][0]
                 for message in extract_from_dir(str(REPO), method_map, keywords=keywords)
                 if not message[0].startswith(("tests", "bench", "build", ".venv"))}
    with open(CATALOG / "messages.po", "rb") as po_file:
        po = read_po(po_file, locale="zh")
    translated = {m.id if isinstance(m.id, str) else m.id[0]: m for m in po if m.id}
    assert extracted - set(translated) == set(), "run `make translations` and translate"
    for key, message in translated.items():
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings) and "fuzzy" not in message.flags, key
    with open(CATALOG / "messages.mo", "rb") as mo_file:
        mo = {_plain(m.id): _plain(m.string) for m in read_mo(mo_file) if m.id}
    assert mo == {_plain(m.id): _plain(m.string) for m in po if m.id}, "recompile: pybabel compile"


def _plain(value):
    """A catalog id or string, comparable whether it came from a .po or a .mo."""
    return tuple(value) if isinstance(value, (list, tuple)) else value


def test_a_member_removed_from_the_stay_group_by_staff_no_longer_sees_it(app, client, prop):
    from sqlalchemy import select

    from hotel_community.database import session, transaction
    from hotel_community.models import Membership

    stay = check_in_by_hand(prop, "1204", ("Mei", "Chen"))
    other = check_in_by_hand(prop, "1205", ("Oliver", "Smith"))
    make_visible(member_of(other))
    client.get(link_path(member_of(stay), stay))
    assert "Oliver S." in page_text(client.get("/community/group"))

    with transaction():
        session.scalars(select(Membership).where(
            Membership.member_id == member_of(stay).id)).one().removed_at = datetime(2026, 11, 25)
    page = page_text(client.get("/community/group", follow_redirects=True))
    assert "Oliver S." not in page


def test_the_group_page_never_names_a_guest_who_blocked_the_viewer(app, client, prop):
    from hotel_community.services import connections

    stay = check_in_by_hand(prop, "1204", ("Mei", "Chen"))
    other = check_in_by_hand(prop, "1205", ("Oliver", "Smith"))
    make_visible(member_of(stay), member_of(other))
    connections.block(member_of(other).id, member_of(stay).id)
    client.get(link_path(member_of(stay), stay))
    page = page_text(client.get("/community/group"))
    assert "Oliver" not in page


def test_a_deleted_account_is_signed_out_of_its_other_sessions(app, prop):
    from hotel_community.services import privacy

    stay = check_in_by_hand(prop, "1204", ("Mei", "Chen"))
    phone, tablet = app.test_client(), app.test_client()
    for device in (phone, tablet):
        device.get(link_path(member_of(stay), stay))
        assert device.get("/community/group").status_code == 200
    privacy.delete_account(member_of(stay))
    response = tablet.get("/community/group")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/community/login")


@pytest.mark.parametrize("target", ["/%09/example.com", "%2F%09%2Fexample.com", "/%0a/example.com",
                                    "/%5Cexample.com", "//example.com", "https://example.com/",
                                    "/%20/example.com"])
def test_the_language_switch_never_redirects_off_site(app, client, prop, target):
    response = client.get(f"/community/language/zh?next={target}")
    assert response.status_code == 302
    assert response.headers["Location"] == "/community/login"
