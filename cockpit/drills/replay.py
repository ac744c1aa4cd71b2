"""Replaying a real incident as a drill: what happened then arrives again, on a clock.

A replay takes a past incident from the local store (:func:`load_history`) and starts a drill
on a new drill incident (:func:`start_replay`): the runbook that ran then, or that matches it
(or the one picked), runs in practice mode, and the incident's alerts, status changes (the
page, acknowledgements, escalations, reassignments, the resolve) and the notes people wrote
arrive on the drill incident as they did, ``speed`` times faster (:class:`Replay`: the
schedule is driven by the clock it is given, so a test's fake clock plays a day in no time).
The runbook's own ticks then are not replayed: they are the answer, compared in the debrief
(:func:`then_and_now`): time to acknowledge, to each decision and to the rollback, the branch
taken, then and now, both on the incident's clock (the drill's wall time times the speed).

Nothing leaves the machine: everything is written to the drill incident only (``is_drill``:
never in page load or MTTx, never an outbox item), the replayed status changes are timeline
lines (the drill incident's own status is the participant's to change), and ``cockpit drill
replay`` runs with the practice provider, which refuses every write.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from cockpit.drills.scenario import Scenario
from cockpit.drills.start import DrillError, start_drill
from cockpit.metrics.stats import format_seconds
from cockpit.runbooks.match import IncidentFacts, facts_of_incident, match_runbooks
from cockpit.runbooks.model import ROLLBACK, Runbook
from cockpit.store.engine import Store
from cockpit.store.models import (
    Alert,
    Drill,
    Incident,
    Note,
    RunbookRun,
    StepEvent,
    TimelineEvent,
)
from cockpit.store.queries import find_incident, person_name
from cockpit.store.timefmt import as_utc, utcnow

Clock = Callable[[], datetime]
SPEEDS = (10.0, 1.0, 5.0, 30.0, 60.0)  # the TUI's choices, the usual first
MAX_SPEED = 1000.0
NOTIFY_FOLD = 60.0  # one page's phone call, SMS and push: one line
ROLLBACK_WORDS = re.compile(r"\b(roll(?:ed|ing|s)?[ -]?back|revert(?:ed|ing|s)?)\b", re.I)
# Local acts (runbook ticks, baton, commands) are not replayed: the ticks are the answer.
_LOCAL_ONLY = frozenset({"runbook", "command", "baton", "drill", "sync", "replay"})


@dataclass(frozen=True)
class ThenEvent:
    """One thing that happened then, ``offset`` seconds after the incident was created."""

    offset: float
    at: datetime
    kind: str  # alert, alert_resolved, note, or a log entry's kind (trigger, acknowledge...)
    summary: str
    actor: str = ""  # a name
    alert: int = -1  # alert, alert_resolved: which alert of the replay
    severity: str = ""
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RunPath:
    """Where a runbook run went: its decisions (id, branch, offset), the rollback's offset."""

    decisions: tuple[tuple[str, str, float], ...] = ()
    rollback: float | None = None
    resolved: bool = False

    @property
    def branch(self) -> str:
        if self.rollback is not None:
            return "rollback"
        return "validation" if self.decisions or self.resolved else ""


@dataclass(frozen=True)
class History:
    """A past incident as the replay needs it; read once from the store."""

    incident_id: str
    label: str  # "#36" or the remote id
    title: str
    service: str
    urgency: str
    created_at: datetime
    events: tuple[ThenEvent, ...]
    runbook_id: str = ""  # the runbook its (latest) run used, "" when none ran
    run: RunPath | None = None
    acknowledged: float | None = None
    resolved: float | None = None
    rollback_note: tuple[float, str, str] | None = None  # (offset, who, text)
    facts: IncidentFacts = field(default_factory=IncidentFacts)
    copied: dict[str, Any] = field(default_factory=dict)  # fields the drill incident copies
    rolled_back_in: float | None = None  # MTTx's time to rollback of its run

    @property
    def then_branch(self) -> tuple[str, str]:
        """(branch taken then, where that is known from)."""
        if self.run is not None and self.run.branch:
            return self.run.branch, "its runbook run"
        if self.rollback_note is not None:
            return "rollback", "a note"
        if self.resolved is not None:
            return "no rollback", "its log"
        return "", ""

    @property
    def then_rollback(self) -> tuple[float | None, str]:
        if self.run is not None and self.run.rollback is not None:
            return self.run.rollback, "its runbook run"
        if self.rollback_note is not None:
            offset, who, text = self.rollback_note
            return offset, f"a note by {who}: {text}" if who else f"a note: {text}"
        return None, ""


