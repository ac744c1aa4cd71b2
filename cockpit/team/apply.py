"""Pulled team events -> rows of the local store, and local rows -> team events.

Like :mod:`cockpit.sync.actions`, each function changes the local store in the caller's
transaction; unlike them, nothing here queues a write to the paging service: the laptop where
a baton was accepted queues the reassignment, once, and the others only show it.

So far: baton offers and acceptances (a ``take`` is an offer accepted at once). Everything
else a team event may carry is kept in ``team_parked`` until a later version applies it.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cockpit.store.timefmt import to_db_text
from cockpit.team import local
from cockpit.team.local import uuid7

BATONS = "baton_passes"


@dataclass(frozen=True)
class Pulled:
    id: str
    tx: str
    kind: str
    incident_key: str
    payload: dict[str, Any]
    author: str
    origin: str


def _now() -> str:
    return to_db_text(datetime.now(UTC))


def _queue(conn: sqlite3.Connection, kind: str, incident: str, payload: dict[str, Any]) -> str:
    event_id = uuid7()
    seq = conn.execute("SELECT coalesce(max(seq), 0) + 1 FROM team_outbox").fetchone()[0]
    conn.execute(
        "INSERT INTO team_outbox (id, seq, kind, incident_key, payload, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (event_id, seq, kind, incident, json.dumps(payload, sort_keys=True), _now()),
    )
    return event_id


def capture(conn: sqlite3.Connection) -> int:
    """Queue the local baton rows not shared yet (by local id watermark) and the acceptance of
    offers shared while open. Returns how many events were queued. Runs in the caller's
    write transaction (BEGIN IMMEDIATE), so no local row appears while it reads."""
    queued = 0
    columns = "id, incident_id, from_person, to_person, note, offered_at, accepted_at, state"
    # Every row up to ``low`` was captured or applied when it was set (in the same write
    # transaction); a row the user made while a pull was applying others' rows has a higher
    # id than ``low`` but no team_rows entry, so it is still found here.
    low = int(local.get_state(conn, "captured_baton_passes", "0"))
    fresh = conn.execute(
        f"SELECT {columns} FROM {BATONS} b WHERE id > ? AND NOT EXISTS"
        " (SELECT 1 FROM team_rows r WHERE r.tbl = ? AND r.local_id = b.id) ORDER BY id",
        (low, BATONS),
    )
    for row in fresh.fetchall():
        local_id, incident, from_p, to_p, note, offered_at, accepted_at, state = row
        offer_id = _queue(
            conn,
            "baton_offer",
            incident,
            {
                "from_person": from_p,
                "to_person": to_p,
                "note": note,
                "offered_at": str(offered_at),
            },
        )
        queued += 1
        shared = "offered"
        if state == "accepted":
            _queue(
                conn,
                "baton_accept",
                incident,
                {"offer": offer_id, "by": to_p, "accepted_at": str(accepted_at)},
            )
            queued += 1
            shared = "accepted"
        conn.execute(
            "INSERT INTO team_rows VALUES (?, ?, ?, ?)", (BATONS, local_id, offer_id, shared)
        )
    top = conn.execute(f"SELECT coalesce(max(id), 0) FROM {BATONS}").fetchone()[0]
    local.set_state(conn, "captured_baton_passes", str(top))
    open_offers = conn.execute(
        f"SELECT r.local_id, r.global_id, b.incident_id, b.to_person, b.accepted_at, b.state"
        f" FROM team_rows r JOIN {BATONS} b ON b.id = r.local_id"
        " WHERE r.tbl = ? AND r.state = 'offered' AND b.state = 'accepted'",
        (BATONS,),
    ).fetchall()
    for local_id, offer_id, incident, to_p, accepted_at, _state in open_offers:
        _queue(
            conn,
            "baton_accept",
            incident,
            {"offer": offer_id, "by": to_p, "accepted_at": str(accepted_at)},
        )
        queued += 1
        conn.execute(
            "UPDATE team_rows SET state = 'accepted' WHERE tbl = ? AND local_id = ?",
            (BATONS, local_id),
        )
    return queued


def apply(conn: sqlite3.Connection, event: Pulled, own_ids: set[str]) -> str:
    """Apply one pulled event; returns 'applied', 'own', 'parked' or 'skipped'."""
    if event.id in own_ids:
        return "own"
    if event.kind == "baton_offer":
        return _apply_offer(conn, event)
    if event.kind == "baton_accept":
        return _apply_accept(conn, event)
    _park(conn, event)
    return "parked"


def _park(conn: sqlite3.Connection, event: Pulled) -> None:
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


def _apply_offer(conn: sqlite3.Connection, event: Pulled) -> str:
    known = conn.execute("SELECT 1 FROM team_rows WHERE global_id = ?", (event.id,)).fetchone()
    if known:
        return "skipped"
    if (
        conn.execute("SELECT 1 FROM incidents WHERE id = ?", (event.incident_key,)).fetchone()
        is None
    ):
        # This laptop has not pulled that incident from the paging service yet.
        _park(conn, event)
        return "parked"
    p = event.payload
    conn.execute(
        f"UPDATE {BATONS} SET state = 'withdrawn' WHERE incident_id = ? AND state = 'offered'",
        (event.incident_key,),
    )
    cursor = conn.execute(
        f"INSERT INTO {BATONS} (incident_id, from_person, to_person, note, offered_at, state)"
        " VALUES (?, ?, ?, ?, ?, 'offered')",
        (
            event.incident_key,
            p.get("from_person", ""),
            p.get("to_person", ""),
            p.get("note", ""),
            p.get("offered_at") or _now(),
        ),
    )
    conn.execute(
        "INSERT INTO team_rows VALUES (?, ?, ?, 'offered')", (BATONS, cursor.lastrowid, event.id)
    )
    conn.execute("DELETE FROM team_parked WHERE id = ?", (event.id,))
    return "applied"


def _apply_accept(conn: sqlite3.Connection, event: Pulled) -> str:
    offer = str(event.payload.get("offer", ""))
    row = conn.execute(
        "SELECT local_id, state FROM team_rows WHERE tbl = ? AND global_id = ?", (BATONS, offer)
    ).fetchone()
    if row is None:
        _park(conn, event)  # the offer has not been applied here yet
        return "parked"
    local_id, _shared = row
    conn.execute(
        f"UPDATE {BATONS} SET state = 'accepted', accepted_at = ? WHERE id = ?",
        (event.payload.get("accepted_at") or _now(), local_id),
    )
    conn.execute(
        "UPDATE team_rows SET state = 'accepted' WHERE tbl = ? AND local_id = ?", (BATONS, local_id)
    )
    conn.execute("DELETE FROM team_parked WHERE id = ?", (event.id,))
    return "applied"
