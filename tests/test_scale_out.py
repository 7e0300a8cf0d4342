"""Several web workers share what they must: rate-limit counters live in Redis when configured."""
from __future__ import annotations

import os
import uuid

import pytest
import redis

from tests.conftest import make_app
from tests.factories import check_in_by_hand, csrf_token

REDIS_URL = os.environ.get("HOTEL_COMMUNITY_TEST_REDIS", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_url() -> str:
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.ConnectionError as exc:
        pytest.skip(f"Redis not reachable at {REDIS_URL} ({exc}); set HOTEL_COMMUNITY_TEST_REDIS")
    return REDIS_URL


@pytest.fixture
def app_config(redis_url: str) -> dict:
    return {"HOTEL_COMMUNITY_RATELIMIT_STORAGE_URI": redis_url,
            "HOTEL_COMMUNITY_GUEST_LOGIN_RATE_LIMIT": "3 per hour",
            # Counters of earlier runs stay in Redis for an hour: start afresh.
            "RATELIMIT_KEY_PREFIX": f"hc-test-{uuid.uuid4().hex}"}


def room_login(worker, room: str, last_name: str, address: str):
    client = worker.test_client()
    environ = {"REMOTE_ADDR": address}
    token = csrf_token(client.get("/community/login", environ_base=environ))
    return client.post("/community/login", environ_base=environ,
                       data={"csrf_token": token, "room": room, "last_name": last_name})


def test_two_workers_count_sign_in_attempts_together(app, database_url, app_config, prop):
    """Attempts spread over two workers (two app instances) hit one shared limit."""
    check_in_by_hand(prop, "1204", ("Mei", "Chen"))
    other_worker = make_app(database_url, **app_config)
    address = "127.0.0.7"

    assert room_login(app, "1201", "Chen", address).status_code == 403
    assert room_login(other_worker, "1202", "Chen", address).status_code == 403
    assert room_login(app, "1203", "Chen", address).status_code == 403
    assert room_login(other_worker, "1204", "Chen", address).status_code == 429
    with other_worker.app_context():
        other_worker.extensions["sqlalchemy"].engine.dispose()