def _offset(at: datetime, start: datetime) -> float:
    return max(0.0, (as_utc(at) - start).total_seconds())


def _effective(events: Sequence[StepEvent]) -> list[StepEvent]:
    """The ticks, answers and rollbacks still in effect (an undone one is taken back)."""
    kept: list[StepEvent] = []
    for event in sorted(events, key=lambda e: e.seq):
        if event.kind == "undone":
            for index in range(len(kept) - 1, -1, -1):
                if kept[index].kind in (
                    "done",
                    "skipped",
                    "failed",
                    "decided",
                    "rollback_entered",
                    "validated",
                ):
                    del kept[index]
                    break
        elif event.kind != "timer_started":
            kept.append(event)
    return kept


def run_path(
    events: Sequence[StepEvent],
    start: datetime,
    speed: float = 1.0,
    rollback_steps: Iterable[str] = (),
) -> RunPath:
    """Where a run went, offsets from ``start`` times ``speed`` (the incident's clock)."""
    rollback_ids = set(rollback_steps)
    decisions: list[tuple[str, str, float]] = []
    rollback: float | None = None
    resolved = False
    for event in _effective(events):
        offset = _offset(event.at, start) * speed
        if event.kind == "decided":
            decisions.append((event.step_id, event.branch, offset))
            if (event.details or {}).get("target_kind") == ROLLBACK and rollback is None:
                rollback = offset
        elif rollback is None and (
            event.kind == "rollback_entered"
            or (
                event.kind == "done"
                and (event.step_id in rollback_ids or event.step_id.startswith("rollback"))
            )
        ):
            rollback = offset
        elif event.kind == "finished" and (event.details or {}).get("outcome") == "resolved":
            resolved = True
    return RunPath(tuple(decisions), rollback, resolved)


# ---------------------------------------------------------------- reading the past


def load_history(store: Store, ref: str) -> History:
    """The incident ``ref`` (id, remote id or number) with what happened to it, in order.

    Raises:
        DrillError: no such incident, or it is a drill itself.
    """
    with store.read() as session:
        incident = find_incident(session, ref.lstrip("#"))
        if incident is None:
            raise DrillError(
                f"no incident {ref!r} in the local store (sync first; "
                "`cockpit incidents --status resolved` lists past ones)"
            )
        if incident.is_drill or incident.source == "drill":
            raise DrillError(f"{ref} is a drill itself: replay a real incident")
        return _history(session, incident)


