"""Feed benchmark: a stay group's feed page with 100,000 posts and 1,000 guests in house.

Run it with ``make bench-feed``, which runs::

    .venv/bin/python bench/feed.py              # defaults: 100,000 posts, 1,000 members
    .venv/bin/python bench/feed.py --posts 300000 --requests 3000 --workers 4

It needs PostgreSQL on 127.0.0.1 (``--server``, default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``, or the environment
variable ``HOTEL_COMMUNITY_BENCH_POSTGRES``; the user must be allowed to
create databases) and the ``test`` extra (gunicorn, requests, psycopg). It
shares its plumbing (servers, statement counter, EXPLAIN) with
``bench/checkin.py``.

What it does, in one run, all on 127.0.0.1:

1. creates a fresh database ``hc_bench_<random>`` (dropped at the end, also on
   error or Ctrl-C), migrates it and creates a property with the
   ``flask community`` CLI, as a hotel would;
2. checks in the guest whose page is measured (through the check-in service,
   so they have a real stay and access link), and bulk-inserts the other
   members in house (half of them visible, a third with a display name),
   their open memberships of the stay group, a pinned announcement and a few
   blocks of the measured guest, all by ``INSERT ... SELECT``;
3. bulk-inserts posts in chunks (four in five top-level, one in five a reply to
   a recent post; reactions on half the top-level posts), with a progress bar
   on stderr: first up to 1,000, where it counts the SQL statements of one
   feed page in process (the demo app's test client, the whole request, with
   a ``before_cursor_execute`` listener) and replays its SELECTs under
   ``EXPLAIN ANALYZE``; then up to ``--posts``, where it counts again;
4. starts two gunicorn servers (sync workers, free ports): the demo host app
   and ``bench/bare_app.py``, whose ``GET /feed/<group>`` reads the same page
   of rows (the newest top-level posts joined with their authors and
   profiles) and renders it, without sign-in or membership checks, replies,
   reactions or blocks; signs the guest in by opening their access link with
   ``requests`` (the session cookie every request then carries), checks both
   pages show the same posts, and sends ``--requests`` GETs of the feed page
   to each from ``--threads`` client threads, the servers taking turns in
   ``--rounds`` rounds; then the polling endpoint (``/updates?after=<newest>``,
   nothing new) that every open page calls every few seconds;
5. prints requests per second for both pages, their ratio, the polling rate,
   and the SQL statements per page at 1,000 and at ``--posts`` posts.

It exits non-zero when a request fails or when the statement counts differ.
The client shares the machine's cores with the servers: compare the ratio,
not the absolute figures, between machines.
"""
from __future__ import annotations

import argparse
import os
import random
import re
import sys
import threading
import time
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

import requests
import sqlalchemy as sa

from checkin import (  # bench/ is on sys.path when this file runs
    LoadResult, Measured, Server, StatementCounter, analyze, in_fresh_database, load_options,
    log, migrate_with_property, parse_counts, print_load, rows_examined, start_gunicorn,
    stop_cleanly_on_sigterm, wait_ready,
)

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
PROPERTY = "FEED"
SMALL = 1000
#: Posts per transaction while seeding: 10 steps of 1,000 each, so that replies
#: and new posts take turns in the id order, as they do in a live feed.
CHUNK, STEP = 10_000, 1_000
POST_ID = re.compile(r'data-post-id="(\d+)"')
BARE_ID = re.compile(r'<li id="post-(\d+)"')
sys.path.insert(0, str(ROOT))  # benchmark the tree this script lives in


# --------------------------------------------------------------------------- seeding

def progress(label: str, done: int, total: int, started: float) -> None:
    width = 30
    filled = width * done // max(total, 1)
    end = "\n" if done >= total else ""
    print(f"\r[bench] {label} [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,} "
          f"({time.monotonic() - started:.1f} s)", end=end, file=sys.stderr, flush=True)


