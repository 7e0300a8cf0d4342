"""Staff pages: sign-in, in-house list, manual check-in / check-out / move, welcome cards, API keys."""
from __future__ import annotations

import io
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
import zxingcpp
from flask import session as cookie_session
from PIL import Image
from sqlalchemy import select

from hotel_community.database import session
from hotel_community.models import ApiKey, Stay, StayStatus
from hotel_community.services.access import today_at
from hotel_community.services.staff import create_staff
from tests.conftest import make_app
from tests.factories import (
    ApiClient, check_in_by_hand, community_state, csrf_token, event,
    guest,
)

STAFF = "/community/staff"
USERNAME, PASSWORD = "desk", "correct-horse-battery"


def text(response) -> str:
    return response.get_data(as_text=True)


def sign_in(client, username: str = USERNAME, password: str = PASSWORD, next_url: str = ""):
    page = client.get(f"{STAFF}/login" + (f"?next={next_url}" if next_url else ""))
    return client.post(f"{STAFF}/login" + (f"?next={next_url}" if next_url else ""),
                       data={"csrf_token": csrf_token(page), "username": username,
                             "password": password})


def post_form(client, page_url: str, action: str, data: dict | None = None):
    """Submit a form the way a browser does: with the token of the page it is on."""
    token = csrf_token(client.get(page_url))
    return client.post(action, data={"csrf_token": token, **(data or {})})


def rooms_listed(response) -> list[str]:
    return re.findall(r'<tr data-room="([^"]*)"', text(response))


def fresh(stay: Stay) -> Stay:
    session.expire_all()
    return session.get(Stay, stay.id)


# --- sign-in -----------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/check-in", "/api-keys", "/stays/1/welcome/1",
                                  "/stays/1/welcome/1.png"])
def test_staff_pages_send_strangers_to_sign_in(app, client, prop, path):
    response = client.get(STAFF + path)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == f"{STAFF}/login"
    assert "next=" in location.query


def test_built_in_staff_sign_in(app, client, prop):
    create_staff(USERNAME, PASSWORD, "Front Desk")

    refused = sign_in(client, password="wrong-password")
    assert refused.status_code == 200
    assert "Wrong username or password." in text(refused)
    assert client.get(f"{STAFF}/").status_code == 302

    response = sign_in(client, next_url=f"{STAFF}/api-keys")
    assert response.headers["Location"] == f"{STAFF}/api-keys"
    page = client.get(f"{STAFF}/")
    assert page.status_code == 200
    assert "In house at Test Hotel" in text(page) and "Front Desk" in text(page)

    post_form(client, f"{STAFF}/", f"{STAFF}/logout")
    assert client.get(f"{STAFF}/").status_code == 302


@pytest.mark.parametrize("next_url", ["//evil.example/", "/\\evil.example/", "https://evil.example/"])
def test_sign_in_never_redirects_off_site(app, client, prop, next_url):
    create_staff(USERNAME, PASSWORD)
    response = sign_in(client, next_url=next_url)
    assert response.headers["Location"] == f"{STAFF}/"


class TestStaffSignInRateLimit:
    @pytest.fixture
    def app_config(self) -> dict:
        return {"HOTEL_COMMUNITY_STAFF_LOGIN_RATE_LIMIT": "3 per hour"}

    def test_per_username(self, app, prop):
        create_staff(USERNAME, PASSWORD)
        for n in range(3):
            client = app.test_client()
            client.environ_base["REMOTE_ADDR"] = f"127.0.2.{n}"
            assert "Wrong username" in text(sign_in(client, password=f"guess-{n}"))
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = "127.0.2.9"
        refused = sign_in(client)
        assert refused.status_code == 429
        assert "Too many sign-in attempts" in text(refused)
        assert client.get(f"{STAFF}/").status_code == 302

    def test_per_client_address(self, app, prop):
        create_staff(USERNAME, PASSWORD)
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = "127.0.3.1"
        for name in ("anna", "bert", "carl"):
            assert sign_in(client, username=name).status_code == 200
        assert sign_in(client).status_code == 429
        other = app.test_client()
        other.environ_base["REMOTE_ADDR"] = "127.0.3.2"
        assert sign_in(other).status_code == 302


@dataclass
class HostUser:
    display_name: str
    is_staff: bool


@pytest.fixture
def host_app(app, database_url):
    """A hotel's app with its own login; it tells the extension who is staff."""
    host = make_app(database_url)
    users = {"ana": HostUser("Ana at reception", True), "bob": HostUser("Bob the guest", False)}

    @host.post("/host-login/<name>")
    def host_login(name: str) -> str:
        cookie_session["host_user"] = name
        return "signed in"

    community = host.extensions["hotel_community"].extension

    @community.staff_loader
    def load_staff():
        user = users.get(cookie_session.get("host_user"))
        return user if user is not None and user.is_staff else None

    yield host
    with host.app_context():
        host.extensions["sqlalchemy"].engine.dispose()


