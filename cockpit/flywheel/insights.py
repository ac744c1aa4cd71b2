"""The flywheel: every resolved incident leaves an insight, a guardrail with an owner, and
(when no runbook fit or the run went off-script) a runbook draft in the template.

The draft is built from what was actually done (``cockpit.flywheel.draft``): the steps the
runs ticked, skipped or failed with their commands, the decisions answered, the commands run
with their exit code, and the notes as context. It is written to the folder
:func:`drafts_folder` picks (the user's runbooks ``drafts/``, never the shipped samples) and
passes ``cockpit runbook lint``; the library skips ``drafts/`` until someone reviews it.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlmodel import select

from cockpit.errors import CockpitError
from cockpit.flywheel.draft import events_of, gather, render_draft, runs_of, slug
from cockpit.metrics.pagelog import PageLog, pages_by_utc_week, read_page_log
from cockpit.store.engine import Store
from cockpit.store.models import Incident, Insight
from cockpit.store.timefmt import as_utc, to_db_text, utcnow

GUARDRAILS = (
    "timeout",
    "backpressure",
    "feature flag",
    "canary",
    "rollback",
    "SLO burn alert",
    "rate limit",
    "idempotency",
    "other",
)
Clock = Callable[[], datetime]


class FlywheelError(CockpitError):
    """The insight or draft asked for cannot be recorded; the message says which field."""


def guardrail_name(value: str) -> str:
    wanted = value.strip().lower()
    for name in GUARDRAILS:
        if name.lower() == wanted:
            return name
    raise FlywheelError(f"guardrail must be one of: {', '.join(GUARDRAILS)}; got {value!r}")


def record_insight(
    store: Store,
    incident_id: str,
    *,
    text: str = "",
    whys: Sequence[str] = (),
    guardrail: str,
    owner: str = "",
    clock: Clock = utcnow,
) -> Insight:
    """One sentence or a five-whys chain, and a guardrail from the list, with an owner."""
    chain = [w.strip() for w in whys if w.strip()]
    if not text.strip() and not chain:
        raise FlywheelError("an insight needs one sentence (text) or a five-whys chain (whys)")
    if len(chain) > 5:
        raise FlywheelError(f"five whys at most, got {len(chain)}")
    name = guardrail_name(guardrail)
    with store.write() as session:
        incident = session.get(Incident, incident_id)
        if incident is None:
            raise FlywheelError(f"no incident {incident_id!r} in the local store")
        if incident.is_drill:
            raise FlywheelError(
                f"{incident_id} is a drill: debrief it instead (cockpit drill report)"
            )
        insight = Insight(
            incident_id=incident_id,
            text=text.strip(),
            whys=chain,
            guardrail=name,
            guardrail_owner=owner.strip(),
            created_at=as_utc(clock()),
        )
        session.add(insight)
        session.flush()
        return insight


# ---------------------------------------------------------------- the runbook draft


def needs_draft(store: Store, incident_id: str) -> str:
    """Why this incident should leave a runbook draft ("" when its runbook ran to the end)."""
    with store.read() as session:
        runs = runs_of(session, incident_id)
        events = events_of(session, runs)
    if not runs:
        return "no runbook ran"
    last = runs[-1]
    if last.outcome == "abandoned":
        return f"the run of {last.runbook_id} was abandoned"
    off = [e.step_id for e in events if e.kind in ("skipped", "failed")]
    if off:
        return f"the run went off-script ({len(off)} step(s) skipped or failed)"
    if any(e.kind == "runbook_changed" for e in events):
        return f"{last.runbook_id} changed during the run"
    return ""


def draft_runbook(
    store: Store,
    incident_id: str,
    drafts_dir: Path,
    *,
    reason: str = "",
    clock: Clock = utcnow,
) -> Path:
    """Write ``drafts_dir/<incident>.md`` (the folder is created on use); returns its path.
    Pick ``drafts_dir`` with :func:`drafts_folder`: never the shipped samples."""
    with store.read() as session:
        incident = session.get(Incident, incident_id)
        if incident is None:
            raise FlywheelError(f"no incident {incident_id!r} in the local store")
        drafted = gather(session, incident)
    reason = reason or needs_draft(store, incident_id) or "amended after the incident"
    text = render_draft(incident, drafted, reason, as_utc(clock()).date())
    try:
        drafts_dir.mkdir(parents=True, exist_ok=True)
        path = drafts_dir / f"{slug(incident.source + '-' + incident.remote_id)}.md"
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise FlywheelError(
            f"{drafts_dir}: cannot write the runbook draft: {error.strerror}"
        ) from None
    with store.write() as session:
        for insight in session.exec(select(Insight).where(Insight.incident_id == incident_id)):
            insight.runbook_draft = str(path)
            session.add(insight)
    return path


# ---------------------------------------------------------------- weekly stats


@dataclass(frozen=True)
class FlywheelWeek:
    monday: date  # UTC weeks: the flywheel is a team figure, not a person's
    incidents: int
    with_insight: int
    guardrails: int
    runbooks: int
    pages: int


def _monday(at: datetime) -> date:
    day = as_utc(at).date()
    return day - timedelta(days=day.weekday())


def flywheel_weeks(store: Store, since: datetime, until: datetime) -> list[FlywheelWeek]:
    with store.rows() as conn:
        return flywheel_rows(conn, read_page_log(conn, since, until))


# Incidents and insights per UTC week, counted by SQLite: the week is the Monday's day
# number since the epoch (1970-01-01 was a Thursday). ix_incidents_created_drill and
# ix_insights_created serve the windows; the insight check is one list of incident ids.
_DAY = "(CAST(strftime('%s', {0}) AS INTEGER) / 86400)"
_WEEK = "({day} - ({day} + 3) % 7)"
_INCIDENT_WEEKS = (
    "SELECT {week} AS monday, COUNT(*), "
    "SUM(i.id IN (SELECT incident_id FROM insights)) FROM incidents AS i "
    "WHERE i.is_drill = 0 AND i.created_at >= ? AND i.created_at < ? GROUP BY monday"
).format(week=_WEEK.format(day=_DAY.format("i.created_at")))
_INSIGHT_WEEKS = (
    "SELECT {week} AS monday, SUM(COALESCE(n.guardrail, '') != ''), "
    "SUM(COALESCE(n.runbook_draft, '') != '') FROM insights AS n "
    "JOIN incidents AS i ON i.id = n.incident_id "
    "WHERE i.is_drill = 0 AND n.created_at >= ? AND n.created_at < ? GROUP BY monday"
).format(week=_WEEK.format(day=_DAY.format("n.created_at")))


def flywheel_rows(conn: sqlite3.Connection, log: PageLog) -> list[FlywheelWeek]:
    """The flywheel per UTC week of ``log``'s window, its pages taken from ``log``."""
    since, until = log.since, log.until
    window = (to_db_text(since), to_db_text(until))
    counts: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    monday = _monday(since)
    while monday < until.date():
        counts[monday]["incidents"] += 0
        monday += timedelta(days=7)
    epoch = date(1970, 1, 1)
    for day, incidents, with_insight in conn.execute(_INCIDENT_WEEKS, window):
        week = counts[epoch + timedelta(days=day)]
        week["incidents"] += incidents
        week["with_insight"] += with_insight
    for day, guardrails, runbooks in conn.execute(_INSIGHT_WEEKS, window):
        week = counts[epoch + timedelta(days=day)]
        week["guardrails"] += guardrails
        week["runbooks"] += runbooks
    for monday, count in pages_by_utc_week(log).items():
        counts[monday]["pages"] += count
    return [
        FlywheelWeek(
            m, c["incidents"], c["with_insight"], c["guardrails"], c["runbooks"], c["pages"]
        )
        for m, c in sorted(counts.items())
    ]
