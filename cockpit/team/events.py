"""What every kind of team event shares: the pulled event, and queueing and parking one.

A kind's module (:mod:`cockpit.team.batons`, :mod:`cockpit.team.runs`, ...) captures its
local rows as events with :func:`queue` and applies pulled ones; an event that cannot be
applied yet (its incident, run or offer has not arrived here) is :func:`park`-ed and tried
again after each pull page, in team order.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Callable
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


Applier = Callable[[sqlite3.Connection, Pulled], str]
_UNREADABLE = (
    KeyError,
    TypeError,
    ValueError,
    AttributeError,
    sqlite3.IntegrityError,
    sqlite3.InterfaceError,
)


def guarded(applier: Applier) -> Applier:
    """The applier, made to park an event it cannot read (a malformed payload, or one from a
    newer cockpit) instead of failing: what it wrote is undone, the event is kept in
    ``team_parked``, and the rest of the pull goes on."""

    @functools.wraps(applier)
    def run(conn: sqlite3.Connection, event: Pulled) -> str:
        conn.execute("SAVEPOINT team_apply_one")
        try:
            outcome = applier(conn, event)
        except _UNREADABLE:
            conn.execute("ROLLBACK TO team_apply_one")
            conn.execute("RELEASE team_apply_one")
            park(conn, event)
            return "parked"
        conn.execute("RELEASE team_apply_one")
        return outcome

    return run
