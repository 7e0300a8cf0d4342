"""Acceptance: 20 guests buy the last item at the same moment, on gunicorn and PostgreSQL.

Each buyer is a separate client (its own session cookie and connection) of a
real server with several worker processes, each with its own connection
pool: the stock is decided by the database alone. Exactly one buyer gets the
item, paid by charging it to the room; the 19 others get a clear "sold out".
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import func, select

from hotel_community.database import session
from hotel_community.models import Order, OrderStatus, Product, RoomCharge
from hotel_community.services import access
from tests.factories import check_in_by_hand, csrf_token, make_product, member_of, place

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
BUYERS = 20
WORKERS = 4


@pytest.fixture
def server(postgresql_only, app, database_url: str, tmp_path: Path) -> Iterator[str]:
    """The test app (same database and secrets) served by gunicorn; its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tmp_path / "gunicorn.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", f"tests.conftest:make_app({database_url!r})",
         "--bind", f"127.0.0.1:{port}", "--workers", str(WORKERS), "--worker-class", "sync",
         "--timeout", "60", "--error-logfile", str(log)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(process, base + "/community/login", log)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # the gunicorn master started above, and its workers
        process.wait(timeout=20)


def _wait_ready(process: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        assert process.poll() is None, f"gunicorn exited:\n{log.read_text()}"
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    pytest.fail(f"gunicorn not ready:\n{log.read_text()}")


def signed_in_buyer(app, base: str, prop, room: str) -> requests.Session:
    """An in-house guest signed in through their access link, as their phone would be."""
    stay = check_in_by_hand(prop, room, (f"Guest{room}", "Buyer"))
    with app.test_request_context():
        path = urlsplit(access.access_url(member_of(stay), stay)).path
    http = requests.Session()
    assert http.get(base + path, allow_redirects=False, timeout=30).status_code == 302
    return http


def test_twenty_buyers_of_the_last_item_one_gets_it(app, prop, server):
    product = make_product(prop, stock=1)
    url = f"{server}/community/p/{place(product, 'Lobby', is_room=False).code}"
    buyers = [signed_in_buyer(app, server, prop, str(1301 + n)) for n in range(BUYERS)]
    forms = []
    for http in buyers:
        page = http.get(url, timeout=30)
        assert page.status_code == 200 and 'value="room_charge"' in page.text
        forms.append({"csrf_token": csrf_token(page.text), "quantity": "1",
                      "delivery": "bring_to_room", "provider": "room_charge"})

    barrier = threading.Barrier(BUYERS)
    responses: list[requests.Response | Exception | None] = [None] * BUYERS

    def post(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            responses[index] = buyers[index].post(url, data=forms[index], allow_redirects=False,
                                                  timeout=60)
        except Exception as exc:  # reported by the assertions below
            responses[index] = exc

    threads = [threading.Thread(target=post, args=(n,)) for n in range(BUYERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)

    assert all(isinstance(r, requests.Response) for r in responses), responses
    won = [r for r in responses if r.status_code == 303]
    lost = [r for r in responses if r.status_code == 409]
    assert (len(won), len(lost)) == (1, BUYERS - 1), [r.status_code for r in responses]
    assert all("Sorry, this item is sold out." in r.text for r in lost)

    session.expire_all()
    assert session.get(Product, product.id).stock == 0
    [order] = session.scalars(select(Order)).all()
    assert (order.status, order.provider, order.quantity) == (OrderStatus.paid, "room_charge", 1)
    assert won[0].headers["Location"].endswith(f"/community/orders/{order.token}")
    assert session.scalar(select(func.count()).select_from(RoomCharge)) == 1
    winner = buyers[responses.index(won[0])]
    order_page = winner.get(server + won[0].headers["Location"], timeout=30)
    assert 'data-order-status="paid"' in order_page.text
    for http in buyers:
        http.close()
