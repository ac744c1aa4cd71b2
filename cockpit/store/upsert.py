"""Idempotent bulk writes of provider records, so that any pull can be repeated safely.

Incidents and alerts are replaced by the remote version (the remote side wins on state);
log entries, notes and shifts are inserted once, keyed by their source-qualified id.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Table, bindparam, exists, func, or_, update
from sqlalchemy.dialects import sqlite
from sqlmodel import Session, SQLModel

from cockpit.records import (
    AlertRecord,
    IncidentRecord,
    LogEntryRecord,
    NoteRecord,
    OnCallRecord,
    PersonRecord,
)
from cockpit.store import bulk
from cockpit.store.engine import driver_connection
from cockpit.store.models import (
    Alert,
    Incident,
    Note,
    OnCallShift,
    OutboxItem,
    Person,
)
from cockpit.store.timefmt import as_utc
from cockpit.store.types import UTCDateTime

_BATCH = 500


def qualify(source: str, remote_id: str) -> str:
    return f"{source}:{remote_id}" if remote_id else ""


def _insert(session: Session, table: Table) -> Any:
    return sqlite.insert(table)  # the store is SQLite (engine.py refuses anything else)


def _table(model: type[SQLModel]) -> Table:
    return model.__table__  # type: ignore[attr-defined]


def _rows_in_batches(rows: Sequence[dict[str, Any]]) -> Iterable[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), _BATCH):
        yield rows[start : start + _BATCH]


def upsert_incidents(
    session: Session, source: str, records: Iterable[IncidentRecord], is_drill: bool = False
) -> int:
    """Insert or update incidents (the remote side wins; a first acknowledgement and a snooze
    known here are kept): plain sqlite3 rows (cockpit/store/bulk.py) in the session's
    transaction."""
    tuples = bulk.incident_tuples(source, records, is_drill)
    bulk.upsert_incident_tuples(driver_connection(session), tuples)
    return len(tuples)


def insert_log_entries(
    session: Session,
    source: str,
    entries: Iterable[LogEntryRecord],
    known_incidents: set[str] | None = None,
) -> tuple[int, list[str]]:
    """Insert log entries not seen before. Returns (rows inserted, incident ids missing).

    Entries of incidents the store does not hold yet are held back and reported, so the
    caller can fetch those incidents first (a foreign key protects the timeline).
    """
    return insert_timeline_rows(session, bulk.timeline_tuples(source, entries), known_incidents)


def insert_timeline_rows(
    session: Session, tuples: list[bulk.TimelineTuple], known_incidents: set[str] | None = None
) -> tuple[int, list[str]]:
    """:func:`insert_log_entries` of rows built beforehand (``bulk.timeline_tuples``): a
    sync's batch builds them before it takes the write lock, which it then holds a fifth
    less."""
    if not tuples:
        return 0, []
    tuples, missing = _held_back(session, tuples, known_incidents)
    conn = driver_connection(session)
    before = conn.total_changes
    bulk.insert_timeline_tuples(conn, tuples)
    inserted = conn.total_changes - before  # entries seen before are not counted
    bulk.first_acknowledgements(conn, tuples)
    return inserted, missing


_Row = TypeVar("_Row", bulk.TimelineTuple, dict[str, Any])


def _held_back(
    session: Session, rows: list[_Row], known_incidents: set[str] | None
) -> tuple[list[_Row], list[str]]:
    """(the rows whose incident the store holds, the sorted ids of those it lacks)."""
    ids = [_incident_of(row) for row in rows]
    known = known_incidents or set()
    wanted = set(ids)
    unknown = wanted - known
    if not unknown:
        return rows, []
    present = known | _existing_ids(session, unknown)
    missing = sorted(wanted - present)
    if not missing:
        return rows, []
    return [row for row, ident in zip(rows, ids, strict=True) if ident in present], missing


def _incident_of(row: bulk.TimelineTuple | dict[str, Any]) -> str:
    return row["incident_id"] if isinstance(row, dict) else row[0]


def _existing_ids(session: Session, ids: set[str]) -> set[str]:
    if not ids:
        return set()
    table = _table(Incident)
    found: set[str] = set()
    id_list = sorted(ids)
    for start in range(0, len(id_list), _BATCH):
        chunk = id_list[start : start + _BATCH]
        result = session.execute(
            table.select().with_only_columns(table.c.id).where(table.c.id.in_(chunk))
        )
        found.update(row[0] for row in result)
    return found


def upsert_alerts(session: Session, source: str, records: Iterable[AlertRecord]) -> int:
    rows = [
        {
            "id": qualify(source, r.id),
            "incident_id": qualify(source, r.incident_id),
            "summary": r.summary,
            "status": r.status,
            "severity": r.severity,
            "fingerprint": r.fingerprint,
            "labels": dict(r.labels),
            "annotations": dict(r.annotations),
            "runbook_url": r.runbook_url,
            "generator_url": r.generator_url,
            "created_at": as_utc(r.created_at),
            "updated_at": as_utc(r.updated_at) if r.updated_at else None,
        }
        for r in records
    ]
    if not rows:
        return 0
    table = _table(Alert)
    for batch in _rows_in_batches(rows):
        stmt = _insert(session, table)
        update = {c: stmt.excluded[c] for c in batch[0] if c != "id"}
        session.execute(stmt.on_conflict_do_update(index_elements=["id"], set_=update), batch)
    return len(rows)


def resolve_alerts_of(session: Session, source: str, records: Iterable[IncidentRecord]) -> int:
    """Alert rows of resolved incidents marked resolved, as the service does when an incident
    is resolved, without asking for them; returns the rows changed."""
    rows = [
        {"alerts_of": qualify(source, r.id), "resolved": as_utc(r.resolved_at or r.updated_at)}
        for r in records
        if r.status == "resolved"
    ]
    if not rows:
        return 0
    table = _table(Alert)
    at = bindparam("resolved", type_=UTCDateTime())
    result = session.execute(
        update(table)
        .where(table.c.incident_id == bindparam("alerts_of"))
        .where(table.c.status != "resolved")
        .values(status="resolved", updated_at=func.coalesce(table.c.updated_at, at)),
        rows,
    )
    return int(getattr(result, "rowcount", 0) or 0)


def apply_remote_snoozes(session: Session, source: str, records: Iterable[IncidentRecord]) -> None:
    """``snoozed_until`` from the service: the end of a snooze set there by anyone
    (``IncidentRecord.snoozed_until``), or none when the service has none, except on an
    incident whose own snooze still waits in the outbox (the service cannot know it yet)."""
    records = list(records)
    if not records:
        return
    table = _table(Incident)
    outbox = _table(OutboxItem)
    ours_waiting = exists().where(
        outbox.c.incident_id == table.c.id,
        outbox.c.action == "snooze",
        # or_, not in_: an expanding IN cannot be part of an executemany
        or_(outbox.c.state == "pending", outbox.c.state == "sending"),
    )
    snoozed = [
        {"snoozed_id": qualify(source, r.id), "until": as_utc(r.snoozed_until)}
        for r in records
        if r.snoozed_until is not None
    ]
    if snoozed:
        session.execute(
            update(table)
            .where(table.c.id == bindparam("snoozed_id"))
            .where(~ours_waiting)
            .values(snoozed_until=bindparam("until", type_=UTCDateTime())),
            snoozed,
        )
    # Few incidents carry a snooze: find those first rather than update every record.
    carrying = {
        row[0]
        for row in session.execute(
            table.select()
            .with_only_columns(table.c.id)
            .where(table.c.source == source, table.c.snoozed_until.is_not(None))
        )
    }
    ended = [
        {"snoozed_id": key}
        for r in records
        if r.snoozed_until is None and (key := qualify(source, r.id)) in carrying
    ]
    if ended:
        session.execute(
            update(table)
            .where(table.c.id == bindparam("snoozed_id"))
            .where(~ours_waiting)
            .values(snoozed_until=None),
            ended,
        )


def insert_remote_notes(session: Session, source: str, records: Iterable[NoteRecord]) -> int:
    rows = [
        {
            "incident_id": qualify(source, r.incident_id),
            "content": r.content,
            "author": r.author_name or qualify(source, r.author_id),
            "created_at": as_utc(r.created_at),
            # The form push.note_remote_id writes: notes may be numbered per incident.
            "remote_id": f"{qualify(source, r.incident_id)}/{r.id}",
            "state": "sent",
            "outbox_id": None,
        }
        for r in records
    ]
    if not rows:
        return 0
    table = _table(Note)
    for batch in _rows_in_batches(rows):
        stmt = _insert(session, table).on_conflict_do_nothing(index_elements=["remote_id"])
        session.execute(stmt, batch)
    return len(rows)


def upsert_people(session: Session, source: str, records: Iterable[PersonRecord]) -> int:
    rows = [
        {
            "id": qualify(source, r.id),
            "source": source,
            "name": r.name,
            "email": r.email,
            "time_zone": r.time_zone or "UTC",
            "teams": list(r.teams),
        }
        for r in records
    ]
    if not rows:
        return 0
    table = _table(Person)
    stmt = _insert(session, table)
    update = {c: stmt.excluded[c] for c in rows[0] if c != "id"}
    session.execute(stmt.on_conflict_do_update(index_elements=["id"], set_=update), rows)
    return len(rows)


def replace_oncalls(
    session: Session, source: str, records: Iterable[OnCallRecord], since: datetime | None = None
) -> int:
    """The roster from ``since`` on is a snapshot: the source's shifts still running at or
    after ``since`` are replaced by the new list; older ones stay as history (page load per
    shift needs them). Without ``since`` every shift of the source is replaced."""
    table = _table(OnCallShift)
    rows = [
        {
            "source": source,
            "person_id": qualify(source, r.person_id),
            "escalation_policy_id": r.escalation_policy_id,
            "escalation_policy_name": r.escalation_policy_name,
            "escalation_level": r.escalation_level,
            "schedule_id": r.schedule_id,
            "schedule_name": r.schedule_name,
            "start": as_utc(r.start) if r.start else None,
            "end": as_utc(r.end) if r.end else None,
        }
        for r in records
    ]
    stale = table.delete().where(table.c.source == source)
    if since is not None:
        stale = stale.where(or_(table.c.end.is_(None), table.c.end > since))
    session.execute(stale)
    if rows:
        stmt = _insert(session, table).on_conflict_do_nothing()
        session.execute(stmt, rows)
    return len(rows)
