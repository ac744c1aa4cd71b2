"""Bench: open the store and load the current incident, at 1,000 and at 100,000 incidents.

Two stores built through ``Store.open`` (so the schema and its indexes are the real ones) and
filled with raw ``executemany``: small = 1,000 incidents / 10,000 timeline events, big =
100,000 / 1,000,000. Both end with the same dozen open incidents; the big one only adds
older, resolved history. Timed, median of N runs, the stores taking turns so machine noise
hits both alike:

- open: ``Store.open(path)`` on a fresh engine, then ``close()``;
- load: what the main screen reads on a refresh (``cockpit/view_model.py``: the switcher's
  lists, the current incident with its timeline, alerts, paged people and baton, the status
  bar; plain SQL over sqlite3, ``store/reads.py``) and the page-load meter;
- open+load: both, on a fresh engine each time (what a cold ``cockpit`` start pays).

Goal: big/small under 1.5x. It also prints SQLite's plan for every statement the load ran,
flagging full scans and temp B-trees. Stores are cached in ``bench/.cache/`` (``--rebuild``).
Run: ``/work/venv/bin/python bench/store.py [--repeats 200]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event

from cockpit import view_model
from cockpit.metrics.pageload import meter_for
from cockpit.store import Store, queries
from cockpit.store import engine as engine_module
from cockpit.store.timefmt import to_db_text

connect = engine_module._connect

CACHE = Path(__file__).resolve().parent / ".cache"
NOW = datetime(2026, 3, 25, 14, 0, tzinfo=UTC)
STEP = timedelta(minutes=10)  # one incident every 10 minutes, newest at NOW
EVENTS_PER_INCIDENT = 10
OPEN = 12  # the newest incidents are open, the same ones in both stores
PEOPLE = [f"pagerduty:PU{n:03d}" for n in range(40)]
SIZES = {"small": 1_000, "big": 100_000}

_INCIDENT = (
    "INSERT INTO incidents (id, source, remote_id, number, title, status, urgency, priority, "
    "service_id, service_name, team, escalation_policy_id, assignees, html_url, runbook_url, "
    "incident_key, labels, annotations, created_at, updated_at, acknowledged_at, resolved_at, "
    "snoozed_until, is_drill, synced_at) VALUES (" + ",".join("?" * 25) + ")"
)
_EVENT = (
    "INSERT INTO timeline_events (incident_id, at, kind, summary, actor, person_id, channel, "
    "remote_id, is_drill, details) VALUES (?,?,?,?,?,?,?,?,?,?)"
)
_ALERT = (
    "INSERT INTO alerts (id, incident_id, summary, status, severity, fingerprint, labels, "
    "annotations, runbook_url, generator_url, created_at, updated_at) "
    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
)
_NOTE = (
    "INSERT INTO notes (incident_id, content, author, created_at, remote_id, state, outbox_id) "
    "VALUES (?,?,?,?,?,?,?)"
)
_BATON = (
    "INSERT INTO baton_passes (incident_id, from_person, to_person, note, offered_at, "
    "accepted_at, state, handoff_id) VALUES (?,?,?,?,?,?,?,?)"
)
# The story of one incident: (kind, minutes after trigger, paged person index or None).
STORY = [
    ("trigger", 0, None),
    ("notify", 0, 0),
    ("notify", 1, 1),
    ("notify", 2, 2),
    ("acknowledge", 5, None),
    ("annotate", 9, None),
    ("annotate", 15, None),
    ("annotate", 21, None),
    ("annotate", 30, None),
    ("resolve", 45, None),
]


def _rows(n: int, total: int) -> tuple[tuple[Any, ...], list[tuple[Any, ...]], tuple[Any, ...]]:
    """Incident ``n`` of ``total`` (0 oldest): its row, its timeline rows and its alert row."""
    iid = f"pagerduty:PI{n:06d}"
    created = NOW - STEP * (total - 1 - n)
    is_open = n >= total - OPEN
    status = ("triggered" if n % 2 else "acknowledged") if is_open else "resolved"
    urgency = "high" if n % 3 else "low"
    who = [PEOPLE[(n + k) % len(PEOPLE)] for k in range(3)]
    at = [to_db_text(created + timedelta(minutes=m)) for _, m, _ in STORY]
    stamp = at[0]
    incident = (
        iid, "pagerduty", iid.split(":")[1], n + 1, f"High latency on api-{n % 7}", status,
        urgency, "", "PSVC001", "product-api", "Storefront", "PEP0001", json.dumps(who[:1]),
        "", "", f"key{n}", "{}", "{}", stamp, at[-1], None if status == "triggered" else at[4],
        None if is_open else at[-1], None, 0, stamp,
    )  # fmt: skip
    events = []
    for k, (kind, _, person) in enumerate(STORY):
        if is_open and kind == "resolve":
            kind = "annotate"
        paged = who[person] if person is not None else ""
        events.append(
            (iid, at[k], kind, kind, who[0], paged, "api", f"pagerduty:PL{n:06d}{k}", 0, "{}")
        )
    alert = (
        f"pagerduty:PA{n:06d}", iid, "latency", "triggered" if is_open else "resolved",
        "critical", f"fp{n}", "{}", "{}", "", "", stamp, at[-1],
    )  # fmt: skip
    return incident, events, alert


def build(path: Path, total: int) -> None:
    """A store of ``total`` incidents and ``total * 10`` timeline events."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    Store.open(path).close()  # the real schema, migrations and indexes
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous = OFF")
    conn.executemany(
        "INSERT INTO people (id, source, name, email, time_zone, teams) VALUES (?,?,?,?,?,?)",
        [(p, "pagerduty", p, "", "UTC", "[]") for p in PEOPLE],
    )
    chunk = 20_000
    for start in range(0, total, chunk):
        incidents, events, alerts, notes, batons = [], [], [], [], []
        for n in range(start, min(start + chunk, total)):
            incident, timeline, alert = _rows(n, total)
            incidents.append(incident)
            events.extend(timeline)
            alerts.append(alert)
            notes.append((incident[0], "Looking at it.", PEOPLE[0], timeline[5][1],
                          f"pagerduty:PN{n:06d}", "sent", None))  # fmt: skip
            if n >= total - OPEN:
                batons.append((incident[0], PEOPLE[0], PEOPLE[1], "yours", timeline[6][1],
                               timeline[7][1], "accepted", None))  # fmt: skip
        with conn:  # one transaction per chunk
            conn.executemany(_INCIDENT, incidents)
            conn.executemany(_EVENT, events)
            conn.executemany(_ALERT, alerts)
            conn.executemany(_NOTE, notes)
            conn.executemany(_BATON, batons)
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def load_current(store: Store) -> int:
    """What the main screen reads on a refresh; returns a count to check."""
    switcher = view_model.load_switcher(store)
    view = view_model.load_incident(store, switcher.open[0].id)
    assert view is not None
    status = view_model.load_status(store)
    meter = meter_for(store, view.holder_id or "nobody", datetime.now(UTC))
    return (
        len(view.timeline)
        + len(view.alerts)
        + len(view.paged)
        + bool(view.holder_id)
        + status.pending
        + meter.week_pages
    )


