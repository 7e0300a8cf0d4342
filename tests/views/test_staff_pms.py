"""The staff PMS page: link a property (secrets never shown again), test the connection, the
webhook URL and a new one, sync now, unlink, and the inbox of notifications with retry."""
from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select, update

from hotel_community.database import session, transaction
from hotel_community.models import PmsLink, PmsNotification, PmsNotificationStatus, StayStatus
from hotel_community.services import checkin, pms_inbox, pms_links
from tests.factories import csrf_token
from tests.pms.memory import MemoryPMS, linked, registered
from tests.services.test_pms_inbox import in_stay_group, stay_of
from tests.views.test_staff import text

PAGE = "/community/staff/pms"
SECRET = "tok-very-secret-123"


@pytest.fixture
def app_config() -> dict:
    return {"HOTEL_COMMUNITY_PMS_PROCESS_AFTER_RESPONSE": False,
            "HOTEL_COMMUNITY_PMS_MAX_ATTEMPTS": 1}


@pytest.fixture
def pms(app) -> MemoryPMS:
    return registered(app, MemoryPMS())


def post(client, action: str, data: dict | None = None, follow: bool = True):
    """Submit a form of the page with its CSRF token, as the browser does."""
    token = csrf_token(client.get(PAGE))
    return client.post(f"{PAGE}{action}", data={"csrf_token": token, **(data or {})},
                       follow_redirects=follow)


def link_form(hotel_id: str = "H-1", api_token: str = SECRET) -> dict:
    return {"adapter": "memorypms", "setting-hotel_id": hotel_id, "setting-api_token": api_token}


def setting_block(page, name: str) -> str:
    return re.search(rf'<div data-setting="{name}">(.*?)</div>\s*(?=<div data-setting|<p>)',
                     text(page), re.S).group(1)


def webhook_path(page) -> str:
    url = html.unescape(re.search(r'value="([^"]*)" data-webhook-url', text(page)).group(1))
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def the_link() -> PmsLink | None:
    session.expire_all()
    return session.scalar(select(PmsLink))


def test_strangers_are_sent_to_sign_in(app, client, prop, pms):
    response = client.get(PAGE)

    assert response.status_code == 302
    assert "/staff/login" in response.headers["Location"]


def test_linking_stores_the_settings_and_never_shows_the_secret_again(app, desk, prop, pms):
    start = text(desk.get(PAGE))
    assert "data-not-linked" in start and '<option value="memorypms"' in start
    chosen = desk.get(f"{PAGE}?adapter=memorypms")
    assert 'type="text" id="setting-hotel_id"' in text(chosen)
    assert 'type="password" id="setting-api_token"' in text(chosen)

    linked_page = post(desk, "/link", link_form())

    shown = text(linked_page)
    assert "Saved the link to Memory PMS." in shown and "Linked to Memory PMS" in shown
    assert 'value="H-1"' in setting_block(linked_page, "hotel_id")
    assert "Leave it blank to keep it" in setting_block(linked_page, "api_token")
    assert SECRET not in shown
    stored = the_link()
    assert (stored.adapter, stored.settings) == ("memorypms", {"hotel_id": "H-1"})
    assert SECRET not in stored.secrets_encrypted
    # A secret left blank keeps the saved one.
    assert "Saved the link" in text(post(desk, "/link", link_form("H-2", api_token="")))
    adapter, connection = pms_links.connection_for(prop)
    assert dict(connection.settings) == {"hotel_id": "H-2", "api_token": SECRET}


def test_a_missing_setting_is_shown_next_to_its_field_and_nothing_is_stored(app, desk, prop, pms):
    response = post(desk, "/link", link_form(hotel_id="H-9", api_token=""))

    assert response.status_code == 422
    assert "Some settings are missing." in text(response)
    assert "API token is required." in setting_block(response, "api_token")
    assert 'value="H-9"' in setting_block(response, "hotel_id")  # what was typed is kept
    assert the_link() is None


def test_testing_the_connection_says_whether_it_works(app, desk, prop, pms):
    linked(prop, pms)

    works = text(post(desk, "/check"))
    assert "The connection works. Connected. In house now: 0." in works
    assert 'data-check="ok"' in works

    pms.down = 1
    failed = text(post(desk, "/check"))
    assert "The connection failed: Memory PMS answered 500." in failed
    assert 'data-check="failed"' in failed and the_link().check_ok is False


def test_the_webhook_url_works_until_a_new_one_is_made(app, desk, client, prop, pms):
    linked(prop, pms)
    old = webhook_path(desk.get(PAGE))
    assert client.post(old, json={"reservations": ["R-1"]}).status_code == 202

    rotated = post(desk, "/webhook-token")

    assert "The old URL no longer works." in text(rotated)
    new = webhook_path(rotated)
    assert new != old
    assert client.post(old, json={"reservations": ["R-1"]}).status_code == 401
    assert client.post(new, json={"reservations": ["R-1"]}).status_code == 202


