"""The PMS API: signed requests in, JSON out, JSON errors, nothing stored on failure."""
from __future__ import annotations

import json
import time
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from hotel_community.database import session
from hotel_community.models import ApiKey, GuestIdentity, Member, Membership, PmsEvent, Stay
from hotel_community.services.api_keys import (
    KEY_HEADER, SIGNATURE_HEADER, create_api_key, revoke_api_key, sign,
)
from hotel_community.services.properties import create_property
from tests.factories import ApiClient, event, guest

PREFIX = "/community/api/v1"


def assert_error(response, status: int, code: str) -> dict[str, Any]:
    """The response is the API's JSON error with ``status`` and ``code``; returns its details."""
    assert response.status_code == status, (response.status_code, response.data)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)
    return body["error"]["details"]


def count(model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def assert_nothing_stored() -> None:
    for model in (PmsEvent, Stay, Member, Membership, GuestIdentity):
        assert count(model) == 0, model


# -- POST /pms/events -----------------------------------------------------------------

def test_a_signed_event_is_applied_and_answered(api):
    payload = event(guests=[guest("Mei", "Chen", "G-1", primary=True), guest("Wei", "Li", "G-2")],
                    room="1204", event_id="evt-1")
    response = api.send_event(payload)

    assert response.status_code == 200, response.json
    body = response.json
    assert set(body) == {"event", "result", "stay"}
    assert body["event"] == "evt-1" and body["result"] == "applied"
    stay = body["stay"]
    assert {k: stay[k] for k in ("property", "reservation_id", "status", "room", "arrival",
                                 "departure")} == {
        "property": "TEST", "reservation_id": "R1", "status": "in_house", "room": "1204",
        "arrival": "2026-11-20", "departure": "2026-11-23"}
    assert [(g["first_name"], g["last_name"], g["pms_guest_id"], g["primary"])
            for g in stay["guests"]] == [("Mei", "Chen", "G-1", True), ("Wei", "Li", "G-2", False)]
    stored = session.scalars(select(PmsEvent)).one()
    assert (stored.event_id, stored.result, stored.source, stored.deliveries) == (
        "evt-1", "applied", "api", 1)
    assert stored.payload == payload, "the inbox keeps the event as received"


def test_a_redelivered_event_is_a_duplicate_and_an_older_one_stale(api):
    assert api.send_event(event(event_id="evt-2", minute=10)).json["result"] == "applied"
    again = api.send_event(event(event_id="evt-2", minute=10))
    assert again.status_code == 200
    assert again.json["result"] == "duplicate"
    assert again.json["stay"]["reservation_id"] == "R1"

    older = api.send_event(event(event_id="evt-1", status="cancelled", minute=0))
    assert older.status_code == 200
    assert older.json["result"] == "stale"
    assert older.json["stay"]["status"] == "in_house"
    assert {row.event_id: (row.result, row.deliveries)
            for row in session.scalars(select(PmsEvent))} == {
        "evt-2": ("applied", 2), "evt-1": ("stale", 1)}


def _tampered(api: ApiClient, body: bytes) -> dict[str, str]:
    headers = api.headers(body)
    headers[SIGNATURE_HEADER] = headers[SIGNATURE_HEADER][:-4] + "0000"
    return headers


def _signed_by(secret: str):
    def headers(api: ApiClient, body: bytes) -> dict[str, str]:
        return {**api.headers(body), SIGNATURE_HEADER: sign(secret, body)}
    return headers


def _without(header: str):
    def headers(api: ApiClient, body: bytes) -> dict[str, str]:
        result = api.headers(body)
        del result[header]
        return result
    return headers


def _with(header: str, value: str):
    def headers(api: ApiClient, body: bytes) -> dict[str, str]:
        return {**api.headers(body), header: value}
    return headers


def _at(seconds_from_now: int):
    def headers(api: ApiClient, body: bytes) -> dict[str, str]:
        return api.headers(body, timestamp=int(time.time()) + seconds_from_now)
    return headers


def _other_body(api: ApiClient, body: bytes) -> dict[str, str]:
    return api.headers(body.replace(b"in_house", b"checked_out"))


BAD_CREDENTIALS = {
    "wrong signature": _tampered,
    "signed with another secret": _signed_by("hcs_not-the-secret"),
    "signature of another body": _other_body,
    "no key header": _without(KEY_HEADER),
    "no signature header": _without(SIGNATURE_HEADER),
    "unknown key id": _with(KEY_HEADER, "hck_nope"),
    "malformed signature": _with(SIGNATURE_HEADER, "sha256=abc"),
    "no timestamp": _with(SIGNATURE_HEADER, "v1=abc"),
    "two timestamps": _with(SIGNATURE_HEADER, "t=1,t=2,v1=abc"),
    "non-ASCII signature": _with(SIGNATURE_HEADER, f"t={int(time.time())},v1=\u00e9\u00e9"),
    "non-ASCII digit timestamp": _with(SIGNATURE_HEADER, "t=\u00b2,v1=abc"),
    "absurd timestamp": _with(SIGNATURE_HEADER, "t=" + "9" * 400 + ",v1=abc"),
    "timestamp 301 s old": _at(-301),
    "timestamp 301 s ahead": _at(301),
}


@pytest.mark.parametrize("make_headers", BAD_CREDENTIALS.values(), ids=BAD_CREDENTIALS.keys())
def test_bad_credentials_are_401_and_nothing_is_stored(api, client, make_headers):
    body = json.dumps(event()).encode()
    response = client.post(f"{PREFIX}/pms/events", data=body, headers=make_headers(api, body))

    assert_error(response, 401, "authentication_failed")
    assert_nothing_stored()


def test_a_timestamp_within_the_tolerance_is_accepted(api):
    response = api.post("/pms/events", event(), timestamp=int(time.time()) - 290)
    assert response.status_code == 200, response.json


def test_a_revoked_key_is_401_and_nothing_is_stored(api, prop):
    revoke_api_key(prop, api.key_id)
    assert_error(api.send_event(event()), 401, "authentication_failed")
    assert_nothing_stored()


def test_the_secret_is_not_stored_in_clear(api):
    stored = session.scalars(select(ApiKey)).one()
    assert api.secret not in stored.secret_encrypted
    assert stored.key_id == api.key_id


def test_a_key_of_one_property_cannot_post_for_another(api, client):
    other = create_property("SECOND", "Second Hotel")
    key, secret = create_api_key(other)
    theirs = ApiClient(client, key.key_id, secret)

    assert_error(theirs.send_event(event(prop="TEST")), 403, "forbidden")
    assert_error(api.send_event(event(prop="SECOND")), 403, "forbidden")
    assert_nothing_stored()


@pytest.mark.parametrize("body", [b"{not json", b"", b"\xff\xfe", b"[1, 2"],
                         ids=["broken", "empty", "not utf-8", "unterminated"])
def test_malformed_json_is_400(api, body):
    assert_error(api.post("/pms/events", body), 400, "malformed_request")
    assert_nothing_stored()


def test_a_body_that_is_not_json_content_is_400(api, client):
    body = json.dumps(event()).encode()
    headers = {**api.headers(body), "Content-Type": "text/plain"}
    assert_error(client.post(f"{PREFIX}/pms/events", data=body, headers=headers),
                 400, "malformed_request")


def _event_with(**stay_changes: Any) -> dict[str, Any]:
    payload = event()
    payload["stay"].update(stay_changes)
    return payload


def _without_fields(*names: str) -> dict[str, Any]:
    payload = event()
    for name in names:
        payload.pop(name)
    return payload


INVALID = {
    "departure before arrival": (_event_with(arrival="2026-11-20", departure="2026-11-19"),
                                 {"stay": {"departure"}}),
    "unknown status": (_event_with(status="sleeping"), {"stay": {"status"}}),
    "not a date": (_event_with(arrival="20/11/2026"), {"stay": {"arrival"}}),
    "unknown property": ({**event(), "property": "NOPE"}, {"property"}),
    "missing fields": (_without_fields("id", "occurred_at", "stay"), {"id", "occurred_at", "stay"}),
    "missing stay fields": ({**event(), "stay": {"status": "in_house"}},
                            {"stay": {"reservation_id", "arrival", "departure"}}),
    "time without zone": ({**event(), "occurred_at": "2026-11-20T12:00:00"}, {"occurred_at"}),
    "guest without a name": (_event_with(guests=[{"pms_guest_id": "G-1", "first_name": ""}]),
                             {"stay": {"guests"}}),
    "bad e-mail": (_event_with(guests=[guest(email="not-an-address")]), {"stay": {"guests"}}),
    "unknown field": ({**event(), "colour": "blue"}, {"colour"}),
    "not an object": (["an", "array"], {"_schema"}),
}


@pytest.mark.parametrize("payload, fields", INVALID.values(), ids=INVALID.keys())
def test_invalid_fields_are_422_naming_the_fields(api, payload, fields):
    details = assert_error(api.send_event(payload), 422, "validation_failed")

    for field in fields:
        if isinstance(field, dict):
            for parent, children in field.items():
                assert parent in details, details
                assert children <= set(details[parent]), details
        else:
            assert field in details, details
    assert_nothing_stored()


def test_a_guest_field_error_names_the_guest_and_the_field(api):
    details = assert_error(
        api.send_event(_event_with(guests=[guest(), {"pms_guest_id": "G-2", "first_name": "Wei"}])),
        422, "validation_failed")
    assert details["stay"]["guests"]["1"] == {"last_name": ["Missing data for required field."]}


@pytest.fixture
def failing_membership_inserts(app):
    """The database fails, as a real one would, when the event reaches hc_membership."""
    engine = app.extensions["sqlalchemy"].engine
    statements: list[str] = []

    def fail(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)
        if statement.lstrip().upper().startswith("INSERT INTO HC_MEMBERSHIP"):
            raise sa.exc.OperationalError(statement, parameters, Exception("server closed"))

    sa.event.listen(engine, "before_cursor_execute", fail)
    yield statements
    sa.event.remove(engine, "before_cursor_execute", fail)


def test_a_database_failure_mid_event_is_503_and_nothing_half_written(
        api, failing_membership_inserts):
    response = api.send_event(event(event_id="evt-1", guests=[guest("Mei", "Chen")]))

    assert_error(response, 503, "service_unavailable")
    # The event got as far as the memberships: the inbox, stay and member were written first.
    written = " ".join(failing_membership_inserts).upper()
    assert "INSERT INTO HC_PMS_EVENT" in written and "INSERT INTO HC_STAY" in written
    assert_nothing_stored()


def test_after_a_database_failure_the_retried_event_is_applied(api, app):
    engine = app.extensions["sqlalchemy"].engine

    def fail(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO HC_MEMBERSHIP"):
            raise sa.exc.OperationalError(statement, parameters, Exception("server closed"))

    payload = event(event_id="evt-1")
    sa.event.listen(engine, "before_cursor_execute", fail)
    try:
        assert api.send_event(payload).status_code == 503
    finally:
        sa.event.remove(engine, "before_cursor_execute", fail)
    retried = api.send_event(payload)
    assert retried.status_code == 200 and retried.json["result"] == "applied"


def test_a_check_in_a_move_and_a_check_out_cost_a_few_statements(api, app, backend):
    """The whole request, signature to answer; bench/checkin.py measures it under load."""
    engine = app.extensions["sqlalchemy"].engine
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement.split(None, 1)[0].upper())

    def cost(payload: dict[str, Any]) -> list[str]:
        statements.clear()
        sa.event.listen(engine, "before_cursor_execute", seen)
        try:
            response = api.send_event(payload)
        finally:
            sa.event.remove(engine, "before_cursor_execute", seen)
        assert response.status_code == 200 and response.json["result"] == "applied", response.json
        return list(statements)

    for number in range(3):  # other guests in house
        other = guest(f"Guest{number}", "Other", email=f"g{number}@example.com")
        api.send_event(event(reservation_id=f"R-{number}", room=f"080{number}", minute=number,
                             guests=[other]))
    guests = [guest("Mei", "Chen", "G-1", email="mei@example.com", primary=True),
              guest("Wei", "Li", "G-2", email="wei@example.com")]
    checked_in = cost(event(reservation_id="R1", room="1204", guests=guests, minute=10))
    moved = cost(event(reservation_id="R1", room="1510", guests=guests, minute=11))
    checked_out = cost(event(reservation_id="R1", room="1510", guests=guests, minute=12,
                             status="checked_out"))

    # New rows of a table go in one INSERT for both guests; SQLAlchemy cannot match the
    # rows of a multi-row INSERT ... RETURNING to their objects on SQLite: one INSERT each.
    second_guest = 0 if backend == "postgresql" else 1
    # Auth; inbox; stay lock, stay; members by PMS id, by e-mail; INSERT members, their
    # PMS ids, stay guests, memberships.
    assert len(checked_in) == 10 + 4 * second_guest, checked_in
    # Auth; inbox; stay lock, its guests; the stay. Memberships need no change.
    assert len(moved) == 5, moved
    # Auth; inbox; stay lock, its guests; the stay; the guests' stays and memberships;
    # stay group left (one UPDATE for both), alumni joined.
    assert len(checked_out) == 9 + second_guest, checked_out
    assert not {"SAVEPOINT", "RELEASE"} & set(checked_in + moved + checked_out)


# -- reads -------------------------------------------------------------------------------

def test_a_stay_can_be_read_back(api):
    api.send_event(event(reservation_id="R-77", room="0801", guests=[guest("Mei", "Chen", "G-1")],
                         event_id="evt-1"))
    response = api.get("/stays/R-77", property="TEST")

    assert response.status_code == 200, response.json
    body = response.json
    assert (body["reservation_id"], body["status"], body["room"], body["property"]) == (
        "R-77", "in_house", "0801", "TEST")
    assert [(g["first_name"], g["pms_guest_id"]) for g in body["guests"]] == [("Mei", "G-1")]
    assert isinstance(body["guests"][0]["member_id"], int)
    assert body["snapshot_at"] == "2026-11-20T12:00:00+00:00"  # factories.BASE_TIME, in UTC


def test_reading_a_stay_errors(api, client):
    api.send_event(event(reservation_id="R-77"))
    assert_error(api.get("/stays/R-404", property="TEST"), 404, "not_found")
    assert "property" in assert_error(api.get("/stays/R-77"), 422, "validation_failed")
    assert "property" in assert_error(api.get("/stays/R-77", property="NOPE"), 422,
                                      "validation_failed")
    create_property("SECOND", "Second Hotel")
    assert_error(api.get("/stays/R-77", property="SECOND"), 403, "forbidden")
    assert_error(client.get(f"{PREFIX}/stays/R-77?property=TEST"), 401, "authentication_failed")


def test_the_stay_group_members_are_listed(api):
    api.send_event(event(reservation_id="R1", guests=[guest("Mei", "Chen"), guest("Wei", "Li")],
                         minute=0))
    api.send_event(event(reservation_id="R2", guests=[guest("Ana", "Silva")], minute=1))
    api.send_event(event(reservation_id="R2", status="checked_out",
                         guests=[guest("Ana", "Silva")], minute=2))

    response = api.get("/properties/TEST/stay-group/members")
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["property"], body["group"]) == ("TEST", "stay")
    assert [(m["display_name"], m["role"]) for m in body["members"]] == [
        ("Mei C.", "guest"), ("Wei L.", "guest")]
    assert all(isinstance(m["member_id"], int) and m["joined_at"] for m in body["members"])


