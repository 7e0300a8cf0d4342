"""QR page benchmark: the page a placement's QR code opens, and a 1,000-label PDF.

Run it with ``make bench-qr``, which runs::

    .venv/bin/python bench/qr_page.py            # defaults: 1,000 placements, 200 products
    .venv/bin/python bench/qr_page.py --placements 5000 --products 800 --workers 4

It needs PostgreSQL on 127.0.0.1 (``--server``, default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``, or the environment
variable ``HOTEL_COMMUNITY_BENCH_POSTGRES``; the user must be allowed to
create databases) and the ``test`` extra (gunicorn, requests, psycopg). It
shares its plumbing with ``bench/checkin.py`` and ``bench/feed.py``.

What it does, in one run, all on 127.0.0.1:

1. creates a fresh database ``hc_bench_<random>`` (dropped at the end, also on
   error or Ctrl-C), migrates it and creates a property with the
   ``flask community`` CLI, as a hotel would; checks in one guest (room 1204)
   through the check-in service, so they have a real stay and access link;
2. bulk-inserts a small shop (10 placements of 5 products, 3 photos each) and
   counts the SQL statements of one placement page in process (the demo
   app's test client, the whole request, a ``before_cursor_execute``
   listener), for a passer-by and for the guest in house in that room, and
   replays the SELECTs under ``EXPLAIN ANALYZE``; then grows the shop to
   ``--placements`` placements of ``--products`` products and counts again
   on the same page;
3. starts two gunicorn servers (sync workers, free ports): the demo host app
   and ``bench/bare_app.py``, whose ``GET /p/<code>`` reads the same rows
   (the placement by its code joined to its product and property, then the
   photos) and renders them, without language, price formatting, stock
   wording, delivery and payment choices or the CSRF-protected order form;
   sends ``--requests`` GETs of the page (as a passer-by who just scanned
   the code) to each from ``--threads`` client threads, the servers taking
   turns in ``--rounds`` rounds;
4. writes the label PDF of all the property's placements
   (``services.labels.label_pdf``, one label per placement) and times it;
5. prints requests per second for both pages, their ratio, the statements
   per page at both sizes and the PDF's time, pages and size.

It exits non-zero when a request fails, when the statement counts differ
between the sizes, or when the PDF has the wrong number of pages. The client
shares the machine's cores with the servers: compare the ratio, not the
absolute figures, between machines.
"""
from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import sqlalchemy as sa

from checkin import (  # bench/ is on sys.path when this file runs
    LoadResult, Measured, Server, StatementCounter, analyze, in_fresh_database, load_options,
    log, migrate_with_property, parse_counts, print_load, rows_examined, start_gunicorn,
    stop_cleanly_on_sigterm, wait_ready,
)
from feed import get_all

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
PROPERTY = "QR"
SMALL_PLACEMENTS, SMALL_PRODUCTS, PHOTOS = 10, 5, 3
MEASURED_ROOM = "1204"
sys.path.insert(0, str(ROOT))  # benchmark the tree this script lives in


# --------------------------------------------------------------------------- seeding

def seed_shop(engine: sa.Engine, property_id: int, placements: int, products: int) -> None:
    """Grow the shop to ``products`` products (with photos) and ``placements`` placements.

    Placements go round the products, each in a room of its own per product
    (rooms 1001, 1002, ...); the measured room comes first.
    """
    with engine.begin() as connection:
        have = connection.execute(sa.text("SELECT count(*) FROM hc_product WHERE property_id = :p"),
                                  {"p": property_id}).scalar()
        for number in range(have, products):
            product_id = connection.execute(sa.text("""
                INSERT INTO hc_product (property_id, sku, name_en, name_zh, description_en,
                                        description_zh, price, currency, stock, active,
                                        created_at, updated_at)
                VALUES (:p, :sku, :name, :name_zh, :description, '', :price, 'CNY', 50, true,
                        timezone('UTC', now()), timezone('UTC', now()))
                RETURNING id"""),
                {"p": property_id, "sku": f"SKU-{number:05d}", "name": f"Silk pillow no. {number}",
                 "name_zh": f"真丝枕头 {number} 号", "price": 12800 + number,
                 "description": "Mulberry silk, 22 momme. Slept on it? Take it home."}).scalar()
            connection.execute(sa.text("""
                INSERT INTO hc_product_photo (product_id, photo, position)
                SELECT :id, 'bench/' || :id || '-' || n || '.jpg', n FROM generate_series(0, :last) AS n"""),
                {"id": product_id, "last": PHOTOS - 1})
        product_ids = connection.execute(sa.text(
            "SELECT id FROM hc_product WHERE property_id = :p ORDER BY id"), {"p": property_id}).scalars().all()
        have = connection.execute(sa.text("SELECT count(*) FROM hc_placement WHERE property_id = :p"),
                                  {"p": property_id}).scalar()
        rows = [{"code": secrets.token_urlsafe(8)[:10], "p": property_id,
                 "product": product_ids[number % len(product_ids)],
                 "location": MEASURED_ROOM if number == 0 else str(1000 + number)}
                for number in range(have, placements)]
        if rows:
            connection.execute(sa.text("""
                INSERT INTO hc_placement (code, property_id, product_id, location, is_room, active,
                                          created_at)
                VALUES (:code, :p, :product, :location, true, true, timezone('UTC', now()))"""), rows)