def test_sync_now_applies_the_in_house_list_or_says_why_not(app, desk, prop, pms):
    linked(prop, pms)
    pms.put(stay_of(prop, "R-1"))

    synced = text(post(desk, "/sync"))

    assert "Synced with the PMS." in synced and "data-last-sync" in synced
    assert in_stay_group(prop) == ["Mei"]
    pms.put(stay_of(prop, "R-1", StayStatus.checked_out))
    pms.down = 1
    failed = post(desk, "/sync")
    assert failed.status_code == 200
    assert "Sync failed: Memory PMS answered 500." in text(failed)
    assert in_stay_group(prop) == ["Mei"]


def test_a_failed_notification_is_listed_and_retried(app, desk, client, prop, pms):
    url = linked(prop, pms)
    pms.put(stay_of(prop, "R-1"))
    client.post(url, json={"reservations": ["R-1"]})
    pms.down = 1
    assert pms_inbox.process_due().gave_up == 1
    page = text(desk.get(PAGE))
    [failed] = session.scalars(select(PmsNotification)).all()
    row = re.search(rf'<tr data-notification="{failed.id}">(.*?)</tr>', page, re.S).group(1)
    assert "R-1" in row and "failed" in row and "Memory PMS answered 500." in row
    assert "Retry" in row
    assert 'data-count="failed">1<' in page and "chart-pms-applied" in page

    app.config["HOTEL_COMMUNITY_PMS_PROCESS_AFTER_RESPONSE"] = True
    retried = post(desk, f"/notifications/{failed.id}/retry")

    assert "Fetching reservation R-1 from the PMS again." in text(retried)
    session.expire_all()
    statuses = [n.status for n in session.scalars(select(PmsNotification)
                                                  .order_by(PmsNotification.id))]
    assert statuses == [PmsNotificationStatus.failed, PmsNotificationStatus.done]
    assert in_stay_group(prop) == ["Mei"]
    assert 'data-count="done">1<' in text(desk.get(PAGE))


def test_unlinking_refuses_the_webhooks(app, desk, client, prop, pms):
    url = linked(prop, pms)

    unlinked = text(post(desk, "/unlink"))

    assert "no longer linked to a PMS" in unlinked and "data-not-linked" in unlinked
    assert the_link() is None
    assert client.post(url, json={"reservations": ["R-1"]}).status_code == 401


def test_every_post_needs_a_csrf_token(app, desk, prop, pms):
    url = linked(prop, pms)
    desk.post(url, json={"reservations": ["R-1"]})
    note = session.scalar(select(PmsNotification))
    token_before = the_link().secrets_encrypted
    posts = [rule for rule in app.url_map.iter_rules()
             if "POST" in rule.methods and rule.endpoint.startswith("hotel_community.staff_pms.")]
    assert len(posts) == 6

    for rule in posts:
        path = rule.build({"notification_id": note.id}, append_unknown=False)[1]
        assert desk.post(path, data=link_form("H-CSRF")).status_code == 400, rule.rule

    stored = the_link()
    assert stored.settings == {"hotel_id": "test-hotel_id"}
    assert stored.secrets_encrypted == token_before and stored.checked_at is None
    assert session.scalar(select(PmsNotification.id).where(PmsNotification.id != note.id)) is None


def test_what_staff_and_vendors_typed_is_escaped(app, desk, client, prop, pms):
    url = linked(prop, pms, hotel_id="<script>alert(1)</script>")
    client.post(url, json={"reservations": ["<b>R-1</b>"]})

    page = text(desk.get(PAGE))

    assert "<script>alert(1)" not in page and "<b>R-1</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;b&gt;R-1&lt;/b&gt;" in page


def test_showing_the_page_never_calls_the_pms(app, desk, prop, pms):
    """The PMS may be slow: only the buttons call it."""
    linked(prop, pms)
    pms.put(stay_of(prop, "R-1"))

    assert desk.get(PAGE).status_code == 200
    assert pms.calls == [] and checkin.find_stay(prop, "R-1") is None


def test_a_link_to_an_adapter_no_longer_installed_can_still_be_unlinked(app, desk, prop, pms):
    linked(prop, pms)
    with transaction():
        session.execute(update(PmsLink).values(adapter="gone"))

    page = text(desk.get(PAGE))

    assert "The gone adapter is no longer installed" in page and "data-webhook" not in page
    assert "no longer linked to a PMS" in text(post(desk, "/unlink"))
