"""A vendor's API faked on 127.0.0.1: a small Flask app served from a thread.

Each vendor fake (``tests/pms/<vendor>_fake.py``) subclasses :class:`FakeVendor`,
adds its routes in :meth:`routes` and keeps the vendor's state in plain
attributes. Tests make it misbehave with :meth:`fail_next` (a 500) and
:meth:`slow_next` (an answer later than ``HOTEL_COMMUNITY_PMS_TIMEOUT``), and
read :attr:`requests` to see what was asked.
"""
from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any, Iterator

import pytest

from flask import Flask, Response, jsonify, request
from werkzeug.serving import make_server


class FakeVendor:
    name = "vendor"

    def __init__(self) -> None:
        self.app = Flask(f"fake_{self.name}")
        self.requests: list[dict[str, Any]] = []
        self._failures: list[tuple[int, float]] = []  # (status or 0, delay)
        self._lock = threading.Lock()
        self._lost = 0
        #: Seconds every request waits before it is answered (a slow PMS, for benchmarks).
        self.delay = 0.0
        self.app.before_request(self._record_and_misbehave)
        self.app.after_request(self._lose_answer)
        self.routes(self.app)
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # --- to override -------------------------------------------------------------------------
    def routes(self, app: Flask) -> None:
        raise NotImplementedError

    def reset(self) -> None:
        """Forget every test's data (the server is shared by a test module)."""
        raise NotImplementedError

    # --- control -----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> "FakeVendor":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)

    def fail_next(self, times: int = 1, status: int = 500) -> None:
        """The next ``times`` requests answer ``status`` and change nothing."""
        with self._lock:
            self._failures += [(status, 0.0)] * times

    def slow_next(self, times: int = 1, seconds: float = 2.0) -> None:
        """The next ``times`` requests wait ``seconds`` first (then fail with a 504, so a
        client that gave up early has changed nothing either)."""
        with self._lock:
            self._failures += [(504, seconds)] * times

    def lose_next(self, times: int = 1) -> None:
        """The next ``times`` requests are carried out, but answered with a 504 (as if the
        answer were lost on the way back): the client retries what already happened."""
        with self._lock:
            self._lost += times

    def paths(self) -> list[str]:
        """The paths asked so far, in order."""
        return [entry["path"] for entry in self.requests]

    def _record_and_misbehave(self) -> Response | None:
        self.requests.append({"method": request.method, "path": request.path,
                              "args": request.args.to_dict(flat=False),
                              "json": request.get_json(silent=True),
                              "form": request.form.to_dict(flat=False),
                              "headers": dict(request.headers)})
        time.sleep(self.delay)
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
        if failure is None:
            return None
        status, delay = failure
        time.sleep(delay)
        response = jsonify({"message": f"{self.name} fake: injected {status}"})
        response.status_code = status
        return response

    def _lose_answer(self, response: Response) -> Response:
        with self._lock:
            if self._lost <= 0 or response.status_code >= 400:
                return response
            self._lost -= 1
        lost = jsonify({"message": f"{self.name} fake: answer lost"})
        lost.status_code = 504
        return lost


#: How the adapters' tests run: stays fetched when the test says (``process_due``),
#: a vendor slower than half a second timed out, retries a minute apart.
ADAPTER_TEST_CONFIG = {
    "HOTEL_COMMUNITY_PMS_PROCESS_AFTER_RESPONSE": False, "HOTEL_COMMUNITY_PMS_TIMEOUT": 0.5,
    "HOTEL_COMMUNITY_PMS_RETRY_DELAY": timedelta(minutes=1),
    "HOTEL_COMMUNITY_ROOM_CHARGE_RETRY_DELAY": timedelta(minutes=1)}


def vendor_fixtures(fake_class: type[FakeVendor]) -> tuple[Any, Any, Any]:
    """``app_config, server, fake = vendor_fixtures(MyFake)`` in an adapter's test module:
    the settings above, the fake served for the module, and reset for each test."""

    @pytest.fixture
    def app_config() -> dict:
        return dict(ADAPTER_TEST_CONFIG)

    @pytest.fixture(scope="module")
    def server() -> Iterator[FakeVendor]:
        fake = fake_class().start()
        yield fake
        fake.stop()

    @pytest.fixture
    def fake(server: FakeVendor) -> FakeVendor:
        server.reset()
        return server

    return app_config, server, fake
