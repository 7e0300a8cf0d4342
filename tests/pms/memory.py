"""An in-memory PMS adapter for the core's tests: what the PMS holds is a dict.

Its webhook posts ``{"reservations": ["R-1", ...]}``; ``fetch_stays`` reads
``reservations``. ``down``: that many next calls fail (as a PMS that is down);
the folio keeps one posting per idempotency key, as a PMS that honours it.
"""
from __future__ import annotations

from typing import Any

from flask import current_app

from hotel_community.database import session
from hotel_community.errors import MalformedRequest, PmsUnavailable
from hotel_community.extension import state
from hotel_community.hookspecs import (
    FolioCharge, Notification, PmsConnection, PMSAdapter, SettingField, hookimpl,
)
from hotel_community.models import StayStatus
from hotel_community.services import pms_links
from hotel_community.services.checkin import StaySnapshot


class MemoryPMS(PMSAdapter):
    name, label = "memorypms", "Memory PMS"
    settings_fields = (SettingField("hotel_id", "Hotel id"),
                       SettingField("api_token", "API token", secret=True))

    def __init__(self) -> None:
        self.reservations: dict[str, StaySnapshot] = {}
        self.folio: dict[str, dict[str, Any]] = {}
        self.voids: dict[str, str] = {}
        self.calls: list[str] = []
        self.down = 0
        self.lose_answers = 0
        self.on_fetch = None  # called inside fetch_stays (to race a webhook against it)

    def put(self, snapshot: StaySnapshot) -> None:
        self.reservations[snapshot.reservation_id] = snapshot

    def _call(self, what: str, connection: PmsConnection) -> None:
        assert connection.settings["api_token"], "the secret setting reaches the adapter"
        self.calls.append(what)
        if self.down:
            self.down -= 1
            raise PmsUnavailable("Memory PMS answered 500.")

    def notifications_from_webhook(self, request, connection) -> list[Notification]:
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("reservations"), list):
            raise MalformedRequest("Not a Memory PMS webhook.")
        return [Notification("reservation", str(ref)) for ref in body["reservations"]]

    def fetch_stays(self, connection, notification) -> list[StaySnapshot]:
        self._call(f"fetch {notification.ref}", connection)
        snapshot = self.reservations.get(notification.ref)
        if self.on_fetch is not None:
            self.on_fetch()
        return [snapshot] if snapshot is not None else []

    def in_house(self, connection) -> list[StaySnapshot]:
        self._call("in_house", connection)
        return [s for s in self.reservations.values() if s.status is StayStatus.in_house]

    def post_folio_charge(self, connection, stay, charge: FolioCharge) -> str:
        self._call(f"charge {charge.idempotency_key}", connection)
        guests = [guest.pms_guest_id for guest in stay.guests]
        entry = self.folio.setdefault(charge.idempotency_key, {
            "id": f"F-{len(self.folio) + 1}", "reservation": stay.reservation_id,
            "amount": charge.amount, "currency": charge.currency, "guests": guests,
            "in_transaction": session().in_transaction()})
        if self.lose_answers:
            self.lose_answers -= 1
            raise TimeoutError("the answer was lost")
        return entry["id"]

    def void_folio_charge(self, connection, stay, pms_charge_id, idempotency_key) -> str:
        self._call(f"void {pms_charge_id}", connection)
        self.voids.setdefault(idempotency_key, pms_charge_id)
        return f"V-{pms_charge_id}"


def registered(app, adapter: PMSAdapter) -> PMSAdapter:
    class Plugin:
        @hookimpl
        def hotel_community_pms_adapters(self):
            return [adapter]

    state(app).plugins.register(Plugin(), f"{adapter.name}_plugin")
    return adapter


def linked(prop, adapter: PMSAdapter, **settings: str) -> str:
    """Link ``prop`` to ``adapter``; the webhook URL's path and query, as the vendor calls it."""
    values = {field.name: settings.get(field.name, f"test-{field.name}")
              for field in adapter.settings_fields}
    link = pms_links.save_link(prop, adapter.name, values)
    with current_app.test_request_context():
        url = pms_links.webhook_url(prop, link)
    return url[url.index("/community"):]
