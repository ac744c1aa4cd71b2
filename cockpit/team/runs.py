"""Runbook runs and every run event as team events (kind ``run_event``, drills included).

- A run goes up as ``{"type": "start", ...}``: the event's id is the run's team id. It names
  the run of the same runbook on the same incident this laptop had before it (``after``).
  Two starts with the same ``after`` were made without knowing each other (two laptops
  offline): they are **one run**, their events merge into it, and it started when the first
  of them did. A start that knew of an earlier run is a new run.
- Each ``step_events`` row goes up as ``{"type": "step", "run": <run's team id>, ...}``
  with its time and its seq there; a finish is a step of kind ``finished``.
- Merging: a run's events are ordered by (order time, seq on its laptop, team event id),
  the same on every laptop; the order time is the event's time, but never before the event
  its laptop had just before it. The local ``seq`` follows that order: a pulled event takes
  its place (those after it move up one), and a capture re-sorts a run holding others'
  events (new numbers above the old highest). Either way the run's highest seq changes, so
  a replay cached by it is redone. The replay (:mod:`cockpit.runbooks.run`) settles
  duplicate ticks and decision conflicts.
- A pulled event's actor is the team event's author (the PostgreSQL role); its details
  carry it as ``team_author`` so the checklist can say who did a step.

Like the other kinds, everything here runs in the caller's write transaction.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from cockpit.runbooks.links import plain
from cockpit.runbooks.run_events import TEAM_AUTHOR
from cockpit.store.timefmt import as_utc, to_db_text
from cockpit.team import local
from cockpit.team.events import Pulled, has_incident, now_text, park, queue, unpark

RUNS = "runbook_runs"
STEPS = "step_events"
KIND = "run_event"
_ALIAS = "run_alias:"  # team_state key: another team id of a local run (a merged start)


# ---------------------------------------------------------------------------- capture


def capture(conn: sqlite3.Connection) -> int:
    """Queue the runs and run events not shared yet (by local id watermark, like batons).
    Returns how many events were queued."""
    queued = 0
    low = int(local.get_state(conn, "captured_runbook_runs", "0"))
    runs = conn.execute(
        f"SELECT id, incident_id, runbook_id, runbook_hash, started_at, started_by, is_drill"
        f" FROM {RUNS} r WHERE id > ? AND NOT EXISTS (SELECT 1 FROM team_rows t"
        " WHERE t.tbl = ? AND t.local_id = r.id) ORDER BY id",
        (low, RUNS),
    ).fetchall()
    for run_id, incident, runbook_id, digest, started_at, started_by, is_drill in runs:
        before = _before(conn, run_id, incident, runbook_id)
        event_id = queue(
            conn,
            KIND,
            incident,
            {
                "type": "start",
                "runbook_id": runbook_id,
                "runbook_hash": digest,
                "started_at": str(started_at),
                "started_by": started_by,
                "is_drill": bool(is_drill),
                "after": team_id(conn, before) if before else "",
            },
        )
        conn.execute(
            "INSERT INTO team_rows VALUES (?, ?, ?, ?)", (RUNS, run_id, event_id, f"after:{before}")
        )
        queued += 1
    top = conn.execute(f"SELECT coalesce(max(id), 0) FROM {RUNS}").fetchone()[0]
    local.set_state(conn, "captured_runbook_runs", str(top))

    low = int(local.get_state(conn, "captured_step_events", "0"))
    steps = conn.execute(
        f"SELECT e.id, e.run_id, e.seq, e.at, e.kind, e.step_id, e.branch, e.reason, e.actor,"
        f" e.details, r.incident_id FROM {STEPS} e JOIN {RUNS} r ON r.id = e.run_id"
        " WHERE e.id > ? AND NOT EXISTS (SELECT 1 FROM team_rows t"
        " WHERE t.tbl = ? AND t.local_id = e.id)"
        # A drill is practised on one laptop: on the others its run is watched, and what
        # they do to it (`cockpit drill report` closing it) stays there.
        " AND NOT EXISTS (SELECT 1 FROM drills d JOIN team_rows td ON td.tbl = 'drills'"
        " AND td.local_id = d.id AND td.state LIKE 'pulled%' WHERE d.run_id = e.run_id)"
        " ORDER BY e.id",
        (low, STEPS),
    ).fetchall()
    touched: set[int] = set()
    for row in steps:
        step_id, run_id, seq, at, kind, step, branch, reason, actor, details, incident = row
        order_at = _order_time(conn, run_id, seq, str(at))
        event_id = queue(
            conn,
            KIND,
            incident,
            {
                "type": "step",
                "run": team_id(conn, run_id),
                "seq": seq,
                "at": str(at),
                "order_at": order_at,
                "kind": kind,
                "step_id": step,
                "branch": branch,
                "reason": reason,
                "actor": actor,
                "details": _shared_details(kind, json.loads(details) if details else {}),
            },
        )
        conn.execute(
            "INSERT INTO team_rows VALUES (?, ?, ?, ?)",
            (STEPS, step_id, event_id, _order_key(order_at, seq, event_id)),
        )
        touched.add(run_id)
        queued += 1
    top = conn.execute(f"SELECT coalesce(max(id), 0) FROM {STEPS}").fetchone()[0]
    local.set_state(conn, "captured_step_events", str(top))
    for run_id in sorted(touched):
        if _shared_with_others(conn, run_id):
            resequence(conn, run_id)
    return queued


def _shared_details(kind: str, details: dict[str, Any]) -> dict[str, Any]:
    """A command's output stays on the laptop that ran it (it may hold what the team store
    should not); the command and its exit code are shared."""
    if kind == "command_run":
        return {k: v for k, v in details.items() if k != "output"}
    return details


def _before(conn: sqlite3.Connection, run_id: int, incident: str, runbook_id: str) -> int:
    """The local run of the same runbook on the same incident this run was started after:
    the one made here before it (a lower local id), 0 for none."""
    row = conn.execute(
        f"SELECT max(id) FROM {RUNS} WHERE incident_id = ? AND runbook_id = ? AND id < ?",
        (incident, runbook_id, run_id),
    ).fetchone()
    return int(row[0] or 0)


def team_id(conn: sqlite3.Connection, run_id: int) -> str:
    """The team id of a local run ("" before it is captured); a drill or handoff that
    points at a run shares this id."""
    row = conn.execute(
        "SELECT global_id FROM team_rows WHERE tbl = ? AND local_id = ?", (RUNS, run_id)
    ).fetchone()
    return str(row[0]) if row else ""


def local_run(conn: sqlite3.Connection, shared_id: str) -> int | None:
    """The local run of a team run id (any of a merged run's ids); None before it arrives."""
    row = conn.execute(
        "SELECT local_id FROM team_rows WHERE tbl = ? AND global_id = ?", (RUNS, shared_id)
    ).fetchone()
    if row is not None:
        return int(row[0])
    alias = local.get_state(conn, _ALIAS + shared_id)
    return int(alias) if alias else None


def _after_of(conn: sqlite3.Connection, run_id: int, incident: str, runbook_id: str) -> int:
    row = conn.execute(
        "SELECT state FROM team_rows WHERE tbl = ? AND local_id = ?", (RUNS, run_id)
    ).fetchone()
    if row is not None and str(row[0]).startswith("after:"):
        return int(str(row[0])[len("after:") :] or 0)
    return _before(conn, run_id, incident, runbook_id)


def _shared_with_others(conn: sqlite3.Connection, run_id: int) -> bool:
    """Whether the run holds another laptop's events (only then can its order change)."""
    return (
        conn.execute(
            f"SELECT 1 FROM {STEPS} e JOIN team_rows t ON t.tbl = ? AND t.local_id = e.id"
            " WHERE e.run_id = ? AND t.state LIKE 'pulled|%' LIMIT 1",
            (STEPS, run_id),
        ).fetchone()
        is not None
    )


# ---------------------------------------------------------------------------- order


def _order_key(at: str, seq: int, event_id: str) -> str:
    """The merge order of one event, as text that sorts right: its order time (UTC, fixed
    width), then its seq on the laptop that made it (a laptop's own order for one instant),
    then the team event id. The same text on every laptop."""
    return f"{_db_time(at)}|{int(seq):012d}|{event_id}"


def _order_time(conn: sqlite3.Connection, run_id: int, seq: int, at: str) -> str:
    """An event's order time: its own time, but never before the event this laptop had
    just before it (a clock behind another laptop's must not put an undo before the tick
    it takes back), so what one laptop saw in order stays in that order everywhere."""
    mine = _db_time(at)
    row = conn.execute(
        f"SELECT e.at, t.state FROM {STEPS} e LEFT JOIN team_rows t"
        " ON t.tbl = ? AND t.local_id = e.id WHERE e.run_id = ? AND e.seq < ?"
        " ORDER BY e.seq DESC LIMIT 1",
        (STEPS, run_id, seq),
    ).fetchone()
    if row is None:
        return mine
    before = _key_of(str(row[1])).split("|", 1)[0] if row[1] else _db_time(row[0])
    if mine > before:
        return mine
    return to_db_text(as_utc(datetime.fromisoformat(before)) + timedelta(microseconds=1))


def _key_of(state: str) -> str:
    return state.removeprefix("pulled|")


def resequence(conn: sqlite3.Connection, run_id: int) -> bool:
    """Renumber the run's ``seq`` to the merge order; True when the order changed. New
    numbers start above the highest one, so a replay cached by its last seq is redone."""
    rows = conn.execute(
        f"SELECT e.id, e.seq, e.at, t.state FROM {STEPS} e LEFT JOIN team_rows t"
        " ON t.tbl = ? AND t.local_id = e.id WHERE e.run_id = ? ORDER BY e.seq",
        (STEPS, run_id),
    ).fetchall()
    # An event not captured yet sorts by its own time and seq, after shared ones of the
    # same instant ("~" sorts after any team id).
    keyed = [
        (_key_of(str(state)) if state else _order_key(str(at), seq, "~"), seq, event_id)
        for event_id, seq, at, state in rows
    ]
    ordered = sorted(keyed)
    if [k[2] for k in ordered] == [k[2] for k in keyed]:
        return False
    top = max(k[1] for k in keyed)
    conn.execute(f"UPDATE {STEPS} SET seq = -seq WHERE run_id = ?", (run_id,))
    for index, (_key, _seq, event_id) in enumerate(ordered, 1):
        conn.execute(f"UPDATE {STEPS} SET seq = ? WHERE id = ?", (top + index, event_id))
    return True


def _settle_run(conn: sqlite3.Connection, run_id: int) -> None:
    """The run row says what its merged events say: started with the first start, finished
    with the first finish."""
    rows = conn.execute(
        f"SELECT kind, at, actor, branch, details FROM {STEPS} WHERE run_id = ?"
        " AND kind IN ('started', 'finished') ORDER BY seq",
        (run_id,),
    ).fetchall()
    started = next((r for r in rows if r[0] == "started"), None)
    finished = next((r for r in rows if r[0] == "finished"), None)
    if started is not None:
        conn.execute(
            f"UPDATE {RUNS} SET started_at = min(started_at, ?) WHERE id = ?",
            (started[1], run_id),
        )
    if finished is not None:
        outcome = finished[3] or str(json.loads(finished[4] or "{}").get("outcome", ""))
        conn.execute(
            f"UPDATE {RUNS} SET finished_at = ?, outcome = ? WHERE id = ?",
            (finished[1], outcome or "abandoned", run_id),
        )


# ---------------------------------------------------------------------------- apply


def apply_event(conn: sqlite3.Connection, event: Pulled) -> str:
    kind = event.payload.get("type")
    appliers = {"start": _apply_start, "step": _apply_step}
    if kind not in appliers:
        park(conn, event)  # a type a later cockpit writes: kept for it
        return "parked"
    # A payload this cockpit cannot read (a field of the wrong type or form) is kept, not
    # applied half-way, and never stops the exchange: the rest of the page goes on.
    conn.execute("SAVEPOINT run_event")
    try:
        outcome = appliers[kind](conn, event)
    except (ValueError, TypeError, KeyError, AttributeError):
        conn.execute("ROLLBACK TO run_event")
        conn.execute("RELEASE run_event")
        park(conn, event)
        return "parked"
    conn.execute("RELEASE run_event")
    return outcome


def _apply_start(conn: sqlite3.Connection, event: Pulled) -> str:
    if local_run(conn, event.id) is not None:
        return "skipped"
    if not has_incident(conn, event.incident_key):
        park(conn, event)  # this laptop has not pulled that incident from the service yet
        return "parked"
    p = event.payload
    runbook_id = str(p.get("runbook_id", ""))
    after = str(p.get("after", ""))
    before = local_run(conn, after) if after else 0
    if before is None:
        park(conn, event)  # the run it followed has not been applied here yet
        return "parked"
    started_at = _db_time(p.get("started_at"))
    target = _same_run(conn, event.incident_key, runbook_id, before)
    if target is not None:
        # Started without knowing each other: one run. It started when the first did.
        local.set_state(conn, _ALIAS + event.id, str(target))
        conn.execute(
            f"UPDATE {RUNS} SET is_drill = is_drill OR ?,"
            " started_by = CASE WHEN ? < started_at THEN ? ELSE started_by END,"
            " started_at = min(started_at, ?) WHERE id = ?",
            (bool(p.get("is_drill")), started_at, event.author, started_at, target),
        )
    else:
        cursor = conn.execute(
            f"INSERT INTO {RUNS} (incident_id, runbook_id, runbook_path, runbook_hash,"
            " started_at, started_by, is_drill) VALUES (?, ?, '', ?, ?, ?, ?)",
            (
                event.incident_key,
                runbook_id,
                str(p.get("runbook_hash", "")),
                started_at,
                event.author,
                bool(p.get("is_drill")),
            ),
        )
        conn.execute(
            "INSERT INTO team_rows VALUES (?, ?, ?, ?)",
            (RUNS, cursor.lastrowid, event.id, f"after:{before}"),
        )
    unpark(conn, event)
    return "applied"


def _same_run(conn: sqlite3.Connection, incident: str, runbook_id: str, before: int) -> int | None:
    """The local run a pulled start with the same predecessor joins (the first such)."""
    for (run_id,) in conn.execute(
        f"SELECT id FROM {RUNS} WHERE incident_id = ? AND runbook_id = ? ORDER BY id",
        (incident, runbook_id),
    ).fetchall():
        if _after_of(conn, run_id, incident, runbook_id) == before:
            return int(run_id)
    return None


def _apply_step(conn: sqlite3.Connection, event: Pulled) -> str:
    known = conn.execute(
        "SELECT 1 FROM team_rows WHERE tbl = ? AND global_id = ?", (STEPS, event.id)
    ).fetchone()
    if known:
        return "skipped"
    p = event.payload
    run_id = local_run(conn, str(p.get("run", "")))
    if run_id is None:
        park(conn, event)  # its run (or the run's incident) has not arrived here yet
        return "parked"
    sent = p.get("details")
    details: dict[str, Any] = {
        **(sent if isinstance(sent, dict) else {}),
        TEAM_AUTHOR: event.author,
    }
    at = _db_time(p.get("at"))
    kind = str(p.get("kind", ""))
    step_id = str(p.get("step_id", ""))
    branch = str(p.get("branch", ""))
    reason = str(p.get("reason", ""))
    key = _order_key(str(p.get("order_at") or p.get("at") or at), int(p.get("seq") or 0), event.id)
    cursor = conn.execute(
        f"INSERT INTO {STEPS} (run_id, seq, at, kind, step_id, branch, reason, actor, details)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            run_id,
            _make_room(conn, run_id, key),
            at,
            kind,
            step_id,
            branch,
            reason,
            event.author,
            json.dumps(details),
        ),
    )
    conn.execute(
        "INSERT INTO team_rows VALUES (?, ?, ?, ?)",
        (STEPS, cursor.lastrowid, event.id, "pulled|" + key),
    )
    incident, is_drill = conn.execute(
        f"SELECT incident_id, is_drill FROM {RUNS} WHERE id = ?", (run_id,)
    ).fetchone()
    conn.execute(
        "INSERT INTO timeline_events (incident_id, at, kind, summary, actor, person_id,"
        " channel, remote_id, is_drill, details) VALUES (?, ?, ?, ?, ?, '', '', NULL, ?, ?)",
        (
            incident,
            at,
            "command" if kind == "command_run" else "runbook",
            f"{_summary(conn, run_id, kind, step_id, branch, reason, details)} — {event.author}",
            event.author,
            is_drill,
            json.dumps({"run_id": run_id, "step_event": kind, "step_id": step_id}),
        ),
    )
    if kind in ("started", "finished"):
        _settle_run(conn, run_id)
    unpark(conn, event)
    return "applied"


