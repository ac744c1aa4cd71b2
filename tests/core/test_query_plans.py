"""The refresh queries keep their plans when the store has statistics.

Stores the cockpit builds are not analysed, but SQLite advises ``PRAGMA optimize``, which
analyses the tables a connection used; with statistics the planner once walked every
incident for the open-drill list (``reads.drill_refs``). Here a store with a long history
(20,000 resolved incidents, a few open ones, drills or none) gets statistics, from ANALYZE
or from PRAGMA optimize after a refresh, and every statement a refresh runs must search an
index: no SCAN of a table that grows with history. No timing: plans only."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cockpit.store import reads
from cockpit.store.engine import Store
from cockpit.store.timefmt import to_db_text

NOW = datetime(2026, 3, 25, 14, 0, tzinfo=UTC)
HISTORY = 20_000
OPEN = 12

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
# Tables that stay small whatever the history: a full scan of them is fine.
SMALL = ("sync_state",)


def _build(root: Path, *, drills: int, open_drills: int) -> Path:
    store = Store.open(root)
    path = store.path
    store.close()
    incidents, events = [], []
    total = HISTORY + OPEN
    for n in range(total):
        created = to_db_text(NOW - timedelta(minutes=10 * (total - n)))
        is_open = n >= HISTORY
        # Drills are spread over the history; the newest ``open_drills`` of them are open.
        is_drill = drills > 0 and n < HISTORY and n % (HISTORY // drills) == 0
        status = "triggered" if is_open else "resolved"
        if is_drill and n >= HISTORY - open_drills * (HISTORY // drills):
            status = "acknowledged"
        iid = f"{'drill' if is_drill else 'pagerduty'}:P{n:06d}"
        incidents.append((
            iid, "drill" if is_drill else "pagerduty", f"P{n:06d}", n + 1, f"Incident {n}",
            status, "high" if n % 3 else "low", "", "PSVC", f"service-{n % 9}", "Payments",
            "PEP", '["pagerduty:PU1"]', "", "", f"key{n}", "{}", "{}", created, created,
            None, None if status != "resolved" else created, None, int(is_drill), created,
        ))  # fmt: skip
        for k, kind in enumerate(("trigger", "notify", "resolve")):
            events.append(
                (
                    iid,
                    created,
                    kind,
                    kind,
                    "PU1",
                    "pagerduty:PU1" if k == 1 else "",
                    "api",
                    f"{iid}:L{k}",
                    int(is_drill),
                    "{}",
                )
            )
    conn = sqlite3.connect(path)
    with conn:
        conn.executemany(_INCIDENT, incidents)
        conn.executemany(_EVENT, events)
    conn.close()
    return path


def _refresh(conn: sqlite3.Connection) -> None:
    """What the cockpit screen reads on a refresh (cockpit/view_model.py), via store/reads."""
    opened = reads.open_refs(conn)
    reads.drill_refs(conn)
    reads.resolved_refs(conn)
    current = opened[0][0]
    row = reads.incident(conn, current)
    assert row is not None
    reads.alerts(conn, current)
    reads.names(conn, reads.paged_people(conn, current))
    reads.holder(conn, row)
    reads.pending_offer(conn, current)
    reads.timeline(conn, current)
    reads.unsent_writes(conn, current)
    reads.write_warnings(conn, current)
    reads.outbox_counts(conn)
    reads.sync_health(conn)
    reads.writes_paused(conn)


def _plans(path: Path, before: Callable[[sqlite3.Connection], None]) -> dict[str, list[str]]:
    """Every SELECT of a refresh, with SQLite's plan for it, after ``before`` ran."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        before(conn)
        seen: list[str] = []
        conn.set_trace_callback(seen.append)
        _refresh(conn)
        conn.set_trace_callback(None)
        return {
            sql: [str(step[-1]) for step in conn.execute("EXPLAIN QUERY PLAN " + sql)]
            for sql in seen
            if sql.lstrip().upper().startswith("SELECT")
        }
    finally:
        conn.close()


def _analyze(conn: sqlite3.Connection) -> None:
    conn.execute("ANALYZE")


def _optimize(conn: sqlite3.Connection) -> None:
    """As SQLite advises: PRAGMA optimize on a connection that ran the queries."""
    _refresh(conn)
    conn.execute("PRAGMA optimize")
    assert conn.execute("SELECT count(*) FROM sqlite_stat1").fetchone()[0] > 0


def _scans(plans: dict[str, list[str]]) -> list[tuple[str, str]]:
    """Steps that read a whole table or index that grows with history."""
    found = []
    for sql, steps in plans.items():
        for step in steps:
            if not step.startswith("SCAN "):
                continue
            table = step.split()[1]
            if table in SMALL or "ix_incidents_open_drills" in step:
                continue  # a table of a few rows; the partial index holds only open drills
            found.append((step, sql))
    return found


def _drill_plan(plans: dict[str, list[str]]) -> list[str]:
    (steps,) = [steps for sql, steps in plans.items() if "is_drill = 1" in sql]
    return steps


@pytest.mark.parametrize(
    ("drills", "open_drills"), [(0, 0), (400, 2)], ids=["no drills", "400 drills, 2 open"]
)
@pytest.mark.parametrize("statistics", [_analyze, _optimize], ids=["ANALYZE", "optimize"])
def test_refresh_queries_search_indexes_on_a_store_with_statistics(
    tmp_path: Path,
    drills: int,
    open_drills: int,
    statistics: Callable[[sqlite3.Connection], None],
) -> None:
    path = _build(tmp_path, drills=drills, open_drills=open_drills)
    plans = _plans(path, statistics)
    assert len(plans) >= 12
    assert _scans(plans) == []
    # The open-drill list reads the partial index of exactly its rows.
    assert any("ix_incidents_open_drills" in step for step in _drill_plan(plans))


def test_without_statistics_the_refresh_queries_search_indexes_too(tmp_path: Path) -> None:
    path = _build(tmp_path, drills=400, open_drills=2)
    plans = _plans(path, lambda conn: None)
    assert _scans(plans) == []
    assert any(
        "ix_incidents_open_drills" in step or "ix_incidents_status_drill" in step
        for step in _drill_plan(plans)
    )


def test_the_open_drill_list_is_what_the_partial_index_holds(tmp_path: Path) -> None:
    path = _build(tmp_path, drills=400, open_drills=2)
    conn = sqlite3.connect(path)
    try:
        listed = reads.drill_refs(conn)
        assert [status for _, _, _, _, status, _, _ in listed] == ["acknowledged"] * 2
        assert all(is_drill for *_, is_drill, _ in listed)
        indexed = conn.execute(
            "SELECT count(*) FROM incidents INDEXED BY ix_incidents_open_drills "
            "WHERE is_drill = 1 AND status IN ('triggered', 'acknowledged')"
        ).fetchone()[0]
        assert indexed == len(listed) == 2
    finally:
        conn.close()
