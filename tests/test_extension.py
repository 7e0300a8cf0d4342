"""The extension contract a host app relies on (issue 2, item 2).

``HotelCommunity(app)`` / ``init_app``, its settings, the URL prefix, the
database it uses, template overrides, plugins through entry points, and the
domain signals.
"""
from __future__ import annotations

import importlib.metadata
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from hotel_community import HotelCommunity, hookimpl, settings, signals
from hotel_community.extension import EXTENSION_KEY, state
from hotel_community.hookspecs import ENTRY_POINT_GROUP
from hotel_community.models import StayStatus
from hotel_community.plugin_manager import Plugins
from hotel_community.services import checkin, pms_inbox
from hotel_community.services.checkin import GuestSnapshot, StayEvent, StaySnapshot
from tests.conftest import HOST_APP_ROOT
from tests.factories import ApiClient, event, guest
from tests.pms.memory import MemoryPMS, linked

SQLITE_MEMORY = "sqlite://"


def bare_app(**config) -> Flask:
    """A host app with a database configured but no extension yet."""
    app = Flask("host_app", root_path=str(HOST_APP_ROOT))
    app.config.update({"SECRET_KEY": "s", "SQLALCHEMY_DATABASE_URI": SQLITE_MEMORY,
                       "HOTEL_COMMUNITY_SECRET_KEY": "community-secret", **config})
    return app


# --- HotelCommunity(app) and init_app ------------------------------------------------------------

def test_constructor_with_app_registers_the_extension():
    app = bare_app()
    community = HotelCommunity(app)
    assert state(app).extension is community
    assert app.extensions[EXTENSION_KEY] is state(app)
    assert "hotel_community.guest.login" in app.view_functions


def test_init_app_pattern_keeps_no_app_and_serves_several_apps():
    community = HotelCommunity()
    first, second = bare_app(), bare_app(HOTEL_COMMUNITY_URL_PREFIX="/hotel")
    community.init_app(first)
    community.init_app(second)
    # Flask's extension pattern: per-app state lives in app.extensions, never on the extension.
    assert not any(isinstance(value, Flask) for value in vars(community).values())
    assert state(first).extension is community and state(second).extension is community
    assert state(first) is not state(second)
    assert state(first).plugins is not state(second).plugins
    with first.test_request_context():
        from flask import url_for
        assert url_for("hotel_community.guest.login") == "/community/login"
    with second.test_request_context():
        from flask import url_for
        assert url_for("hotel_community.guest.login") == "/hotel/login"


def test_second_init_app_on_the_same_app_raises():
    app = bare_app()
    community = HotelCommunity(app)
    with pytest.raises(RuntimeError, match="already registered"):
        community.init_app(app)
    with pytest.raises(RuntimeError, match="already registered"):
        HotelCommunity(app)


def test_cli_group_is_registered():
    app = bare_app()
    HotelCommunity(app)
    result = app.test_cli_runner().invoke(args=["community", "--help"])
    assert result.exit_code == 0, result.output
    assert "db" in result.output


# --- settings ------------------------------------------------------------------------------------

def test_missing_secret_key_fails_at_start_up_with_a_clear_message():
    app = bare_app()
    del app.config["HOTEL_COMMUNITY_SECRET_KEY"]
    with pytest.raises(settings.ConfigurationError, match="HOTEL_COMMUNITY_SECRET_KEY") as info:
        HotelCommunity(app)
    assert "Missing required" in str(info.value)
    assert EXTENSION_KEY not in app.extensions


def test_empty_secret_key_counts_as_missing():
    with pytest.raises(settings.ConfigurationError, match="HOTEL_COMMUNITY_SECRET_KEY"):
        HotelCommunity(bare_app(HOTEL_COMMUNITY_SECRET_KEY=""))


def test_unknown_setting_is_named():
    app = bare_app(HOTEL_COMMUNITY_URL_PREFIXX="/hotel")
    with pytest.raises(settings.ConfigurationError) as info:
        HotelCommunity(app)
    message = str(info.value)
    assert "HOTEL_COMMUNITY_URL_PREFIXX" in message
    assert "Unknown" in message
    assert "HOTEL_COMMUNITY_URL_PREFIX," in message or "HOTEL_COMMUNITY_URL_PREFIX." in message


