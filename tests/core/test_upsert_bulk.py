"""The sync's plain-sqlite3 writes store what the typed (SQLAlchemy) path stores, column for
column, and keep the upsert rules: the remote side wins, a first acknowledgement and a
snooze are kept, log entries go in once."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.dialects import sqlite
from upsert_reference import first_acknowledgements, incident_row, timeline_row

from cockpit.records import IncidentRecord, LogEntryRecord
from cockpit.store import Incident, Store, TimelineEvent
from cockpit.store.bulk import db_text
from cockpit.store.timefmt import to_db_text
from cockpit.store.upsert import insert_log_entries, upsert_incidents

TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
IDS = st.text("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=1, max_size=8)
ZONES = st.sampled_from(
    [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=7))]
)
TIMES = st.builds(
    lambda d, zone: d.replace(tzinfo=zone),
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1)),
    ZONES,
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=6,
)


@st.composite
def incidents(draw: st.DrawFn) -> IncidentRecord:
    return IncidentRecord(
        id=draw(IDS),
        title=draw(TEXT),
        status=draw(st.sampled_from(["triggered", "acknowledged", "resolved"])),
        created_at=draw(TIMES),
        updated_at=draw(TIMES),
        number=draw(st.none() | st.integers(0, 10**9)),
        urgency=draw(TEXT),
        priority=draw(TEXT),
        service_id=draw(TEXT),
        service_name=draw(TEXT),
        escalation_policy_id=draw(TEXT),
        team=draw(TEXT),
        assignees=tuple(draw(st.lists(IDS | st.just(""), max_size=3))),
        acknowledged_at=draw(st.none() | TIMES),
        resolved_at=draw(st.none() | TIMES),
        html_url=draw(TEXT),
        labels=draw(st.dictionaries(TEXT, TEXT, max_size=3)),
        annotations=draw(st.dictionaries(TEXT, TEXT, max_size=3)),
        runbook_url=draw(TEXT),
        incident_key=draw(TEXT),
    )


@st.composite
def entries(draw: st.DrawFn, incident_ids: list[str]) -> LogEntryRecord:
    return LogEntryRecord(
        id=draw(IDS),
        incident_id=draw(st.sampled_from(incident_ids)),
        type=draw(st.sampled_from(["trigger", "notify", "acknowledge", "annotate"])),
        created_at=draw(TIMES),
        summary=draw(TEXT),
        agent_id=draw(st.just("") | IDS),
        agent_name=draw(st.just("") | TEXT),
        person_id=draw(st.just("") | IDS),
        channel=draw(TEXT),
        details=draw(st.dictionaries(TEXT, JSON, max_size=4)),
    )


def _typed_write(store: Store, records: list[IncidentRecord], logs: list[LogEntryRecord]) -> None:
    """The reference: the dict rows through SQLAlchemy's column types."""
    with store.write() as session:
        table: Any = Incident.__table__  # type: ignore[attr-defined]
        for record in records:
            session.execute(
                sqlite.insert(table).on_conflict_do_nothing(),
                [incident_row("pagerduty", record)],
            )
        timeline: Any = TimelineEvent.__table__  # type: ignore[attr-defined]
        rows = [timeline_row("pagerduty", entry) for entry in logs]
        for row in rows:
            session.execute(
                sqlite.insert(timeline).on_conflict_do_nothing(index_elements=["remote_id"]),
                [row],
            )
        first_acknowledgements(session, rows)


def _rows(store: Store, sql: str) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in store.execute(sql)]