def _history(session: Session, incident: Incident) -> History:
    start = as_utc(incident.created_at)
    label = f"#{incident.number}" if incident.number is not None else incident.remote_id
    names: dict[str, str] = {}

    def name(person: str, fallback: str = "") -> str:
        if not person:
            return fallback
        if person not in names:
            names[person] = person_name(session, person)
        return names[person] or fallback

    found: list[ThenEvent] = []
    rows = session.exec(
        select(TimelineEvent)
        .where(TimelineEvent.incident_id == incident.id)
        .order_by(col(TimelineEvent.at), col(TimelineEvent.id))
    ).all()
    notes = session.exec(
        select(Note)
        .where(Note.incident_id == incident.id)
        .order_by(col(Note.created_at), col(Note.id))
    ).all()
    written = {note.content for note in notes}
    paged: dict[str, datetime] = {}
    acknowledged: float | None = None
    first_trigger: TimelineEvent | None = None
    for row in rows:
        details = row.details or {}
        if row.remote_id is None or row.kind in _LOCAL_ONLY:
            continue  # our own acts: not what the world did
        who = str(details.get("agent_name") or "") or name(row.actor)
        if row.kind == "annotate":
            text = str(details.get("note") or "").strip()
            if text and text not in written and not text.startswith("[cockpit"):
                found.append(ThenEvent(_offset(row.at, start), as_utc(row.at), "note", text, who))
            continue
        if row.kind == "notify":
            last = paged.get(row.person_id)
            if last is not None and (as_utc(row.at) - last).total_seconds() < NOTIFY_FOLD:
                continue  # the same page by another channel
            paged[row.person_id] = as_utc(row.at)
        if row.kind == "trigger" and first_trigger is None:
            first_trigger = row
        if row.kind == "acknowledge" and acknowledged is None:
            acknowledged = _offset(row.at, start)
        found.append(
            ThenEvent(
                _offset(row.at, start), as_utc(row.at), row.kind, row.summary or row.kind, who
            )
        )
    for note in notes:
        text = note.content.strip()
        if text and not text.startswith("[cockpit"):
            found.append(
                ThenEvent(
                    _offset(note.created_at, start),
                    as_utc(note.created_at),
                    "note",
                    text,
                    name(note.author, note.author),
                )
            )
    alerts = session.exec(
        select(Alert).where(Alert.incident_id == incident.id).order_by(col(Alert.created_at))
    ).all()
    for number, alert in enumerate(alerts):
        found.append(
            ThenEvent(
                _offset(alert.created_at, start),
                as_utc(alert.created_at),
                "alert",
                alert.summary,
                alert=number,
                severity=alert.severity,
                labels=dict(alert.labels or {}),
            )
        )
        if alert.status == "resolved" and alert.updated_at is not None:
            found.append(
                ThenEvent(
                    _offset(alert.updated_at, start),
                    as_utc(alert.updated_at),
                    "alert_resolved",
                    alert.summary,
                    alert=number,
                )
            )
    if not alerts:  # a resolved incident's alerts are not pulled: the trigger's is the one
        channel = (first_trigger.details or {}).get("channel") if first_trigger else None
        summary = str(channel.get("summary") or "") if isinstance(channel, dict) else ""
        at = as_utc(first_trigger.at) if first_trigger is not None else start
        found.append(
            ThenEvent(
                _offset(at, start),
                at,
                "alert",
                summary or incident.title,
                alert=0,
                labels=dict(incident.labels or {}),
            )
        )
    order = {"trigger": 0, "alert": 1, "notify": 2}
    found.sort(key=lambda e: (e.offset, order.get(e.kind, 3)))
    if acknowledged is None and incident.acknowledged_at is not None:
        acknowledged = _offset(incident.acknowledged_at, start)
    resolved = (
        _offset(incident.resolved_at, start)
        if incident.status == "resolved" and incident.resolved_at
        else None
    )
    rollback_note = next(
        (
            (e.offset, e.actor, e.summary)
            for e in found
            if e.kind == "note" and ROLLBACK_WORDS.search(e.summary)
        ),
        None,
    )
    runbook_id, path, rolled = _then_run(session, incident.id, start)
    facts = facts_of_incident(incident, alerts)
    copied = {
        "team": incident.team,
        "priority": incident.priority,
        "labels": dict(incident.labels or {}),
        "runbook_url": incident.runbook_url,
        "service_id": incident.service_id,
    }
    return History(
        incident.id,
        label,
        incident.title,
        incident.service_name,
        incident.urgency,
        start,
        tuple(found),
        runbook_id,
        path,
        acknowledged,
        resolved,
        rollback_note,
        facts,
        copied,
        rolled,
    )


def _then_run(
    session: Session, incident_id: str, start: datetime
) -> tuple[str, RunPath | None, float | None]:
    from cockpit.metrics.response import rollback_seconds

    run = session.exec(
        select(RunbookRun)
        .where(RunbookRun.incident_id == incident_id, col(RunbookRun.is_drill).is_(False))
        .order_by(col(RunbookRun.started_at).desc(), col(RunbookRun.id).desc())
    ).first()
    if run is None or run.id is None:
        return "", None, None
    events = session.exec(
        select(StepEvent).where(StepEvent.run_id == run.id).order_by(col(StepEvent.seq))
    ).all()
    return run.runbook_id, run_path(events, start), rollback_seconds(events)


def pick_runbook(history: History, library: Sequence[Runbook], wanted: str = "") -> Runbook:
    """The runbook picked (``wanted``: an id), else the one that ran then, else the best match.

    Raises:
        DrillError: the one asked for is not in the library, or none fits.
    """
    by_id = {runbook.id: runbook for runbook in library}
    if wanted:
        if wanted not in by_id:
            known = ", ".join(sorted(by_id)) or "none"
            raise DrillError(f"no runbook {wanted!r} (known: {known})")
        return by_id[wanted]
    if history.runbook_id in by_id:
        return by_id[history.runbook_id]
    matches = match_runbooks([r for r in library if r.steps], history.facts)
    if not matches:
        raise DrillError(
            f"no runbook matches {history.label} {history.title!r}: pick one (--runbook ID)"
        )
    return matches[0].runbook