def test_a_host_app_decides_who_is_staff(host_app, prop):
    client = host_app.test_client()
    assert client.get(f"{STAFF}/").status_code == 302

    client.post("/host-login/bob")
    assert client.get(f"{STAFF}/").status_code == 302

    client.post("/host-login/ana")
    page = client.get(f"{STAFF}/")
    assert page.status_code == 200
    assert "Ana at reception" in text(page)


# --- the in-house list -------------------------------------------------------------------

def test_in_house_list_and_search(app, desk, prop):
    check_in_by_hand(prop, "1204", ("Mei", "Chen"))
    check_in_by_hand(prop, "1205", ("Oliver", "Smith"), ("Olivia", "Smith"))
    check_in_by_hand(prop, "1206", ("美", "陈"))
    check_in_by_hand(prop, "1310", ("Mei", "Gone"), status="checked_out")

    assert rooms_listed(desk.get(f"{STAFF}/")) == ["1204", "1205", "1206"]
    searches = {"1204": ["1204"], " 1205 ": ["1205"], "smith": ["1205"], "olIV": ["1205"],
                "mei": ["1204"], "Mei Chen": ["1204"], "chen mei": ["1204"], "陈": ["1206"],
                "1310": [], "Gone": [], "100%": []}
    for query, rooms in searches.items():
        assert rooms_listed(desk.get(f"{STAFF}/", query_string={"q": query})) == rooms, query
    assert "No in-house guest matches" in text(desk.get(f"{STAFF}/?q=nobody"))


def test_user_text_is_escaped_on_staff_pages(app, desk, prop):
    check_in_by_hand(prop, "1204", ("<script>alert(1)</script>", "Evil"))
    html = text(desk.get(f"{STAFF}/"))
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Evil" in html


# --- manual check-in, check-out, room move -----------------------------------------------

def check_in_form(room: str, arrival: str, departure: str, *guests: tuple[str, str]) -> dict:
    data = {"room": room, "arrival": arrival, "departure": departure, "reservation_id": ""}
    for index, (first, last) in enumerate(guests):
        data[f"guests-{index}-first_name"] = first
        data[f"guests-{index}-last_name"] = last
    return data


def test_manual_check_in_puts_every_guest_in_the_stay_group(app, desk, prop):
    page = desk.get(f"{STAFF}/check-in")
    today = today_at(prop)
    assert f'value="{today.isoformat()}"' in text(page)  # the property's today, not the server's

    form = check_in_form("808", today.isoformat(), "2099-01-03", ("Ana", "Lima"), ("Bo", "Lima"))
    form["guests-1-email"] = "bo@example.com"
    response = desk.post(f"{STAFF}/check-in", data={"csrf_token": csrf_token(page), **form})
    assert response.status_code == 302
    assert "Checked in room 808." in text(desk.get(response.headers["Location"]))

    stay = session.scalar(select(Stay).where(Stay.room == "808"))
    assert stay.status is StayStatus.in_house
    assert stay.reservation_id.startswith("WALKIN-")
    assert str(stay.departure) == "2099-01-03"
    assert [g.member.full_name for g in stay.guests] == ["Ana Lima", "Bo Lima"]
    assert [g.is_primary for g in stay.guests] == [True, False]
    assert community_state(prop)["stay_group"] == ["Ana Lima", "Bo Lima"]
    assert rooms_listed(desk.get(f"{STAFF}/")) == ["808"]


@pytest.mark.parametrize("form, error", [
    (check_in_form("808", "2030-01-05", "2030-01-04", ("Ana", "Lima")),
     "Departure must not be before arrival."),
    (check_in_form("808", "2030-01-05", "2030-01-06"), "Enter at least one guest."),
    (check_in_form("808", "2030-01-05", "2030-01-06", ("Ana", "")),
     "Every guest needs a first and a last name."),
    (check_in_form("", "2030-01-05", "2030-01-06", ("Ana", "Lima")), "This field is required."),
])
def test_manual_check_in_refuses_bad_input(app, desk, prop, form, error):
    page = desk.get(f"{STAFF}/check-in")
    response = desk.post(f"{STAFF}/check-in", data={"csrf_token": csrf_token(page), **form})
    assert response.status_code == 200
    assert error in text(response)
    assert session.scalar(select(Stay.id)) is None


def test_check_out_and_room_move_buttons(app, desk, prop):
    stay = check_in_by_hand(prop, "1204", ("Mei", "Chen"))
    check_in_by_hand(prop, "1205", ("Oliver", "Smith"))

    response = post_form(desk, f"{STAFF}/", f"{STAFF}/stays/{stay.id}/move", {"room": " 1402 "})
    assert response.status_code == 302
    assert "Moved from room 1204 to 1402." in text(desk.get(response.headers["Location"]))
    assert fresh(stay).room == "1402"
    assert community_state(prop)["stay_group"] == ["Mei Chen", "Oliver Smith"]
    assert rooms_listed(desk.get(f"{STAFF}/")) == ["1205", "1402"]

    response = post_form(desk, f"{STAFF}/", f"{STAFF}/stays/{stay.id}/check-out")
    assert response.status_code == 302
    assert fresh(stay).status is StayStatus.checked_out
    state = community_state(prop)
    assert state["stay_group"] == ["Oliver Smith"] and state["alumni"] == ["Mei Chen"]
    assert rooms_listed(desk.get(f"{STAFF}/")) == ["1205"]

    again = post_form(desk, f"{STAFF}/", f"{STAFF}/stays/{stay.id}/check-out")
    assert again.status_code == 409
    assert "not in house any more" in text(again)