def seed_members(connection: sa.Connection, group_id: int, count: int, viewer_id: int) -> None:
    """``count`` members in house: stay group memberships, profiles, some blocks of the viewer."""
    connection.execute(sa.text("""
        WITH new AS (
            INSERT INTO hc_member (first_name, last_name, language, visible, created_at, updated_at)
            SELECT 'Guest' || g, 'Family' || (g % 211), CASE WHEN g % 3 = 0 THEN 'zh' ELSE 'en' END,
                   g % 2 = 0, timezone('UTC', now()), timezone('UTC', now())
            FROM generate_series(1, :count) AS g
            RETURNING id)
        INSERT INTO hc_membership (group_id, member_id, role, joined_at)
        SELECT :group_id, id, 'member', timezone('UTC', now()) FROM new"""),
        {"count": count, "group_id": group_id})
    connection.execute(sa.text("""
        INSERT INTO hc_profile (member_id, display_name, photo, languages, updated_at)
        SELECT m.member_id, CASE WHEN m.member_id % 3 = 0 THEN 'Traveller ' || m.member_id END,
               NULL, CAST('["en"]' AS json), timezone('UTC', now())
        FROM hc_membership m WHERE m.group_id = :group_id AND m.member_id <> :viewer"""),
        {"group_id": group_id, "viewer": viewer_id})
    # Everyone, the measured guest too, has been in house for three days: the
    # stay group feed shows them its posts from a day before that on.
    connection.execute(sa.text("""
        UPDATE hc_membership SET joined_at = timezone('UTC', now()) - interval '3 days'
        WHERE group_id = :group_id"""), {"group_id": group_id})
    # The measured guest blocked three members, and two blocked them.
    connection.execute(sa.text("""
        INSERT INTO hc_block (blocker_id, blocked_id, created_at)
        SELECT CASE WHEN n <= 3 THEN :viewer ELSE member_id END,
               CASE WHEN n <= 3 THEN member_id ELSE :viewer END, timezone('UTC', now())
        FROM (SELECT member_id, row_number() OVER (ORDER BY member_id) AS n
              FROM hc_membership WHERE group_id = :group_id AND member_id <> :viewer) AS picked
        WHERE n <= 5"""), {"group_id": group_id, "viewer": viewer_id})
    connection.execute(sa.text("""
        INSERT INTO hc_post (group_id, author_id, kind, staff_author, body, pinned, created_at)
        VALUES (:group_id, NULL, 'announcement', 'Front Desk',
                'Welcome drinks tonight at 7 in the lobby bar!', true, timezone('UTC', now()) - interval '2 days')"""),
        {"group_id": group_id})


def seed_posts(connection: sa.Connection, group_id: int, count: int, rng: random.Random,
               age: int) -> None:
    """``count`` more rows of hc_post: 4 in 5 top-level, 1 in 5 a reply; reactions on half.

    The first is ``age`` seconds old, the others a second younger each.
    """
    authors = list(connection.execute(sa.text(
        "SELECT member_id FROM hc_membership WHERE group_id = :g AND left_at IS NULL"),
        {"g": group_id}).scalars())
    top = count * 4 // 5
    ids = list(connection.execute(sa.text("""
        INSERT INTO hc_post (group_id, author_id, kind, body, pinned, created_at)
        SELECT :group_id, (CAST(:authors AS integer[]))[1 + (g * 7919) % cardinality(CAST(:authors AS integer[]))],
               'post', 'Post ' || g || ': anyone up for a walk by the river? https://example.com/map',
               false, timezone('UTC', now()) - make_interval(secs => :age - g)
        FROM generate_series(1, :top) AS g
        RETURNING id"""), {"group_id": group_id, "authors": authors, "age": age,
                           "top": top}).scalars())
    parents = [rng.choice(ids[-200:] if rng.random() < 0.5 else ids) for _ in range(count - top)]
    connection.execute(sa.text("""
        INSERT INTO hc_post (group_id, author_id, parent_id, kind, body, pinned, created_at)
        SELECT :group_id, (CAST(:authors AS integer[]))[1 + (n * 104729) % cardinality(CAST(:authors AS integer[]))],
               parent, 'post', 'Count me in!', false, timezone('UTC', now())
        FROM unnest(CAST(:parents AS integer[])) WITH ORDINALITY AS r(parent, n)"""),
        {"group_id": group_id, "authors": authors, "parents": parents})
    connection.execute(sa.text("""
        INSERT INTO hc_reaction (post_id, member_id, kind, created_at)
        SELECT p, (CAST(:authors AS integer[]))[1 + ((p * k * 31) % cardinality(CAST(:authors AS integer[])))],
               (ARRAY['like', 'heart', 'laugh'])[k], timezone('UTC', now())
        FROM unnest(CAST(:posts AS integer[])) AS p, generate_series(1, 3) AS k"""),
        {"authors": authors, "posts": ids[::2]})