def check_in_guest(app) -> tuple[int, str]:
    """The guest in house in the measured room: (property id, access link path)."""
    from datetime import timedelta

    from hotel_community.models import StayStatus
    from hotel_community.services import access, checkin, properties
    from hotel_community.services.checkin import GuestSnapshot, StaySnapshot

    with app.app_context():
        prop = properties.get_property(PROPERTY)
        today = access.today_at(prop)
        stay = checkin.apply_staff_change(prop, StaySnapshot(
            reservation_id="QR-1", status=StayStatus.in_house, room=MEASURED_ROOM,
            arrival=today - timedelta(days=1), departure=today + timedelta(days=2),
            guests=(GuestSnapshot("Mei", "Chen", primary=True),))).stay
        with app.test_request_context():
            path = urlsplit(access.access_url(stay.guests[0].member, stay)).path
        return prop.id, path


def measured_code(engine: sa.Engine, property_id: int) -> str:
    with engine.connect() as connection:
        return connection.execute(sa.text(
            "SELECT code FROM hc_placement WHERE property_id = :p AND location = :room"),
            {"p": property_id, "room": MEASURED_ROOM}).scalar_one()


# --------------------------------------------------------------------------- statements

def measure_pages(app, counter: StatementCounter, link_path: str, url: str) -> tuple[Measured, Measured]:
    """The statements of one whole placement page request: (passer-by, guest in house).

    Each test client request has an app context (and database session) of its
    own, as a request of a real server has.
    """
    passer_by, guest = app.test_client(), app.test_client()
    if guest.get(link_path).status_code != 302:
        raise RuntimeError("signing in with the access link failed")
    measured = []
    for client, expected in ((passer_by, 'value="desk_pickup"'), (guest, 'value="take_from_room"')):
        client.get(url)  # warm: templates compiled

        def fetch() -> None:
            response = client.get(url)
            if response.status_code != 200 or expected not in response.get_data(as_text=True):
                raise RuntimeError(f"placement page: HTTP {response.status_code}")
        measured.append(counter.measure(fetch))
    return measured[0], measured[1]


# --------------------------------------------------------------------------- labels

def time_label_pdf(app, tmp: Path) -> tuple[int, float, int, int]:
    """(labels, seconds, pages, bytes) of the property's label sheet as a PDF."""
    from hotel_community.services import labels, properties

    with app.app_context():
        chosen = labels.selection(properties.get_property(PROPERTY))
        total = labels.count(chosen)
        out = tmp / "labels.pdf"
        started = time.perf_counter()
        with out.open("wb") as file:
            pages = labels.label_pdf(chosen, "http://127.0.0.1:5000", file)
        seconds = time.perf_counter() - started
    if pages != labels.pages_for(total):
        raise RuntimeError(f"{total} labels gave {pages} pages, expected {labels.pages_for(total)}")
    return total, seconds, pages, out.stat().st_size


# --------------------------------------------------------------------------- main

def parse_args() -> argparse.Namespace:
    parser = load_options(__doc__, time_limit=90.0)
    parser.add_argument("--placements", type=int, default=1000,
                        help="placements in the hotel, also the labels in the PDF (default 1000)")
    parser.add_argument("--products", type=int, default=200, help="products (default 200)")
    parser.add_argument("--requests", type=int, default=1500,
                        help="placement page requests per server (default 1500)")
    args = parse_counts(parser, "requests")
    if args.placements < SMALL_PLACEMENTS or args.products < SMALL_PRODUCTS:
        parser.error(f"--placements must be at least {SMALL_PLACEMENTS}, "
                     f"--products at least {SMALL_PRODUCTS}")
    return args


def main() -> int:
    return in_fresh_database(parse_args(), run)


