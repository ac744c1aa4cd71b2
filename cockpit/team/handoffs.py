"""Handoffs as team events: drafted (``handoff_draft``), signed (``handoff_signed``) and
accepted (``handoff_accepted``).

A handoff's team id is the id of the first event that shared it (a draft, or the signed
handoff when it was signed before the first sync); later events name it in ``handoff``. The
draft and the signed events carry the whole text, so a laptop that sees only the signed one
has everything; each laptop renders the Markdown itself, under its own number (the origin's
number when it is free here, so ``cockpit handoff accept N`` usually names the same one).

Accepting passes the outgoing engineer's batons on the accepting laptop: those offers and
acceptances go up through :mod:`cockpit.team.batons` (captured before this module), and the
acceptance names their offers, so every laptop links them to its copy of the handoff. Only the
accepting laptop queues the PagerDuty reassignment; applying never queues a write.

Two laptops accepting one handoff: the first acceptance to reach the team store wins (a
unique index there, as for baton offers): the other laptop's push inserts nothing
(:func:`lost_at_push`), or, accepted here after this sync's capture, it learns from the pull.
The loser's acceptance is marked ``lost`` in ``team_outbox`` with who accepted (``cockpit team
sync`` and ``status`` say it) and its PagerDuty writes still waiting are withdrawn.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from cockpit.team import local
from cockpit.team.events import Pulled, guarded, now_text, park, queue, unpark

HANDOFFS = "handoffs"
# Which acceptance this laptop holds for a handoff (local_id: the handoff's local id,
# global_id: the acceptance event's id; state 'own' or 'pulled').
ACCEPTS = "handoff_accepts"
BATONS = "baton_passes"
_STEPS = {"draft": 0, "signed": 1, "accepted": 2}
_COLUMNS = (
    "id, from_person, to_person, created_at, signed_at, accepted_at, shift_start, shift_end, draft"
)


def _row_payload(row: tuple[Any, ...]) -> dict[str, Any]:
    local_id, from_p, to_p, created, signed, _accepted, start, end, draft = row
    return {
        "number": local_id,
        "from_person": from_p,
        "to_person": to_p,
        "created_at": str(created),
        "signed_at": str(signed) if signed else None,
        "shift_start": str(start) if start else None,
        "shift_end": str(end) if end else None,
        "draft": json.loads(draft) if draft else {},
    }


def _offers_of(conn: sqlite3.Connection, handoff_id: int) -> list[str]:
    """The team ids of the baton offers this handoff's acceptance made here."""
    return [
        str(r[0])
        for r in conn.execute(
            "SELECT r.global_id FROM baton_passes b JOIN team_rows r ON r.tbl = ?"
            " AND r.local_id = b.id WHERE b.handoff_id = ? ORDER BY b.id",
            (BATONS, handoff_id),
        )
    ]


def _queue_accept(
    conn: sqlite3.Connection, local_id: int, gid: str, by: str, accepted_at: object
) -> None:
    event_id = queue(
        conn,
        "handoff_accepted",
        "",
        {
            "handoff": gid,
            "by": by,
            "accepted_at": str(accepted_at),
            "batons": _offers_of(conn, local_id),
        },
    )
    conn.execute(
        "INSERT OR REPLACE INTO team_rows VALUES (?, ?, ?, 'own')", (ACCEPTS, local_id, event_id)
    )


