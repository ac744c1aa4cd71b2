"""The reads the cockpit screen makes on every refresh, in plain SQL over ``sqlite3``.

The screen draws its first frame from these, so they import no ORM (SQLAlchemy and SQLModel
are a third of the start-up otherwise) and compile no statement. Where the CLI, the handoff
or the sync need the same answer inside an ORM session, they call these functions on the
session's own connection (:func:`cockpit.store.engine.driver_connection`): one query, one
place. Each is an indexed lookup, so the cost follows one incident, not the whole store.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cockpit.store.records import (
    ALERTS,
    BATONS,
    INCIDENTS,
    RUNS,
    STEPS,
    AlertRow,
    BatonRow,
    IncidentRow,
    RunRow,
    StepRow,
)
from cockpit.store.timefmt import from_db_text, stamp

OPEN_STATUSES = ("triggered", "acknowledged")
# Writes the service logs back as entries of the same kind, and how far apart they may be.
_ECHOED = frozenset({"acknowledge", "resolve", "snooze", "escalate"})
_ECHO_WINDOW = 600


@dataclass(frozen=True)
class Unsent:
    """A write of the outbox that has not reached its service (see cockpit.sync.unsent)."""

    action: str
    state: str  # pending | sending | failed
    error: str = ""

    @property
    def failed(self) -> bool:
        return self.state == "failed"


@dataclass(frozen=True)
class IncidentFilter:
    """What people keep filtering by: high urgency only, mine, my team's, one service."""

    urgency: str = ""
    assignee: str = ""  # a person id: incidents assigned to them
    team: str = ""
    service: str = ""

    def sql(self) -> tuple[str, list[Any]]:
        """``AND ...`` conditions on ``incidents`` and their parameters."""
        parts: list[str] = []
        params: list[Any] = []
        if self.urgency:
            parts.append("urgency = ?")
            params.append(self.urgency)
        if self.assignee:
            # Assignees are a JSON list of quoted ids; the quotes make the match exact.
            escaped = self.assignee.replace("/", "//").replace("%", "/%").replace("_", "/_")
            parts.append("assignees LIKE ? ESCAPE '/'")
            params.append(f'%"{escaped}"%')
        if self.team:
            # ``team`` holds every team of the incident, joined: "Payments, Storefront".
            # One of them, whole: the padded text holds ", payments, ". A condition on the
            # row, like the others here, so the status index still picks the rows.
            parts.append("instr(', ' || lower(team) || ', ', ?) > 0")
            params.append(f", {self.team.strip().lower()}, ")
        if self.service:
            parts.append("lower(service_name) = ?")
            params.append(self.service.lower())
        return "".join(f" AND {part}" for part in parts), params

    def apply(self, query: Any) -> Any:
        """The same conditions on an ORM ``select`` of ``Incident``."""
        from sqlalchemy import text

        where, params = self.sql()
        if not where:
            return query
        named = where.removeprefix(" AND ")
        for n in range(len(params)):
            named = named.replace("?", f":filter_{n}", 1)
        return query.where(
            text(named).bindparams(**{f"filter_{n}": value for n, value in enumerate(params)})
        )


NO_FILTER = IncidentFilter()


@dataclass(frozen=True)
class TimelineItem:
    """One line of an incident's timeline, from a log entry, a local event or a note."""

    at: datetime
    kind: str
    summary: str
    actor: str
    state: str = ""  # "pending" / "failed" for notes and writes not yet delivered
    remote: bool = True


# (id, remote_id, number, title, status, is_drill, urgency): what the switcher shows.
RefRow = tuple[str, str, int | None, str, str, bool, str]
_REF = "SELECT id, remote_id, number, title, status, is_drill, urgency FROM incidents"
# Most urgent first: high before low, triggered before acknowledged, newest first; ties by
# id so the order is stable across refreshes.
URGENT_FIRST = (
    "CASE WHEN urgency = 'high' THEN 0 ELSE 1 END, "
    "CASE WHEN status = 'triggered' THEN 0 ELSE 1 END, created_at DESC, id"
)


def _refs(conn: sqlite3.Connection, sql: str, params: list[Any]) -> list[RefRow]:
    return [(i, r, n, t, s, bool(d), u or "") for i, r, n, t, s, d, u in conn.execute(sql, params)]


