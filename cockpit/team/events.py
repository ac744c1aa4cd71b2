"""What every kind of team event shares: the pulled event, and queueing and parking one.

A kind's module (:mod:`cockpit.team.batons`, :mod:`cockpit.team.runs`, ...) captures its
local rows as events with :func:`queue` and applies pulled ones; an event that cannot be
applied yet (its incident, run or offer has not arrived here) is :func:`park`-ed and tried
again after each pull page, in team order.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cockpit.store.timefmt import to_db_text
from cockpit.team.local import uuid7


@dataclass(frozen=True)
class Pulled:
    id: str
    tx: str
    kind: str
    incident_key: str
    payload: dict[str, Any]
    author: str
    origin: str


def now_text() -> str:
    return to_db_text(datetime.now(UTC))


def queue(conn: sqlite3.Connection, kind: str, incident: str, payload: dict[str, Any]) -> str:
    """Queue one event to go up; returns its id (a UUIDv7, made once, so a retried push is
    the same insert)."""
    event_id = uuid7()
    seq = conn.execute("SELECT coalesce(max(seq), 0) + 1 FROM team_outbox").fetchone()[0]
    conn.execute(
        "INSERT INTO team_outbox (id, seq, kind, incident_key, payload, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (event_id, seq, kind, incident, json.dumps(payload, sort_keys=True), now_text()),
    )
    return event_id


def park(conn: sqlite3.Connection, event: Pulled) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO team_parked VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            event.id,
            event.tx,
            event.kind,
            event.incident_key,
            json.dumps(event.payload),
            event.author,
            event.origin,
        ),
    )


def unpark(conn: sqlite3.Connection, event: Pulled) -> None:
    conn.execute("DELETE FROM team_parked WHERE id = ?", (event.id,))


def has_incident(conn: sqlite3.Connection, incident: str) -> bool:
    return conn.execute("SELECT 1 FROM incidents WHERE id = ?", (incident,)).fetchone() is not None