def find_by_ref(store: Store) -> int:
    """``cockpit show PXXXX`` / ``cockpit ack 1234``: the current incident by remote id, number."""
    with store.read() as session:
        current = queries.open_incidents(session, limit=1)[0]
        by_id = queries.find_incident(session, current.remote_id)
        by_number = queries.find_incident(session, str(current.number))
        return int(by_id is not None) + int(by_number is not None)


def _open(path: Path) -> None:
    Store.open(path).close()


def _open_load(path: Path) -> None:
    store = Store.open(path)
    try:
        load_current(store)
    finally:
        store.close()


def median_pair(jobs: list[Callable[[], object]], repeats: int) -> list[float]:
    """Median seconds of each job; the jobs take turns, after one warm-up call each.

    The order flips every round and garbage is collected before each sample, so neither a
    collection left over by the other job nor always going second biases one of them.
    """
    for job in jobs:
        job()
    samples: list[list[float]] = [[] for _ in jobs]
    order = list(range(len(jobs)))
    for _ in range(repeats):
        for index in order:
            gc.collect()
            started = time.perf_counter()
            jobs[index]()
            samples[index].append(time.perf_counter() - started)
        order.reverse()
    return [statistics.median(own) for own in samples]


def plans(path: Path, job: Callable[[Store], object]) -> list[tuple[str, list[str]]]:
    """Every statement ``job`` ran, with SQLite's plan for it."""
    store = Store.open(path)
    seen: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        seen.append((statement, params))

    def traced(where: Path) -> sqlite3.Connection:  # the plain-SQL reads' connections
        conn = connect(where)
        conn.set_trace_callback(lambda sql: seen.append((sql, ())))
        return conn

    event.listen(store.engine, "before_cursor_execute", capture)
    engine_module._connect = traced
    try:
        job(store)
    finally:
        engine_module._connect = connect
        store.close()
    conn = sqlite3.connect(path)
    try:
        found = []
        for statement, params in seen:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            rows = conn.execute("EXPLAIN QUERY PLAN " + statement, params).fetchall()
            found.append((" ".join(statement.split()), [row[-1] for row in rows]))
        return found
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached stores")
    args = parser.parse_args(argv)
    paths = {}
    for label, total in SIZES.items():
        path = CACHE / f"store-{total}.db"
        if args.rebuild or not path.exists():
            started = time.perf_counter()
            build(path, total)
            print(f"built {label}: {path} in {time.perf_counter() - started:.1f} s")
        paths[label] = path
    small, big = paths["small"], paths["big"]
    stores = [Store.open(small), Store.open(big)]
    try:
        counts = [load_current(s) for s in stores]
        if counts[0] != counts[1]:
            print(f"warning: the stores' current incidents differ: {counts}", file=sys.stderr)
        load = median_pair([lambda: load_current(stores[0]), lambda: load_current(stores[1])],
                           args.repeats)  # fmt: skip
        find = median_pair([lambda: find_by_ref(stores[0]), lambda: find_by_ref(stores[1])],
                           max(5, args.repeats // 10))  # fmt: skip
    finally:
        for store in stores:
            store.close()
    opened = median_pair([lambda: _open(small), lambda: _open(big)], args.repeats)
    both = median_pair([lambda: _open_load(small), lambda: _open_load(big)], args.repeats)
    print(f"\nstore bench, median of {args.repeats} (small {SIZES['small']:,} incidents, "
          f"big {SIZES['big']:,}; 10 timeline events each)")  # fmt: skip
    print(f"{'measure':<12}{'small ms':>10}{'big ms':>10}{'big/small':>11}{'goal':>8}")
    rows = (("open", opened), ("load", load), ("open+load", both), ("find by ref*", find))
    for name, (low, high) in rows:
        ratio = high / low
        verdict = "ok" if ratio < 1.5 else "MISS"
        print(f"{name:<12}{low * 1000:>10.3f}{high * 1000:>10.3f}{ratio:>10.2f}x{verdict:>8}")
    print("* not part of the screen's load: queries.find_incident by remote id and by number,")
    print("  what `cockpit show/ack <ref>` does (through the ORM).")
    print("\nquery plans on the big store (SCAN without an index or TEMP B-TREE = suspect):")
    statements = plans(big, load_current) + plans(big, find_by_ref)
    for statement, plan in dict(statements).items():
        flag = any(
            ("SCAN" in step and "USING" not in step) or "TEMP B-TREE" in step for step in plan
        )
        print(("  !! " if flag else "  ok ") + statement[:150])
        for step in plan:
            print("       " + step)
    return 0


if __name__ == "__main__":
    sys.exit(main())
