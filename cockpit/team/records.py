"""Drills and their debriefs, insights and guardrails, and local notes as team events.

- ``drill``: ``type`` 'start' carries the made-up incident (a drill's incident lives only on
  the laptop that started it, so it travels with the drill) and the scenario; ``type``
  'debrief' the finished time and the debrief. A drill's run goes up as the runs module shares
  runs; the drill names its team id and is linked to it here once it has come down.
- ``insight``: ``type`` 'insight' (the sentence or five whys, the guardrail and its owner);
  ``type`` 'drafted' when a runbook draft was written for it (the file stays on its laptop:
  only its name travels, so the flywheel counts it everywhere).
- ``note``: notes in state 'local' (Alertmanager incidents, drills, notes kept off PagerDuty).
  Notes that go to PagerDuty are not shared: every cockpit pulls those from PagerDuty itself.

Each local row goes up once (a watermark per table and ``team_rows``, as for batons); a
pulled row is recorded in ``team_rows`` and never goes back up; applying an event twice
changes nothing. The author of a pulled note is the team event's author (the PostgreSQL role
that inserted it), not what the payload claims. Nothing here queues a write to a paging service.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import PurePath
from typing import Any

from cockpit.team import local
from cockpit.team.events import Pulled, guarded, has_incident, park, queue, unpark
from cockpit.text import safe

DRILLS, INSIGHTS, NOTES = "drills", "insights", "notes"
RUNS = "runbook_runs"  # the runs module's team_rows table name for a run
_LINK = "drill_run:"  # team_state key prefix: a pulled drill whose run has not come down


def _dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _when(value: Any) -> str:
    """A pulled timestamp, checked to be one (else the event is parked, see ``guarded``)."""
    if not isinstance(value, str):
        raise TypeError(f"a timestamp must be text, got {type(value).__name__}")
    datetime.fromisoformat(value)
    return value


def _load(text: str | None, default: Any) -> Any:
    try:
        return json.loads(text) if text else default
    except ValueError:
        return default


def _fresh(conn: sqlite3.Connection, table: str, columns: str, where: str = "1") -> list[Any]:
    """Rows of ``table`` not shared yet: above its capture watermark and not in team_rows (a
    row made while a pull was applying others' rows is above the watermark too)."""
    low = int(local.get_state(conn, f"captured_{table}", "0"))
    return conn.execute(
        f"SELECT {columns} FROM {table} t WHERE t.id > ? AND ({where}) AND NOT EXISTS"
        " (SELECT 1 FROM team_rows r WHERE r.tbl = ? AND r.local_id = t.id) ORDER BY t.id",
        (low, table),
    ).fetchall()


def _mark(conn: sqlite3.Connection, table: str) -> None:
    top = conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0]
    local.set_state(conn, f"captured_{table}", str(top))


def _shared(conn: sqlite3.Connection, table: str, local_id: int, gid: str, state: str) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO team_rows VALUES (?, ?, ?, ?)", (table, local_id, gid, state)
    )


def _listed(value: Any) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise TypeError(f"expected a list, got {type(value).__name__}")
    return value


def _lookup(conn: sqlite3.Connection, table: str, gid: str) -> tuple[int, str] | None:
    row = conn.execute(
        "SELECT local_id, state FROM team_rows WHERE tbl = ? AND global_id = ?", (table, gid)
    ).fetchone()
    return (int(row[0]), str(row[1])) if row else None


# ---------------------------------------------------------------- drills


def _incident_row(conn: sqlite3.Connection, incident_id: str) -> dict[str, Any]:
    cursor = conn.execute("SELECT * FROM incidents WHERE id = ?", (incident_id,))
    row = cursor.fetchone()
    if row is None:
        return {}
    return {d[0]: value for d, value in zip(cursor.description, row, strict=True)}


def _run_gid(conn: sqlite3.Connection, run_id: int | None) -> str:
    if run_id is None:
        return ""
    row = conn.execute(
        "SELECT global_id FROM team_rows WHERE tbl = ? AND local_id = ?", (RUNS, run_id)
    ).fetchone()
    return str(row[0]) if row else ""


