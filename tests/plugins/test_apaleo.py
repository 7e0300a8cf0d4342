"""The Apaleo adapter against a fake Apaleo: webhooks through the real route and the inbox,
in-house sync, connection check, and room charges on the guest folio exactly once."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from hotel_community.database import session, utcnow
from hotel_community.hookspecs import Notification
from hotel_community.models import PmsNotification, PmsNotificationStatus, RoomChargeStatus
from hotel_community.plugins import apaleo
from hotel_community.services import checkin, orders, pms_inbox, pms_links, room_charges
from hotel_community.services.access import today_at
from tests.factories import community_state, make_product, member_of, place
from tests.pms.apaleo_fake import CLIENT_ID, CLIENT_SECRET, ApaleoFake, guest
from tests.pms.memory import linked
from tests.pms.server import vendor_fixtures
from tests.services.test_room_charges import charge_to_room, charges_of

DELAY = timedelta(minutes=1)
MEI = guest("Mei", "Chen", email="mei@example.com", language="zh")
WEI = guest("Wei", "Li")


app_config, server, fake = vendor_fixtures(ApaleoFake)


def link(prop, fake: ApaleoFake, **settings: str) -> str:
    """Link ``prop`` to the fake Apaleo; the webhook's path and query."""
    values = {"base_url": fake.url, "identity_url": fake.url, "client_id": CLIENT_ID,
              "client_secret": CLIENT_SECRET, "property_id": "TEST", "webhook_username": "",
              "webhook_password": "", "service_type": "Other", "vat_type": "Normal"}
    return linked(prop, apaleo.ADAPTER, **{**values, **settings})


@pytest.fixture
def url(app, prop, fake) -> str:
    return link(prop, fake)


def deliver(client, url: str, fake: ApaleoFake, reservation_id: str, type_: str) -> None:
    response = client.post(url, json=fake.webhook_body(reservation_id, type_))
    assert response.status_code == 202, response.json


def notifications() -> list[PmsNotification]:
    session.expire_all()
    return list(session.scalars(select(PmsNotification).order_by(PmsNotification.id)))


def api_paths(fake: ApaleoFake) -> list[str]:
    """What the adapter asked the API (token requests left out: they are cached)."""
    return [path for path in fake.paths() if path != "/connect/token"]


def checked_in(client, url: str, fake: ApaleoFake, reservation_id: str = "ABCD-1",
               *guests: dict, room: str = "1204") -> None:
    fake.book(reservation_id, *(guests or (MEI,)))
    fake.check_in(reservation_id, room)
    deliver(client, url, fake, reservation_id, "checked-in")
    assert pms_inbox.process_due().done == 1


# --------------------------------------------------------------------------- stays

def test_a_check_in_webhook_puts_the_guest_in_the_stay_group(client, prop, fake, url):
    fake.book("ABCD-1", MEI)
    fake.check_in("ABCD-1", "1204")

    deliver(client, url, fake, "ABCD-1", "checked-in")
    assert api_paths(fake) == []  # the webhook is answered without asking Apaleo
    assert pms_inbox.process_due().done == 1

    assert api_paths(fake) == ["/booking/v1/reservations/ABCD-1"]
    assert community_state(prop)["stays"] == {"ABCD-1": ("in_house", "1204", ("Mei Chen",))}
    assert community_state(prop)["stay_group"] == ["Mei Chen"]
    stay = checkin.find_stay(prop, "ABCD-1")
    today = today_at(prop)
    assert (stay.arrival, stay.departure) == (today - timedelta(days=1), today + timedelta(days=2))
    member = member_of(stay)
    assert (member.email, member.language) == ("mei@example.com", "zh")
    assert stay.guests[0].pms_guest_id is None and stay.guests[0].is_primary


def test_repeated_and_late_webhooks_leave_the_state_apaleo_has(client, prop, fake, url):
    fake.book("ABCD-1", MEI)
    fake.check_in("ABCD-1")
    deliver(client, url, fake, "ABCD-1", "checked-in")
    deliver(client, url, fake, "ABCD-1", "checked-in")
    pms_inbox.process_due()
    assert api_paths(fake) == ["/booking/v1/reservations/ABCD-1"]  # one fetch for both

    fake.check_out("ABCD-1")
    deliver(client, url, fake, "ABCD-1", "checked-out")
    pms_inbox.process_due()
    deliver(client, url, fake, "ABCD-1", "checked-in")  # late, after the check-out
    pms_inbox.process_due()

    state = community_state(prop)
    assert state["stays"]["ABCD-1"][0] == "checked_out"
    assert (state["stay_group"], state["alumni"]) == ([], ["Mei Chen"])


def test_a_room_move_changes_the_room_and_keeps_the_member(client, prop, fake, url):
    checked_in(client, url, fake)
    fake.move("ABCD-1", "1502")

    deliver(client, url, fake, "ABCD-1", "unit-assigned")
    pms_inbox.process_due()

    assert checkin.find_stay(prop, "ABCD-1").room == "1502"
    assert community_state(prop)["stay_group"] == ["Mei Chen"]


