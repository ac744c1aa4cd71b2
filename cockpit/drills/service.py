"""Finishing drills in the store (starting one: ``start.py``), and each runbook's drill history.

A drill is an Incident row with ``source="drill"`` and ``is_drill=True``, a RunbookRun with
``is_drill=True`` and a Drill row holding the scenario. The run is then driven like any
other (the TUI's run service, or ``cockpit.store.runs``); drill rows never count in page
load or MTTx, and actions on a drill incident never reach the outbox.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import col, select

from cockpit.drills.analysis import DrillAnalysis, analyse
from cockpit.drills.debrief import render_debrief
from cockpit.drills.start import Clock, DrillError
from cockpit.runbooks.model import ACTIONS, CHECKS, Runbook
from cockpit.store.engine import Store
from cockpit.store.models import Drill, Incident, RunbookRun
from cockpit.store.queries import person_name
from cockpit.store.runs import append_event, events_of
from cockpit.store.timefmt import as_utc, utcnow

STALE_AFTER = timedelta(days=90)


def get_drill(store: Store, drill_id: int) -> Drill:
    with store.read() as session:
        drill = session.get(Drill, drill_id)
    if drill is None:
        raise DrillError(f"no drill #{drill_id} in the local store (see `cockpit drill list`)")
    return drill


def analyse_drill(store: Store, drill: Drill, runbook: Runbook | None = None) -> DrillAnalysis:
    """Time the drill's run; a replay is also compared with the real incident."""
    from cockpit.drills.replay import replay_speed, then_and_now

    with store.read() as session:
        events = events_of(session, drill.run_id) if drill.run_id else []
    texts = {step.id: step.text for step in runbook.steps} if runbook else {}
    # A decision is shown by its question, not its id.
    texts.update({d.id: d.question for d in runbook.decisions} if runbook else {})
    main = [step.id for step in runbook.steps_of(CHECKS, ACTIONS)] if runbook else []
    timers = {s.id: s.timer_seconds for s in runbook.steps if s.timer_seconds} if runbook else {}
    analysis = analyse(events, drill.expected_branch, texts, main, timers, replay_speed(drill))
    analysis.then_now = then_and_now(store, drill, runbook)
    return analysis


def participant_name(store: Store, drill: Drill) -> str:
    """The participant by name (the id's tail when the store knows no such person)."""
    if not drill.participant:
        return ""
    with store.read() as session:
        return person_name(session, drill.participant)


def finish_drill(
    store: Store, drill_id: int, runbook: Runbook | None = None, *, clock: Clock = utcnow
) -> Drill:
    """End the drill: close its run (abandoned if unfinished), resolve the made-up incident
    locally, and store the debrief. Finishing twice re-renders the report, nothing more."""
    now = as_utc(clock())
    drill = get_drill(store, drill_id)
    if drill.run_id is None and drill.finished_at is not None and drill.report_md:
        # A drill debriefed on another laptop (team mode) whose run is not here: its
        # debrief came with it, and re-rendering it without the run would empty it.
        return drill
    with store.write() as session:
        run = session.get(RunbookRun, drill.run_id) if drill.run_id else None
        if run is not None and run.finished_at is None:
            append_event(
                session, run, kind="finished", at=now, branch="abandoned", reason="drill ended"
            )
        incident = session.get(Incident, drill.incident_id)
        if incident is not None and incident.status != "resolved":
            incident.status = "resolved"
            incident.resolved_at = now
            incident.updated_at = now
            session.add(incident)
    analysis = analyse_drill(store, drill, runbook)
    with store.write() as session:
        row = session.get(Drill, drill_id)
        assert row is not None
        row.finished_at = row.finished_at or now
        who = person_name(session, row.participant) if row.participant else ""
        row.report_md = render_debrief(
            row, analysis, runbook.title if runbook else "", participant=who
        )
        session.add(row)
        return row


def last_drilled(store: Store) -> dict[str, datetime]:
    """runbook id -> when its last *finished* drill ended."""
    with store.read() as session:
        rows = session.exec(
            select(Drill.runbook_id, func.max(Drill.finished_at))
            .where(col(Drill.finished_at).is_not(None))
            .group_by(Drill.runbook_id)
        ).all()
    return {runbook_id: as_utc(_as_datetime(at)) for runbook_id, at in rows if at is not None}


def _as_datetime(value: object) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def drill_history(store: Store, runbook_id: str | None = None, limit: int = 50) -> list[Drill]:
    query = select(Drill)
    if runbook_id:
        query = query.where(Drill.runbook_id == runbook_id)
    with store.read() as session:
        return list(
            session.exec(
                query.order_by(col(Drill.started_at).desc(), col(Drill.id).desc()).limit(limit)
            )
        )


@dataclass(frozen=True)
class DrillStatus:
    runbook_id: str
    title: str
    path: str
    last: datetime | None

    @property
    def never(self) -> bool:
        return self.last is None


def stale_runbooks(
    runbooks: Iterable[Runbook],
    last: dict[str, datetime],
    now: datetime,
    after: timedelta = STALE_AFTER,
) -> list[DrillStatus]:
    """Runbooks never drilled or last drilled more than ``after`` ago: never first, by id."""
    found = []
    for runbook in runbooks:
        when = last.get(runbook.id)
        if when is None or as_utc(now) - when > after:
            found.append(DrillStatus(runbook.id, runbook.title, runbook.path, when))
    return sorted(found, key=lambda s: (s.last is not None, s.last or now, s.runbook_id))