def run(args: argparse.Namespace, database_url: str, servers: list[Server],
        engines: list[sa.Engine], tmp: Path) -> int:
    env = migrate_with_property(database_url, PROPERTY, "QR Hotel")

    from hotel_community import demo

    app = demo.app
    with app.app_context():
        engine = app.extensions["sqlalchemy"].engine
    engines.append(engine)
    property_id, link_path = check_in_guest(app)
    counter = StatementCounter(engine)

    seed_shop(engine, property_id, SMALL_PLACEMENTS, SMALL_PRODUCTS)
    page_path = f"/community/p/{measured_code(engine, property_id)}"
    analyze(engine)
    small = measure_pages(app, counter, link_path, page_path)
    started = time.monotonic()
    seed_shop(engine, property_id, args.placements, args.products)
    log(f"seeded {args.placements:,} placements of {args.products:,} products "
        f"({time.monotonic() - started:.1f} s)")
    analyze(engine)
    large = measure_pages(app, counter, link_path, page_path)
    large_rows = rows_examined(engine, large[0])
    small_rows = rows_examined(engine, small[0])

    log(f"starting gunicorn x2, {args.workers} sync workers each")
    community = start_gunicorn("hotel-community", "hotel_community.demo:app", args.workers, env, tmp)
    servers.append(community)
    bare = start_gunicorn("bare", "bare_app:app", args.workers, env, tmp, ("--pythonpath", str(BENCH)))
    servers.append(bare)
    wait_ready(community, "/")
    wait_ready(bare, "/health")

    code = page_path.rsplit("/", 1)[1]
    targets = [(community, community.base + page_path, lambda body: "data-order-form" in body),
               (bare, f"{bare.base}/p/{code}", lambda body: "Silk pillow no. 0" in body)]
    for server, url, check in targets:
        warm = get_all(server.name, url, {}, args.workers * 10, args.threads, 30, check)
        if warm.errors:
            raise RuntimeError(f"{server.name} warm-up failed: {warm.errors[:3]}\n{server.log_tail()}")

    results = {server.name: LoadResult(server.name) for server, *_ in targets}
    rounds = max(1, min(args.rounds, args.requests))
    deadline = time.monotonic() + args.time_limit
    for number in range(1, rounds + 1):
        share = args.requests * number // rounds - args.requests * (number - 1) // rounds
        for server, url, check in (targets if number % 2 else targets[::-1]):
            part = get_all(server.name, url, {}, share, args.threads,
                           max(0.0, deadline - time.monotonic()), check)
            results[server.name].add(part)
            log(f"round {number}/{rounds} {server.name}: {part.ok}/{share} ok "
                f"in {part.elapsed:.1f} s ({part.per_second:.0f}/s)")
    for server in servers:
        server.stop()

    log("writing the label PDF")
    label_count, pdf_seconds, pages, size = time_label_pdf(app, tmp)
    return report(args, results, small, large, small_rows, large_rows,
                  (label_count, pdf_seconds, pages, size))


def report(args: argparse.Namespace, results: dict[str, LoadResult],
           small: tuple[Measured, Measured], large: tuple[Measured, Measured],
           small_rows: list, large_rows: list, pdf: tuple[int, float, int, int]) -> int:
    hc, base = results["hotel-community"], results["bare"]
    failures: list[str] = []
    print()
    print(f"hotel-community QR page benchmark  ({os.cpu_count()} CPUs; gunicorn {args.workers} sync "
          f"workers per server; {args.threads} client threads; PostgreSQL)")
    print(f"hotel: {args.placements:,} placements of {args.products:,} products, {PHOTOS} photos "
          f"each; the page of a room placement, opened by a passer-by")
    print_load([hc, base], failures)
    print(f"  requests/s per round ({len(hc.round_rates)} rounds, servers alternating):")
    for result in (hc, base):
        print(f"    {result.name:<16} " + "  ".join(f"{rate:7.1f}" for rate in result.round_rates))
    print()
    ratio = base.per_second / hc.per_second if hc.per_second else float("inf")
    print(f"placement page requests/s (hotel-community): {hc.per_second:8.1f}")
    print(f"bare Flask+SQLAlchemy page requests/s:       {base.per_second:8.1f}")
    print(f"ratio (bare / hotel-community):              {ratio:8.2f}x")
    sizes = (f"@{SMALL_PLACEMENTS} placements/{SMALL_PRODUCTS} products",
             f"@{args.placements:,}/{args.products:,}")
    for who, index in (("passer-by", 0), ("guest in house", 1)):
        counts = (small[index].count, large[index].count)
        print(f"SQL statements per placement page, {who}: {sizes[0]}: {counts[0]}, "
              f"{sizes[1]}: {counts[1]}   ({large[index].verbs()})")
        if counts[0] != counts[1]:
            failures.append(f"{who}: {counts[0]} statements per page small, {counts[1]} large")
    print(f"rows examined by the passer-by page's SELECTs (EXPLAIN ANALYZE) {sizes[0]}: "
          f"{sum(rows for rows, _, _ in small_rows):,}, {sizes[1]}: "
          f"{sum(rows for rows, _, _ in large_rows):,}")
    for rows, seq, statement in large_rows:
        if seq:
            print(f"  seq scan on {', '.join(seq)}: {statement[:200]}")
    labels, seconds, pages, size = pdf
    print(f"label PDF: {labels:,} labels in {seconds:.2f} s ({labels / seconds:.0f} labels/s), "
          f"{pages} pages, {size / 1e6:.1f} MB")
    if failures:
        print("\nFAILED: " + "; ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    stop_cleanly_on_sigterm()
    sys.exit(main())
