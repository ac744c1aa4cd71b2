"""The run service: a runbook run for an incident, persisted one transition at a time.

The run's state is the runbook engine's (``cockpit.runbooks.run.RunState``) and every
transition comes from ``cockpit.runbooks.run_machine``; this module only joins them with the
store (``cockpit.store.runs``); what a run looks like to a reader is
``cockpit.runbooks.run_view``. Each transition and the ones it implies (validating and
finishing when the last step is ticked) are appended in one write transaction together with
their timeline lines, so a crash never loses a tick and a reopened store resumes the run.

The state of a run is replayed from the store once and then kept: a transition appends its
event to the cached state instead of reading and replaying the whole run again, so a tick
costs the same on the first step and on the thousandth. The cache is checked against the
store's last ``seq`` inside the write transaction, so another terminal's ticks are never lost.

When the runbook file changed since the run started (its hash, or its steps), a
``runbook_changed`` event records what moved (``remap_steps``) and the run goes on by step id.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cockpit.runbooks import run_machine as machine
from cockpit.runbooks.model import ROLLBACK, Runbook
from cockpit.runbooks.remap import step_texts
from cockpit.runbooks.run import RunState
from cockpit.runbooks.run_events import (
    COMMAND_RUN,
    DECIDED,
    DONE,
    FAILED,
    FINISHED,
    ROLLBACK_ENTERED,
    RUNBOOK_CHANGED,
    SKIPPED,
    STARTED,
    TIMER_STARTED,
    UNDONE,
    VALIDATED,
    RunError,
    RunEvent,
)
from cockpit.runbooks.run_view import Item, RunView, describe, items_of, runbook_hash, view_of
from cockpit.store import reads
from cockpit.store.engine import Store
from cockpit.store.records import RunRow, StepRow
from cockpit.store.timefmt import utcnow

if TYPE_CHECKING:
    from typing import TypeAlias

    from sqlmodel import Session

    from cockpit.store.models import RunbookRun, StepEvent

    # A run as read (the screen's plain-SQL record) or as written (the ORM row): same fields.
    Run: TypeAlias = RunRow | RunbookRun

TICKS = (DONE, SKIPPED, FAILED)
# Transitions that may open a run on an incident that has none yet.
_OPENERS = (DONE, SKIPPED, FAILED, DECIDED, TIMER_STARTED, ROLLBACK_ENTERED, COMMAND_RUN)
# After these the whole run is replayed (they rewrite what earlier events mean).
_REPLAY = (UNDONE, RUNBOOK_CHANGED)


def to_engine(rows: list[StepRow] | list[StepEvent], run: Run) -> list[RunEvent]:
    """A run's stored step rows as the engine's events, its start included."""
    events = [RunEvent.from_step(r) for r in rows]
    if not events or events[0].kind != STARTED:
        # A run written before the engine kept a `started` event: it started with its row.
        events.insert(
            0,
            RunEvent.from_row(
                {"seq": 0, "at": run.started_at, "kind": STARTED, "actor": run.started_by}
            ),
        )
    return events


class RunService:
    """Start, load, advance and resume runs. Each ``apply`` is one write transaction."""

    def __init__(self, store: Store, clock: Callable[[], datetime] | None = None) -> None:
        self.store = store
        self.clock = clock or utcnow
        self._states: dict[int, tuple[int, RunState]] = {}  # run id -> (last seq, state)
        self._items: dict[int, tuple[Runbook, list[Item]]] = {}

    def _items_of(self, runbook: Runbook) -> list[Item]:
        cached = self._items.get(id(runbook))
        if cached is None or cached[0] is not runbook:
            cached = (runbook, items_of(runbook))
            self._items[id(runbook)] = cached
        return cached[1]

    def _state(self, conn: sqlite3.Connection, run: Run, runbook: Runbook) -> RunState:
        assert run.id is not None
        seq = reads.last_seq(conn, run.id)
        cached = self._states.get(run.id)
        if cached is not None and cached[0] == seq and cached[1].runbook is runbook:
            return cached[1]
        state = RunState.replay(runbook, to_engine(reads.step_events(conn, run.id), run))
        self._states[run.id] = (seq, state)
        return state

    def view(self, run: Run | None, state: RunState) -> RunView:
        return view_of(state.runbook, run, state, self._items_of(state.runbook))

    def load(self, incident_id: str, runbook: Runbook) -> RunView:
        """The open run of this runbook on the incident (or its finished one, or none yet).
        A runbook edited since the run last saw it is recorded here, once."""
        with self.store.rows() as conn:
            run = reads.open_run(conn, incident_id)
            if run is None or run.runbook_id != runbook.id:
                run = reads.latest_run_of(conn, incident_id, runbook.id)
            state = self._state(conn, run, runbook) if run is not None else RunState(runbook)
        if run is not None and not state.finished and self._edited(run, state):
            return self.apply(incident_id, runbook, RUNBOOK_CHANGED)
        return self.view(run, state)

    def _edited(self, run: Run, state: RunState) -> bool:
        if state.pending_change is not None:
            return True
        current = runbook_hash(state.runbook)
        known = next(
            (str(d["hash"]) for d in reversed(state.recorded_changes) if d.get("hash")),
            run.runbook_hash,
        )
        return bool(current and known and current != known)

    def open_runbook_id(self, incident_id: str) -> str:
        with self.store.rows() as conn:
            run = reads.open_run(conn, incident_id)
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
        """Record one transition (starting the run on the first one) and those it implies:
        validating and finishing once the last step on the path is ticked."""
        from cockpit.store.engine import driver_connection
        from cockpit.store.runs import open_run, start_run

        details = details or {}
        with self.store.write() as session:
            run = open_run(session, incident_id)
            if run is not None and run.runbook_id != runbook.id:
                raise RunError(
                    f"{run.runbook_id} is still open on this incident: finish or abandon it first"
                )
            if run is None:
                if kind not in _OPENERS:
                    raise RunError(f"no open run of {runbook.id} on this incident")
                run = start_run(
                    session,
                    incident_id,
                    runbook.id,
                    runbook_path=runbook.path,
                    runbook_hash=runbook_hash(runbook),
                    started_by=actor,
                    is_drill=is_drill,
                    at=self.clock(),
                )
                assert run.id is not None
                state = RunState(runbook)
                state = self._record(
                    session, run, state, machine.start(state, actor, self.clock), ""
                )
            else:
                state = self._state(driver_connection(session), run, runbook)
            event = _annotated(
                self._event(
                    state,
                    kind,
                    step_id=step_id,
                    branch=branch,
                    reason=reason,
                    actor=actor,
                    details=details,
                ),
                reason,
                details,
            )
            state = self._record(session, run, state, event, summary)
            implied = self._implied(state, event.kind, actor)
            while implied is not None:
                state = self._record(session, run, state, implied, "")
                implied = self._implied(state, implied.kind, actor)
            return self.view(run, state)

    def abandon(
        self, incident_id: str, runbook: Runbook, actor: str = "", reason: str = ""
    ) -> RunView:
        return self.apply(
            incident_id, runbook, FINISHED, branch="abandoned", actor=actor, reason=reason
        )

    # ------------------------------------------------------------------ internals

    def _event(
        self,
        state: RunState,
        kind: str,
        *,
        step_id: str,
        branch: str,
        reason: str,
        actor: str,
        details: dict[str, Any],
    ) -> RunEvent:
        clock = self.clock
        if kind == DONE:
            return machine.tick(state, step_id, actor, clock)
        if kind == SKIPPED:
            return machine.skip(state, step_id, reason, actor, clock)
        if kind == FAILED:
            return machine.fail(state, step_id, reason, actor, clock)
        if kind == UNDONE:
            return machine.undo(state, actor, clock)
        if kind == DECIDED:
            return machine.decide(state, step_id, branch, actor, clock)
        if kind == ROLLBACK_ENTERED:
            return machine.enter_rollback(state, reason, actor, clock)
        if kind == TIMER_STARTED:
            return machine.start_timer(state, step_id, details.get("seconds"), actor, clock)
        if kind == VALIDATED:
            return machine.validate(state, actor, clock)
        if kind == FINISHED:
            return machine.finish(state, branch, reason, actor, clock)
        if kind == COMMAND_RUN:
            if state.finished:  # a command that outlived its run is still a fact to keep
                return RunEvent(
                    _next(state),
                    clock(),
                    COMMAND_RUN,
                    step_id,
                    actor=actor,
                    details=_command_details(details),
                )
            return machine.record_command(
                state,
                step_id,
                str(details.get("command", "")),
                details.get("exit_code"),
                str(details.get("output", "")),
                actor,
                clock,
            )
        if kind == RUNBOOK_CHANGED:
            return self._change_event(state, actor)
        raise RunError(f"unknown run transition {kind!r}")

    def _change_event(self, state: RunState, actor: str) -> RunEvent:
        event = machine.note_runbook_change(state, actor, self.clock)
        if event is None:  # the file changed but every step kept its id and text
            event = RunEvent(
                _next(state),
                self.clock(),
                RUNBOOK_CHANGED,
                actor=actor,
                details={
                    "added": [],
                    "removed": [],
                    "renamed": [],
                    "steps": step_texts(state.runbook),
                },
            )
        event.details["hash"] = runbook_hash(state.runbook)
        return event

    def _implied(self, state: RunState, kind: str, actor: str) -> RunEvent | None:
        """What follows the last tick on the path (or its decision): Validation is validated
        and the run finishes resolved; a finished Rollback finishes the run rolled back."""
        if state.finished:
            return None
        if kind == VALIDATED:
            return machine.finish(state, "resolved", "", actor, self.clock)
        if kind not in (DONE, SKIPPED, DECIDED):
            return None
        steps, phase, pending_decision = state._path()
        if phase == ROLLBACK:
            # Rolling back (decided or by hand): the main steps left undone no longer count;
            # the run is over, rolled back, when every Rollback step is done or skipped.
            rollback = [step.id for step in state.runbook.steps_of(ROLLBACK)]
            if any(state.status.get(s) in (None, FAILED) for s in rollback):
                return None
            return machine.finish(state, "rolled_back", "", actor, self.clock)
        if pending_decision or any(state.status.get(s) in (None, FAILED) for s in steps):
            return None
        return machine.validate(state, actor, self.clock)

    def _record(
        self, session: Session, run: RunbookRun, state: RunState, event: RunEvent, summary: str
    ) -> RunState:
        from cockpit.store.runs import append_event

        assert run.id is not None
        # A finished row carries its outcome as the branch too, as every reader expects.
        branch = str(event.details.get("outcome", "")) if event.kind == FINISHED else ""
        append_event(
            session,
            run,
            kind=event.kind,
            at=event.at,
            step_id=event.step_id,
            branch=branch or event.branch,
            reason=event.reason,
            actor=event.actor,
            details=event.details,
            seq=event.seq,
            summary=summary or describe(state, event),
        )
        if event.kind in _REPLAY:
            state = RunState.replay(state.runbook, [*state.events, event])
        else:
            state.events.append(event)
            state._apply(event)
        self._states[run.id] = (event.seq, state)
        return state


def _annotated(event: RunEvent, reason: str, details: dict[str, Any]) -> RunEvent:
    """Keep what the caller adds to a transition the engine does not ask for (a drill marks
    a tick ``unclear`` with why); the engine's own fields win."""
    if event.kind in (TIMER_STARTED, COMMAND_RUN, RUNBOOK_CHANGED):
        return event
    extra = {k: v for k, v in details.items() if k not in event.details}
    if not extra and (event.reason or not reason):
        return event
    return replace(event, reason=event.reason or reason, details={**event.details, **extra})


def _next(state: RunState) -> int:
    return state.last_seq + 1


def _command_details(details: dict[str, Any]) -> dict[str, Any]:
    return {
        "command": str(details.get("command", "")),
        "exit_code": details.get("exit_code"),
        "output": str(details.get("output", ""))[-machine.OUTPUT_EXCERPT :],
    }
