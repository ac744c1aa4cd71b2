"""The run service: a runbook run for an incident, persisted one transition at a time.

It joins the pure replay of a run (what is done, what comes next) with the store's run
persistence (``cockpit.store.runs``): every transition is appended in one write transaction
together with its timeline line, so a crash never loses a tick, and reopening the store
resumes the run exactly. When the runbook file changed since the run started (its hash
differs), a ``runbook_changed`` event is recorded once and the run goes on by step id.

TODO: replay here is a small self-contained state machine, because ``cockpit.runbooks.run``
(the engine's RunState) had not landed when the TUI was written; swap ``replay`` for it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cockpit.errors import CockpitError
from cockpit.runbooks.model import ACTIONS, CHECKS, ROLLBACK, VALIDATION, Decision, Runbook, Step
from cockpit.store.engine import Store
from cockpit.store.models import RunbookRun, StepEvent
from cockpit.store.runs import append_event, events_of, open_run, start_run
from cockpit.store.types import as_utc, utcnow

TICKS = ("done", "skipped", "failed")


class RunError(CockpitError):
    """A transition that does not apply (the run is finished, the step is unknown...)."""


@dataclass(frozen=True)
class Item:
    """One line of the checklist: a step or a decision, with where it belongs."""

    id: str
    kind: str  # "step" | "decision"
    section: str  # checks, actions, decisions, rollback, validation
    step: Step | None = None
    decision: Decision | None = None


@dataclass
class RunView:
    """The replayed state of one run (or of a run not started yet: ``run`` is None)."""

    runbook: Runbook
    run: RunbookRun | None
    items: list[Item]
    status: dict[str, str] = field(default_factory=dict)  # item id -> done/skipped/failed/<branch>
    path: str = "main"  # main | rollback | validation
    current: str = ""  # id of the item to do next; "" when finished
    finished: bool = False
    outcome: str = ""
    timers: dict[str, datetime] = field(default_factory=dict)  # step id -> started at
    changed: bool = False
    last_tick: str = ""  # what undo would take back
    decided: dict[str, str] = field(default_factory=dict)

    plan: list[str] = field(default_factory=list)  # ids on the path this run takes, in order
    on_plan: frozenset[str] = frozenset()

    def item(self, item_id: str) -> Item | None:
        return next((item for item in self.items if item.id == item_id), None)

    @property
    def progress(self) -> tuple[int, int]:
        ids = self.plan
        return sum(1 for i in ids if i in self.status), len(ids)


def runbook_hash(runbook: Runbook) -> str:
    try:
        return hashlib.sha256(Path(runbook.path).read_bytes()).hexdigest()[:16]
    except OSError:
        return ""


def items_of(runbook: Runbook) -> list[Item]:
    items: list[Item] = []
    for section in runbook.sections:
        for step in section.steps:
            items.append(Item(step.id, "step", section.kind, step=step))
        for decision in section.decisions:
            items.append(Item(decision.id, "decision", section.kind, decision=decision))
    return items


def _branch_kind(runbook: Runbook, decision: Decision, label: str) -> str:
    branch = decision.branch(label)
    if branch is None or branch.target_section is None:
        return VALIDATION
    return runbook.sections[branch.target_section].kind


def plan(runbook: Runbook, items: list[Item], decided: dict[str, str]) -> list[str]:
    """Main steps and decisions in file order until a decision sends the run elsewhere:
    to Rollback (its steps, then Validation) or to Validation."""
    ids: list[str] = []
    for item in items:
        if item.section in (ROLLBACK, VALIDATION):
            continue
        ids.append(item.id)
        if item.kind == "decision" and item.decision is not None and item.id in decided:
            target = _branch_kind(runbook, item.decision, decided[item.id])
            if target == ROLLBACK:
                ids += [i.id for i in items if i.section == ROLLBACK and i.kind == "step"]
            if target in (ROLLBACK, VALIDATION):
                break
    if any(item.kind == "decision" and item.id not in decided and item.id in ids
           for item in items):
        return ids  # the path past an open question is not known yet
    ids += [i.id for i in items if i.section == VALIDATION and i.kind == "step"]
    return ids


def replay(runbook: Runbook, run: RunbookRun | None, events: list[StepEvent]) -> RunView:
    view = RunView(runbook, run, items_of(runbook))
    ticks: list[str] = []
    for event in events:
        kind = event.kind
        if kind in TICKS:
            view.status[event.step_id] = kind
            ticks.append(event.step_id)
        elif kind == "decided":
            view.status[event.step_id] = event.branch
            view.decided[event.step_id] = event.branch
            ticks.append(event.step_id)
        elif kind == "undone":
            view.status.pop(event.step_id, None)
            view.decided.pop(event.step_id, None)
            view.timers.pop(event.step_id, None)
            if event.step_id in ticks:
                ticks.remove(event.step_id)
        elif kind == "timer_started":
            view.timers[event.step_id] = as_utc(event.at)
        elif kind == "rollback_entered":
            view.path = "rollback"
        elif kind == "finished":
            view.finished = True
            view.outcome = event.branch
        elif kind == "runbook_changed":
            view.changed = True
    if any(item.section == ROLLBACK for item in view.items if item.id in ticks) or any(
        _branch_kind(runbook, view.item(d).decision, b) == ROLLBACK  # type: ignore[union-attr,arg-type]
        for d, b in view.decided.items() if view.item(d) is not None
    ):
        view.path = "rollback"
    view.plan = plan(runbook, view.items, view.decided)
    view.on_plan = frozenset(view.plan)
    view.last_tick = ticks[-1] if ticks and not view.finished else ""
    view.current = "" if view.finished else next(
        (i for i in view.plan if i not in view.status), ""
    )
    return view


class RunService:
    """Start, replay, advance and resume runs. Each ``apply`` is one write transaction."""

    def __init__(self, store: Store, clock: Callable[[], datetime] | None = None) -> None:
        self.store = store
        self.clock = clock or utcnow

    def load(self, incident_id: str, runbook: Runbook) -> RunView:
        """The open run of this runbook on the incident (or its finished one, or none yet)."""
        with self.store.read() as session:
            run = open_run(session, incident_id)
            if run is None or run.runbook_id != runbook.id:
                run = _latest_of(session, incident_id, runbook.id)
            events = events_of(session, run.id) if run is not None and run.id else []
        view = replay(runbook, run, events)
        if run is not None and not view.finished and run.runbook_hash:
            current = runbook_hash(runbook)
            if current and current != run.runbook_hash and not _seen_hash(events, current):
                return self.apply(incident_id, runbook, "runbook_changed",
                                  details={"hash": current, "was": run.runbook_hash})
        return view

    def open_runbook_id(self, incident_id: str) -> str:
        with self.store.read() as session:
            run = open_run(session, incident_id)
            return run.runbook_id if run is not None else ""

    def apply(
        self,
        incident_id: str,
        runbook: Runbook,
        kind: str,
        *,
        step_id: str = "",
        branch: str = "",
        reason: str = "",
        actor: str = "",
        details: dict[str, Any] | None = None,
        summary: str = "",
        is_drill: bool = False,
    ) -> RunView:
        """Record one transition (starting the run on the first one) and any it implies:
        entering Rollback on a decision that goes there, finishing when Validation is done."""
        now = self.clock()
        with self.store.write() as session:
            run = open_run(session, incident_id)
            if run is not None and run.runbook_id != runbook.id:
                raise RunError(
                    f"{run.runbook_id} is still open on this incident: finish or abandon it first"
                )
            if run is None:
                if kind in ("undone", "finished", "runbook_changed"):
                    raise RunError(f"no open run of {runbook.id} on this incident")
                run = start_run(session, incident_id, runbook.id, runbook_path=runbook.path,
                                runbook_hash=runbook_hash(runbook), started_by=actor,
                                is_drill=is_drill, at=now)
            before = replay(runbook, run, events_of(session, run.id or 0))
            _check(before, kind, step_id)
            append_event(session, run, kind=kind, at=now, step_id=step_id, branch=branch,
                         reason=reason, actor=actor, details=details, summary=summary)
            after = replay(runbook, run, events_of(session, run.id or 0))
            if kind == "decided" and after.path == "rollback" and before.path != "rollback":
                append_event(session, run, kind="rollback_entered", at=now, step_id=step_id,
                             branch=branch, actor=actor)
            if kind in TICKS and not after.current and after.plan and not after.finished:
                outcome = "rolled_back" if after.path == "rollback" else "resolved"
                append_event(session, run, kind="validated", at=now, actor=actor)
                append_event(session, run, kind="finished", at=now, branch=outcome, actor=actor)
            return replay(runbook, run, events_of(session, run.id or 0))

    def abandon(self, incident_id: str, runbook: Runbook, actor: str = "") -> RunView:
        return self.apply(incident_id, runbook, "finished", branch="abandoned", actor=actor)


def _check(view: RunView, kind: str, step_id: str) -> None:
    if view.finished and kind not in ("command_run",):
        raise RunError(f"the run of {view.runbook.id} is finished ({view.outcome})")
    if kind in (*TICKS, "decided", "timer_started") and view.item(step_id) is None:
        raise RunError(f"{view.runbook.id} has no step {step_id!r}")
    if kind == "undone" and step_id != view.last_tick:
        raise RunError("only the last tick can be undone")


def _seen_hash(events: list[StepEvent], current: str) -> bool:
    return any(e.kind == "runbook_changed" and e.details.get("hash") == current for e in events)


def _latest_of(session: Any, incident_id: str, runbook_id: str) -> RunbookRun | None:
    from sqlmodel import col, select

    return session.exec(
        select(RunbookRun)
        .where(RunbookRun.incident_id == incident_id, RunbookRun.runbook_id == runbook_id)
        .order_by(col(RunbookRun.started_at).desc(), col(RunbookRun.id).desc())
    ).first()


__all__ = ["RunService", "RunView", "RunError", "Item", "replay", "plan", "runbook_hash",
           "ACTIONS", "CHECKS"]
