"""Vendor webhooks: stored and answered at once, fetched and applied after, retried when the
PMS fails, never half-applied; ``pms-sync`` against the PMS's in-house list; property links."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from hotel_community.database import session, utcnow
from hotel_community.errors import NotFound, PmsError, PmsUnavailable, ValidationFailed
from hotel_community.models import (
    OrderStatus, PmsLink, PmsNotification, PmsNotificationStatus, StayStatus,
)
from hotel_community.services import checkin, orders, pms_inbox, pms_links, shop
from hotel_community.services.access import today_at
from hotel_community.services.checkin import GuestSnapshot, StaySnapshot
from tests.factories import check_in_by_hand, make_product, member_of, place, run_at_once
from tests.pms.memory import MemoryPMS, linked, registered

DELAY = timedelta(minutes=1)


@pytest.fixture
def app_config() -> dict:
    return {"HOTEL_COMMUNITY_PMS_PROCESS_AFTER_RESPONSE": False,
            "HOTEL_COMMUNITY_PMS_RETRY_DELAY": DELAY, "HOTEL_COMMUNITY_PMS_MAX_ATTEMPTS": 3}


@pytest.fixture
def pms(app) -> MemoryPMS:
    return registered(app, MemoryPMS())


@pytest.fixture
def url(prop, pms) -> str:
    return linked(prop, pms)


def stay_of(prop, reservation: str, status: StayStatus = StayStatus.in_house,
            room: str = "1204", *guests: tuple[str, str]) -> StaySnapshot:
    today = today_at(prop)
    return StaySnapshot(
        reservation_id=reservation, status=status, room=room, arrival=today - timedelta(days=1),
        departure=today + timedelta(days=2),
        guests=tuple(GuestSnapshot(first, last, pms_guest_id=f"G-{first}", primary=i == 0)
                     for i, (first, last) in enumerate(guests or [("Mei", "Chen")])))


def notifications() -> list[PmsNotification]:
    session.expire_all()
    return list(session.scalars(select(PmsNotification).order_by(PmsNotification.id)))


def in_stay_group(prop) -> list[str]:
    session.expire_all()
    return sorted(m.member.first_name for m in checkin.stay_group_members(prop))


# --------------------------------------------------------------------------- the webhook

def test_the_webhook_is_answered_before_the_pms_is_asked(client, prop, pms, url):
    pms.put(stay_of(prop, "R-1"))

    response = client.post(url, json={"reservations": ["R-1"]})

    assert response.status_code == 202
    assert response.json["received"] == 1
    assert pms.calls == [] and checkin.find_stay(prop, "R-1") is None
    assert pms_inbox.process_due().done == 1
    assert pms.calls == ["fetch R-1"]
    assert in_stay_group(prop) == ["Mei"]
    [note] = notifications()
    assert (note.status, note.result) == (PmsNotificationStatus.done, "R-1 applied")


def test_after_the_response_the_same_request_fetches_and_applies(app, client, prop, pms, url):
    app.config["HOTEL_COMMUNITY_PMS_PROCESS_AFTER_RESPONSE"] = True
    pms.put(stay_of(prop, "R-1"))

    response = client.post(url, json={"reservations": ["R-1"]}, buffered=True)

    assert response.status_code == 202
    assert pms.calls == ["fetch R-1"]
    assert in_stay_group(prop) == ["Mei"]


def test_repeated_and_batched_webhooks_cost_one_fetch(client, prop, pms, url):
    pms.put(stay_of(prop, "R-1"))
    for _ in range(3):
        assert client.post(url, json={"reservations": ["R-1", "R-1"]}).status_code == 202

    pms_inbox.process_due()

    assert pms.calls == ["fetch R-1"]
    [note] = notifications()
    assert (note.deliveries, note.version, note.status) == (3, 3, PmsNotificationStatus.done)


def test_a_webhook_arriving_during_the_fetch_makes_it_fetch_again(client, prop, pms, url):
    pms.put(stay_of(prop, "R-1", StayStatus.expected))
    client.post(url, json={"reservations": ["R-1"]})

    def checked_in_meanwhile() -> None:
        pms.on_fetch = None
        pms.put(stay_of(prop, "R-1"))
        client.post(url, json={"reservations": ["R-1"]})

    pms.on_fetch = checked_in_meanwhile
    counts = pms_inbox.process_due()

    assert pms.calls == ["fetch R-1", "fetch R-1"]
    assert counts.done == 1
    assert checkin.find_stay(prop, "R-1").status == StayStatus.in_house
    assert in_stay_group(prop) == ["Mei"]


@pytest.mark.parametrize("change", [
    lambda url: url.replace("token=", "token=wrong"),
    lambda url: url.replace("property=TEST", "property=TEST&token=x").split("&token=")[0],
])
def test_a_webhook_without_the_propertys_token_is_refused(client, prop, pms, url, change):
    response = client.post(change(url), json={"reservations": ["R-1"]})

    assert response.status_code == 401
    assert response.json["error"]["code"] == "authentication_failed"
    assert notifications() == []


def test_a_webhook_for_another_adapter_or_an_unlinked_property_is_refused(client, prop, pms, url):
    other = client.post(url.replace("/memorypms/", "/otherpms/"), json={"reservations": ["R-1"]})
    pms_links.unlink(prop)
    unlinked = client.post(url, json={"reservations": ["R-1"]})

    assert (other.status_code, unlinked.status_code) == (401, 401)
    assert notifications() == []


def test_a_body_the_adapter_does_not_understand_is_a_400(client, prop, pms, url):
    response = client.post(url, data="not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json["error"]["code"] == "malformed_request"
    assert notifications() == []


# --------------------------------------------------------------------------- retries

def test_a_pms_that_fails_leaves_the_notification_to_retry_and_nothing_applied(
        client, prop, pms, url):
    pms.put(stay_of(prop, "R-1"))
    client.post(url, json={"reservations": ["R-1"]})
    pms.down = 1

    counts = pms_inbox.process_due()

    assert (counts.done, counts.retried) == (0, 1)
    assert checkin.find_stay(prop, "R-1") is None
    [note] = notifications()
    assert note.status == PmsNotificationStatus.pending and note.attempts == 1
    assert "answered 500" in note.last_error
    assert note.next_attempt_at > utcnow() + DELAY - timedelta(seconds=5)
    assert pms_inbox.process_due().done == 0  # not due yet

    assert pms_inbox.process_due(now=utcnow() + DELAY).done == 1
    assert in_stay_group(prop) == ["Mei"]


def test_after_max_attempts_it_is_failed_and_staff_can_retry_it(client, prop, pms, url):
    pms.put(stay_of(prop, "R-1"))
    client.post(url, json={"reservations": ["R-1"]})
    pms.down = 3
    later = utcnow()
    for attempt in range(3):
        pms_inbox.process_due(now=later)
        later += DELAY * 2 ** attempt

    [note] = notifications()
    assert (note.status, note.attempts) == (PmsNotificationStatus.failed, 3)
    assert pms_inbox.count_due(later) == 0

    again = pms_inbox.retry(prop, note.id)
    assert pms_inbox.process_due().done == 1
    assert again.id != note.id and in_stay_group(prop) == ["Mei"]


def test_two_workers_fetch_a_notification_once(app, client, prop, pms, url, postgresql_only):
    pms.put(stay_of(prop, "R-1"))
    client.post(url, json={"reservations": ["R-1"]})

    results = run_at_once(app, [pms_inbox.process_due, pms_inbox.process_due])

    assert sorted(r.done for r in results) == [0, 1]
    assert pms.calls == ["fetch R-1"]


# --------------------------------------------------------------------------- pms-sync

def test_sync_applies_the_in_house_list_and_asks_about_the_missing(prop, pms, url):
    pms.put(stay_of(prop, "R-1", StayStatus.in_house, "101", ("Ana", "Lima")))
    check_in_by_hand(prop, "102", ("Bo", "Wu"), reservation_id="R-2")  # reversed in the PMS
    check_in_by_hand(prop, "103", ("Cy", "Ho"), reservation_id="R-3")  # unknown to the PMS
    pms.put(stay_of(prop, "R-2", StayStatus.expected, "102", ("Bo", "Wu")))

    report = pms_inbox.sync(prop)

    assert report.results["applied"] == 3
    assert in_stay_group(prop) == ["Ana"]
    assert checkin.find_stay(prop, "R-2").status == StayStatus.expected
    assert checkin.find_stay(prop, "R-3").status == StayStatus.checked_out
    assert pms.calls == ["in_house", "fetch R-2", "fetch R-3"]
    link = pms_links.get_link(prop)
    assert link.synced_at is not None and "3 applied" in link.sync_summary


def test_a_sync_that_fails_midway_changes_nothing(prop, pms, url):
    check_in_by_hand(prop, "102", ("Bo", "Wu"), reservation_id="R-2")
    pms.put(stay_of(prop, "R-1", StayStatus.in_house, "101", ("Ana", "Lima")))
    pms.calls.clear()

    class Down(Exception):
        pass

    def fail() -> None:
        raise Down

    pms.on_fetch = fail  # the in-house list comes, the question about R-2 fails
    with pytest.raises(PmsError, match="could not read the answer"):
        pms_inbox.sync(prop)

    assert in_stay_group(prop) == ["Bo"]
    assert checkin.find_stay(prop, "R-1") is None


def test_sync_of_an_unlinked_property_says_so(prop):
    with pytest.raises(NotFound, match="not linked"):
        pms_inbox.sync(prop)


# --------------------------------------------------------------------------- links

def test_secrets_are_stored_encrypted_and_blank_keeps_them(prop, pms):
    pms_links.save_link(prop, pms.name, {"hotel_id": "H1", "api_token": "tok-secret-123"})
    raw = session.execute(text("SELECT settings, secrets_encrypted FROM hc_pms_link")).one()
    assert "tok-secret-123" not in str(raw) and "H1" in str(raw[0])
    token_before = pms_links.connection_for(prop)

    pms_links.save_link(prop, pms.name, {"hotel_id": "H2", "api_token": ""})

    adapter, connection = pms_links.connection_for(prop)
    assert connection.settings == {"hotel_id": "H2", "api_token": "tok-secret-123"}
    assert token_before is not None


def test_a_required_setting_left_out_is_refused_and_nothing_stored(prop, pms):
    with pytest.raises(ValidationFailed) as caught:
        pms_links.save_link(prop, pms.name, {"hotel_id": "H1"})

    assert caught.value.details == {"api_token": ["API token is required."]}
    assert session.scalar(select(PmsLink)) is None


def test_a_new_webhook_token_refuses_the_old_url(client, prop, pms, url):
    pms_links.rotate_webhook_token(prop)

    assert client.post(url, json={"reservations": []}).status_code == 401


def test_checking_the_connection_records_what_the_pms_said(prop, pms, url):
    pms.put(stay_of(prop, "R-1"))
    assert pms_links.check_connection(prop).check_ok is True
    assert pms_links.get_link(prop).check_message == "Connected. In house now: 1."

    pms.down = 1
    link = pms_links.check_connection(prop)
    assert (link.check_ok, link.check_message) == (False, "Memory PMS answered 500.")


# --------------------------------------------------------------------------- folio

def test_a_full_refund_voids_the_posted_charge(app, client, prop, pms, url):
    pms.put(stay_of(prop, "R-1"))
    client.post(url, json={"reservations": ["R-1"]})
    pms_inbox.process_due()
    member = member_of(checkin.find_stay(prop, "R-1"))
    wanted = orders.OrderRequest(quantity=1, delivery=shop.BRING_TO_ROOM, provider="room_charge")
    order = orders.place_order(place(make_product(prop)).code, member, wanted)
    assert order.status == OrderStatus.paid and len(pms.folio) == 1

    orders.refund(order.id, order.total, "staff:ana")

    [posted] = pms.folio.values()
    assert (posted["guests"], posted["in_transaction"]) == (["G-Mei"], False)
    assert list(pms.voids.values()) == [posted["id"]]
    assert len(pms.folio) == 1  # voided, not a second (negative) posting


def test_an_adapter_tripping_over_a_strange_body_still_answers_400(client, prop, pms, url):
    def trusting(request, connection):
        return [pms_inbox.Notification("reservation", request.get_json()["missing"])]

    pms.notifications_from_webhook = trusting
    response = client.post(url, json={"reservations": []})

    assert response.status_code == 400
    assert response.json["error"]["code"] == "malformed_request"


def test_an_adapter_surprised_by_the_answer_fails_the_check_readably(prop, pms, url):
    def surprised(connection):
        raise KeyError("Enterprise")

    pms.check_connection = surprised
    link = pms_links.check_connection(prop)

    assert link.check_ok is False
    assert link.check_message == "The Memory PMS adapter could not read the answer (KeyError)."


def test_no_database_transaction_is_held_while_the_pms_is_asked(client, prop, pms, url):
    pms.put(stay_of(prop, "R-1"))
    client.post(url, json={"reservations": ["R-1"]})
    held = []
    pms.on_fetch = lambda: held.append(session().in_transaction())

    pms_inbox.process_due()

    assert held == [False]
    assert in_stay_group(prop) == ["Mei"]


def test_a_changed_address_needs_the_secrets_again(prop):
    from hotel_community.plugins.cloudbeds import ADAPTER as cloudbeds

    saved = {"base_url": "https://api.cloudbeds.com", "api_key": "cbat_secret",
             "property_id": "123"}
    pms_links.save_link(prop, cloudbeds.name, saved)

    with pytest.raises(ValidationFailed) as caught:  # the saved key would go to this address
        pms_links.save_link(prop, cloudbeds.name, {**saved, "base_url": "https://evil.example",
                                                   "api_key": ""})
    assert caught.value.details == {"api_key": ["Enter the API key again: the address changed."]}
    pms_links.save_link(prop, cloudbeds.name, {**saved, "api_key": "", "property_id": "124"})
    assert pms_links.connection_for(prop)[1].settings["api_key"] == "cbat_secret"


def test_settings_that_cannot_be_decrypted_fail_readably(client, prop, pms, url, desk):
    pms.put(stay_of(prop, "R-1"))
    client.post(url, json={"reservations": ["R-1"]})
    session.execute(update(PmsLink).values(secrets_encrypted="gAAAAAnotvalid"))
    session.commit()

    webhook = client.post(url, json={"reservations": ["R-1"]})
    counts = pms_inbox.process_due()
    page = desk.get("/community/staff/pms?property=TEST")

    assert webhook.status_code == 502 and webhook.json["error"]["code"] == "pms_error"
    assert counts.retried == 1 and "cannot be read" in notifications()[0].last_error
    assert page.status_code == 200 and b"cannot be read" in page.data
    pms_links.save_link(prop, pms.name, {"hotel_id": "H1", "api_token": "new"})
    assert pms_links.connection_for(prop)[1].settings["api_token"] == "new"


def test_a_new_delivery_brings_a_waiting_retry_forward(client, prop, pms, url):
    pms.put(stay_of(prop, "R-1"))
    client.post(url, json={"reservations": ["R-1"]})
    pms.down = 1
    pms_inbox.process_due()
    assert pms_inbox.count_due() == 0  # waiting out its delay

    client.post(url, json={"reservations": ["R-1"]})

    assert pms_inbox.process_due().done == 1
    assert in_stay_group(prop) == ["Mei"]


def test_a_long_run_takes_its_leases_from_the_clock(client, prop, pms, url):
    pms.put(stay_of(prop, "R-1"))
    client.post(url, json={"reservations": ["R-1"]})
    leases = []
    pms.on_fetch = lambda: leases.append(session.scalar(select(PmsNotification.claimed_until)))
    started_long_ago = utcnow() - timedelta(minutes=30)
    session.execute(update(PmsNotification).values(next_attempt_at=started_long_ago))
    session.commit()

    pms_inbox.process_due(now=started_long_ago)

    assert leases and leases[0] > utcnow()


def test_a_stay_the_pms_cannot_answer_about_is_left_and_the_rest_synced(prop, pms, url):
    check_in_by_hand(prop, "102", ("Bo", "Wu"), reservation_id="R-2")
    pms.put(stay_of(prop, "R-1", StayStatus.in_house, "101", ("Ana", "Lima")))

    def unavailable() -> None:
        raise PmsUnavailable("Memory PMS answered 500.")

    pms.on_fetch = unavailable  # the in-house list comes, the question about R-2 fails

    report = pms_inbox.sync(prop)

    assert report.results["applied"] == 1
    assert in_stay_group(prop) == ["Ana", "Bo"]
    assert checkin.find_stay(prop, "R-2").status == StayStatus.in_house