def _debrief(
    conn: sqlite3.Connection, gid: str, incident: str, finished: object, report: str
) -> None:
    row = _incident_row(conn, incident)
    queue(
        conn,
        "drill",
        incident,
        {
            "type": "debrief",
            "drill": gid,
            "finished_at": str(finished),
            "report_md": report,
            "resolved_at": row.get("resolved_at"),
        },
    )


def capture_drills(conn: sqlite3.Connection) -> int:
    queued = 0
    columns = (
        "id, run_id, incident_id, runbook_id, scenario, expected_branch, started_at,"
        " finished_at, participant, report_md"
    )
    for row in _fresh(conn, DRILLS, columns):
        local_id, run_id, incident, runbook, scenario, expected, started, finished, who, md = row
        gid = queue(
            conn,
            "drill",
            incident,
            {
                "type": "start",
                "incident": _incident_row(conn, incident),
                "runbook_id": runbook,
                "scenario": _load(scenario, {}),
                "expected_branch": expected,
                "started_at": str(started),
                "participant": who,
                "run": _run_gid(conn, run_id),
            },
        )
        queued += 1
        state = "started"
        if finished is not None:
            _debrief(conn, gid, incident, finished, md)
            queued += 1
            state = "debriefed"
        _shared(conn, DRILLS, local_id, gid, state)
    _mark(conn, DRILLS)
    finished_since = conn.execute(
        "SELECT d.id, r.global_id, d.incident_id, d.finished_at, d.report_md FROM team_rows r"
        " JOIN drills d ON d.id = r.local_id WHERE r.tbl = ? AND r.state = 'started'"
        " AND d.finished_at IS NOT NULL ORDER BY d.id",
        (DRILLS,),
    ).fetchall()
    for local_id, gid, incident, finished, md in finished_since:
        _debrief(conn, gid, incident, finished, md)
        queued += 1
        _shared(conn, DRILLS, local_id, gid, "debriefed")
    link_runs(conn)
    return queued


def link_runs(conn: sqlite3.Connection) -> None:
    """Pulled drills whose run has come down since: the debrief then reads the run here."""
    waiting = conn.execute(
        "SELECT key, value FROM team_state WHERE key LIKE ?", (_LINK + "%",)
    ).fetchall()
    for key, run_gid in waiting:
        run = _lookup(conn, RUNS, str(run_gid))
        if run is not None:
            drill_id = int(str(key)[len(_LINK) :])
            conn.execute("UPDATE drills SET run_id = ? WHERE id = ?", (run[0], drill_id))
            conn.execute("DELETE FROM team_state WHERE key = ?", (key,))


def _insert_incident(conn: sqlite3.Connection, fields: dict[str, Any]) -> bool:
    """The drill's made-up incident, as it was on its laptop. Only a drill's: a pulled event
    never creates a paging service's incident."""
    incident_id = str(fields.get("id") or "")
    if not incident_id.startswith("drill:") or fields.get("source") != "drill":
        return False
    known = [r[1] for r in conn.execute("PRAGMA table_info(incidents)")]
    values = {k: fields[k] for k in known if k in fields}
    values["is_drill"] = 1
    if not {"title", "status", "created_at", "updated_at"} <= values.keys():
        return False
    defaults = {
        "remote_id": incident_id.split(":", 1)[1],
        "urgency": "high",
        "priority": "",
        "service_id": "",
        "service_name": "",
        "team": "",
        "escalation_policy_id": "",
        "assignees": "[]",
        "html_url": "",
        "runbook_url": "",
        "incident_key": "",
        "labels": "{}",
        "annotations": "{}",
    }
    # JSON columns travel as their stored text; anything else structured is kept as JSON.
    values = {k: _dump(v) if isinstance(v, dict | list) else v for k, v in values.items()}
    values = {**{k: v for k, v in defaults.items() if k in known}, **values}
    names = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    conn.execute(
        f"INSERT OR IGNORE INTO incidents ({names}) VALUES ({marks})", tuple(values.values())
    )
    return True