def open_refs(
    conn: sqlite3.Connection, where: IncidentFilter = NO_FILTER, limit: int = 200
) -> list[RefRow]:
    """Open incidents that are not drills (served by ix_incidents_status_drill)."""
    extra, params = where.sql()
    return _refs(
        conn,
        f"{_REF} WHERE status IN ('triggered', 'acknowledged') AND is_drill = 0"
        f"{extra} ORDER BY {URGENT_FIRST} LIMIT ?",
        [*params, limit],
    )


def drill_refs(conn: sqlite3.Connection, limit: int = 50) -> list[RefRow]:
    """Open drills, newest first. The WHERE is exactly that of the partial index
    ix_incidents_open_drills (migration 0005), which holds only these rows: keep the two
    alike, or a store with statistics walks every incident (tests/core/test_query_plans.py)."""
    return _refs(
        conn,
        f"{_REF} WHERE is_drill = 1 AND status IN ('triggered', 'acknowledged') "
        "ORDER BY created_at DESC, id LIMIT ?",
        [limit],
    )


def resolved_refs(
    conn: sqlite3.Connection, where: IncidentFilter = NO_FILTER, limit: int = 10
) -> list[RefRow]:
    extra, params = where.sql()
    return _refs(
        conn,
        f"{_REF} WHERE status = 'resolved' AND is_drill = 0{extra} "
        "ORDER BY created_at DESC, id LIMIT ?",
        [*params, limit],
    )


def incident(conn: sqlite3.Connection, incident_id: str) -> IncidentRow | None:
    return INCIDENTS.first(conn, "WHERE id = ?", (incident_id,))


def alerts(conn: sqlite3.Connection, incident_id: str) -> list[AlertRow]:
    return ALERTS.select(conn, "WHERE incident_id = ? ORDER BY created_at", (incident_id,))


def paged_people(conn: sqlite3.Connection, incident_id: str) -> list[str]:
    """Who was notified for this incident (person ids), first page first."""
    rows = conn.execute(
        "SELECT person_id, min(at) AS first FROM timeline_events "
        "WHERE incident_id = ? AND kind = 'notify' GROUP BY person_id ORDER BY first",
        (incident_id,),
    )
    return [person for person, _ in rows if person]


def names(conn: sqlite3.Connection, ids: list[str]) -> dict[str, str]:
    """Person id -> name, for the ids known to the store."""
    if not ids:
        return {}
    marks = ", ".join("?" * len(ids))
    return dict(conn.execute(f"SELECT id, name FROM people WHERE id IN ({marks})", ids))


def last_accepted(conn: sqlite3.Connection, incident_id: str) -> BatonRow | None:
    return BATONS.first(
        conn,
        "WHERE incident_id = ? AND state = 'accepted' ORDER BY accepted_at DESC, id DESC",
        (incident_id,),
    )


def pending_offer(conn: sqlite3.Connection, incident_id: str) -> BatonRow | None:
    return BATONS.first(
        conn, "WHERE incident_id = ? AND state = 'offered' ORDER BY id DESC", (incident_id,)
    )


def holder(conn: sqlite3.Connection, row: Any) -> tuple[str, datetime | None]:
    """(person id, since) of an incident (a row or an ORM object): the last accepted pass,
    else its first assignee."""
    last = last_accepted(conn, row.id)
    if last is not None:
        return last.to_person, last.accepted_at
    if row.assignees:
        return row.assignees[0], row.acknowledged_at or row.created_at
    return "", None


def timeline(conn: sqlite3.Connection, incident_id: str, limit: int = 200) -> list[TimelineItem]:
    """Newest first: log entries and local events merged with notes."""
    events = conn.execute(
        "SELECT at, kind, summary, actor, remote_id, details FROM timeline_events "
        "WHERE incident_id = ? ORDER BY at DESC, id DESC LIMIT ?",
        (incident_id, limit),
    ).fetchall()
    notes = conn.execute(
        "SELECT created_at, content, author, state, remote_id FROM notes "
        "WHERE incident_id = ? ORDER BY created_at DESC, id DESC LIMIT ?",
        (incident_id, limit),
    ).fetchall()
    ours = {content for _, content, _, _, _ in notes}
    # A write of ours the service has confirmed comes back as its own log entry: show that
    # one, not ours beside it ("Acknowledged by Ada" twice). Unsent or failed ones stay.
    echoes: dict[str, list[datetime]] = {}
    for at, kind, _, _, remote_id, _ in events:
        if remote_id is not None and kind in _ECHOED:
            echoes.setdefault(kind, []).append(stamp(at))
    items: list[TimelineItem] = []
    for at, kind, summary, actor, remote_id, raw in events:
        details = json.loads(raw) if raw else {}
        when = stamp(at)
        if kind == "annotate" and remote_id is not None:
            # A note made in PagerDuty: its text is in the log entry. Our own notes come back
            # this way too, and the notes table already shows those.
            text = str(details.get("note") or summary)
            if text in ours:
                continue
            items.append(TimelineItem(when, "note", text, str(details.get("agent_name") or actor)))
            continue
        if (
            remote_id is None
            and details.get("state") == "sent"
            and any(
                abs((echo - when).total_seconds()) <= _ECHO_WINDOW for echo in echoes.get(kind, ())
            )
        ):
            continue
        items.append(
            TimelineItem(
                when,
                kind,
                summary,
                actor,
                state=str(details.get("state", "")),
                remote=remote_id is not None,
            )
        )
    for created_at, content, author, state, remote_id in notes:
        when = stamp(created_at)
        items.append(
            TimelineItem(
                when,
                "note",
                content,
                author,
                state="" if state in ("sent", "local") else state,
                remote=remote_id is not None,
            )
        )
    items.sort(key=lambda item: item.at, reverse=True)
    return items[:limit]


