"""PMS webhooks answered fast while the PMS is slow, and how soon their stays are applied.

1. makes a fresh PostgreSQL database on ``--server`` with one property linked
   to Mews, and starts the fake Mews Connector API of the tests
   (``tests/pms/mews_fake.py``) on 127.0.0.1, every call of it waiting
   ``--pms-delay`` seconds;
2. books and checks in ``--webhooks`` reservations in the fake;
3. serves the app with werkzeug's threaded server on 127.0.0.1 (fetching after
   the response, as configured by default) and sends one Mews General
   Webhook per reservation from ``--threads`` client threads;
4. prints the webhook answer times (p50, p95, max), the time until every
   guest is in the stay group, and the Mews calls each stay cost.

It exits non-zero when a webhook is not answered 202 or a stay is not
applied within the time limit. Mews wants an answer within 5 s; the answer
time must not grow with ``--pms-delay``.
"""
from __future__ import annotations

import argparse
import logging
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import requests
from werkzeug.serving import make_server

from checkin import DEFAULT_SERVER, in_fresh_database, log  # bench/ is on sys.path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # benchmark the tree this script lives in

PROPERTY = "WEBHOOK"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--webhooks", type=int, default=40, help="reservations (default 40)")
    parser.add_argument("--pms-delay", type=float, default=1.0,
                        help="seconds each call to the fake Mews waits (default 1.0)")
    parser.add_argument("--threads", type=int, default=8, help="client threads (default 8)")
    parser.add_argument("--server", default=DEFAULT_SERVER, help="PostgreSQL on 127.0.0.1")
    parser.add_argument("--time-limit", type=float, default=300.0,
                        help="seconds to wait for every stay to be applied (default 300)")
    args = parser.parse_args()
    if args.webhooks < 1 or args.threads < 1 or args.pms_delay < 0:
        parser.error("--webhooks and --threads must be at least 1, --pms-delay at least 0")
    return args


def make_app(database_url: str):
    from flask import Flask

    from hotel_community import HotelCommunity

    app = Flask("bench_pms_webhook")
    app.config.update(SQLALCHEMY_DATABASE_URI=database_url,
                      HOTEL_COMMUNITY_SECRET_KEY="bench-secret", SERVER_NAME="127.0.0.1",
                      HOTEL_COMMUNITY_PMS_TIMEOUT=30)
    HotelCommunity(app)
    return app


def prepare(app, fake, count: int) -> tuple[str, list[str]]:
    """The property linked to the fake Mews; the webhook path and the reservations."""
    from hotel_community import migrations
    from hotel_community.plugins.mews import ADAPTER
    from hotel_community.services import pms_links, properties
    from hotel_community.services.access import today_at
    from tests.pms.mews_fake import ACCESS_TOKEN, CLIENT_TOKEN, ENTERPRISE_ID, SERVICE_ID

    migrations.upgrade()
    prop = properties.create_property(PROPERTY, "Webhook Hotel", "Asia/Shanghai", "CNY")
    link = pms_links.save_link(prop, ADAPTER.name, {
        "base_url": fake.url, "client_token": CLIENT_TOKEN, "access_token": ACCESS_TOKEN,
        "client": "bench", "enterprise_id": ENTERPRISE_ID, "service_id": SERVICE_ID})
    url = pms_links.webhook_url(prop, link)
    today = today_at(prop)
    reservations = []
    for number in range(count):
        guest = fake.customer(f"Guest{number}", "Bench")
        reservation = fake.book(guest, arrival=today - timedelta(days=1),
                                departure=today + timedelta(days=2), room=str(1000 + number))
        fake.check_in(reservation)
        reservations.append(reservation)
    return url[url.index("/community"):], reservations


def in_house(app) -> int:
    from sqlalchemy import func, select

    from hotel_community.database import session
    from hotel_community.models import Stay, StayStatus

    with app.app_context():
        count = session.scalar(select(func.count()).where(Stay.status == StayStatus.in_house))
        session.remove()
    return count


def run(args: argparse.Namespace, database_url: str, servers, engines, tmp) -> int:
    from tests.pms.mews_fake import MewsFake

    fake = MewsFake().start()
    app = make_app(database_url)
    with app.app_context():
        path, reservations = prepare(app, fake, args.webhooks)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    fake.delay, calls_before = args.pms_delay, len(fake.requests)
    log(f"sending {args.webhooks} webhooks, the PMS taking {args.pms_delay:g} s a call")

    def send(reservation: str) -> tuple[int, float]:
        started = time.perf_counter()
        answer = requests.post(base + path, json=fake.reservation_updated(reservation), timeout=30)
        return answer.status_code, time.perf_counter() - started

    started = time.perf_counter()
    try:
        with ThreadPoolExecutor(args.threads) as pool:
            answers = list(pool.map(send, reservations))
        deadline = started + args.time_limit
        while in_house(app) < args.webhooks and time.perf_counter() < deadline:
            time.sleep(0.1)
        applied_after = time.perf_counter() - started
        applied = in_house(app)
    finally:
        server.shutdown()
        fake.stop()
    return report(args, answers, applied, applied_after, len(fake.requests) - calls_before)


def report(args: argparse.Namespace, answers: list[tuple[int, float]], applied: int,
           applied_after: float, calls: int) -> int:
    times = sorted(seconds * 1000 for _, seconds in answers)
    refused = [status for status, _ in answers if status != 202]
    p95 = times[max(0, round(len(times) * 0.95) - 1)]
    print(f"webhooks: {len(answers)}, PMS delay per call: {args.pms_delay:g} s, "
          f"client threads: {args.threads}")
    print(f"webhook answer ms: p50 {statistics.median(times):.1f}, p95 {p95:.1f}, "
          f"max {times[-1]:.1f}  (Mews allows 5000)")
    print(f"stays applied: {applied}/{args.webhooks} after {applied_after:.1f} s")
    print(f"Mews calls per stay: {calls / args.webhooks:.1f}")
    if refused:
        print(f"FAILED: {len(refused)} webhooks not answered 202: {sorted(set(refused))}")
    if applied < args.webhooks:
        print(f"FAILED: {args.webhooks - applied} stays not applied within {args.time_limit:g} s")
    return 1 if refused or applied < args.webhooks else 0


def main() -> int:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    return in_fresh_database(parse_args(), run)


if __name__ == "__main__":
    sys.exit(main())