# The merge order key of a stored event, as SQL (``_order_key`` of its row): the key it was
# shared or pulled with, or, not captured yet, its own time and seq.
_KEY_SQL = (
    "CASE WHEN t.state IS NULL THEN e.at || '|' || printf('%012d', e.seq) || '|~'"
    " WHEN t.state LIKE 'pulled|%' THEN substr(t.state, 8) ELSE t.state END"
)


def _make_room(conn: sqlite3.Connection, run_id: int, key: str) -> int:
    """The seq a pulled event with ``key`` takes in its run (kept in merge order): the end,
    as for most, or the place of the first event that sorts after it, moved up by one with
    everything after it. Read from the end, so the usual case costs one row."""
    later = conn.execute(
        f"SELECT e.seq, {_KEY_SQL} FROM {STEPS} e LEFT JOIN team_rows t"
        " ON t.tbl = ? AND t.local_id = e.id WHERE e.run_id = ? ORDER BY e.seq DESC",
        (STEPS, run_id),
    )
    top = place = 0
    # From the end: a pulled event nearly always goes last, or a few events before it.
    for seq, other in later:
        top = top or int(seq)
        if other <= key:
            break
        place = int(seq)
    later.close()
    if not place:
        return top + 1
    # Two steps, so that UNIQUE(run_id, seq) holds after each row is moved.
    conn.execute(
        f"UPDATE {STEPS} SET seq = -(seq + 1) WHERE run_id = ? AND seq >= ?", (run_id, place)
    )
    conn.execute(f"UPDATE {STEPS} SET seq = -seq WHERE run_id = ? AND seq < 0", (run_id,))
    return int(place)