# ---------------------------------------------------------------- playing it back


def check_speed(speed: float) -> float:
    if not 0 < speed <= MAX_SPEED:
        raise DrillError(f"speed must be above 0 and at most {MAX_SPEED:g}, got {speed:g}")
    return float(speed)


def replay_scenario(history: History, runbook: Runbook, speed: float) -> Scenario:
    symptoms = tuple(dict.fromkeys(e.summary for e in history.events if e.kind == "alert"))[:3]
    stamp = history.created_at.strftime("%Y-%m-%d %H:%M UTC")
    return Scenario(
        title=f"[REPLAY {history.label}] {history.title}",
        text=(
            f"Replay of {history.label} {history.title!r}, paged {stamp}"
            + (f" on {history.service}" if history.service else "")
            + ": its alerts, status changes and notes arrive as they did"
            + (f", {speed:g} times faster." if speed != 1 else ".")
        ),
        difficulty=f"replay ×{speed:g}",
        symptoms=symptoms or (history.title,),
        runbook_id=runbook.id,
        service=history.service,
        urgency=history.urgency or "high",
        source=f"replay:{history.incident_id}",
        replay_of=history.incident_id,
        speed=speed,
    )


def start_replay(
    store: Store,
    history: History,
    runbook: Runbook,
    *,
    speed: float = 1.0,
    participant: str = "",
    clock: Clock = utcnow,
) -> Drill:
    """Start the drill of a replay; what happened in the incident's first instant (the page,
    its alert) is already there."""
    speed = check_speed(speed)
    drill = start_drill(
        store,
        runbook,
        replay_scenario(history, runbook, speed),
        participant=participant,
        clock=clock,
    )
    with store.write() as session:
        incident = session.get(Incident, drill.incident_id)
        assert incident is not None
        for key, value in history.copied.items():
            setattr(incident, key, value)
        session.add(incident)
    Replay(store, drill, history).advance(as_utc(drill.started_at))
    return drill


def replay_speed(drill: Drill) -> float:
    try:
        return float((drill.scenario or {}).get("speed") or 1.0)
    except (TypeError, ValueError):
        return 1.0


def replay_of(store: Store, drill: Drill) -> Replay | None:
    """The replay a drill plays, picked up where it was (None: not a replay, or the real
    incident is no longer in the store)."""
    real = str((drill.scenario or {}).get("replay_of") or "")
    if not real:
        return None
    try:
        return Replay(store, drill, load_history(store, real))
    except DrillError:
        return None