INCIDENTS_SQL = "SELECT * FROM incidents ORDER BY id"
TIMELINE_SQL = (
    "SELECT incident_id, at, kind, summary, actor, person_id, channel, remote_id, is_drill, "
    "details FROM timeline_events ORDER BY remote_id"
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_bulk_rows_equal_the_typed_rows_column_for_column(
    tmp_path: Path, data: st.DataObject
) -> None:
    records = data.draw(st.lists(incidents(), min_size=1, max_size=5, unique_by=lambda r: r.id))
    logs = data.draw(
        st.lists(entries([r.id for r in records]), max_size=8, unique_by=lambda e: e.id)
    )
    folder = Path(tempfile.mkdtemp(dir=tmp_path))  # one per example: tmp_path is shared
    typed, bulk = Store.open(folder / "typed.db"), Store.open(folder / "bulk.db")
    try:
        _typed_write(typed, records, logs)
        with bulk.write() as session:
            upsert_incidents(session, "pagerduty", records)
            insert_log_entries(session, "pagerduty", logs)
        synced = 24  # synced_at: the moment of the write, not a record field
        want = [row[:synced] for row in _rows(typed, INCIDENTS_SQL)]
        got = _rows(bulk, INCIDENTS_SQL)
        assert [row[:synced] for row in got] == want
        assert all(row[synced] for row in got)
        assert _rows(bulk, TIMELINE_SQL) == _rows(typed, TIMELINE_SQL)
    finally:
        typed.close()
        bulk.close()


@given(TIMES)
def test_db_text_is_to_db_text(value: datetime) -> None:
    assert db_text(value) == to_db_text(value)
    assert db_text(value.astimezone(UTC)) == to_db_text(value)


def _at(minutes: int) -> datetime:
    return datetime(2026, 3, 1, 12, 0, tzinfo=UTC) + timedelta(minutes=minutes)


def _incident(status: str = "triggered", **changes: Any) -> IncidentRecord:
    fields: dict[str, Any] = {"id": "P1", "title": "disk full", "status": status,
                              "created_at": _at(0), "updated_at": _at(0)}  # fmt: skip
    return IncidentRecord(**{**fields, **changes})


def _entry(ident: str, kind: str, minutes: int, incident: str = "P1") -> LogEntryRecord:
    return LogEntryRecord(id=ident, incident_id=incident, type=kind, created_at=_at(minutes))


def test_a_later_pull_replaces_the_incident_but_keeps_first_ack_and_snooze(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    with store.write() as session:
        upsert_incidents(session, "pagerduty", [_incident("acknowledged", acknowledged_at=_at(5))])
    with store.write() as session:  # snoozed here: the user's own, no pull may undo it
        session.execute(text("UPDATE incidents SET snoozed_until = '2026-03-01 13:00:00.000000'"))
    with store.write() as session:
        upsert_incidents(session, "pagerduty", [_incident(
            "resolved", title="disk full (fixed)", updated_at=_at(30), acknowledged_at=_at(20),
            resolved_at=_at(30))])  # fmt: skip
    assert store.execute(
        "SELECT status, title, acknowledged_at, resolved_at, snoozed_until FROM incidents"
    ) == [("resolved", "disk full (fixed)", "2026-03-01 12:05:00.000000",
           "2026-03-01 12:30:00.000000", "2026-03-01 13:00:00.000000")]  # fmt: skip


def test_the_log_gives_the_first_ack_and_entries_go_in_once(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    log = [_entry("L1", "trigger", 0), _entry("L2", "acknowledge", 9),
           _entry("L3", "acknowledge", 4), _entry("L4", "notify", 1, incident="P9")]  # fmt: skip
    with store.write() as session:
        upsert_incidents(session, "pagerduty", [_incident("resolved")])
        inserted, missing = insert_log_entries(session, "pagerduty", log)
    assert (inserted, missing) == (3, ["pagerduty:P9"])  # held back: its incident is unknown
    with store.write() as session:  # the same entries again: none is new, none goes in twice
        assert insert_log_entries(session, "pagerduty", log[:3], {"pagerduty:P1"}) == (0, [])
    assert store.execute("SELECT acknowledged_at FROM incidents") == [
        ("2026-03-01 12:04:00.000000",)
    ]
    assert store.execute("SELECT remote_id FROM timeline_events ORDER BY remote_id") == [
        ("pagerduty:L1",), ("pagerduty:L2",), ("pagerduty:L3",)]  # fmt: skip


def test_text_with_a_nul_character_is_kept_whole(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    with store.write() as session:
        upsert_incidents(session, "pagerduty", [_incident(title="disk\x00full")])
        insert_log_entries(
            session,
            "pagerduty",
            [
                LogEntryRecord(
                    id="L1", incident_id="P1", type="annotate", created_at=_at(1), summary="a\x00b"
                )
            ],
        )
    assert store.execute("SELECT title FROM incidents") == [("disk\x00full",)]
    assert store.execute("SELECT summary FROM timeline_events") == [("a\x00b",)]