def test_url_prefix_must_start_with_a_slash():
    with pytest.raises(settings.ConfigurationError, match="HOTEL_COMMUNITY_URL_PREFIX"):
        HotelCommunity(bare_app(HOTEL_COMMUNITY_URL_PREFIX="hotel"))


def test_defaults_are_applied_and_host_values_kept():
    app = bare_app(HOTEL_COMMUNITY_PAGE_SIZE=20)
    HotelCommunity(app)
    for name, default in settings.DEFAULTS.items():
        if name not in ("SECRET_KEY", "PAGE_SIZE"):
            assert app.config[settings.PREFIX + name] == default, name
    assert app.config["HOTEL_COMMUNITY_URL_PREFIX"] == "/community"
    assert app.config["HOTEL_COMMUNITY_SIGNATURE_TOLERANCE"] == 300
    assert app.config["HOTEL_COMMUNITY_PAGE_SIZE"] == 20
    assert app.config["HOTEL_COMMUNITY_SECRET_KEY"] == "community-secret"
    with app.app_context():
        assert settings.config_value("PAGE_SIZE") == 20


def test_every_setting_is_documented():
    """Each setting's line in settings.py follows a ``#:`` comment (the README table's source)."""
    lines = open(settings.__file__, encoding="utf-8").read().splitlines()
    for name in settings.DEFAULTS:
        index = next(i for i, line in enumerate(lines) if line.startswith((f"{name} =", f"{name}:")))
        assert lines[index - 1].startswith("#:"), f"{name} has no #: comment"


def test_the_readme_settings_table_lists_every_setting():
    readme = (Path(settings.__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| `(HOTEL_COMMUNITY_[A-Z_]+)` \|", readme, re.M))
    assert rows == {settings.PREFIX + name for name in settings.DEFAULTS}


# --- URL prefix ----------------------------------------------------------------------------------

def test_every_route_is_under_the_default_prefix():
    app = bare_app()
    HotelCommunity(app)
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("hotel_community.")]
    assert {r.endpoint.split(".")[1] for r in rules} >= {"guest", "staff", "api"}
    assert all(r.rule.startswith("/community/") for r in rules), [r.rule for r in rules]


@pytest.mark.parametrize("app_config", [{"HOTEL_COMMUNITY_URL_PREFIX": "/hotel/club"}])
def test_url_prefix_moves_every_route(app, client, prop):
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("hotel_community.")]
    assert all(r.rule.startswith("/hotel/club/") for r in rules), [r.rule for r in rules]

    assert client.get("/hotel/club/login").status_code == 200
    assert client.get("/hotel/club/staff/login").status_code == 200
    assert client.get("/hotel/club/api/v1/openapi.json").status_code == 200
    for old in ("/community/login", "/community/staff/login", "/community/api/v1/openapi.json"):
        assert client.get(old).status_code == 404, old

    from hotel_community.services.api_keys import create_api_key
    key, secret = create_api_key(prop, "PMS")
    api = ApiClient(client, key.key_id, secret, prefix="/hotel/club/api/v1")
    response = api.send_event(event(guests=[guest("Mei", "Chen")]))
    assert response.status_code == 200, response.json
    assert response.json["result"] == "applied"
    assert ApiClient(client, key.key_id, secret).send_event(event()).status_code == 404


# --- the database it uses ------------------------------------------------------------------------

def test_uses_the_db_it_is_given():
    app = bare_app()
    db = SQLAlchemy()
    db.init_app(app)
    HotelCommunity(app, db=db)
    assert state(app).db is db


def test_uses_the_apps_registered_flask_sqlalchemy_when_not_given_one():
    app = bare_app()
    db = SQLAlchemy()
    db.init_app(app)
    HotelCommunity(app)
    assert state(app).db is db


