"""Builders for test data: PMS events as JSON, stay snapshots, a signing API client."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from itertools import count
from typing import Any

from hotel_community.services.api_keys import KEY_HEADER, SIGNATURE_HEADER, sign

_ids = count(1)
BASE_TIME = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


def guest(first: str = "Mei", last: str = "Chen", pms_guest_id: str | None = None,
          **extra: Any) -> dict[str, Any]:
    return {"pms_guest_id": pms_guest_id or f"G-{first}-{last}", "first_name": first,
            "last_name": last, **extra}


def event(reservation_id: str = "R1", status: str = "in_house", room: str | None = "1204",
          guests: list[dict[str, Any]] | None = None, minute: int = 0, event_id: str | None = None,
          prop: str = "TEST", arrival: date | None = None, departure: date | None = None,
          ) -> dict[str, Any]:
    """A normalized PMS event; ``minute`` orders events in time."""
    arrival = arrival or date(2026, 11, 20)
    return {
        "id": event_id or f"evt-{next(_ids)}",
        "occurred_at": (BASE_TIME + timedelta(minutes=minute)).isoformat(),
        "property": prop,
        "stay": {"reservation_id": reservation_id, "status": status, "room": room,
                 "arrival": arrival.isoformat(),
                 "departure": (departure or arrival + timedelta(days=3)).isoformat(),
                 "guests": guests if guests is not None else [guest()]},
    }


class ApiClient:
    """Sends signed requests to the PMS API, as a PMS would."""

    def __init__(self, client, key_id: str, secret: str, prefix: str = "/community/api/v1") -> None:
        self.client, self.key_id, self.secret, self.prefix = client, key_id, secret, prefix

    def headers(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        return {KEY_HEADER: self.key_id, SIGNATURE_HEADER: sign(self.secret, body, timestamp),
                "Content-Type": "application/json"}

    def post(self, path: str, payload: Any, timestamp: int | None = None):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return self.client.post(self.prefix + path, data=body,
                                headers=self.headers(body, timestamp))

    def get(self, path: str, **params: Any):
        return self.client.get(self.prefix + path, query_string=params, headers=self.headers(b""))

    def send_event(self, payload: dict[str, Any]):
        return self.post("/pms/events", payload)