def capture(conn: sqlite3.Connection) -> int:
    """Queue the handoffs not shared yet, and the signing and acceptance of those shared
    before. Runs in the caller's write transaction, after the batons' capture (an acceptance
    names the team ids of its baton offers)."""
    queued = 0
    low = int(local.get_state(conn, "captured_handoffs", "0"))
    fresh = conn.execute(
        f"SELECT {_COLUMNS} FROM {HANDOFFS} h WHERE id > ? AND NOT EXISTS"
        " (SELECT 1 FROM team_rows r WHERE r.tbl = ? AND r.local_id = h.id) ORDER BY id",
        (low, HANDOFFS),
    ).fetchall()
    for row in fresh:
        signed = row[4] is not None
        gid = queue(conn, "handoff_signed" if signed else "handoff_draft", "", _row_payload(row))
        queued += 1
        conn.execute(
            "INSERT INTO team_rows VALUES (?, ?, ?, ?)",
            (HANDOFFS, row[0], gid, "signed" if signed else "draft"),
        )
    top = conn.execute(f"SELECT coalesce(max(id), 0) FROM {HANDOFFS}").fetchone()[0]
    local.set_state(conn, "captured_handoffs", str(top))
    moved = conn.execute(
        f"SELECT {', '.join('h.' + c.strip() for c in _COLUMNS.split(','))}, r.global_id,"
        f" r.state FROM team_rows r JOIN {HANDOFFS} h ON h.id = r.local_id WHERE r.tbl = ?"
        " AND ((r.state = 'draft' AND h.signed_at IS NOT NULL)"
        " OR (r.state != 'accepted' AND h.accepted_at IS NOT NULL)) ORDER BY h.id",
        (HANDOFFS,),
    ).fetchall()
    for *row, gid, state in moved:
        if state == "draft" and row[4] is not None:
            queue(conn, "handoff_signed", "", {**_row_payload(tuple(row)), "handoff": gid})
            queued += 1
            state = "signed"
        if row[5] is not None:
            _queue_accept(conn, row[0], gid, row[2], row[5])
            queued += 1
            state = "accepted"
        conn.execute(
            "UPDATE team_rows SET state = ? WHERE tbl = ? AND local_id = ?",
            (state, HANDOFFS, row[0]),
        )
    return queued


def _lookup(conn: sqlite3.Connection, tbl: str, gid: str) -> tuple[int, str] | None:
    row = conn.execute(
        "SELECT local_id, state FROM team_rows WHERE tbl = ? AND global_id = ?", (tbl, gid)
    ).fetchone()
    return (int(row[0]), str(row[1])) if row else None


def _name(conn: sqlite3.Connection, person_id: str) -> str:
    row = conn.execute("SELECT name FROM people WHERE id = ?", (person_id,)).fetchone()
    return str(row[0]) if row else person_id.split(":", 1)[-1]


def _render(conn: sqlite3.Connection, handoff_id: int) -> None:
    """The Markdown of a handoff as this laptop shows it (its number here, its status); the
    notes in it are sanitised by the renderer, so pulled text reaches no terminal raw."""
    from cockpit.handoff.draft import HandoffDraft
    from cockpit.handoff.markdown import render_markdown

    draft_text, signed, accepted = conn.execute(
        "SELECT draft, signed_at, accepted_at FROM handoffs WHERE id = ?", (handoff_id,)
    ).fetchone()
    draft = HandoffDraft.from_json(json.loads(draft_text))
    status = "accepted" if accepted else "signed" if signed else "draft"
    conn.execute(
        "UPDATE handoffs SET body_md = ? WHERE id = ?",
        (render_markdown(draft, status, handoff_id), handoff_id),
    )


def _readable(payload: dict[str, Any]) -> bool:
    """Whether a pulled handoff's text can be shown here (else it is parked, kept for a
    cockpit that can; a bad one never stops the pull)."""
    from cockpit.handoff.draft import HandoffDraft

    try:
        HandoffDraft.from_json(payload["draft"])
    except (KeyError, TypeError, ValueError, AttributeError):
        return False
    return bool(payload.get("from_person")) and bool(payload.get("created_at"))


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def apply_handoff(conn: sqlite3.Connection, event: Pulled) -> str:
    """A drafted or signed handoff: created here, or its draft made signed."""
    p = event.payload
    gid = str(p.get("handoff") or event.id)
    step = "signed" if event.kind == "handoff_signed" else "draft"
    known = _lookup(conn, HANDOFFS, gid)
    if known is not None and _STEPS.get(known[1], 0) >= _STEPS[step]:
        unpark(conn, event)
        return "skipped"
    if not _readable(p):
        park(conn, event)
        return "parked"
    values = (
        str(p["from_person"]),
        str(p.get("to_person") or ""),
        str(p["created_at"]),
        _text(p.get("signed_at")) if step == "signed" else None,
        _text(p.get("shift_start")),
        _text(p.get("shift_end")),
        _dump(p["draft"]),
    )
    if known is None:
        number = p.get("number")
        free = (
            isinstance(number, int)
            and not conn.execute("SELECT 1 FROM handoffs WHERE id = ?", (number,)).fetchone()
        )
        cursor = conn.execute(
            "INSERT INTO handoffs (id, from_person, to_person, created_at, signed_at,"
            " shift_start, shift_end, draft, body_md) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '')",
            (number if free else None, *values),
        )
        local_id = int(cursor.lastrowid or 0)
        conn.execute("INSERT INTO team_rows VALUES (?, ?, ?, ?)", (HANDOFFS, local_id, gid, step))
    else:
        local_id = known[0]
        conn.execute(
            "UPDATE handoffs SET from_person = ?, to_person = ?, created_at = ?, signed_at = ?,"
            " shift_start = ?, shift_end = ?, draft = ? WHERE id = ?",
            (*values, local_id),
        )
        conn.execute(
            "UPDATE team_rows SET state = ? WHERE tbl = ? AND local_id = ?",
            (step, HANDOFFS, local_id),
        )
    _render(conn, local_id)
    unpark(conn, event)
    return "applied"