def test_makes_its_own_db_when_the_app_has_none(tmp_path):
    from hotel_community import migrations
    from hotel_community.services.properties import create_property, get_property

    app = bare_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'own.sqlite3'}")
    HotelCommunity(app)
    db = state(app).db
    assert isinstance(db, SQLAlchemy)
    assert app.extensions["sqlalchemy"] is db
    with app.app_context():
        migrations.upgrade()
        create_property("OWN", "Own Hotel", "Europe/Paris", "EUR")
        db.session.remove()
        assert get_property("OWN").name == "Own Hotel"
        db.engine.dispose()


def test_given_db_not_set_up_on_the_app_is_a_clear_error():
    app = bare_app()
    with pytest.raises(settings.ConfigurationError, match="init_app"):
        HotelCommunity(app, db=SQLAlchemy())


# --- templates -----------------------------------------------------------------------------------

def test_host_app_overrides_a_template(database_url, tmp_path):
    folder = tmp_path / "templates" / "hotel_community" / "guest"
    folder.mkdir(parents=True)
    (folder / "login.html").write_text(
        "<p>The Harbour Hotel's own sign-in page</p>{{ form.room.label }}", encoding="utf-8")
    app = Flask("host_app", template_folder=str(tmp_path / "templates"))
    app.config.update(SECRET_KEY="s", SQLALCHEMY_DATABASE_URI=database_url,
                      HOTEL_COMMUNITY_SECRET_KEY="community-secret")
    db = SQLAlchemy()
    db.init_app(app)
    HotelCommunity(app, db=db)
    client = app.test_client()
    response = client.get("/community/login")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "The Harbour Hotel's own sign-in page" in page
    assert "Room number" in page
    # Templates the host does not override still come from the extension.
    staff_page = client.get("/community/staff/login").get_data(as_text=True)
    assert "Staff sign-in" in staff_page
    with app.app_context():
        db.engine.dispose()


# --- plugins -------------------------------------------------------------------------------------

def test_built_in_plugin_is_an_entry_point():
    entry_points = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    by_name = {ep.name: ep for ep in entry_points}
    assert by_name["pay_at_desk"].value == "hotel_community.plugins.pay_at_desk"


def test_plugin_manager_loads_the_built_in_plugin_through_entry_points():
    plugins = Plugins()
    assert "pay_at_desk" in plugins.names()
    provider = plugins.payment_providers["pay_at_desk"]
    assert provider.name == "pay_at_desk" and provider.hold == timedelta(hours=24)
    loaded_from = {dist.project_name for _, dist in plugins.manager.list_plugin_distinfo()}
    assert "hotel-community" in {name.replace("_", "-") for name in loaded_from}


def test_disabled_plugin_is_not_loaded():
    assert "pay_at_desk" not in Plugins(("pay_at_desk",)).payment_providers
    app = bare_app(HOTEL_COMMUNITY_DISABLED_PLUGINS=["pay_at_desk"])
    HotelCommunity(app)
    assert "pay_at_desk" not in state(app).plugins.payment_providers
    assert "pay_at_desk" not in state(app).plugins.names()
    assert "pay_at_desk" in state(bare_app_with_extension()).plugins.payment_providers


def test_the_extensions_rate_limiter_leaves_the_hosts_routes_alone():
    """Flask-Limiter reads RATELIMIT_* app config; the host's defaults stay the host's."""
    app = bare_app(RATELIMIT_DEFAULT="1 per hour")
    app.add_url_rule("/rooms", "rooms", lambda: "our rooms")
    HotelCommunity(app)
    client = app.test_client()
    assert [client.get("/rooms").status_code for _ in range(3)] == [200, 200, 200]


def bare_app_with_extension() -> Flask:
    app = bare_app()
    HotelCommunity(app)
    return app


MEMORY_PMS = MemoryPMS()
fake_pms_plugin = SimpleNamespace(
    hotel_community_pms_adapters=hookimpl(lambda: [MEMORY_PMS]))