class Replay:
    """Delivers a history's events to the drill incident when they are due.

    Event ``i`` is due at the drill's start plus its offset divided by the speed. Whatever
    the clock says, events arrive in their order, each stamped with its due time (not the
    moment the clock was read), so the timeline shows the scaled times exactly."""

    def __init__(self, store: Store, drill: Drill, history: History) -> None:
        self.store = store
        self.drill = drill
        self.history = history
        self.speed = replay_speed(drill)
        self.start = as_utc(drill.started_at)
        self.delivered = self._resume()

    def _resume(self) -> int:
        with self.store.read() as session:
            rows = session.exec(
                select(TimelineEvent.details).where(
                    TimelineEvent.incident_id == self.drill.incident_id
                )
            ).all()
        done = [
            int(d["replay"])
            for d in rows
            if isinstance(d, dict) and isinstance(d.get("replay"), int)
        ]
        return max(done) + 1 if done else 0

    @property
    def events(self) -> tuple[ThenEvent, ...]:
        return self.history.events

    @property
    def finished(self) -> bool:
        return self.delivered >= len(self.events)

    def due_at(self, index: int) -> datetime:
        return self.start + timedelta(seconds=self.events[index].offset / self.speed)

    def next_due(self) -> datetime | None:
        return None if self.finished else self.due_at(self.delivered)

    def advance(self, now: datetime) -> list[ThenEvent]:
        """Write every event due by ``now`` to the drill incident; returns them, in order."""
        now = as_utc(now)
        end = self.delivered
        while end < len(self.events) and self.due_at(end) <= now:
            end += 1
        due = range(self.delivered, end)
        if not due:
            return []
        with self.store.write() as session:
            for index in due:
                self._write(session, index)
        self.delivered = end
        return [self.events[i] for i in due]

    def _write(self, session: Session, index: int) -> None:
        event = self.events[index]
        at = self.due_at(index)
        incident_id = self.drill.incident_id
        details: dict[str, Any] = {
            "replay": index,
            "then": event.at.isoformat(),
            "then_kind": event.kind,
        }
        stamp = f"[then +{format_seconds(event.offset)}]"
        kind, summary = event.kind, f"{stamp} {event.summary}"
        if event.kind == "note":
            summary = f"{stamp} {event.actor or 'someone'}: {event.summary}"
        elif event.kind in ("alert", "alert_resolved"):
            alert_id = f"{incident_id}:alert:{event.alert}"
            alert = session.get(Alert, alert_id)
            if event.kind == "alert" and alert is None:
                session.add(
                    Alert(
                        id=alert_id,
                        incident_id=incident_id,
                        summary=event.summary,
                        status="triggered",
                        severity=event.severity,
                        labels=dict(event.labels),
                        created_at=at,
                    )
                )
            elif alert is not None:
                alert.status, alert.updated_at = "resolved", at
                session.add(alert)
            kind = "alert"
            summary = (
                f"{stamp} alert: {event.summary}"
                if event.kind == "alert"
                else f"{stamp} alert resolved: {event.summary}"
            )
        elif (
            event.actor
            and event.actor not in event.summary
            and event.kind not in ("trigger", "notify")
        ):  # their agent is the service
            summary = f"{summary} ({event.actor})"
        # No person_id: a replayed page is nobody's page load, and is_drill says so twice.
        session.add(
            TimelineEvent(
                incident_id=incident_id,
                at=at,
                kind=kind,
                summary=summary,
                actor=event.actor,
                is_drill=True,
                details=details,
            )
        )


# ---------------------------------------------------------------- then and now


@dataclass(frozen=True)
class Row:
    what: str
    then: str
    now: str


@dataclass(frozen=True)
class ThenNow:
    """The drill against the real incident, every figure in seconds after the page on the
    incident's clock (the drill's wall time times ``speed``); None: it did not happen."""

    label: str
    title: str
    created_at: datetime
    speed: float
    then_runbook: str  # the runbook the incident ran then ("" none)
    acknowledged: tuple[float | None, float | None]
    decisions: tuple[tuple[str, str, float | None, str, float | None, str], ...]
    # (decision id, question, then, branch then, now, branch now)
    branch: tuple[str, str]
    branch_source: str  # where the branch then is known from
    rollback: tuple[float | None, float | None]
    rollback_source: str
    resolved: tuple[float | None, float | None]
    # MTTx's time to rollback (cockpit.metrics.response): the decision to the last Rollback
    # step done, of the run then and of the drill (None: no completed rollback).
    rolled_back_in: tuple[float | None, float | None] = (None, None)

    def _now(self, seconds: float | None, missing: str = "not yet") -> str:
        if seconds is None:
            return missing
        if self.speed == 1:
            return format_seconds(seconds)
        return (
            f"{format_seconds(seconds)} ({format_seconds(seconds / self.speed)} at ×{self.speed:g})"
        )

    def rows(self) -> list[Row]:
        """What both the Markdown and the screen show: plain text, not yet safe."""
        then_ack, now_ack = self.acknowledged
        rows = [
            Row(
                "Acknowledged",
                format_seconds(then_ack) if then_ack is not None else "never",
                self._now(now_ack, "never"),
            )
        ]
        for _, question, then, then_branch, now, now_branch in self.decisions:
            then_text = (
                f"{format_seconds(then)} → {then_branch}" if then is not None else "not recorded"
            )
            now_text = f"{self._now(now)} → {now_branch}" if now is not None else "not reached"
            rows.append(Row(f"Decision: {question}", then_text, now_text))
        then_branch, now_branch = self.branch
        source = f" ({self.branch_source})" if self.branch_source else ""
        rows.append(Row("Branch", (then_branch or "not recorded") + source, now_branch or "none"))
        then_rb, now_rb = self.rollback
        then_text = (
            format_seconds(then_rb)
            if then_rb is not None
            else ("never" if then_branch else "not recorded")
        )
        if then_rb is not None and self.rollback_source:
            then_text += " (a note)"
        rows.append(Row("Rollback started", then_text, self._now(now_rb, "never")))
        then_in, now_in = self.rolled_back_in
        if then_in is not None or now_in is not None:
            rows.append(
                Row(
                    "Time to roll back (decision to last step)",
                    format_seconds(then_in) if then_in is not None else "-",
                    self._now(now_in, "-"),
                )
            )
        then_res, now_res = self.resolved
        rows.append(
            Row(
                "Resolved",
                format_seconds(then_res) if then_res is not None else "not resolved",
                self._now(now_res, "not resolved"),
            )
        )
        return rows

    def footnotes(self) -> list[str]:
        """Where a figure of then comes from when no runbook run recorded it."""
        then_rb = self.rollback[0]
        if then_rb is not None and self.rollback_source:
            return [f"Rollback then: {self.rollback_source} (+{format_seconds(then_rb)})."]
        return []


