"""Baton offers and acceptances as team events (a ``take`` is an offer accepted at once).

Nothing here queues a write to the paging service: the laptop where a baton was accepted
queues the reassignment, once, and the others only show it.
"""

from __future__ import annotations

import sqlite3

from cockpit.team import local
from cockpit.team.events import Pulled, has_incident, now_text, park, queue, unpark

BATONS = "baton_passes"


def _queue_accept(
    conn: sqlite3.Connection, incident: str, offer_id: str, by: str, accepted_at: object
) -> None:
    queue(
        conn,
        "baton_accept",
        incident,
        {"offer": offer_id, "by": by, "accepted_at": str(accepted_at)},
    )


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
        offer_id = queue(
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
            _queue_accept(conn, incident, offer_id, to_p, accepted_at)
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
        _queue_accept(conn, incident, offer_id, to_p, accepted_at)
        queued += 1
        conn.execute(
            "UPDATE team_rows SET state = 'accepted' WHERE tbl = ? AND local_id = ?",
            (BATONS, local_id),
        )
    return queued


def apply_offer(conn: sqlite3.Connection, event: Pulled) -> str:
    known = conn.execute("SELECT 1 FROM team_rows WHERE global_id = ?", (event.id,)).fetchone()
    if known:
        return "skipped"
    if not has_incident(conn, event.incident_key):
        # This laptop has not pulled that incident from the paging service yet.
        park(conn, event)
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
            p.get("offered_at") or now_text(),
        ),
    )
    conn.execute(
        "INSERT INTO team_rows VALUES (?, ?, ?, 'offered')", (BATONS, cursor.lastrowid, event.id)
    )
    unpark(conn, event)
    return "applied"


def apply_accept(conn: sqlite3.Connection, event: Pulled) -> str:
    offer = str(event.payload.get("offer", ""))
    row = conn.execute(
        "SELECT local_id, state FROM team_rows WHERE tbl = ? AND global_id = ?", (BATONS, offer)
    ).fetchone()
    if row is None:
        park(conn, event)  # the offer has not been applied here yet
        return "parked"
    local_id, _shared = row
    conn.execute(
        f"UPDATE {BATONS} SET state = 'accepted', accepted_at = ? WHERE id = ?",
        (event.payload.get("accepted_at") or now_text(), local_id),
    )
    conn.execute(
        "UPDATE team_rows SET state = 'accepted' WHERE tbl = ? AND local_id = ?", (BATONS, local_id)
    )
    unpark(conn, event)
    return "applied"


APPLY = {"baton_offer": apply_offer, "baton_accept": apply_accept}