def test_the_stay_group_members_come_in_keyset_pages(api):
    for number in range(5):
        api.send_event(event(reservation_id=f"R{number}", room=str(1200 + number),
                             guests=[guest(f"Guest{number}", "Page")], minute=number))
    names, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2} if cursor is None else {"limit": 2, "after": cursor}
        body = api.get("/properties/TEST/stay-group/members", **params).json
        names += [m["display_name"] for m in body["members"]]
        pages += 1
        cursor = body["next"]
        if cursor is None:
            break
    assert names == [f"Guest{n} P." for n in range(5)]
    assert pages == 3
    assert "limit" in assert_error(
        api.get("/properties/TEST/stay-group/members", limit=0), 422, "validation_failed")


def test_the_stay_group_of_another_property_is_not_readable(api):
    create_property("SECOND", "Second Hotel")
    assert_error(api.get("/properties/SECOND/stay-group/members"), 403, "forbidden")
    assert "code" in assert_error(api.get("/properties/NOPE/stay-group/members"), 422,
                                  "validation_failed")


@pytest.mark.parametrize("method, path", [
    ("GET", "/nothing-here"), ("POST", "/pms/unknown"), ("DELETE", "/stays/R1"),
    ("GET", "/pms/events"), ("PUT", "/openapi.json"),
])
def test_unknown_api_routes_are_json_errors(api, client, method, path):
    response = client.open(f"{PREFIX}{path}", method=method, headers=api.headers(b""))
    assert response.status_code in (404, 405)
    assert_error(response, response.status_code, "not_found" if response.status_code == 404
                 else "method_not_allowed")