def seed_up_to(engine: sa.Engine, group_id: int, total: int, rng: random.Random,
               horizon: int) -> int:
    """Posts until the group has ``total``; the ``horizon``-th post is the newest (now)."""
    with engine.connect() as connection:
        have = connection.execute(sa.text("SELECT count(*) FROM hc_post WHERE group_id = :g"),
                                  {"g": group_id}).scalar()
    started = time.monotonic()
    while have < total:
        chunk = min(CHUNK, total - have)
        with engine.begin() as connection:
            for done in range(0, chunk, STEP):
                seed_posts(connection, group_id, min(STEP, chunk - done), rng,
                           horizon - have - done)
        have += chunk
        progress(f"seeding posts up to {total:,}", have, total, started)
    return have


# --------------------------------------------------------------------------- load

def get_all(name: str, url: str, cookies: dict[str, str], count: int, threads: int,
            time_limit: float, check: Callable[[str], bool]) -> LoadResult:
    """GET ``url`` ``count`` times from ``threads`` threads; stops early at ``time_limit``."""
    result, lock = LoadResult(name), threading.Lock()
    remaining = [count]
    deadline = time.monotonic() + time_limit

    def client() -> None:
        with requests.Session() as http:
            http.cookies.update(cookies)
            while True:
                with lock:
                    if remaining[0] <= 0 or time.monotonic() > deadline:
                        result.timed_out = result.timed_out or remaining[0] > 0
                        return
                    remaining[0] -= 1
                    result.sent += 1
                sent_at = time.perf_counter()
                try:
                    response = http.get(url, timeout=30, allow_redirects=False)
                    ok = response.status_code == 200 and check(response.text)
                except requests.RequestException as exc:
                    with lock:
                        result.errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                finished = time.perf_counter()
                with lock:
                    if ok:
                        result.ok += 1
                        result.latencies.append(finished - sent_at)
                    else:
                        result.errors.append(f"HTTP {response.status_code}: {response.text[:200]}")

    workers = [threading.Thread(target=client, daemon=True) for _ in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    result.elapsed = time.perf_counter() - started
    return result


def sign_in(base: str, link_path: str) -> dict[str, str]:
    """The guest's session cookie, got as a guest gets it: by opening the access link."""
    with requests.Session() as http:
        response = http.get(base + link_path, timeout=30)
        if response.status_code != 200 or not http.cookies:
            raise RuntimeError(f"signing in failed: HTTP {response.status_code}")
        return http.cookies.get_dict()


# --------------------------------------------------------------------------- statements

def measure_page(app, counter: StatementCounter, link_path: str, url: str) -> Measured:
    """The statements of one whole feed page request, signed in.

    Each test client request has an app context (and so a database session)
    of its own, as a request of a real server has.
    """
    client = app.test_client()
    if client.get(link_path).status_code != 302:
        raise RuntimeError("signing in with the access link failed")
    client.get(url)  # warm: templates compiled

    def fetch() -> None:
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"feed page: HTTP {response.status_code}")
    return counter.measure(fetch)


# --------------------------------------------------------------------------- main

