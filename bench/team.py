"""A year of a 200-engineer organisation in the team store: a laptop whose pull watermark is
at "one minute ago" runs the real exchange (``cockpit.team.exchange.sync``) against a small
team store (10,000 events) and a large one (3,600,000: a year), the two taking turns; the
ratio large/small is the figure. It also counts the statements (round trips) of an
exchange that pushes 5 events and pulls 60, and prints the fetch query's plan.

Run: python bench/team.py [--events 3600000] [--small 10000] [--runs 15] [--data DIR]
Goal: large/small <= 1.5x.

- The PostgreSQL 15 server is started as the team tests start theirs (initdb, pg_ctl, a Unix
  socket in a temporary folder, as ``postgres`` through ``runuser`` when root; the server
  class is ``tests/team/team_pg.py``'s), with ``pg_stat_statements`` loaded for the counts.
  ``--data DIR`` keeps the cluster in DIR and reuses databases already loaded there.
- Both stores get the real schema (``schema.migrate``), 200 member roles (``m000``..) granted
  ``cockpit_team`` and a year of events from 200 laptops, loaded by the owner with COPY in
  transactions of ``--batch`` rows (so ``tx`` is spread over many loading transactions):
  mostly ``run_event``, a baton offer and acceptance every ~30 events, a note, handoffs,
  drills and insights now and then, ~100 events per incident. Then the last minute: 60
  events pushed as members push them, one INSERT per transaction, by 3 members on 3
  incidents (a baton offer, its acceptance and 18 run events each): the same in both.
- The laptop (member ``m000``) is a real local store (``Store.open``) that holds the 3
  incidents of the last minute, so their baton events are applied; its watermark
  (``team_state`` pull_tx/pull_id) is the position of the last event before the minute.
  Before every timed exchange the laptop is copied afresh from that template (not timed).
  What is timed is the whole ``exchange.sync``: capture, connect, schema check, push
  (nothing), pull of the 60 events, applying them. ``fetch_after`` from the watermark on a
  warm connection (the team store's share) is timed too.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import itertools
import os
import pwd
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import psycopg

from cockpit.records import IncidentRecord
from cockpit.store.engine import Store
from cockpit.store.upsert import upsert_incidents
from cockpit.team import events as team_events
from cockpit.team import exchange, local, schema

ROOT = Path(__file__).resolve().parents[1]
MEMBERS = [f"m{n:03d}" for n in range(200)]
LAPTOP = MEMBERS[0]
LAST_MINUTE = 60  # events
LAST_INCIDENTS = ("pagerduty:QLAST1", "pagerduty:QLAST2", "pagerduty:QLAST3")
PUSHED = 5  # events the laptop pushes in the counted exchange
PER_INCIDENT = 100  # events of one incident, on average
COLUMNS = "id, kind, incident_key, payload, origin, author, created_at"
GOAL = 1.5


def _team_pg() -> ModuleType:
    """tests/team/team_pg.py (a plain module, not a package: loaded by its path)."""
    spec = importlib.util.spec_from_file_location("team_pg", ROOT / "tests/team/team_pg.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["team_pg"] = module  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    return module


team_pg = _team_pg()


def start_server(root: Path) -> Any:
    """The cluster in ``root/data`` (made by initdb the first time), started."""
    folder = team_pg._pg_bin()
    if folder is None:
        sys.exit("PostgreSQL is not installed (Debian: apt-get install postgresql)")
    run_as: str | None = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
            run_as = "postgres"
        except KeyError:
            run_as = "nobody"
    root.mkdir(parents=True, exist_ok=True)
    if run_as:
        entry = pwd.getpwnam(run_as)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    data = root / "data"
    server = team_pg.PgServer(folder, data, root, team_pg._free_port(), run_as)
    if not (data / "PG_VERSION").exists():
        done = server._run(
            str(folder / "initdb"), "-D", str(data), "-U", "owner", "--auth=trust",
            "-E", "UTF8", "--no-sync",
        )  # fmt: skip
        if done.returncode != 0:
            sys.exit(f"initdb failed: {done.stderr}")
        with (data / "postgresql.conf").open("a") as conf:
            # As the tests' server (durability off: it only speeds the load), plus the
            # statement counter and room for a big load between checkpoints.
            conf.write(
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                "shared_preload_libraries = 'pg_stat_statements'\n"
                "pg_stat_statements.track_utility = on\nmax_wal_size = 4GB\n"
            )
    server.start()
    with psycopg.connect(server.url("owner", "postgres"), autocommit=True) as conn:
        have = {r[0] for r in conn.execute("SELECT rolname FROM pg_roles")}
        for member in MEMBERS:
            if member not in have:
                conn.execute(f"CREATE ROLE {member} LOGIN")
    return server


# ---- the year ---------------------------------------------------------------------------


def _uuid7(millis: int, rng: random.Random) -> str:
    value = (millis << 80) | (0x7 << 76) | (rng.getrandbits(12) << 64) | (0b10 << 62)
    value |= rng.getrandbits(62)
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def year_rows(total: int, end: datetime, rng: random.Random) -> Any:
    """``total`` COPY text lines, oldest first, spread evenly over the year before ``end``."""
    start = end - timedelta(days=365)
    step_ms = (end - start) / timedelta(milliseconds=1) / total
    start_ms = int(start.timestamp() * 1000)
    offer = ""
    for n in range(total):
        millis = start_ms + int(n * step_ms)
        incident = n // PER_INCIDENT
        key = f"pagerduty:Q{incident:07X}"
        author = (incident * 7 + (n % 3)) % len(MEMBERS)  # a few people per incident
        slot = n % PER_INCIDENT
        at = datetime.fromtimestamp(millis / 1000, UTC).isoformat()
        event_id = _uuid7(millis, rng)
        if slot in (10, 40, 70):
            kind = "baton_offer"
            offer = event_id
            payload = (
                f'{{"from_person": "{MEMBERS[author]}", "to_person": '
                f'"{MEMBERS[(author + 1) % len(MEMBERS)]}", "note": "yours", "offered_at": "{at}"}}'
            )
        elif slot in (12, 42, 72):
            kind = "baton_accept"
            payload = f'{{"offer": "{offer}", "by": "{MEMBERS[author]}", "accepted_at": "{at}"}}'
        elif slot == 50:
            kind, payload = "note", f'{{"text": "Looking at it.", "at": "{at}"}}'
        elif slot in (95, 96, 97):
            kind = ("handoff_draft", "handoff_signed", "handoff_accepted")[slot - 95]
            payload = f'{{"handoff": "h{incident}", "at": "{at}"}}'
        elif slot == 60 and incident % 10 == 0:
            kind = "drill" if incident % 20 else "insight"
            payload = f'{{"title": "game day {incident}", "at": "{at}"}}'
        else:
            kind = "run_event"
            payload = (
                f'{{"run": "r{incident}", "runbook": "rb-{incident % 40}", "step": {slot}, '
                f'"action": "{"tick" if slot % 4 else "note"}", "at": "{at}"}}'
            )
        yield (
            f"{event_id}\t{kind}\t{key}\t{payload}\tlaptop-{author:03d}\t{MEMBERS[author]}\t{at}\n"
        )


def load(url: str, total: int, batch: int) -> float:
    """A year of ``total`` events, COPY'd in transactions of ``batch`` rows; seconds taken."""
    rng = random.Random(total)
    end = datetime.now(UTC) - timedelta(minutes=2)
    started = time.perf_counter()
    rows = year_rows(total, end, rng)
    done = 0
    with psycopg.connect(url, autocommit=True) as conn:
        while done < total:
            size = min(batch, total - done)
            with conn.transaction(), conn.cursor() as cur:
                with cur.copy(f"COPY events ({COLUMNS}) FROM STDIN") as copy:
                    left = size
                    while left:
                        block = list(itertools.islice(rows, min(5000, left)))
                        copy.write("".join(block))
                        left -= len(block)
            done += size
            elapsed = time.perf_counter() - started
            print(
                f"\r  loaded {done:,} / {total:,} events ({done / elapsed:,.0f}/s)",
                end="",
                flush=True,
            )
        print(" ... VACUUM ANALYZE", end="", flush=True)
        conn.execute("VACUUM (ANALYZE) events")
    seconds = time.perf_counter() - started
    print(f"\r  loaded {total:,} events in {seconds:.0f} s{' ' * 30}")
    return seconds


