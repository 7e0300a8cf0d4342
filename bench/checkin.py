"""Check-in benchmark: signed PMS events through the HTTP API into PostgreSQL.

Run it with ``make bench``, which runs::

    .venv/bin/python bench/checkin.py            # defaults: 2,000 events, 3 workers, 8 threads
    .venv/bin/python bench/checkin.py --events 5000 --workers 4 --threads 12

It needs PostgreSQL on 127.0.0.1 (``--server``, default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``, or the environment
variable ``HOTEL_COMMUNITY_BENCH_POSTGRES``; the user must be allowed to
create databases) and the ``test`` extra (gunicorn, requests, psycopg).

What it does, in one run, all on 127.0.0.1:

1. creates a fresh database ``hc_bench_<random>`` (dropped at the end, also on
   error or Ctrl-C), migrates it with ``flask --app hotel_community.demo
   community db upgrade`` and creates a property and an API key with the
   ``flask community`` CLI, as a hotel would;
2. starts two gunicorn servers (sync workers, free ports): the demo host app
   ``hotel_community.demo:app`` and ``bench/bare_app.py``, a bare Flask +
   Flask-SQLAlchemy route that takes the same JSON body and does one INSERT;
3. sends ``--events`` signed check-in events (unique event ids, distinct
   reservations, one or two guests each) from ``--threads`` client threads (a
   ``requests.Session`` each) to ``POST /community/api/v1/pms/events``, and
   the same bodies to the bare route, the two servers taking turns in
   ``--rounds`` rounds (so background load on the machine weighs on both),
   and prints events per second for both and their ratio. Gunicorn's sync
   workers close the connection after each response, so both servers pay
   the same reconnects. Planner statistics are refreshed (``ANALYZE``)
   before each round, as autovacuum does on a live database;
4. in-process (the demo app's test client, the whole request) counts the SQL
   statements of one check-in, one room move and one check-out with a
   ``before_cursor_execute`` listener when the property holds 10 and then
   1,000 in-house stays, and replays that check-in's SELECTs under
   ``EXPLAIN ANALYZE`` (sequential scans off) to count the rows they examine:
   a query that reads the whole hotel shows up as growing with it.

It exits non-zero when an event fails or when the statement count of a
check-in (or move, or check-out) differs between 10 and 1,000 guests in house.
The client shares the machine's cores with the servers: compare the ratio,
not the absolute figures, between machines.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
DEFAULT_SERVER = os.environ.get("HOTEL_COMMUNITY_BENCH_POSTGRES",
                                "postgresql+psycopg://postgres@127.0.0.1:5432/test")
API_PATH = "/community/api/v1/pms/events"
HTTP_PROPERTY, COUNT_PROPERTY = "BENCH", "SQLCOUNT"
SMALL, LARGE = 10, 1000
FIRST = ["Mei", "Oliver", "Sofia", "Hiroshi", "Li", "Amara", "Lukas", "Ana", "Wei", "Noah",
         "Yuki", "Fatima", "Jonas", "Chloe", "Ravi", "Elena"]
LAST = ["Chen", "Smith", "Rossi", "Tanaka", "Wang", "Okafor", "Muller", "Silva", "Zhang", "Brown",
        "Sato", "Haddad", "Berg", "Martin", "Patel", "Ivanova"]
SCAN_NODES = {"Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan"}
sys.path.insert(0, str(ROOT))  # benchmark the tree this script lives in


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- events

class EventFactory:
    """Check-in events as a PMS sends them: unique ids, distinct reservations, 1-2 guests."""

    def __init__(self, property_code: str, tag: str, seed: int = 7) -> None:
        self.property_code, self.tag = property_code, tag
        self.rng = random.Random(seed)
        self.n = 0
        self.today = date.today()

    def check_in(self, guests: int | None = None, room: str | None = None) -> dict[str, Any]:
        self.n += 1
        n, rng = self.n, self.rng
        count = guests if guests is not None else (2 if rng.random() < 0.4 else 1)
        arrival = self.today - timedelta(days=rng.randrange(0, 2))
        return {
            "id": f"{self.tag}-evt-{n}-{secrets.token_hex(4)}",
            "occurred_at": datetime.now(timezone.utc).isoformat(),
            "property": self.property_code,
            "stay": {
                "reservation_id": f"{self.tag}-R{n:06d}",
                "status": "in_house",
                "room": room or f"{1 + n % 30}{n % 97:02d}",
                "arrival": arrival.isoformat(),
                "departure": (arrival + timedelta(days=rng.randrange(1, 6))).isoformat(),
                "guests": [{
                    "pms_guest_id": f"{self.tag}-G{n}-{g}",
                    "first_name": rng.choice(FIRST),
                    "last_name": rng.choice(LAST),
                    "email": f"{self.tag.lower()}.{n}.{g}@example.com",
                    "phone": f"+8613{rng.randrange(10**8, 10**9)}" if g == 0 else None,
                    "language": rng.choice(["en", "zh"]),
                    "primary": g == 0,
                } for g in range(count)],
            },
        }

    def follow_up(self, payload: dict[str, Any], **stay_changes: Any) -> dict[str, Any]:
        """A later event for the same stay (room move, check-out)."""
        self.n += 1
        return {**payload, "id": f"{self.tag}-evt-{self.n}-{secrets.token_hex(4)}",
                "occurred_at": datetime.now(timezone.utc).isoformat(),
                "stay": {**payload["stay"], **stay_changes}}


def signed_headers(key_id: str, secret: str, body: bytes) -> dict[str, str]:
    from hotel_community.services.api_keys import KEY_HEADER, SIGNATURE_HEADER, sign

    return {KEY_HEADER: key_id, SIGNATURE_HEADER: sign(secret, body),
            "Content-Type": "application/json"}


# --------------------------------------------------------------------------- database

def local_server(url: str) -> sa.URL:
    server = sa.make_url(url)
    if server.get_backend_name() != "postgresql" or server.host not in ("127.0.0.1", "localhost"):
        raise SystemExit(f"--server must be PostgreSQL on 127.0.0.1, not {server!r}")
    return server.set(host="127.0.0.1")


def run_cli(env: dict[str, str], *args: str) -> str:
    command = [sys.executable, "-m", "flask", "--app", "hotel_community.demo", "community", *args]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[2:])} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


# --------------------------------------------------------------------------- servers

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    name: str
    process: subprocess.Popen
    port: int
    log_path: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self) -> str:
        try:
            return "\n".join(self.log_path.read_text().splitlines()[-30:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)  # the gunicorn master we started, and its workers
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


def start_gunicorn(name: str, app: str, workers: int, env: dict[str, str], tmp: Path,
                   extra: tuple[str, ...] = ()) -> Server:
    port = free_port()
    log_path = tmp / f"{name}.log"
    command = [sys.executable, "-m", "gunicorn", app, *extra, "--bind", f"127.0.0.1:{port}",
               "--workers", str(workers), "--worker-class", "sync", "--backlog", "2048",
               "--timeout", "60", "--log-level", "warning", "--error-logfile", str(log_path)]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.STDOUT, start_new_session=True)
    return Server(name, process, port, log_path)


def wait_ready(server: Server, path: str, timeout: float = 45.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited at start-up:\n{server.log_tail()}")
        try:
            if requests.get(server.base + path, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{server.name} not ready after {timeout:.0f} s:\n{server.log_tail()}")


# --------------------------------------------------------------------------- load

@dataclass
class LoadResult:
    name: str
    sent: int = 0
    ok: int = 0
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    round_rates: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    timed_out: bool = False

    @property
    def per_second(self) -> float:
        return self.ok / self.elapsed if self.elapsed else 0.0

    def add(self, part: LoadResult) -> None:
        """Fold one round into the total."""
        self.sent += part.sent
        self.ok += part.ok
        self.elapsed += part.elapsed
        self.latencies += part.latencies
        self.errors += part.errors
        self.timed_out = self.timed_out or part.timed_out
        self.round_rates.append(part.per_second)

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000


def print_load(results: list[LoadResult], failures: list[str]) -> None:
    """One line per server (requests, errors, time, latency), noting failed requests in ``failures``."""
    for result in results:
        print(f"  {result.name:<16} {result.ok:>6} ok  {len(result.errors):>4} errors  "
              f"{result.elapsed:6.1f} s   latency p50 {result.percentile(0.50):6.1f} ms  "
              f"p95 {result.percentile(0.95):6.1f} ms" + ("  (stopped at time limit)" if result.timed_out else ""))
        if result.errors:
            failures.append(f"{result.name}: {len(result.errors)} failed requests")
            for error in result.errors[:5]:
                print(f"      {error}")


def send_all(name: str, url: str, bodies: list[bytes], headers: Callable[[bytes], dict[str, str]],
             threads: int, time_limit: float) -> LoadResult:
    """POST every body once from ``threads`` threads; stops early at ``time_limit`` seconds."""
    result, lock, stop = LoadResult(name), threading.Lock(), threading.Event()
    pending = iter(range(len(bodies)))
    deadline = time.monotonic() + time_limit

    def client() -> None:
        session = requests.Session()
        try:
            while True:
                with lock:
                    index = None if stop.is_set() else next(pending, None)
                    if index is not None and time.monotonic() > deadline:
                        result.timed_out, index = True, None
                    if index is None:
                        return
                    result.sent += 1
                body = bodies[index]
                sent_at = time.perf_counter()
                try:
                    response = session.post(url, data=body, headers=headers(body), timeout=30)
                    answer = response.json() if response.status_code == 200 else None
                except (requests.RequestException, ValueError) as exc:
                    with lock:
                        result.errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                finished = time.perf_counter()
                with lock:
                    if answer is not None and answer.get("result") == "applied":
                        result.ok += 1
                        result.latencies.append(finished - sent_at)
                    else:
                        result.errors.append(f"HTTP {response.status_code}: {response.text[:300]}")
        finally:
            session.close()

    workers = [threading.Thread(target=client, name=f"{name}-client-{i}", daemon=True)
               for i in range(threads)]
    started = time.perf_counter()
    try:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    finally:
        stop.set()  # Ctrl-C or SIGTERM while waiting: the clients send nothing more
    result.elapsed = time.perf_counter() - started
    return result


# --------------------------------------------------------------------------- statements

@dataclass
class Measured:
    statements: list[tuple[str, Any, bool]]

    @property
    def count(self) -> int:
        return len(self.statements)

    def verbs(self) -> str:
        counts: dict[str, int] = {}
        for statement, _, _ in self.statements:
            verb = statement.split(None, 1)[0].upper()
            verb = "SAVEPOINT/RELEASE" if verb in ("SAVEPOINT", "RELEASE") else verb
            counts[verb] = counts.get(verb, 0) + 1
        return ", ".join(f"{n} {verb}" for verb, n in sorted(counts.items(), key=lambda i: -i[1]))

    def shapes(self) -> list[str]:
        return [" ".join(statement.split())[:150] for statement, _, _ in self.statements]


class StatementCounter:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine, self.active, self.seen = engine, False, []
        sa.event.listen(engine, "before_cursor_execute", self._before)

    def _before(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if self.active:
            self.seen.append((statement, parameters, executemany))

    def measure(self, action: Callable[[], None]) -> Measured:
        self.seen, self.active = [], True
        try:
            action()
        finally:
            self.active = False
        return Measured(self.seen)


def rows_examined(engine: sa.Engine, measured: Measured) -> list[tuple[int, list[str], str]]:
    """Replay the SELECTs under EXPLAIN ANALYZE (seq scans off, rolled back).

    Per SELECT: rows the scan nodes read (returned plus removed by filters),
    the tables read by sequential scan anyway (no usable index), the statement.
    """
    found = []
    with engine.connect() as connection:
        transaction = connection.begin()
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        for statement, parameters, executemany in measured.statements:
            if executemany or not statement.lstrip().upper().startswith("SELECT"):
                continue
            plan = connection.exec_driver_sql(
                "EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters).scalar()
            plan = json.loads(plan) if isinstance(plan, str) else plan
            rows, seq = 0, []
            stack = [plan[0]["Plan"]]
            while stack:
                node = stack.pop()
                stack.extend(node.get("Plans", []))
                if node["Node Type"] in SCAN_NODES:
                    loops = node.get("Actual Loops", 1)
                    rows += int(node.get("Actual Rows", 0) * loops
                                + node.get("Rows Removed by Filter", 0)
                                + node.get("Rows Removed by Index Recheck", 0))
                    if node["Node Type"] == "Seq Scan":
                        seq.append(node.get("Relation Name", "?"))
            found.append((rows, seq, " ".join(statement.split())))
        transaction.rollback()
    return found


def seed_in_house(app, factory: EventFactory, count: int, label: str) -> None:
    """``count`` more in-house stays at the counting property, through the check-in service."""
    from hotel_community.schemas.pms import PmsEventSchema
    from hotel_community.services import checkin, properties

    schema = PmsEventSchema()
    started = time.monotonic()
    with app.app_context():
        prop = properties.get_property(COUNT_PROPERTY)
        for i in range(count):
            payload = factory.check_in()
            outcome = checkin.apply_event(prop, schema.load(payload)["event"], payload)
            if outcome.result != "applied":
                raise RuntimeError(f"seeding: {outcome.result} for {payload['id']}")
            if (i + 1) % 100 == 0 or i + 1 == count:
                log(f"seeding {label}: {i + 1}/{count} in-house stays added "
                    f"({time.monotonic() - started:.1f} s)")


def analyze(engine: sa.Engine) -> None:
    """Fresh planner statistics, as autovacuum keeps them on a live database."""
    with engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE")
        connection.commit()


def in_house_count(app) -> int:
    from hotel_community.database import session
    from hotel_community.models import Property, Stay, StayStatus

    with app.app_context():
        return session.scalar(sa.select(sa.func.count()).select_from(Stay).join(Property)
                              .where(Property.code == COUNT_PROPERTY,
                                     Stay.status == StayStatus.in_house))


def measure_at(app, counter: StatementCounter, factory: EventFactory, key_id: str,
               secret: str) -> dict[str, Measured]:
    """Statements of one check-in (2 new guests), one room move and one check-out."""
    client = app.test_client()

    def post(payload: dict[str, Any]) -> Callable[[], None]:
        def action() -> None:
            body = json.dumps(payload).encode()
            response = client.post(API_PATH, data=body, headers=signed_headers(key_id, secret, body))
            if response.status_code != 200 or response.get_json()["result"] != "applied":
                raise RuntimeError(f"{payload['id']}: {response.status_code} {response.text}")
        return action

    checked_in = factory.check_in(guests=2, room="777")
    moved = factory.follow_up(checked_in, room="778")
    checked_out = factory.follow_up(moved, status="checked_out")
    return {"check-in": counter.measure(post(checked_in)),
            "room move": counter.measure(post(moved)),
            "check-out": counter.measure(post(checked_out))}


def print_difference(kind: str, small: Measured, large: Measured) -> None:
    import difflib

    print(f"\n{kind}: statements differ between {SMALL} and {LARGE} in house:")
    for line in difflib.unified_diff(small.shapes(), large.shapes(), f"@{SMALL}", f"@{LARGE}",
                                     lineterm="", n=1):
        print("  " + line)


# --------------------------------------------------------------------------- main

def load_options(description: str, time_limit: float) -> argparse.ArgumentParser:
    """The options every load benchmark has: gunicorn workers, client threads, rounds,
    the PostgreSQL server and the time limit; the benchmark adds its own sizes."""
    parser = argparse.ArgumentParser(description=description.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers (default 3)")
    parser.add_argument("--threads", type=int, default=8, help="client threads (default 8)")
    parser.add_argument("--rounds", type=int, default=4,
                        help="the servers take turns in this many rounds (default 4)")
    parser.add_argument("--server", default=DEFAULT_SERVER,
                        help="PostgreSQL server URL on 127.0.0.1 (its database is only used to "
                             "create and drop the benchmark's own)")
    parser.add_argument("--time-limit", type=float, default=time_limit,
                        help="seconds for all HTTP rounds before they stop early "
                             f"(default {time_limit:g})")
    return parser


def parse_counts(parser: argparse.ArgumentParser, *counts: str) -> argparse.Namespace:
    """Parse, refusing a count (``counts``, workers, threads, rounds) below 1."""
    args = parser.parse_args()
    for name in (*counts, "workers", "threads", "rounds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    return args


def parse_args() -> argparse.Namespace:
    parser = load_options(__doc__, time_limit=120.0)
    parser.add_argument("--events", type=int, default=2000, help="events per server (default 2000)")
    return parse_counts(parser, "events")


def main() -> int:
    return in_fresh_database(parse_args(), run)


def in_fresh_database(args: argparse.Namespace, run: Callable[..., int]) -> int:
    """``run(args, database_url, servers, engines, tmp)`` in a database made for it.

    The database, the servers ``run`` starts and its temporary files are gone
    afterwards, whatever happened.
    """
    server_url = local_server(args.server)
    name = f"hc_bench_{secrets.token_hex(5)}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    log(f"created database {name}")
    database_url = server_url.set(database=name).render_as_string(hide_password=False)
    servers: list[Server] = []
    engines: list[sa.Engine] = []
    tmp = Path(tempfile.mkdtemp(prefix="hc_bench_"))
    try:
        return run(args, database_url, servers, engines, tmp)
    finally:
        for server in servers:
            server.stop()
        for engine in engines:
            engine.dispose()
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
        log(f"dropped database {name}")
        for path in tmp.iterdir():
            path.unlink()
        tmp.rmdir()


def migrate_with_property(database_url: str, code: str, name: str) -> dict[str, str]:
    """Migrate the database and create a property, through the CLI; returns the env used.

    The in-process apps and the gunicorn children read the same variable.
    """
    os.environ["FLASK_SQLALCHEMY_DATABASE_URI"] = database_url
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    log("migrating: flask --app hotel_community.demo community db upgrade")
    run_cli(env, "db", "upgrade")
    run_cli(env, "property", "create", "--code", code, "--name", name,
            "--timezone", "Asia/Shanghai", "--currency", "CNY")
    return env


def run(args: argparse.Namespace, database_url: str, servers: list[Server],
        engines: list[sa.Engine], tmp: Path) -> int:
    env = migrate_with_property(database_url, HTTP_PROPERTY, "Bench Hotel")
    created = dict(line.split(": ", 1) for line in
                   run_cli(env, "api-key", "create", "--property", HTTP_PROPERTY,
                           "--label", "bench").splitlines() if ": " in line)
    key_id, secret = created["key id"], created["secret"]

    sys.path.insert(0, str(BENCH))
    import bare_app  # noqa: E402  (reads FLASK_SQLALCHEMY_DATABASE_URI)

    with bare_app.app.app_context():
        bare_app.db.create_all()
        engines.append(bare_app.db.engine)

    log(f"starting gunicorn x2, {args.workers} sync workers each")
    community = start_gunicorn("hotel-community", "hotel_community.demo:app", args.workers, env, tmp)
    servers.append(community)
    bare = start_gunicorn("bare", "bare_app:app", args.workers, env, tmp,
                          ("--pythonpath", str(BENCH)))
    servers.append(bare)
    wait_ready(community, "/")
    wait_ready(bare, "/health")

    factory = EventFactory(HTTP_PROPERTY, f"B{secrets.token_hex(3)}")
    warm = [json.dumps(factory.check_in()).encode() for _ in range(args.workers * 10)]
    bodies = [json.dumps(factory.check_in()).encode() for _ in range(args.events)]
    guests = sum(len(json.loads(b)["stay"]["guests"]) for b in bodies)
    sign_headers = lambda body: signed_headers(key_id, secret, body)  # noqa: E731
    plain_headers = lambda body: {"Content-Type": "application/json"}  # noqa: E731

    check = sa.create_engine(database_url)
    engines.append(check)
    targets = [(community, community.base + API_PATH, sign_headers),
               (bare, bare.base + "/events", plain_headers)]
    for server, url, headers in targets:
        warm_up = send_all(server.name, url, warm, headers, args.threads, 30)
        if warm_up.errors:
            raise RuntimeError(f"{server.name} warm-up failed: {warm_up.errors[:3]}\n{server.log_tail()}")
    # The two servers take turns, round by round, so that whatever else the
    # machine is doing weighs on both; the same bodies go to both.
    results = {server.name: LoadResult(server.name) for server, _, _ in targets}
    rounds = max(1, min(args.rounds, args.events))
    chunks = [bodies[i * len(bodies) // rounds:(i + 1) * len(bodies) // rounds] for i in range(rounds)]
    deadline = time.monotonic() + args.time_limit
    for number, chunk in enumerate(chunks, 1):
        analyze(check)  # as autovacuum would, while the hotel fills up
        for server, url, headers in (targets if number % 2 else targets[::-1]):
            part = send_all(server.name, url, chunk, headers, args.threads,
                            max(0.0, deadline - time.monotonic()))
            results[server.name].add(part)
            log(f"round {number}/{rounds} {server.name}: {part.ok}/{len(chunk)} ok "
                f"in {part.elapsed:.1f} s ({part.per_second:.0f}/s)")
    for server in servers:
        server.stop()

    # Sanity: what the HTTP run stored.
    with check.connect() as connection:
        stored_stays = connection.execute(sa.text(
            "SELECT count(*) FROM hc_stay s JOIN hc_property p ON p.id = s.property_id "
            "WHERE p.code = :code AND s.status = 'in_house'"), {"code": HTTP_PROPERTY}).scalar()
        stored_rows = connection.execute(sa.text("SELECT count(*) FROM bench_bare_event")).scalar()

    # Statements per check-in at 10 and at 1,000 guests in house, in process.
    from hotel_community import demo
    from hotel_community.services import api_keys, properties

    app = demo.app
    with app.app_context():
        properties.create_property(COUNT_PROPERTY, "Counting Hotel", "UTC", "USD")
        key, count_secret = api_keys.create_api_key(properties.get_property(COUNT_PROPERTY))
        count_key_id = key.key_id
        engine = app.extensions["sqlalchemy"].engine
    engines.append(engine)
    counter = StatementCounter(engine)
    seed_factory = EventFactory(COUNT_PROPERTY, "S", seed=11)
    probe_factory = EventFactory(COUNT_PROPERTY, "P", seed=13)

    seed_in_house(app, seed_factory, SMALL, f"@{SMALL}")
    analyze(engine)
    at_small_in_house = in_house_count(app)
    small = measure_at(app, counter, probe_factory, count_key_id, count_secret)
    small_rows = rows_examined(engine, small["check-in"])
    seed_in_house(app, seed_factory, LARGE - SMALL, f"@{LARGE}")
    analyze(engine)
    at_large_in_house = in_house_count(app)
    large = measure_at(app, counter, probe_factory, count_key_id, count_secret)
    large_rows = rows_examined(engine, large["check-in"])

    # ------------------------------------------------------------------ report
    hc, base = results["hotel-community"], results["bare"]
    failures: list[str] = []
    print()
    print(f"hotel-community check-in benchmark  ({os.cpu_count()} CPUs; gunicorn {args.workers} sync "
          f"workers per server; {args.threads} client threads; PostgreSQL "
          f"{sa.make_url(database_url).host}:{sa.make_url(database_url).port})")
    print(f"events: {args.events} per server, {guests} guests "
          f"({guests / args.events:.2f} per reservation), all distinct reservations")
    print_load([hc, base], failures)
    print(f"  events/s per round ({len(hc.round_rates)} rounds, servers alternating; the hotel fills "
          f"up from {len(warm)} to {len(warm) + hc.ok} in house):")
    for result in (hc, base):
        print(f"    {result.name:<16} " + "  ".join(f"{rate:7.1f}" for rate in result.round_rates))
    print(f"  stored: {stored_stays} in-house stays at {HTTP_PROPERTY} "
          f"(expected {hc.ok + len(warm)} incl. warm-up), {stored_rows} bare rows")
    print()
    ratio = base.per_second / hc.per_second if hc.per_second else float("inf")
    print(f"check-in events/s (hotel-community):  {hc.per_second:8.1f}")
    print(f"bare Flask+SQLAlchemy insert/s:       {base.per_second:8.1f}")
    print(f"ratio (bare / hotel-community):       {ratio:8.2f}x")
    print(f"SQL statements per check-in @{SMALL} in house: {small['check-in'].count}, "
          f"@{LARGE} in house: {large['check-in'].count}")
    print(f"  (measured with {at_small_in_house} and {at_large_in_house} in-house stays; "
          f"whole request: auth, inbox, stay, 2 new guests, memberships, answer)")
    print(f"  per check-in: {large['check-in'].verbs()}")
    for kind in ("room move", "check-out"):
        print(f"SQL statements per {kind} @{SMALL}: {small[kind].count}, @{LARGE}: {large[kind].count}")
    print(f"rows examined by the check-in's SELECTs (EXPLAIN ANALYZE after ANALYZE) @{SMALL}: "
          f"{sum(r for r, _, _ in small_rows)}, @{LARGE}: {sum(r for r, _, _ in large_rows)}")
    for (rows_s, _, _), (rows_l, seq, text) in zip(small_rows, large_rows):
        if rows_l > max(rows_s, 1) * 5 or seq:
            note = f"seq scan on {', '.join(seq)}; " if seq else ""
            print(f"  grows or scans: {rows_s} -> {rows_l} rows; {note}{text[:200]}")

    for kind in ("check-in", "room move", "check-out"):
        if small[kind].count != large[kind].count:
            failures.append(f"{kind}: {small[kind].count} statements @{SMALL} "
                            f"but {large[kind].count} @{LARGE}")
            print_difference(kind, small[kind], large[kind])
    if at_small_in_house < SMALL or at_large_in_house < LARGE:
        failures.append("seeding did not reach the in-house counts")
    if failures:
        print("\nFAILED: " + "; ".join(failures))
        return 1
    return 0


def stop_cleanly_on_sigterm() -> None:
    """A SIGTERM ends the run like an error: the servers stop and the database is dropped."""
    def terminate(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, terminate)


if __name__ == "__main__":
    stop_cleanly_on_sigterm()
    sys.exit(main())