def _db_time(value: Any) -> str:
    if not value:
        return now_text()
    return to_db_text(as_utc(datetime.fromisoformat(str(value))))


def _summary(
    conn: sqlite3.Connection,
    run_id: int,
    kind: str,
    step_id: str,
    branch: str,
    reason: str,
    details: dict[str, Any],
) -> str:
    """The timeline line of another laptop's event, in the words of the local ones, from the
    step texts its run's start recorded (this laptop may not have the runbook file)."""
    texts: dict[str, Any] = {}
    for (row,) in conn.execute(
        f"SELECT details FROM {STEPS} WHERE run_id = ? AND kind IN ('started', 'runbook_changed')"
        " ORDER BY seq",
        (run_id,),
    ):
        steps = json.loads(row or "{}").get("steps")
        if isinstance(steps, dict):
            texts.update(steps)
    # As the local line says it (run_view.describe): link text kept, URLs and marks dropped.
    what = plain(str(texts.get(step_id, step_id)))
    why = f" ({reason})" if reason else ""
    words = {
        "started": "runbook started",
        "done": f"✓ {what}{why}",
        "skipped": f"↷ skipped: {what}{why}",
        "failed": f"✗ failed: {what}{why}",
        "undone": f"undo {details.get('undid_kind', 'tick')}: {what}",
        "decided": f"◆ {step_id} → {branch}",
        "rollback_entered": f"⟲ rollback entered{why}",
        "timer_started": f"⏱ timer started: {what}",
        "validated": "runbook validated",
        "finished": f"runbook finished: {branch or details.get('outcome', '')}{why}",
    }
    return words.get(kind, f"runbook {kind.replace('_', ' ')} {step_id}".rstrip())


APPLY: dict[str, Callable[[sqlite3.Connection, Pulled], str]] = {KIND: apply_event}