def test_an_unknown_route_is_404(client):
    assert_error(client.get(f"{PREFIX}/nothing-here"), 404, "not_found")


# -- the OpenAPI document ------------------------------------------------------------------

def test_the_openapi_document_is_valid_openapi_3_listing_the_api(client, app):
    from openapi_spec_validator import validate

    response = client.get(f"{PREFIX}/openapi.json")
    assert response.status_code == 200
    document = response.json
    validate(document)
    assert document["openapi"].startswith("3.")
    assert {f"{PREFIX}/pms/events", f"{PREFIX}/stays/{{reservation_id}}",
            f"{PREFIX}/properties/{{code}}/stay-group/members"} <= set(document["paths"])
    event_schema = document["components"]["schemas"]["PmsEvent"]
    assert {"id", "occurred_at", "property", "stay"} <= set(event_schema["required"])
    assert "401" in document["paths"][f"{PREFIX}/pms/events"]["post"]["responses"]


def test_the_openapi_document_follows_the_url_prefix(database_url):
    from openapi_spec_validator import validate

    from tests.conftest import make_app

    other = make_app(database_url, HOTEL_COMMUNITY_URL_PREFIX="/club")
    document = other.test_client().get("/club/api/v1/openapi.json").json
    validate(document)
    assert "/club/api/v1/pms/events" in document["paths"]


@pytest.mark.parametrize("provider", ["pay_at_desk", "no_such_provider"])
def test_a_payment_webhook_for_a_provider_without_one_is_a_json_404(client, prop, provider):
    response = client.post(f"/community/api/v1/payments/{provider}/webhook", data=b"{}",
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