def then_and_now(
    store: Store, drill: Drill, runbook: Runbook | None = None, history: History | None = None
) -> ThenNow | None:
    """The comparison for a replay drill (None for any other drill, or when the real
    incident is gone from the store)."""
    real = str((drill.scenario or {}).get("replay_of") or "")
    if not real:
        return None
    if history is None:
        try:
            history = load_history(store, real)
        except DrillError:
            return None
    speed = replay_speed(drill)
    start = as_utc(drill.started_at)
    rollback_ids = [s.id for s in runbook.steps_of(ROLLBACK)] if runbook else []
    with store.read() as session:
        events = (
            session.exec(
                select(StepEvent)
                .where(StepEvent.run_id == drill.run_id)
                .order_by(col(StepEvent.seq))
            ).all()
            if drill.run_id
            else []
        )
        incident = session.get(Incident, drill.incident_id)
        resolves = session.exec(
            select(TimelineEvent)
            .where(TimelineEvent.incident_id == drill.incident_id, TimelineEvent.kind == "resolve")
            .order_by(col(TimelineEvent.at))
        ).all()
    from cockpit.metrics.response import rollback_seconds

    now = run_path(events, start, speed, rollback_ids)
    now_in = rollback_seconds(events)
    now_ack = None
    if incident is not None and incident.acknowledged_at is not None:
        seconds = (as_utc(incident.acknowledged_at) - start).total_seconds()
        now_ack = seconds * speed if seconds >= 0 else None
    own = [r for r in resolves if "replay" not in (r.details or {})]
    now_resolved = _offset(own[0].at, start) * speed if own else None
    then_path = history.run
    questions = {d.id: d.question for d in runbook.decisions} if runbook else {}
    order = [d.id for d in runbook.decisions] if runbook else []
    then_by = {d: (b, o) for d, b, o in (then_path.decisions if then_path else ())}
    now_by = {d: (b, o) for d, b, o in now.decisions}
    ids = [d for d in order if d in then_by or d in now_by]
    ids += [d for d in [*then_by, *now_by] if d not in ids]
    decisions = tuple(
        (
            d,
            questions.get(d, d),
            then_by[d][1] if d in then_by else None,
            then_by[d][0] if d in then_by else "",
            now_by[d][1] if d in now_by else None,
            now_by[d][0] if d in now_by else "",
        )
        for d in ids
    )
    then_branch, source = history.then_branch
    then_rb, rb_source = history.then_rollback
    return ThenNow(
        label=history.label,
        title=history.title,
        created_at=history.created_at,
        speed=speed,
        then_runbook=history.runbook_id,
        acknowledged=(history.acknowledged, now_ack),
        decisions=decisions,
        branch=(then_branch, now.branch),
        branch_source=source,
        rollback=(then_rb, now.rollback),
        rollback_source="" if rb_source == "its runbook run" else rb_source,
        resolved=(history.resolved, now_resolved),
        rolled_back_in=(history.rolled_back_in, now_in * speed if now_in is not None else None),
    )


def past_incidents(store: Store, limit: int = 40) -> list[Incident]:
    """Incidents worth replaying, newest first: resolved, real, not drills."""
    with store.read() as session:
        return list(
            session.exec(
                select(Incident)
                .where(Incident.status == "resolved", col(Incident.is_drill).is_(False))
                .order_by(col(Incident.created_at).desc(), col(Incident.id))
                .limit(limit)
            )
        )