def last_minute(url: str) -> None:
    """60 events pushed as members push them: one INSERT per transaction, the author the role."""
    rng = random.Random(7)
    with psycopg.connect(url, autocommit=True) as conn:
        for k, incident in enumerate(LAST_INCIDENTS):
            member = MEMBERS[10 + k]
            conn.execute(f"SET ROLE {member}")
            offer = local.uuid7()
            for n in range(LAST_MINUTE // len(LAST_INCIDENTS)):
                now = datetime.now(UTC).isoformat()
                event_id, kind = local.uuid7(), "run_event"
                payload: dict[str, object] = {"run": f"r-{incident}", "step": n, "at": now}
                if n == 0:
                    event_id, kind = offer, "baton_offer"
                    payload = {"from_person": member, "to_person": LAPTOP, "offered_at": now}
                elif n == 1:
                    kind = "baton_accept"
                    payload = {"offer": offer, "by": LAPTOP, "accepted_at": now}
                with conn.transaction():
                    conn.execute(
                        "INSERT INTO events (id, kind, incident_key, payload, origin)"
                        " VALUES (%s, %s, %s, %s, %s)",
                        (event_id, kind, incident, psycopg.types.json.Jsonb(payload),
                         f"laptop-{10 + k:03d}"),
                    )  # fmt: skip
                time.sleep(rng.uniform(0, 0.01))
            conn.execute("RESET ROLE")


def team_store(server: Any, name: str, total: int, batch: int) -> tuple[str, float | None]:
    """The database ``name`` with ``total`` events and the last minute; (member URL, load s).
    Reused when it already holds them (``--data``)."""
    with psycopg.connect(server.url("owner", "postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    owner = server.url("owner", name)
    if exists:
        with psycopg.connect(owner, autocommit=True) as conn:
            count = conn.execute("SELECT count(*) FROM events").fetchone()
        if count and count[0] == total + LAST_MINUTE:
            print(f"  {name}: reusing {total:,} + {LAST_MINUTE} events")
            return server.url(LAPTOP, name), None
        with psycopg.connect(server.url("owner", "postgres"), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE {name}")
    with psycopg.connect(server.url("owner", "postgres"), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    with psycopg.connect(owner, autocommit=True) as conn:
        schema.migrate(conn)
        conn.execute(f"GRANT {schema.MEMBER_ROLE} TO {', '.join(MEMBERS)}")
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    print(f"  {name}:")
    seconds = load(owner, total, batch)
    last_minute(owner)
    return server.url(LAPTOP, name), seconds


def watermark(url: str) -> tuple[str, str]:
    """The position of the last event before the last minute's."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            # events.tx, not the text column of the same name the SELECT makes
            "SELECT tx::text, id::text FROM events ORDER BY events.tx DESC, events.id DESC"
            " OFFSET %s LIMIT 1",
            (LAST_MINUTE,),
        ).fetchone()
    assert row is not None
    return str(row[0]), str(row[1])


# ---- the laptop -------------------------------------------------------------------------


def laptop_template(folder: Path) -> Path:
    """A local store holding the last minute's incidents, with the team tables."""
    store = Store.open(folder)
    now = datetime.now(UTC)
    records = [
        IncidentRecord(
            id=key.split(":")[1], number=n + 1, title=f"Checkout errors {n}", status="triggered",
            created_at=now - timedelta(minutes=5), updated_at=now, urgency="high",
            service_name="checkout",
        )
        for n, key in enumerate(LAST_INCIDENTS)
    ]  # fmt: skip
    with store.write() as session:
        upsert_incidents(session, "pagerduty", records)
    exchange.prepare(store)
    path = store.path
    store.close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path


def fresh_laptop(template: Path, folder: Path, mark: tuple[str, str]) -> Store:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    path = folder / template.name
    shutil.copyfile(template, path)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    local.set_state(conn, "pull_tx", mark[0])
    local.set_state(conn, "pull_id", mark[1])
    conn.execute("COMMIT")
    conn.close()
    return Store(path)


# ---- measures ---------------------------------------------------------------------------


@dataclass
class Side:
    label: str
    url: str
    mark: tuple[str, str]
    owner: str


def time_sync(sides: list[Side], template: Path, work: Path, runs: int) -> list[list[float]]:
    """Seconds of each exchange.sync, the sides taking turns (order flipped each round,
    one warm-up round discarded)."""
    samples: list[list[float]] = [[] for _ in sides]
    order = list(range(len(sides)))
    for round_ in range(runs + 1):
        for index in order:
            side = sides[index]
            store = fresh_laptop(template, work / side.label, side.mark)
            gc.collect()
            started = time.perf_counter()
            report = exchange.sync(store, side.url)
            elapsed = time.perf_counter() - started
            if report.pulled != LAST_MINUTE:
                sys.exit(f"{side.label}: pulled {report.pulled}, expected {LAST_MINUTE}")
            if round_:
                samples[index].append(elapsed)
        order.reverse()
    return samples


def time_fetch(sides: list[Side], repeats: int, from_start: bool = False) -> list[list[float]]:
    """Seconds of one ``fetch_after`` page from the watermark (or, ``from_start``, the first
    page of a laptop that has never pulled), on a warm connection, the sides taking turns."""
    conns = [exchange.connect(side.url) for side in sides]
    try:
        samples: list[list[float]] = [[] for _ in sides]
        order = list(range(len(sides)))
        for round_ in range(repeats + 1):
            for index in order:
                gc.collect()
                started = time.perf_counter()
                mark = exchange.START if from_start else sides[index].mark
                got = exchange.fetch_after(conns[index], mark)
                elapsed = time.perf_counter() - started
                assert len(got) == (exchange.PAGE if from_start else LAST_MINUTE), len(got)
                if round_:
                    samples[index].append(elapsed)
            order.reverse()
        return samples
    finally:
        for conn in conns:
            conn.close()


def outcome(side: Side, template: Path, work: Path) -> exchange.ExchangeReport:
    return exchange.sync(fresh_laptop(template, work / "outcome", side.mark), side.url)


def count_statements(side: Side, template: Path, work: Path) -> list[tuple[str, int]]:
    """(statement, calls) the laptop's exchange sent when it pushed ``PUSHED`` events and
    pulled the last minute, from pg_stat_statements (BEGIN and COMMIT included)."""
    store = fresh_laptop(template, work / "count", side.mark)
    conn = sqlite3.connect(store.path, isolation_level=None)
    conn.execute("BEGIN")
    ids = [
        team_events.queue(conn, "note", LAST_INCIDENTS[n % 3], {"text": f"pushed {n}"})
        for n in range(PUSHED)
    ]
    conn.execute("COMMIT")
    conn.close()
    with psycopg.connect(side.owner, autocommit=True) as owner:
        owner.execute("SELECT pg_stat_statements_reset()")
        report = exchange.sync(store, side.url)
        assert report.pushed == PUSHED and report.pulled == LAST_MINUTE, report
        rows = owner.execute(
            "SELECT query, calls FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid"
            " WHERE d.datname = current_database() AND s.userid = %s::regrole"
            " ORDER BY calls DESC, query",
            (LAPTOP,),
        ).fetchall()
        owner.execute("DELETE FROM events WHERE id = ANY(%s::uuid[])", (ids,))
    return [(" ".join(str(q).split()), int(c)) for q, c in rows]


def explain(side: Side) -> list[str]:
    """The plan of the pull's own query (exchange.FETCH) from the laptop's watermark."""
    with psycopg.connect(side.url, autocommit=True) as conn:
        rows = conn.execute(
            "EXPLAIN (ANALYZE, BUFFERS) " + exchange.FETCH,
            (side.mark[0], side.mark[1], exchange.PAGE),
        ).fetchall()
    return [str(r[0]) for r in rows]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=3_600_000, help="the large store's size")
    parser.add_argument("--small", type=int, default=10_000, help="the small store's size")
    parser.add_argument("--batch", type=int, default=50_000, help="rows per loading transaction")
    parser.add_argument("--runs", type=int, default=15, help="timed exchanges per store")
    parser.add_argument("--data", type=Path, help="keep the cluster here and reuse it")
    args = parser.parse_args(argv)
    os.environ["COCKPIT_TEAM_ORIGIN"] = f"laptop-{0:03d}"
    scratch = Path(tempfile.mkdtemp(prefix="cockpit-bench-team-"))
    root = args.data.resolve() if args.data else Path(tempfile.mkdtemp(prefix="cockpit-bench-pg-"))
    server = start_server(root)
    try:
        sides = []
        for label, total in (("small", args.small), ("large", args.events)):
            name = f"team_{total}"
            url, _seconds = team_store(server, name, total, args.batch)
            sides.append(Side(label, url, watermark(url), server.url("owner", name)))
        template = laptop_template(scratch / "template")
        work = scratch / "laptops"
        first = outcome(sides[1], template, work)
        print(
            f"\none exchange at the large store: pulled {first.pulled}, applied {first.applied},"
            f" parked {first.parked}"
        )
        syncs = time_sync(sides, template, work, args.runs)
        fetches = time_fetch(sides, args.runs * 10)
        joining = time_fetch(sides, max(3, args.runs // 5), from_start=True)
        print(f"\nteam bench: {args.small:,} vs {args.events:,} events, the last minute "
              f"{LAST_MINUTE} events; median of {args.runs} exchanges, "
              f"{args.runs * 10} fetches")  # fmt: skip
        print(f"{'measure':<26}{'small ms':>10}{'large ms':>10}{'large/small':>13}{'goal':>8}")
        for name, (low_s, high_s) in (
            ("exchange.sync (the user)", syncs),
            ("fetch_after (team store)", fetches),
            ("first page, joining*", joining),
        ):
            low, high = statistics.median(low_s), statistics.median(high_s)
            ratio = high / low
            verdict = "ok" if ratio <= GOAL else "MISS"
            print(f"{name:<26}{low * 1000:>10.2f}{high * 1000:>10.2f}{ratio:>12.2f}x{verdict:>8}")
        print("* extra, not the goal: a laptop that never pulled, its first page of 1000 events")
        for side in sides:
            counted = count_statements(side, template, work)
            total_calls = sum(c for _, c in counted)
            print(f"\nstatements of one exchange at the {side.label} store (push {PUSHED}, pull "
                  f"{LAST_MINUTE}; pg_stat_statements, the laptop's role): {total_calls}, "
                  "each a round trip, plus the connection")  # fmt: skip
            for query, calls in counted:
                print(f"  {calls:>4}  {query[:110]}")
        for side in sides:
            print(f"\nplan of the fetch from the watermark, {side.label} store:")
            plan = explain(side)
            for line in plan:
                print("  " + line)
            if any("Sort Key: ((tx)::text)" in line for line in plan):
                print(
                    "  !! the page is sorted by the text of tx: ORDER BY tx binds to the"
                    " SELECT's tx::text column, not events.tx (see bench/README.md)"
                )
    finally:
        server.stop()
        shutil.rmtree(scratch, ignore_errors=True)
        if not args.data:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