def test_a_shared_reservation_puts_both_guests_in_the_group_one_primary(client, prop, fake, url):
    checked_in(client, url, fake, "ABCD-1", MEI, WEI)

    assert community_state(prop)["stay_group"] == ["Mei Chen", "Wei Li"]
    stay = checkin.find_stay(prop, "ABCD-1")
    assert sorted((g.member.first_name, g.is_primary) for g in stay.guests) == [
        ("Mei", True), ("Wei", False)]


def test_a_reversed_check_in_takes_the_guest_out_of_the_group(client, prop, fake, url):
    checked_in(client, url, fake)
    fake.reverse_check_in("ABCD-1")

    deliver(client, url, fake, "ABCD-1", "amended")
    pms_inbox.process_due()

    assert checkin.find_stay(prop, "ABCD-1").status.value == "expected"
    assert community_state(prop)["stay_group"] == []


@pytest.mark.parametrize("action, type_, status", [
    ("cancel", "canceled", "cancelled"), ("no_show", "set-to-no-show", "no_show")])
def test_a_cancelled_or_no_show_reservation_is_in_no_group(client, prop, fake, url, action,
                                                           type_, status):
    fake.book("ABCD-1", MEI)
    deliver(client, url, fake, "ABCD-1", "created")
    pms_inbox.process_due()
    getattr(fake, action)("ABCD-1")

    deliver(client, url, fake, "ABCD-1", type_)
    pms_inbox.process_due()

    state = community_state(prop)
    assert state["stays"]["ABCD-1"][0] == status
    assert (state["stay_group"], state["alumni"]) == ([], [])


def test_apaleo_slow_or_failing_leaves_the_notification_to_retry(client, prop, fake, url):
    fake.book("ABCD-1", MEI)
    fake.check_in("ABCD-1")
    deliver(client, url, fake, "ABCD-1", "checked-in")

    fake.slow_next(seconds=1.5)
    assert pms_inbox.process_due().retried == 1
    [note] = notifications()
    assert (note.status, note.attempts) == (PmsNotificationStatus.pending, 1)
    assert "did not answer" in note.last_error

    fake.fail_next()
    assert pms_inbox.process_due(now=utcnow() + DELAY).retried == 1
    [note] = notifications()
    assert (note.status, note.attempts) == (PmsNotificationStatus.pending, 2)
    assert "answered 500" in note.last_error
    assert checkin.find_stay(prop, "ABCD-1") is None  # nothing applied

    assert pms_inbox.process_due(now=utcnow() + 3 * DELAY).done == 1
    assert community_state(prop)["stay_group"] == ["Mei Chen"]


def test_an_unknown_reservation_or_one_at_another_property_is_nothing_to_apply(
        client, prop, fake, url):
    fake.book("ELSE-1", MEI, status="InHouse", unit="1204", property_id="OTHER")
    deliver(client, url, fake, "ELSE-1", "checked-in")
    deliver(client, url, fake, "GONE-1", "deleted")

    assert pms_inbox.process_due().done == 2

    assert [note.result for note in notifications()] == ["Nothing to apply."] * 2
    assert community_state(prop)["stays"] == {}


def test_dates_are_the_propertys_local_dates(app, prop, fake, url):
    fake.book("ABCD-1", MEI, status="InHouse", unit="1204")
    fake.reservations["ABCD-1"].update(arrival="2024-05-01T17:00:00Z",
                                       departure="2024-05-03T02:00:00+00:00")
    adapter, connection = pms_links.connection_for(prop)

    [snapshot] = adapter.fetch_stays(connection, Notification("reservation", "ABCD-1"))

    # 01:00 and 10:00 the next day in Shanghai
    assert (snapshot.arrival, snapshot.departure) == (date(2024, 5, 2), date(2024, 5, 3))


# --------------------------------------------------------------------------- webhook checks

def test_a_webhook_for_another_apaleo_property_is_refused(client, prop, fake, url):
    body = fake.webhook_body("ABCD-1", "checked-in", property_id="OTHER")

    response = client.post(url, json=body)

    assert response.status_code == 401
    assert response.json["error"]["code"] == "authentication_failed"
    assert notifications() == []


def test_a_webhook_without_the_subscriptions_basic_auth_is_refused(client, prop, fake):
    url = link(prop, fake, webhook_username="apaleo", webhook_password="s3cret")
    body = fake.webhook_body("ABCD-1", "checked-in")

    missing = client.post(url, json=body)
    wrong = client.post(url, json=body, auth=("apaleo", "guess"))
    right = client.post(url, json=body, auth=("apaleo", "s3cret"))

    assert (missing.status_code, wrong.status_code, right.status_code) == (401, 401, 202)
    assert len(notifications()) == 1


def test_other_topics_and_the_health_check_are_acknowledged_and_ignored(client, prop, fake, url):
    folio = client.post(url, json=fake.webhook_body("ABCD-1-1", "created", topic="Folio"))
    health = client.post(url, json={"id": "56eca994", "topic": "system", "type": "healthcheck",
                                    "accountId": "TEST", "propertyIds": ["TEST", "BER"],
                                    "timestamp": 1655824163606})
    malformed = client.post(url, json={"topic": "Reservation", "type": "created",
                                       "propertyId": "TEST", "data": {}})

    assert (folio.status_code, folio.json["received"]) == (202, 0)
    assert (health.status_code, health.json["received"]) == (202, 0)
    assert malformed.status_code == 400
    assert notifications() == []


