"""Plain-sqlite3 bulk writes of provider records: the sync's hot path.

A first sync writes ~10,000 incidents and ~100,000 log entries. Through SQLAlchemy's typed
binds each row became a dict, then a tuple, with a fresh JSON encoder and an ``strftime``
per value; here each row is a tuple built straight from its record, with the same text
forms the column types write (``JSONText``: ``json.dumps(sort_keys=True,
ensure_ascii=False)``; ``UTCDateTime``: ``timefmt.to_db_text``). ``tests/core/
test_upsert_bulk.py`` checks the rows against the typed path, column for column.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime

from cockpit.records import IncidentRecord, LogEntryRecord
from cockpit.store.timefmt import to_db_text, utcnow

# The encoder JSONText's json.dumps(value, sort_keys=True, ensure_ascii=False) builds per call.
encode_json = json.JSONEncoder(sort_keys=True, ensure_ascii=False).encode


def db_text(value: datetime) -> str:
    """``to_db_text`` (``%Y-%m-%d %H:%M:%S.%f`` in UTC) at half the cost for UTC values."""
    if value.tzinfo is UTC and value.year >= 1000:  # strftime does not pad years < 1000
        return value.isoformat(" ", "microseconds")[:26]
    return to_db_text(value)


def _optional_text(value: datetime | None) -> str | None:
    return None if value is None else db_text(value)


INCIDENT_COLUMNS = (
    "id",
    "source",
    "remote_id",
    "number",
    "title",
    "status",
    "urgency",
    "priority",
    "service_id",
    "service_name",
    "team",
    "escalation_policy_id",
    "assignees",
    "html_url",
    "runbook_url",
    "incident_key",
    "labels",
    "annotations",
    "created_at",
    "updated_at",
    "acknowledged_at",
    "resolved_at",
    "is_drill",
    "synced_at",
)
# A pull replaces what the remote side owns; a first acknowledgement, once known locally,
# is never forgotten, and snoozed_until is the user's own.
_INCIDENT_UPDATES = ", ".join(
    [f"{c} = excluded.{c}" for c in INCIDENT_COLUMNS if c not in ("id", "acknowledged_at")]
    + ["acknowledged_at = coalesce(incidents.acknowledged_at, excluded.acknowledged_at)"]
)
_INCIDENT_UPSERT = (
    f"INSERT INTO incidents ({', '.join(INCIDENT_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in INCIDENT_COLUMNS)}) "
    f"ON CONFLICT (id) DO UPDATE SET {_INCIDENT_UPDATES}"
)

TIMELINE_COLUMNS = (
    "incident_id",
    "at",
    "kind",
    "summary",
    "actor",
    "person_id",
    "channel",
    "remote_id",
    "is_drill",
    "details",
)
_TIMELINE_INSERT = (
    f"INSERT INTO timeline_events ({', '.join(TIMELINE_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in TIMELINE_COLUMNS)}) ON CONFLICT (remote_id) DO NOTHING"
)
_FIRST_ACK = (
    "UPDATE incidents SET acknowledged_at = ?1 "
    "WHERE id = ?2 AND (acknowledged_at IS NULL OR acknowledged_at > ?1)"
)

TimelineTuple = tuple[str, str, str, str, str, str, str, str, int, str]


def incident_tuples(
    source: str, records: Iterable[IncidentRecord], is_drill: bool = False
) -> list[tuple[object, ...]]:
    prefix = f"{source}:"
    drill = int(is_drill)
    synced = db_text(utcnow())
    return [
        (
            prefix + r.id if r.id else "",
            source,
            r.id,
            r.number,
            r.title,
            r.status,
            r.urgency,
            r.priority,
            r.service_id,
            r.service_name,
            r.team,
            r.escalation_policy_id,
            encode_json([prefix + a if a else "" for a in r.assignees]),
            r.html_url,
            r.runbook_url,
            r.incident_key,
            encode_json(r.labels),
            encode_json(r.annotations),
            db_text(r.created_at),
            db_text(r.updated_at),
            _optional_text(r.acknowledged_at),
            _optional_text(r.resolved_at),
            drill,
            synced,
        )
        for r in records
    ]


def upsert_incident_tuples(conn: sqlite3.Connection, rows: list[tuple[object, ...]]) -> None:
    if rows:
        conn.executemany(_INCIDENT_UPSERT, rows)


def timeline_tuples(
    source: str, entries: Iterable[LogEntryRecord], is_drill: bool = False
) -> list[TimelineTuple]:
    prefix = f"{source}:"
    drill = int(is_drill)
    rows: list[TimelineTuple] = []
    append = rows.append
    for e in entries:
        details = e.details
        if e.agent_name and "agent_name" not in details:
            details = {**details, "agent_name": e.agent_name}
        append(
            (
                prefix + e.incident_id if e.incident_id else "",
                db_text(e.created_at),
                e.type,
                e.summary,
                prefix + e.agent_id if e.agent_id else "",
                prefix + e.person_id if e.person_id else "",
                e.channel,
                prefix + e.id if e.id else "",
                drill,
                encode_json(details),
            )
        )
    return rows


def insert_timeline_tuples(conn: sqlite3.Connection, rows: list[TimelineTuple]) -> None:
    if rows:
        conn.executemany(_TIMELINE_INSERT, rows)


def first_acknowledgements(conn: sqlite3.Connection, rows: list[TimelineTuple]) -> None:
    """PagerDuty lists no acknowledgements on a resolved incident; the log has the first one,
    which MTTA needs. Taken from the rows at hand (their fixed-width time text sorts as time):
    a query over the whole timeline per batch would grow with history."""
    first: dict[str, str] = {}
    for row in rows:
        if row[2] == "acknowledge":
            incident_id, at = row[0], row[1]
            known = first.get(incident_id)
            if known is None or at < known:
                first[incident_id] = at
    if first:
        conn.executemany(_FIRST_ACK, [(at, key) for key, at in first.items()])