def _link_batons(conn: sqlite3.Connection, handoff_id: int, offers: list[str]) -> bool:
    """Mark the baton passes of an acceptance as this handoff's; False while some of them
    have not come down here yet."""
    complete = True
    for offer in offers:
        found = _lookup(conn, BATONS, str(offer))
        if found is None:
            complete = False
            continue
        conn.execute("UPDATE baton_passes SET handoff_id = ? WHERE id = ?", (handoff_id, found[0]))
    return complete


def _withdraw_writes(conn: sqlite3.Connection, handoff_id: int, why: str) -> tuple[int, int]:
    """This laptop's PagerDuty writes for the batons its lost acceptance took (the
    reassignments and their "[cockpit] Baton passed" notes): those still waiting never go,
    as the winner's cockpit sends its own. Returns (reassignments withdrawn, already sent)."""
    since = conn.execute(
        "SELECT min(offered_at) FROM baton_passes WHERE handoff_id = ?", (handoff_id,)
    ).fetchone()[0]
    if since is None:
        return 0, 0
    incidents = [
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT incident_id FROM baton_passes WHERE handoff_id = ?"
            " AND state = 'accepted'",
            (handoff_id,),
        )
    ]
    withdrawn = sent = 0
    ours = f": handoff #{handoff_id}"
    for incident in incidents:
        withdrawn += conn.execute(
            "UPDATE outbox SET state = 'superseded', last_error = ? WHERE incident_id = ?"
            " AND action = 'reassign' AND state = 'pending' AND created_at >= ?",
            (why, incident, since),
        ).rowcount
        sent += conn.execute(
            "SELECT count(*) FROM outbox WHERE incident_id = ? AND action = 'reassign'"
            " AND state IN ('sending', 'sent') AND created_at >= ?",
            (incident, since),
        ).fetchone()[0]
        notes = conn.execute(
            "SELECT id, json_extract(payload, '$.note_id'), json_extract(payload, '$.content')"
            " FROM outbox WHERE incident_id = ? AND action = 'note' AND state = 'pending'"
            " AND created_at >= ?",
            (incident, since),
        ).fetchall()
        for item, note_id, content in notes:
            text = str(content or "")
            if not (text.startswith("[cockpit] Baton passed") and text.endswith(ours)):
                continue
            conn.execute(
                "UPDATE outbox SET state = 'superseded', last_error = ? WHERE id = ?", (why, item)
            )
            # Kept here, never sent (as a discarded note), and not shared with the team.
            conn.execute("UPDATE notes SET state = 'local' WHERE id = ?", (note_id,))
            conn.execute(
                "INSERT OR IGNORE INTO team_rows VALUES ('notes', ?, '', 'withdrawn')", (note_id,)
            )
    return withdrawn, sent


def _lose(conn: sqlite3.Connection, handoff_id: int, own: str | None, winner: Pulled) -> None:
    """This laptop's acceptance lost: it never goes up (or is marked lost if it did), and
    the user is told who accepted, as a lost baton race is told."""
    who = f"{winner.author} on {winner.origin}"
    withdrawn, sent = _withdraw_writes(conn, handoff_id, f"the handoff was accepted first by {who}")
    message = f"handoff #{handoff_id}: accepted first by {who}"
    if withdrawn:
        message += "; your reassignment at PagerDuty was withdrawn"
    if sent:
        message += "; a reassignment of yours had already reached PagerDuty"
    if own is None:
        # Accepted here after this sync's capture: it never goes up; a 'lost' row keeps
        # the message where `cockpit team status` lists lost races.
        own = queue(conn, "handoff_accepted", "", {"handoff": "", "lost": True})
    conn.execute("UPDATE team_outbox SET state = 'lost', message = ? WHERE id = ?", (message, own))