def parse_args() -> argparse.Namespace:
    parser = load_options(__doc__, time_limit=90.0)
    parser.add_argument("--posts", type=int, default=100_000, help="posts in the group (default 100000)")
    parser.add_argument("--members", type=int, default=1000, help="members in house (default 1000)")
    parser.add_argument("--requests", type=int, default=1500,
                        help="feed page requests per server (default 1500)")
    args = parse_counts(parser, "posts", "members", "requests")
    if args.posts < SMALL:
        parser.error(f"--posts must be at least {SMALL}")
    return args


def main() -> int:
    return in_fresh_database(parse_args(), run)


def check_in_viewer(app) -> tuple[int, int, str]:
    """The guest whose feed is measured: checked in properly. (member id, group id, link path)."""
    from datetime import timedelta

    from hotel_community.models import GroupKind, StayStatus
    from hotel_community.services import access, checkin, properties
    from hotel_community.services.checkin import GuestSnapshot, StaySnapshot

    with app.app_context():
        prop = properties.get_property(PROPERTY)
        today = access.today_at(prop)
        stay = checkin.apply_staff_change(prop, StaySnapshot(
            reservation_id="BENCH-1", status=StayStatus.in_house, room="1204",
            arrival=today - timedelta(days=1), departure=today + timedelta(days=2),
            guests=(GuestSnapshot("Mei", "Chen", email="mei@example.com", primary=True),))).stay
        member = stay.guests[0].member
        group_id = properties.groups_by_kind(prop)[GroupKind.stay].id
        with app.test_request_context():
            path = urlsplit(access.access_url(member, stay)).path
        return member.id, group_id, path