# --------------------------------------------------------------------------- sync, connection

def test_sync_follows_the_pages_of_in_house_reservations(client, prop, fake, url, monkeypatch):
    checked_in(client, url, fake, "GONE-1", WEI)
    fake.check_out("GONE-1")  # no webhook: sync finds it
    for number, (reservation_id, first) in enumerate([("ABCD-1", "Mei"), ("EFGH-1", "Yan")]):
        fake.book(reservation_id, guest(first, "Chen"))
        fake.check_in(reservation_id, f"120{number}")
    monkeypatch.setattr(apaleo, "PAGE_SIZE", 1)
    fake.requests.clear()

    pms_inbox.sync(prop)

    pages = [entry["args"]["pageNumber"] for entry in fake.requests
             if entry["path"] == "/booking/v1/reservations"]
    assert pages == [["1"], ["2"]]
    state = community_state(prop)
    assert state["stay_group"] == ["Mei Chen", "Yan Chen"]
    assert (state["stays"]["GONE-1"][0], state["alumni"]) == ("checked_out", ["Wei Li"])


def test_check_connection_names_the_hotel_and_who_is_in_house(client, prop, fake, url):
    checked_in(client, url, fake)

    link_row = pms_links.check_connection(prop)

    assert (link_row.check_ok, link_row.check_message) == (
        True, "Connected to Test Hotel: 1 in house.")


def test_check_connection_with_a_wrong_secret_says_what_apaleo_said(app, prop, fake):
    link(prop, fake, client_secret="wrong")

    link_row = pms_links.check_connection(prop)

    assert link_row.check_ok is False
    assert "invalid_client" in link_row.check_message


def test_the_token_is_cached_and_renewed_when_apaleo_revokes_it(app, prop, fake, url):
    pms_links.check_connection(prop)
    pms_links.check_connection(prop)
    assert fake.paths().count("/connect/token") <= 1

    fake.revoke_tokens()
    fake.requests.clear()
    assert pms_links.check_connection(prop).check_ok is True
    assert fake.paths() == ["/inventory/v1/properties/TEST", "/connect/token",
                            "/inventory/v1/properties/TEST", "/booking/v1/reservations"]


# --------------------------------------------------------------------------- folio

def test_a_room_charge_is_posted_once_even_when_the_answer_is_lost(client, prop, fake, url):
    checked_in(client, url, fake)
    member = member_of(checkin.find_stay(prop, "ABCD-1"))
    fake.lose_next_posting()

    order = charge_to_room(place(make_product(prop, price=12999)), member, quantity=2)
    [charge] = charges_of(order)
    assert (charge.status, charge.attempts) == (RoomChargeStatus.pending, 1)
    assert room_charges.post_due(now=utcnow() + DELAY).posted == 1

    folio = fake.folio_of("ABCD-1")
    [posting] = folio["charges"]
    assert (posting["amount"]["grossAmount"], posting["amount"]["currency"]) == (259.98, "CNY")
    assert (posting["name"], posting["receipt"]) == ("2 x Silk pillow", charge.idempotency_key)
    [charge] = charges_of(order)
    assert (charge.status, charge.pms_charge_id) == (
        RoomChargeStatus.posted, f"{folio['id']}/{posting['id']}")
    posts = [e for e in fake.requests if e["method"] == "POST" and "/finance/" in e["path"]]
    assert [e["headers"]["Idempotency-Key"] for e in posts] == [charge.idempotency_key] * 2


def test_a_full_refund_voids_the_charge_with_an_allowance_for_it(client, prop, fake, url):
    checked_in(client, url, fake)
    order = charge_to_room(place(make_product(prop, price=12999)),
                           member_of(checkin.find_stay(prop, "ABCD-1")))

    orders.refund(order.id, order.total, "staff:ana")

    folio = fake.folio_of("ABCD-1")
    [posting] = folio["charges"]
    [allowance] = folio["allowances"]
    assert (allowance["sourceChargeId"], allowance["amount"]["grossAmount"]) == (
        posting["id"], 129.99)
    assert fake.unallowed(folio, posting) == 0
    assert [(c.amount, c.status) for c in charges_of(order)] == [
        (12999, RoomChargeStatus.posted), (-12999, RoomChargeStatus.posted)]


def test_a_part_refund_is_an_allowance_on_the_folio(client, prop, fake, url):
    checked_in(client, url, fake)
    order = charge_to_room(place(make_product(prop, price=12999)),
                           member_of(checkin.find_stay(prop, "ABCD-1")))

    orders.refund(order.id, 2999, "staff:ana")

    [allowance] = fake.folio_of("ABCD-1")["allowances"]
    assert (allowance["amount"]["grossAmount"], allowance["reason"]) == (
        29.99, "Refund: 1 x Silk pillow")
    assert "sourceChargeId" not in allowance
    assert charges_of(order)[1].status == RoomChargeStatus.posted