def apply_drill(conn: sqlite3.Connection, event: Pulled) -> str:
    p = event.payload
    if p.get("type") == "debrief":
        return _apply_debrief(conn, event)
    if _lookup(conn, DRILLS, event.id) is not None:
        unpark(conn, event)
        return "skipped"
    incident = dict(p.get("incident") or {})
    started = p.get("started_at") or incident.get("created_at")
    if incident.get("id") != event.incident_key or not p.get("runbook_id") or not started:
        park(conn, event)  # not a drill this cockpit can read: kept, never lost
        return "parked"
    if not has_incident(conn, event.incident_key) and not _insert_incident(conn, incident):
        park(conn, event)
        return "parked"
    run = _lookup(conn, RUNS, str(p.get("run") or "")) if p.get("run") else None
    cursor = conn.execute(
        "INSERT INTO drills (run_id, incident_id, runbook_id, scenario, expected_branch,"
        " started_at, participant, report_md) VALUES (?, ?, ?, ?, ?, ?, ?, '')",
        (
            run[0] if run else None,
            event.incident_key,
            str(p["runbook_id"]),
            _dump(p.get("scenario") or {}),
            str(p.get("expected_branch") or ""),
            _when(started),
            str(p.get("participant") or ""),
        ),
    )
    drill_id = int(cursor.lastrowid or 0)
    # 'pulled', not 'started': only the laptop that holds the run debriefs a drill for the
    # team (`cockpit drill report` here on a drill still open there stays here).
    _shared(conn, DRILLS, drill_id, event.id, "pulled")
    if p.get("run") and run is None:
        local.set_state(conn, f"{_LINK}{drill_id}", str(p["run"]))
    unpark(conn, event)
    return "applied"


def _apply_debrief(conn: sqlite3.Connection, event: Pulled) -> str:
    p = event.payload
    known = _lookup(conn, DRILLS, str(p.get("drill", "")))
    if known is None:
        park(conn, event)  # its drill has not come down here yet
        return "parked"
    drill_id, state = known
    if state != "pulled":
        unpark(conn, event)  # debriefed already, or this laptop's own drill: it debriefs it
        return "skipped"
    finished = str(p.get("finished_at") or "") or None
    # Shown by `cockpit drill report` as it is: another laptop's text, made inert here.
    report = safe(str(p.get("report_md") or ""), limit=None)
    conn.execute(
        "UPDATE drills SET finished_at = coalesce(finished_at, ?), report_md = ? WHERE id = ?",
        (finished, report, drill_id),
    )
    conn.execute(
        "UPDATE incidents SET status = 'resolved', resolved_at = coalesce(resolved_at, ?, ?),"
        " updated_at = coalesce(?, updated_at) WHERE id = ? AND is_drill = 1",
        (_text(p.get("resolved_at")), finished, finished, event.incident_key),
    )
    # Still another laptop's drill: its run stays that laptop's (cockpit/team/runs.py).
    _shared(conn, DRILLS, drill_id, str(p.get("drill")), "pulled-debriefed")
    unpark(conn, event)
    return "applied"


# ---------------------------------------------------------------- insights


def _draft_name(path: str) -> str:
    return PurePath(path).name if path else ""


def capture_insights(conn: sqlite3.Connection) -> int:
    queued = 0
    columns = "id, incident_id, text, whys, guardrail, guardrail_owner, runbook_draft, created_at"
    for row in _fresh(conn, INSIGHTS, columns):
        local_id, incident, text, whys, guardrail, owner, drafted, created = row
        gid = queue(
            conn,
            "insight",
            incident,
            {
                "type": "insight",
                "text": text,
                "whys": _load(whys, []),
                "guardrail": guardrail,
                "guardrail_owner": owner,
                "created_at": str(created),
                "draft": _draft_name(drafted),
            },
        )
        queued += 1
        _shared(conn, INSIGHTS, local_id, gid, "drafted" if drafted else "shared")
    _mark(conn, INSIGHTS)
    drafted_since = conn.execute(
        "SELECT i.id, r.global_id, i.incident_id, i.runbook_draft FROM team_rows r"
        " JOIN insights i ON i.id = r.local_id WHERE r.tbl = ? AND r.state = 'shared'"
        " AND i.runbook_draft != '' ORDER BY i.id",
        (INSIGHTS,),
    ).fetchall()
    for local_id, gid, incident, drafted in drafted_since:
        queue(
            conn,
            "insight",
            incident,
            {"type": "drafted", "insight": gid, "draft": _draft_name(drafted)},
        )
        queued += 1
        _shared(conn, INSIGHTS, local_id, gid, "drafted")
    return queued


def _draft_label(event: Pulled, name: object) -> str:
    # Where the draft is: the file is on the laptop that wrote it.
    return f"{event.origin}:{name}" if name else ""