def run(args: argparse.Namespace, database_url: str, servers: list[Server],
        engines: list[sa.Engine], tmp: Path) -> int:
    env = migrate_with_property(database_url, PROPERTY, "Feed Hotel")

    from hotel_community import demo

    app = demo.app
    with app.app_context():
        engine = app.extensions["sqlalchemy"].engine
    engines.append(engine)
    viewer_id, group_id, link_path = check_in_viewer(app)
    rng = random.Random(7)
    started = time.monotonic()
    with engine.begin() as connection:
        seed_members(connection, group_id, args.members - 1, viewer_id)
    log(f"seeded {args.members - 1:,} more members in house ({time.monotonic() - started:.1f} s)")

    counter = StatementCounter(engine)
    page_path = f"/community/groups/{group_id}/"
    seed_up_to(engine, group_id, SMALL, rng, args.posts)
    analyze(engine)
    small = measure_page(app, counter, link_path, page_path)
    small_rows = rows_examined(engine, small)
    posts = seed_up_to(engine, group_id, args.posts, rng, args.posts)
    analyze(engine)
    large = measure_page(app, counter, link_path, page_path)
    large_rows = rows_examined(engine, large)

    log(f"starting gunicorn x2, {args.workers} sync workers each")
    community = start_gunicorn("hotel-community", "hotel_community.demo:app", args.workers, env, tmp)
    servers.append(community)
    bare = start_gunicorn("bare", "bare_app:app", args.workers, env, tmp, ("--pythonpath", str(BENCH)))
    servers.append(bare)
    wait_ready(community, "/")
    wait_ready(bare, "/health")

    cookies = sign_in(community.base, link_path)
    feed_url, bare_url = community.base + page_path, f"{bare.base}/feed/{group_id}"
    first_page = requests.get(feed_url, cookies=cookies, timeout=30).text
    shown = [int(n) for n in POST_ID.findall(first_page)]
    bare_shown = [int(n) for n in BARE_ID.findall(requests.get(bare_url, timeout=30).text)]
    newest = max(shown)
    updates_url = f"{community.base}/community/groups/{group_id}/updates?after={newest}"
    targets = [(community, feed_url, cookies, lambda body: "data-feed-posts" in body),
               (bare, bare_url, {}, lambda body: "<li id=" in body)]
    for server, url, jar, check in targets:
        warm = get_all(server.name, url, jar, args.workers * 10, args.threads, 30, check)
        if warm.errors:
            raise RuntimeError(f"{server.name} warm-up failed: {warm.errors[:3]}\n{server.log_tail()}")

    results = {server.name: LoadResult(server.name) for server, *_ in targets}
    rounds = max(1, min(args.rounds, args.requests))
    deadline = time.monotonic() + args.time_limit
    for number in range(1, rounds + 1):
        share = args.requests * number // rounds - args.requests * (number - 1) // rounds
        for server, url, jar, check in (targets if number % 2 else targets[::-1]):
            part = get_all(server.name, url, jar, share, args.threads,
                           max(0.0, deadline - time.monotonic()), check)
            results[server.name].add(part)
            log(f"round {number}/{rounds} {server.name}: {part.ok}/{share} ok "
                f"in {part.elapsed:.1f} s ({part.per_second:.0f}/s)")
    polling = get_all("updates", updates_url, cookies, args.requests, args.threads,
                      max(10.0, deadline - time.monotonic()), lambda body: '"html":""' in body.replace(" ", ""))
    for server in servers:
        server.stop()

    # ------------------------------------------------------------------ report
    hc, base = results["hotel-community"], results["bare"]
    failures: list[str] = []
    print()
    print(f"hotel-community feed benchmark  ({os.cpu_count()} CPUs; gunicorn {args.workers} sync "
          f"workers per server; {args.threads} client threads; PostgreSQL)")
    print(f"group: {posts:,} posts ({posts * 4 // 5:,} top-level, the rest replies), "
          f"{args.members:,} members in house; the page shows {len(shown)} posts incl. a pinned "
          f"announcement (bare route: {len(bare_shown)} rows, {len(set(shown) & set(bare_shown))} "
          f"the same)")
    print_load([hc, base, polling], failures)
    print(f"  requests/s per round ({len(hc.round_rates)} rounds, servers alternating):")
    for result in (hc, base):
        print(f"    {result.name:<16} " + "  ".join(f"{rate:7.1f}" for rate in result.round_rates))
    print()
    ratio = base.per_second / hc.per_second if hc.per_second else float("inf")
    print(f"feed page requests/s (hotel-community):   {hc.per_second:8.1f}")
    print(f"bare Flask+SQLAlchemy page requests/s:    {base.per_second:8.1f}")
    print(f"ratio (bare / hotel-community):           {ratio:8.2f}x")
    print(f"polling (/updates, nothing new) req/s:    {polling.per_second:8.1f}   "
          f"({args.members:,} open pages polling every 5 s make {args.members / 5:.0f}/s)")
    print(f"SQL statements per feed page @{SMALL:,} posts: {small.count}, @{posts:,} posts: {large.count}")
    print(f"  per page: {large.verbs()} (sign-in, membership, group, posts + authors, pinned, "
          f"replies, reactions, the member's groups)")
    print(f"rows examined by the page's SELECTs (EXPLAIN ANALYZE) @{SMALL:,}: "
          f"{sum(r for r, _, _ in small_rows):,}, @{posts:,}: {sum(r for r, _, _ in large_rows):,}")
    for (rows_s, _, _), (rows_l, seq, statement) in zip(small_rows, large_rows):
        if rows_l > max(rows_s, 1) * 5 or seq:
            note = f"seq scan on {', '.join(seq)}; " if seq else ""
            print(f"  grows or scans: {rows_s:,} -> {rows_l:,} rows; {note}{statement[:200]}")
    if small.count != large.count:
        failures.append(f"{small.count} statements per page @{SMALL} but {large.count} @{posts}")
        import difflib
        for line in difflib.unified_diff(small.shapes(), large.shapes(), lineterm="", n=1):
            print("  " + line)
    if len(set(shown) & set(bare_shown)) < 0.8 * len(bare_shown):
        # The feed leaves out the posts of blocked members (5 of the 1,000): a few at most.
        failures.append("the bare route does not read the same posts as the feed page")
    if failures:
        print("\nFAILED: " + "; ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    stop_cleanly_on_sigterm()
    sys.exit(main())