def outbox_counts(conn: sqlite3.Connection) -> dict[str, int]:
    rows = conn.execute(
        "SELECT state, count(*) FROM outbox WHERE state IN ('pending', 'sending', 'failed') "
        "GROUP BY state"
    )
    return {state: int(count) for state, count in rows}


def sync_health(conn: sqlite3.Connection) -> tuple[datetime | None, str]:
    """(last successful sync of any source, the first error still standing)."""
    last = conn.execute("SELECT max(last_ok_at) FROM sync_state").fetchone()[0]
    error = conn.execute(
        "SELECT last_error FROM sync_state WHERE last_error != '' ORDER BY key LIMIT 1"
    ).fetchone()
    return from_db_text(last), error[0] if error else ""


def writes_paused(conn: sqlite3.Connection) -> list[str]:
    """One line per service whose writes are paused (its token was refused): the outbox
    keeps them, and every screen and command says so (cockpit.sync.push, rule 5)."""
    rows = conn.execute(
        "SELECT last_error FROM sync_state WHERE key LIKE '%:writes' AND last_error != '' "
        "ORDER BY key"
    )
    return [str(row[0]) for row in rows]


def unsent_writes(conn: sqlite3.Connection, incident_id: str) -> list[Unsent]:
    """The incident's writes that have not reached the service: pending, being sent, or
    failed for good, oldest first. Served by ix_outbox_incident."""
    rows = conn.execute(
        "SELECT action, state, last_error FROM outbox WHERE incident_id = ? "
        "AND state IN ('pending', 'sending', 'failed') ORDER BY id",
        (incident_id,),
    )
    return [Unsent(str(a), str(s), str(e)) for a, s, e in rows]


def write_warnings(conn: sqlite3.Connection, incident_id: str) -> list[str]:
    """What delivered writes did beyond what was asked (a reopen), newest first."""
    rows = conn.execute(
        "SELECT warning FROM outbox WHERE incident_id = ? AND warning != '' ORDER BY id DESC",
        (incident_id,),
    )
    return [str(row[0]) for row in rows]


def sync_cursor(conn: sqlite3.Connection, key: str) -> dict[str, Any]:
    row = conn.execute("SELECT cursor FROM sync_state WHERE key = ?", (key,)).fetchone()
    return json.loads(row[0]) if row and row[0] else {}


def open_run(conn: sqlite3.Connection, incident_id: str) -> RunRow | None:
    """The incident's unfinished runbook run, newest first if (wrongly) several."""
    return RUNS.first(
        conn,
        "WHERE incident_id = ? AND finished_at IS NULL ORDER BY started_at DESC, id DESC",
        (incident_id,),
    )


def latest_run_of(conn: sqlite3.Connection, incident_id: str, runbook_id: str) -> RunRow | None:
    return RUNS.first(
        conn,
        "WHERE incident_id = ? AND runbook_id = ? ORDER BY started_at DESC, id DESC",
        (incident_id, runbook_id),
    )


def last_seq(conn: sqlite3.Connection, run_id: int) -> int:
    found = conn.execute("SELECT max(seq) FROM step_events WHERE run_id = ?", (run_id,))
    return int(found.fetchone()[0] or 0)


def step_events(conn: sqlite3.Connection, run_id: int) -> list[StepRow]:
    return STEPS.select(conn, "WHERE run_id = ? ORDER BY seq", (run_id,))
