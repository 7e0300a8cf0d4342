"""Fixtures: an app per test on a migrated database, SQLite and PostgreSQL.

Every test that uses ``app`` runs twice: on SQLite (a file, so threads share
it) and on PostgreSQL. PostgreSQL gets a fresh database per run, created on
the server named by ``HOTEL_COMMUNITY_TEST_POSTGRES``; when that server is not
reachable its tests skip with the reason, unless
``HOTEL_COMMUNITY_REQUIRE_POSTGRES=1`` (CI), where they fail.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask, g
from flask_sqlalchemy import SQLAlchemy
from jinja2 import ChoiceLoader, DictLoader

from hotel_community import HotelCommunity, hookimpl, migrations
from hotel_community.database import Base
from hotel_community.extension import state
from hotel_community.services.staff import create_staff
from tests.factories import ApiClient, FakeCard
from tests.stripe_server import localstripe, localstripe_server, stripe_config  # noqa: F401 (fixtures)

POSTGRES_SERVER = os.environ.get("HOTEL_COMMUNITY_TEST_POSTGRES",
                                 "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_POSTGRES = os.environ.get("HOTEL_COMMUNITY_REQUIRE_POSTGRES") == "1"
HOST_APP_ROOT = Path(__file__).parent / "host_app"


def fresh_postgres_database() -> Iterator[str]:
    server = sa.make_url(POSTGRES_SERVER)
    name = f"hc_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        reason = f"PostgreSQL not reachable at {server.render_as_string()}: {exc.orig}"
        if REQUIRE_POSTGRES:
            pytest.fail(reason + " (HOTEL_COMMUNITY_REQUIRE_POSTGRES=1)")
        pytest.skip(reason + "; set HOTEL_COMMUNITY_TEST_POSTGRES to run these tests")
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[str]:
    """A migrated, empty database for the whole run, one per backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        _migrate(url)
        yield url
    else:
        for url in fresh_postgres_database():
            _migrate(url)
            yield url


def _migrate(url: str) -> None:
    app = make_app(url)
    with app.app_context():
        migrations.upgrade()
        app.extensions["sqlalchemy"].engine.dispose()


def make_app(database_url: str, **config) -> Flask:
    """A host app with the extension dropped in, as a hotel would do it."""
    # An explicit root path: Flask would otherwise take the working directory,
    # and the repository's own templates/ would be found as the host's templates.
    app = Flask("host_app", root_path=str(HOST_APP_ROOT))
    app.config.update(
        TESTING=True,
        SECRET_KEY="test-flask-secret",
        SQLALCHEMY_DATABASE_URI=database_url,
        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"timeout": 30}} if database_url.startswith("sqlite") else {},
        HOTEL_COMMUNITY_SECRET_KEY="test-community-secret",
        **config,
    )
    db = SQLAlchemy()
    db.init_app(app)
    HotelCommunity(app, db=db)
    return app


def _empty_tables(app: Flask) -> None:
    engine = app.extensions["sqlalchemy"].engine
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(sa.text(f"DELETE FROM {table}"))


@pytest.fixture
def app_config() -> dict:
    """Override in a test module to give the app extra settings."""
    return {}


@pytest.fixture
def app(database_url: str, app_config: dict) -> Iterator[Flask]:
    """The app, with its context pushed for the test's own service calls.

    Flask reuses a pushed app context for test requests, so ``g`` would outlive
    a request; a real server has a fresh ``g`` per request, so forget the CSRF
    token Flask-WTF caches there (else one client's token leaks to the next).
    """
    app = make_app(database_url, **app_config)

    @app.before_request
    def forget_the_last_requests_csrf_token() -> None:
        g.pop("csrf_token", None)

    with app.app_context():
        yield app
        app.extensions["sqlalchemy"].session.remove()
        _empty_tables(app)
        app.extensions["sqlalchemy"].engine.dispose()


@pytest.fixture
def backend(database_url: str) -> str:
    return sa.make_url(database_url).get_backend_name()


@pytest.fixture
def postgresql_only(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL's row locks; SQLite serializes them")


@pytest.fixture
def card(app: Flask) -> FakeCard:
    """A fake card payment provider installed as the plugin ``fake_card``."""
    provider = FakeCard()

    class Plugin:
        @hookimpl
        def hotel_community_payment_providers(self):
            return [provider]

    state(app).plugins.register(Plugin(), "fake_card")
    app.jinja_env.loader = ChoiceLoader([DictLoader({FakeCard.template: FakeCard.FORM}),
                                         app.jinja_env.loader])
    return provider


@pytest.fixture
def desk(app: Flask, client, prop):
    """The test client, signed in as built-in staff."""
    from tests.views.test_staff import PASSWORD, USERNAME, sign_in

    create_staff(USERNAME, PASSWORD, "Front Desk")
    assert sign_in(client).status_code == 302
    return client


@pytest.fixture
def client(app: Flask):
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


@pytest.fixture
def prop(app: Flask):
    from hotel_community.services.properties import create_property

    return create_property("TEST", "Test Hotel", "Asia/Shanghai", "CNY")


@pytest.fixture
def api(app: Flask, client, prop) -> ApiClient:
    """A PMS client for ``prop`` that signs its requests with a fresh API key."""
    from hotel_community.services.api_keys import create_api_key

    key, secret = create_api_key(prop, "test PMS")
    return ApiClient(client, key.key_id, secret)