def lost_at_push(
    conn: sqlite3.Connection, event_id: str, payload: dict[str, Any], author: str, origin: str
) -> str:
    """Our acceptance was refused by the team store: ``author`` on ``origin`` accepted first.
    Withdraws what is withdrawable, marks ours lost, and returns the message for the user."""
    gid = str(payload.get("handoff", ""))
    known = _lookup(conn, HANDOFFS, gid)
    winner = Pulled(event_id, "", "handoff_accepted", "", payload, author, origin)
    if known is None:
        message = f"a handoff: accepted first by {author} on {origin}"
        conn.execute(
            "UPDATE team_outbox SET state = 'lost', message = ? WHERE id = ?", (message, event_id)
        )
        return message
    _lose(conn, known[0], event_id, winner)
    row = conn.execute("SELECT message FROM team_outbox WHERE id = ?", (event_id,)).fetchone()
    return str(row[0]) if row else ""


def apply_accepted(conn: sqlite3.Connection, event: Pulled) -> str:
    p = event.payload
    gid = str(p.get("handoff", ""))
    known = _lookup(conn, HANDOFFS, gid)
    if known is None:
        park(conn, event)  # its handoff has not come down here yet
        return "parked"
    handoff_id = known[0]
    batons = p.get("batons") or []
    if not isinstance(batons, list):
        raise TypeError(f"batons must be a list, got {type(batons).__name__}")  # parked
    offers = [str(o) for o in batons]
    held = conn.execute(
        "SELECT global_id, state FROM team_rows WHERE tbl = ? AND local_id = ?",
        (ACCEPTS, handoff_id),
    ).fetchone()
    accepted_here = conn.execute(
        "SELECT accepted_at FROM handoffs WHERE id = ?", (handoff_id,)
    ).fetchone()[0]
    if held is not None and held[0] == event.id:
        # Applied before: only baton passes that came down since are left to link.
        waiting = conn.execute("SELECT 1 FROM team_parked WHERE id = ?", (event.id,)).fetchone()
        if not _link_batons(conn, handoff_id, offers):
            return "parked"
        unpark(conn, event)
        return "applied" if waiting else "skipped"
    if held is None and accepted_here is not None and known[1] != "accepted":
        # Accepted on this laptop after this sync's capture: the other one is in the team
        # store already, so it was first.
        _lose(conn, handoff_id, None, event)
    elif held is not None and held[1] == "own":
        state = conn.execute("SELECT state FROM team_outbox WHERE id = ?", (held[0],)).fetchone()
        if state is not None and state[0] == "sent":
            # Ours is in the team store, which holds one acceptance per handoff: this one
            # cannot be for the same handoff; nothing to change.
            unpark(conn, event)
            return "skipped"
        if state is None or state[0] != "lost":  # lost at push: told and withdrawn then
            _lose(conn, handoff_id, str(held[0]), event)
    conn.execute(
        "INSERT OR REPLACE INTO team_rows VALUES (?, ?, ?, 'pulled')",
        (ACCEPTS, handoff_id, event.id),
    )
    conn.execute(
        "UPDATE team_rows SET state = 'accepted' WHERE tbl = ? AND local_id = ?",
        (HANDOFFS, handoff_id),
    )
    by = str(p.get("by") or "")
    row = conn.execute("SELECT draft FROM handoffs WHERE id = ?", (handoff_id,)).fetchone()
    draft = json.loads(row[0]) if row and row[0] else {}
    if by:
        draft["to_person"], draft["to_name"] = by, _name(conn, by)
    conn.execute(
        "UPDATE handoffs SET accepted_at = ?, to_person = coalesce(nullif(?, ''), to_person),"
        " draft = ? WHERE id = ?",
        (_text(p.get("accepted_at")) or now_text(), by, _dump(draft), handoff_id),
    )
    _render(conn, handoff_id)
    if not _link_batons(conn, handoff_id, offers):
        park(conn, event)  # linked when its baton passes come down
        return "parked"
    unpark(conn, event)
    return "applied"


APPLY = {
    "handoff_draft": guarded(apply_handoff),
    "handoff_signed": guarded(apply_handoff),
    "handoff_accepted": guarded(apply_accepted),
}