def test_plugin_registered_at_runtime_serves_its_pms_webhook(app, client, prop):
    state(app).plugins.register(fake_pms_plugin, "fake_pms_plugin")
    adapter = state(app).plugins.pms_adapters["memorypms"]
    adapter.put(StaySnapshot(reservation_id="F-1", status=StayStatus.in_house, room="301",
                             arrival=date(2026, 11, 20), departure=date(2026, 11, 23),
                             guests=(GuestSnapshot("Ana", "Lima", pms_guest_id="P-9",
                                                   primary=True),)))
    url = linked(prop, adapter)
    body = {"reservations": ["F-1"]}

    refused = client.post(url.replace("token=", "token=x"), json=body)
    assert refused.status_code == 401
    assert refused.json["error"]["code"] == "authentication_failed"

    response = client.post(url, json=body)
    assert response.status_code == 202, response.json
    assert response.json["received"] == 1
    pms_inbox.process_due()

    stay = checkin.find_stay(prop, "F-1")
    assert stay.status == StayStatus.in_house and stay.room == "301"
    assert [m.member.last_name for m in checkin.stay_group_members(prop)] == ["Lima"]

    missing = client.post(url.replace("memorypms", "nosuchpms"), json=body)
    assert missing.status_code == 401
    assert missing.json["error"]["code"] == "authentication_failed"


def test_runtime_plugin_is_per_app(app):
    state(app).plugins.register(fake_pms_plugin, "fake_pms_plugin")
    assert "memorypms" not in state(bare_app_with_extension()).plugins.pms_adapters


# --- signals -------------------------------------------------------------------------------------

def test_signals_reach_a_receiver_connected_by_the_host_app(app, prop):
    received: list[tuple[str, dict]] = []
    other_app = bare_app_with_extension()

    def receiver(name):
        def receive(sender, **kwargs):
            assert sender is app
            received.append((name, kwargs))
        return receive

    on_in, on_move, on_out = receiver("in"), receiver("moved"), receiver("out")
    signals.member_checked_in.connect_via(app)(on_in)
    signals.member_moved_room.connect_via(app)(on_move)
    signals.member_checked_out.connect_via(app)(on_out)
    elsewhere: list = []

    def on_other_app(sender, **kwargs):
        elsewhere.append(kwargs)

    signals.member_checked_in.connect_via(other_app)(on_other_app)
    try:
        def apply(status: StayStatus, room: str, minute: int, event_id: str | None = None):
            snapshot = StaySnapshot(
                reservation_id="S-1", status=status, room=room,
                arrival=date(2026, 11, 20), departure=date(2026, 11, 22),
                guests=(GuestSnapshot("Mei", "Chen", pms_guest_id="G-1", primary=True),
                        GuestSnapshot("Tom", "Chen", pms_guest_id="G-2")))
            return checkin.apply_event(prop, StayEvent(
                id=event_id or f"sig-{minute}", stay=snapshot,
                occurred_at=datetime(2026, 11, 20, 12, minute, tzinfo=timezone.utc)))

        apply(StayStatus.in_house, "1204", 0)
        assert sorted(kw["member"].first_name for name, kw in received if name == "in") == ["Mei", "Tom"]
        for name, kwargs in received:
            assert kwargs["property"].code == "TEST"
            assert kwargs["stay"].reservation_id == "S-1"
            assert kwargs["stay"].status == StayStatus.in_house

        received.clear()
        apply(StayStatus.in_house, "1501", 1)
        assert [name for name, _ in received] == ["moved", "moved"]
        assert {(kw["old_room"], kw["new_room"]) for _, kw in received} == {("1204", "1501")}

        received.clear()
        apply(StayStatus.checked_out, "1501", 2)
        assert sorted((name, kw["member"].first_name) for name, kw in received) == [
            ("out", "Mei"), ("out", "Tom")]
        assert received[0][1]["stay"].status == StayStatus.checked_out

        received.clear()
        apply(StayStatus.checked_out, "1501", 2)  # a duplicate sends nothing
        apply(StayStatus.in_house, "1204", 0, event_id="sig-late")  # nor does a stale snapshot
        assert received == []
        assert elsewhere == []
    finally:
        signals.member_checked_in.disconnect(on_in)
        signals.member_moved_room.disconnect(on_move)
        signals.member_checked_out.disconnect(on_out)
        signals.member_checked_in.disconnect(on_other_app)