# --- welcome card and QR code ------------------------------------------------------------

def test_the_welcome_card_qr_code_signs_the_guest_in(app, desk, prop):
    stay = check_in_by_hand(prop, "1204", ("Mei", "Chen"), ("Li", "Wang"))
    li = stay.guests[1].member
    card = desk.get(f"{STAFF}/stays/{stay.id}/welcome/{li.id}")
    assert card.status_code == 200
    assert "<svg" in text(card) and "Li Wang" in text(card)
    link = re.search(r'<a href="([^"]+)" data-guest-link>', text(card)).group(1)

    png = desk.get(f"{STAFF}/stays/{stay.id}/welcome/{li.id}.png")
    assert png.status_code == 200 and png.mimetype == "image/png"
    codes = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.data)))
    assert [code.text for code in codes] == [link]
    assert urlsplit(link).path.startswith("/community/a/")

    phone = app.test_client()
    response = phone.get(urlsplit(link).path, follow_redirects=True)
    assert response.status_code == 200
    assert "Welcome, Li W." in text(response)

    # Not a guest of that stay: no card.
    other = check_in_by_hand(prop, "1205", ("Oliver", "Smith")).guests[0].member
    assert desk.get(f"{STAFF}/stays/{stay.id}/welcome/{other.id}").status_code == 404
    assert desk.get(f"{STAFF}/stays/{stay.id}/welcome/{other.id}.png").status_code == 404


# --- API keys ----------------------------------------------------------------------------

def test_api_keys_page_creates_a_working_key_and_revokes_it(app, desk, prop):
    page = desk.get(f"{STAFF}/api-keys")
    created = desk.post(f"{STAFF}/api-keys", data={"csrf_token": csrf_token(page),
                                                   "label": "Opera PMS"})
    assert created.status_code == 200
    key_id = re.search(r"<code data-key-id>([^<]+)</code>", text(created)).group(1)
    secret = re.search(r"<code data-secret>([^<]+)</code>", text(created)).group(1)

    pms = ApiClient(app.test_client(), key_id, secret)
    response = pms.send_event(event(guests=[guest("Mei", "Chen")]))
    assert response.status_code == 200, response.json
    assert response.json["result"] == "applied"

    listing = text(desk.get(f"{STAFF}/api-keys"))
    assert key_id in listing and "Opera PMS" in listing
    assert secret not in listing  # shown once only

    revoked = post_form(desk, f"{STAFF}/api-keys", f"{STAFF}/api-keys/{key_id}/revoke?property=TEST")
    assert revoked.status_code == 302
    assert pms.send_event(event(reservation_id="R2")).status_code == 401
    assert "revoked" in text(desk.get(f"{STAFF}/api-keys"))


# --- CSRF on every form ------------------------------------------------------------------

def test_csrf_is_on_in_the_test_config(app):
    assert app.config.get("WTF_CSRF_ENABLED", True) is True


def test_every_post_to_staff_and_guest_pages_needs_a_csrf_token(app, desk, prop):
    stay = check_in_by_hand(prop, "1204", ("Mei", "Chen"))
    desk.post(f"{STAFF}/api-keys", data={"csrf_token": csrf_token(desk.get(f"{STAFF}/api-keys"))})
    key = session.scalar(select(ApiKey))
    before = community_state(prop), session.scalar(select(ApiKey.revoked_at))
    args = {"stay_id": stay.id, "key_id": key.key_id}
    data = {"username": USERNAME, "password": PASSWORD, "room": "1204", "last_name": "Chen",
            "visible": "on", "label": "x", **check_in_form("9", "2030-01-01", "2030-01-02",
                                                          ("Eve", "Forger"))}

    posts = [rule for rule in app.url_map.iter_rules()
             if "POST" in rule.methods and rule.endpoint.startswith(
                 ("hotel_community.guest.", "hotel_community.staff."))]
    assert len(posts) >= 10
    for rule in posts:
        url = rule.build(args, append_unknown=False)[1]
        no_token = desk.post(url, data=data)
        assert no_token.status_code == 400, rule.rule
        foreign = desk.post(url, data={**data, "csrf_token": csrf_token(
            app.test_client().get("/community/login"))})
        assert foreign.status_code == 400, rule.rule

    session.expire_all()
    assert (community_state(prop), session.scalar(select(ApiKey.revoked_at))) == before
    assert session.scalar(select(ApiKey.id).where(ApiKey.key_id != key.key_id)) is None
    assert desk.get(f"{STAFF}/").status_code == 200  # the logout was refused too
