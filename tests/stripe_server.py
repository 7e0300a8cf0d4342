"""A real fake Stripe: localstripe in a subprocess on 127.0.0.1, for the whole test run.

The real ``stripe`` library talks HTTP to it, and the browser loads its fake
Stripe.js. Its CLI is not used: that binds every interface and keeps its data
in ``/tmp``. Here the parent binds a free port on 127.0.0.1 and hands the
socket to the child, which keeps everything in memory. Each test starts from
an empty server (:func:`localstripe`). Test modules give the app its settings
with ``app_config`` returning :func:`stripe_config`.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests

SECRET_KEY = "sk_test_hotelcommunity"
PUBLISHABLE_KEY = "pk_test_hotelcommunity"
WEBHOOK_SECRET = "whsec_test_hotelcommunity"
#: The id under which :meth:`LocalStripe.send_webhooks_to` registers an endpoint.
WEBHOOK_ID = "hotel_community"

LAUNCHER = """
import socket, sys
from aiohttp import web
from localstripe import resources, server
resources.store.dump_to_disk = lambda: None
resources.store.try_load_from_disk = lambda: None
listening = socket.socket(fileno=int(sys.argv[1]))
web.run_app(server.app, sock=listening, print=None)
"""


@dataclass(frozen=True)
class LocalStripe:
    """The running server and what tests ask of it directly (as Stripe's dashboard would)."""

    url: str

    @property
    def js_url(self) -> str:
        return f"{self.url}/js.stripe.com/v3/"

    def config(self) -> dict[str, Any]:
        """The app's settings to use this server."""
        return {"HOTEL_COMMUNITY_STRIPE_SECRET_KEY": SECRET_KEY,
                "HOTEL_COMMUNITY_STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
                "HOTEL_COMMUNITY_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "HOTEL_COMMUNITY_STRIPE_API_BASE": self.url,
                "HOTEL_COMMUNITY_STRIPE_JS_URL": self.js_url,
                # localstripe refuses off_session on a confirm (real Stripe expects it).
                "HOTEL_COMMUNITY_STRIPE_CONFIRM_OFF_SESSION": False}

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        response = requests.get(f"{self.url}{path}", params=params, auth=(SECRET_KEY, ""), timeout=10)
        response.raise_for_status()
        return response.json()

    def post(self, path: str, data: dict[str, Any], key: str = SECRET_KEY) -> dict[str, Any]:
        response = requests.post(f"{self.url}{path}", data=data, auth=(key, ""), timeout=10)
        response.raise_for_status()
        return response.json()

    def intent(self, intent_id: str) -> dict[str, Any]:
        return self.get(f"/v1/payment_intents/{intent_id}")

    def refunds(self, intent_id: str) -> list[dict[str, Any]]:
        return self.get("/v1/refunds", payment_intent=intent_id)["data"]

    def card_token(self, number: str = "4242424242424242") -> str:
        """A card token made with the publishable key, as Stripe.js's createToken does."""
        response = requests.post(f"{self.url}/v1/tokens", timeout=10, data={
            "card[number]": number, "card[exp_month]": "12", "card[exp_year]": "2034",
            "card[cvc]": "123", "key": PUBLISHABLE_KEY})
        response.raise_for_status()
        return response.json()["id"]

    def pay_directly(self, intent_id: str, number: str = "4242424242424242") -> dict[str, Any]:
        """Pay an intent without our server, as Stripe.js does on the guest's phone."""
        card = self.get(f"/v1/tokens/{self.card_token(number)}")["card"]["id"]
        self.post(f"/v1/payment_intents/{intent_id}", {"payment_method": card})
        return self.post(f"/v1/payment_intents/{intent_id}/confirm", {})

    def send_webhooks_to(self, url: str, secret: str = WEBHOOK_SECRET) -> None:
        """Have localstripe sign and deliver its events to ``url`` (a live server)."""
        response = requests.post(f"{self.url}/_config/webhooks/{WEBHOOK_ID}",
                                 json={"url": url, "secret": secret}, timeout=10)
        response.raise_for_status()

    def reset(self) -> None:
        """Forget every object, and deliver no webhooks (the registration outlives the data)."""
        requests.delete(f"{self.url}/_config/data", timeout=10).raise_for_status()
        requests.post(f"{self.url}/_config/webhooks/{WEBHOOK_ID}", timeout=10, json={
            "url": "http://127.0.0.1:9/", "secret": WEBHOOK_SECRET, "events": []}).raise_for_status()


@pytest.fixture(scope="session")
def localstripe_server(tmp_path_factory) -> Iterator[LocalStripe]:
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listening.bind(("127.0.0.1", 0))
    listening.listen(64)
    server = LocalStripe(f"http://127.0.0.1:{listening.getsockname()[1]}")
    log = Path(tmp_path_factory.mktemp("localstripe")) / "localstripe.log"
    with log.open("wb") as output:
        process = subprocess.Popen([sys.executable, "-c", LAUNCHER, str(listening.fileno())],
                                   pass_fds=[listening.fileno()], stdout=output, stderr=output)
    listening.close()
    try:
        _wait_until_up(server, process, log)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(server: LocalStripe, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"localstripe exited: {log.read_text(errors='replace')}")
        try:
            if requests.get(server.js_url, timeout=1).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    pytest.fail(f"localstripe did not answer at {server.url}: {log.read_text(errors='replace')}")


@pytest.fixture
def localstripe(localstripe_server: LocalStripe) -> LocalStripe:
    """The server, emptied for this test."""
    localstripe_server.reset()
    return localstripe_server


@pytest.fixture
def stripe_config(localstripe: LocalStripe) -> dict[str, Any]:
    """App settings for Stripe on localstripe; a test module's ``app_config`` returns them."""
    return localstripe.config()


def sign_webhook(payload: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """A ``Stripe-Signature`` header as Stripe makes it: ``t=<ts>,v1=HMAC-SHA256(secret, "<ts>.<body>")``."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + payload
    return f"t={timestamp},v1={hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()}"


def event_payload(event_type: str, intent: dict[str, Any], **changes: Any) -> bytes:
    """A webhook body for ``intent`` (as localstripe returned it), with ``changes`` to it."""
    event = {"id": f"evt_test_{intent['id']}", "object": "event", "type": event_type,
             "created": int(time.time()), "livemode": False,
             "data": {"object": {**intent, **changes}}}
    return json.dumps(event).encode()


def fill_card(page: Any, number: str = "4242424242424242", cvc: str = "123") -> Any:
    """Fill localstripe's Stripe.js card form on ``page`` as a guest would; the form."""
    card = page.locator("[data-stripe-element]")
    card.locator("input[placeholder=number]").fill(number)
    card.locator("input[placeholder=exp_month]").fill("12")
    card.locator("input[placeholder=exp_year]").fill("34")
    card.locator("input[placeholder=cvc]").fill(cvc)
    card.locator("input[placeholder=postal_code]").fill("20000")
    return card
