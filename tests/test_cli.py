"""``flask community ...``: properties, API keys, staff, reconcile, migrations, plugins."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hotel_community import migrations
from hotel_community.database import session
from hotel_community.models import PmsEvent
from hotel_community.services import checkin
from hotel_community.services.properties import get_property, groups_by_kind
from hotel_community.services.staff import authenticate_staff
from tests.factories import ApiClient, community_state, event, guest, load_event


def community(runner, *args: str, input: str | None = None, ok: bool = True):
    result = runner.invoke(args=["community", *args], input=input)
    if ok:
        assert result.exit_code == 0, (result.output, result.exception)
    return result


def test_property_create_makes_a_property_with_its_two_groups(runner):
    result = community(runner, "property", "create", "--code", "SHA01", "--name", "Bund Hotel",
                       "--timezone", "Asia/Shanghai", "--currency", "cny")

    assert "Created property SHA01 (Bund Hotel)." in result.output
    prop = get_property("SHA01")
    assert (prop.timezone, prop.currency) == ("Asia/Shanghai", "CNY")
    assert sorted(kind.value for kind in groups_by_kind(prop)) == ["alumni", "stay"]
    listed = community(runner, "property", "list").output
    assert "SHA01\tBund Hotel\tAsia/Shanghai\tCNY" in listed


@pytest.mark.parametrize("args, message", [
    (["--code", "TEST", "--name", "Again"], "already exists"),
    (["--code", "NEW", "--name", "New", "--timezone", "Mars/Olympus"], "Unknown time zone"),
])
def test_property_create_refuses_bad_input_with_a_message(runner, prop, args, message):
    result = community(runner, "property", "create", *args, ok=False)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def _created_key(output: str) -> tuple[str, str]:
    key_id = re.search(r"^key id: (hck_\w+)$", output, re.M)
    secret = re.search(r"^secret: (hcs_[\w-]+)$", output, re.M)
    assert key_id and secret, output
    return key_id.group(1), secret.group(1)


def test_api_key_create_prints_a_key_that_authenticates_requests(runner, client, prop):
    key_id, secret = _created_key(
        community(runner, "api-key", "create", "--property", "TEST", "--label", "Opera").output)
    pms = ApiClient(client, key_id, secret)

    response = pms.send_event(event(guests=[guest("Mei", "Chen")]))
    assert response.status_code == 200, response.json
    members = pms.get("/properties/TEST/stay-group/members")
    assert [m["display_name"] for m in members.json["members"]] == ["Mei C."]


def test_api_key_revoke_stops_the_key(runner, client, prop):
    key_id, secret = _created_key(community(runner, "api-key", "create", "--property", "TEST").output)
    result = community(runner, "api-key", "revoke", "--property", "TEST", key_id)
    assert f"Revoked {key_id}." in result.output

    response = ApiClient(client, key_id, secret).send_event(event())
    assert response.status_code == 401
    assert session.scalar(select(func.count()).select_from(PmsEvent)) == 0
    again = community(runner, "api-key", "revoke", "--property", "TEST", key_id, ok=False)
    assert again.exit_code == 1 and "No active API key" in again.output


def test_api_key_create_for_an_unknown_property_fails_cleanly(runner):
    result = community(runner, "api-key", "create", "--property", "NOPE", ok=False)
    assert result.exit_code == 1 and "No property with code 'NOPE'" in result.output


def test_staff_create_prompts_for_the_password(runner, app):
    result = community(runner, "staff", "create", "desk", "--name", "Front Desk",
                       input="correct horse\ncorrect horse\n")

    assert "Created staff user desk." in result.output
    assert "correct horse" not in result.output.replace("Password:", "")
    user = authenticate_staff("desk", "correct horse")
    assert user is not None and user.name == "Front Desk"
    assert authenticate_staff("desk", "wrong password") is None


def test_staff_create_refuses_a_short_password(runner):
    result = community(runner, "staff", "create", "desk", input="short\nshort\n", ok=False)
    assert result.exit_code == 1 and "at least 8 characters" in result.output
    assert authenticate_staff("desk", "short") is None


def _in_house_file(tmp_path: Path, generated_at: str, *stays: dict) -> Path:
    path = tmp_path / f"in-house-{len(list(tmp_path.iterdir()))}.json"
    path.write_text(json.dumps({"generated_at": generated_at, "stays": list(stays)}))
    return path


def test_pms_reconcile_brings_the_stays_in_line_and_is_idempotent(runner, prop, tmp_path):
    for payload in [event(reservation_id="R1", room="1204", guests=[guest("Mei", "Chen")], minute=0),
                    event(reservation_id="R2", room="0801", guests=[guest("Wei", "Li")], minute=1)]:
        checkin.apply_event(prop, load_event(payload))
    listed = [event(reservation_id="R2", room="0801", guests=[guest("Wei", "Li")])["stay"],
              event(reservation_id="R3", room="1510", guests=[guest("Tom", "Berg")])["stay"]]
    path = _in_house_file(tmp_path, "2026-11-21T06:00:00+00:00", *listed)

    first = community(runner, "pms-reconcile", "--property", "TEST", str(path))
    assert "Reconciled 3 stays: 3 applied." in first.output
    expected = {"stays": {"R1": ("checked_out", "1204", ("Mei Chen",)),
                          "R2": ("in_house", "0801", ("Wei Li",)),
                          "R3": ("in_house", "1510", ("Tom Berg",))},
                "stay_group": ["Tom Berg", "Wei Li"], "alumni": ["Mei Chen"], "members": 3}
    assert community_state(prop) == expected
    inbox_rows = session.scalar(select(func.count()).select_from(PmsEvent))

    second = community(runner, "pms-reconcile", "--property", "TEST", str(path))
    assert "Reconciled 2 stays: 2 duplicate." in second.output
    assert community_state(prop) == expected
    assert session.scalar(select(func.count()).select_from(PmsEvent)) == inbox_rows


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    (json.dumps({"generated_at": "2026-11-21T06:00:00+00:00",
                 "stays": [{"reservation_id": "R1", "status": "sleeping"}]}), "status"),
])
def test_pms_reconcile_refuses_a_bad_file_with_a_message(runner, prop, tmp_path, content, message):
    checkin.apply_event(prop, load_event(event(reservation_id="R1", guests=[guest("Mei", "Chen")])))
    path = tmp_path / "bad.json"
    path.write_text(content)

    result = community(runner, "pms-reconcile", "--property", "TEST", str(path), ok=False)
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert community_state(prop)["stay_group"] == ["Mei Chen"], "nothing changed"


def test_db_current_names_the_head_revision(runner):
    head = migrations.head_revision()
    assert community(runner, "db", "current").output.strip() == f"current: {head}  head: {head}"


def test_plugins_lists_the_built_in_pay_at_desk(runner):
    output = community(runner, "plugins").output
    plugins_line = next(line for line in output.splitlines() if line.startswith("plugins:"))
    assert "pay_at_desk" in plugins_line
    assert "payment providers:" in output