def apply_insight(conn: sqlite3.Connection, event: Pulled) -> str:
    p = event.payload
    if p.get("type") == "drafted":
        known = _lookup(conn, INSIGHTS, str(p.get("insight", "")))
        if known is None:
            park(conn, event)
            return "parked"
        if known[1] != "drafted":
            conn.execute(
                "UPDATE insights SET runbook_draft = ? WHERE id = ? AND runbook_draft = ''",
                (_draft_label(event, p.get("draft")), known[0]),
            )
            _shared(conn, INSIGHTS, known[0], str(p.get("insight")), "drafted")
        unpark(conn, event)
        return "applied" if known[1] != "drafted" else "skipped"
    if _lookup(conn, INSIGHTS, event.id) is not None:
        unpark(conn, event)
        return "skipped"
    if not has_incident(conn, event.incident_key) or not p.get("created_at"):
        park(conn, event)  # this laptop has not pulled that incident yet
        return "parked"
    draft = _draft_label(event, p.get("draft"))
    cursor = conn.execute(
        "INSERT INTO insights (incident_id, text, whys, guardrail, guardrail_owner,"
        " runbook_draft, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            event.incident_key,
            str(p.get("text") or ""),
            _dump([str(w) for w in _listed(p.get("whys"))]),
            str(p.get("guardrail") or ""),
            str(p.get("guardrail_owner") or ""),
            draft,
            _when(p["created_at"]),
        ),
    )
    _shared(conn, INSIGHTS, int(cursor.lastrowid or 0), event.id, "drafted" if draft else "shared")
    unpark(conn, event)
    return "applied"


# ---------------------------------------------------------------- notes


def capture_notes(conn: sqlite3.Connection) -> int:
    """Local notes only. A note queued for PagerDuty and then discarded (never sent) is
    local from then on: it is found through its discarded outbox item, below the watermark."""
    columns = "id, incident_id, content, author, created_at"
    rows = _fresh(conn, NOTES, columns, "t.state = 'local'")
    # From the few discarded items (the state index) to their notes (by key): never a scan
    # of every note.
    rows += conn.execute(
        f"SELECT {', '.join('n.' + c.strip() for c in columns.split(','))} FROM outbox o"
        " JOIN notes n ON n.id = json_extract(o.payload, '$.note_id') AND n.outbox_id = o.id"
        " WHERE o.state = 'discarded' AND o.action = 'note' AND n.state = 'local'"
        " AND n.id <= ? AND NOT EXISTS"
        " (SELECT 1 FROM team_rows r WHERE r.tbl = ? AND r.local_id = n.id) ORDER BY n.id",
        (int(local.get_state(conn, "captured_notes", "0")), NOTES),
    ).fetchall()
    for local_id, incident, content, author, created in rows:
        gid = queue(
            conn,
            "note",
            incident,
            {"content": content, "author_name": author, "created_at": str(created)},
        )
        _shared(conn, NOTES, local_id, gid, "shared")
    _mark(conn, NOTES)
    return len(rows)


def apply_note(conn: sqlite3.Connection, event: Pulled) -> str:
    if _lookup(conn, NOTES, event.id) is not None:
        unpark(conn, event)
        return "skipped"
    p = event.payload
    if not has_incident(conn, event.incident_key) or not p.get("created_at"):
        park(conn, event)  # this laptop has not pulled that incident yet
        return "parked"
    cursor = conn.execute(
        "INSERT INTO notes (incident_id, content, author, created_at, remote_id, state,"
        " outbox_id) VALUES (?, ?, ?, ?, NULL, 'local', NULL)",
        (event.incident_key, str(p.get("content") or ""), event.author, _when(p["created_at"])),
    )
    _shared(conn, NOTES, int(cursor.lastrowid or 0), event.id, "shared")
    unpark(conn, event)
    return "applied"


def capture(conn: sqlite3.Connection) -> int:
    """Drills first: a note on a drill's incident needs the drill (which brings the
    incident) to be there before it."""
    return capture_drills(conn) + capture_insights(conn) + capture_notes(conn)


APPLY: dict[str, Callable[[sqlite3.Connection, Pulled], str]] = {
    "drill": guarded(apply_drill),
    "insight": guarded(apply_insight),
    "note": guarded(apply_note),
}
