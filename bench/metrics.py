"""Bench: the current-week page-load meter on a store of 20,000 and of 2,000,000 log entries.

Both stores hold the *same* current week (the same people, incidents and notify entries);
the big one adds years of older history. The meter reads only its window through the
``(person_id, at)`` / ``(kind, at)`` indexes, so its cost should barely move: the goal is a
ratio under 1.5x. Run: ``/work/venv/bin/python bench/metrics.py [--big 2000000]``.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cockpit.metrics.pageload import meter_for
from cockpit.store import Store
from cockpit.store.timefmt import to_db_text

NOW = datetime(2026, 3, 25, 14, 0, tzinfo=UTC)  # a Wednesday
PEOPLE = [f"pagerduty:P{n:04d}" for n in range(40)]
ZONES = ["Europe/Berlin", "America/New_York", "UTC", "Asia/Tokyo"]
KINDS = ["trigger", "notify", "notify", "notify", "acknowledge", "annotate", "resolve"]
WEEK_EVENTS = 5_000  # entries in the last 7 days, identical in both stores
EVENTS_PER_INCIDENT = 8


def build(path: Path, total: int, seed: int = 7) -> None:
    Store.open(path).close()  # schema and migrations
    rng = random.Random(seed)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")
    conn.executemany(
        "INSERT INTO people (id, source, name, email, time_zone, teams) VALUES (?,?,?,?,?,?)",
        [(p, "pagerduty", p, "", ZONES[i % len(ZONES)], "[]") for i, p in enumerate(PEOPLE)],
    )

    def rows(count: int, start: datetime, span: float, prefix: str, week_rng: random.Random):
        # Chronological, as a sync writes them: each chunk covers its own slice of time.
        incident_rows, event_rows = [], []
        step = span / max(1, count // EVENTS_PER_INCIDENT)
        for n in range(count):
            if n % EVENTS_PER_INCIDENT == 0:
                iid = f"pagerduty:{prefix}{n // EVENTS_PER_INCIDENT}"
                created = start + timedelta(seconds=(n // EVENTS_PER_INCIDENT) * step)
                stamp = to_db_text(created)
                incident_rows.append(
                    (
                        iid,
                        "pagerduty",
                        iid,
                        "t",
                        "resolved",
                        "high",
                        "",
                        "",
                        "svc",
                        "",
                        "",
                        "[]",
                        "",
                        "",
                        "",
                        "{}",
                        "{}",
                        stamp,
                        stamp,
                        None,
                        None,
                        None,
                        int(week_rng.random() < 0.02),
                        None,
                    )
                )
            kind = KINDS[week_rng.randrange(len(KINDS))]
            at = created + timedelta(seconds=week_rng.random() * 3600)
            person = PEOPLE[week_rng.randrange(len(PEOPLE))] if kind == "notify" else ""
            event_rows.append(
                (iid, to_db_text(at), kind, "", "", person, "push" if person else "", None, 0, "{}")
            )
        return incident_rows, event_rows

    insert_incident = (
        "INSERT INTO incidents (id, source, remote_id, title, status, urgency, priority, "
        "service_id, service_name, team, escalation_policy_id, assignees, html_url, runbook_url, "
        "incident_key, labels, annotations, created_at, updated_at, acknowledged_at, "
        "resolved_at, snoozed_until, is_drill, synced_at) VALUES "
        "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
    )
    insert_event = (
        "INSERT INTO timeline_events (incident_id, at, kind, summary, actor, person_id, channel, "
        "remote_id, is_drill, details) VALUES (?,?,?,?,?,?,?,?,?,?)"
    )
    # The current week: the same seed in every store, so the meter reads identical rows.
    week = rows(WEEK_EVENTS, NOW - timedelta(days=7), 7 * 86400 - 3600, "W", random.Random(1))
    old_count = max(0, total - WEEK_EVENTS)
    span = max(1.0, old_count / 2_000_000 * 3 * 365 * 86400)  # up to 3 years back
    chunk = 200_000
    first = NOW - timedelta(days=8, seconds=span)
    with conn:
        for offset in range(0, old_count, chunk):
            count = min(chunk, old_count - offset)
            start = first + timedelta(seconds=span * offset / old_count)
            old = rows(count, start, span * count / old_count, f"H{offset}_", rng)
            conn.executemany(insert_incident, old[0])
            conn.executemany(insert_event, old[1])
        conn.executemany(insert_incident, week[0])
        conn.executemany(insert_event, week[1])
    conn.execute("ANALYZE")
    conn.close()


def time_meters(paths: list[Path], repeats: int) -> list[float]:
    """Median meter cost per store; the stores take turns so machine noise hits both alike."""
    stores = [Store.open(path) for path in paths]
    try:
        for store in stores:
            for person in PEOPLE:  # warm the page cache and the statement cache
                meter_for(store, person, NOW)
        samples: list[list[float]] = [[] for _ in stores]
        for n in range(repeats):
            person = PEOPLE[n % len(PEOPLE)]
            for index, store in enumerate(stores):
                started = time.perf_counter()
                meter_for(store, person, NOW)
                samples[index].append(time.perf_counter() - started)
        return [statistics.median(own) for own in samples]
    finally:
        for store in stores:
            store.close()


def plan(path: Path) -> list[str]:
    """SQLite's plan for the meter's notify query, to show the index it uses."""
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "EXPLAIN QUERY PLAN SELECT t.person_id, t.at FROM timeline_events t "
            "JOIN incidents i ON i.id = t.incident_id WHERE t.kind = 'notify' "
            "AND t.person_id = ? AND t.at >= ? AND t.at < ? AND t.is_drill = 0 "
            "AND i.is_drill = 0 ORDER BY t.person_id, t.at",
            (PEOPLE[0], to_db_text(NOW - timedelta(days=14)), to_db_text(NOW)),
        ).fetchall()
        return [row[-1] for row in rows]
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", type=int, default=20_000)
    parser.add_argument("--big", type=int, default=2_000_000)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for label, total in (("small", args.small), ("big", args.big)):
            path = Path(folder) / f"{label}.db"
            started = time.perf_counter()
            build(path, total)
            built = time.perf_counter() - started
            print(f"{label:5} {total:>10,} entries  built in {built:6.1f} s")
            paths.append(path)
        small, big = time_meters(paths, args.repeats)
        print(f"meter median: small {small * 1000:.3f} ms, big {big * 1000:.3f} ms")
        print("plan:", "; ".join(plan(paths[1])))
        ratio = big / small
        print(f"ratio big/small: {ratio:.2f}x (goal < 1.5x)")
        return 0 if ratio < 1.5 else 1


if __name__ == "__main__":
    sys.exit(main())
