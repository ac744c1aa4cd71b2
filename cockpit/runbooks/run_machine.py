"""Transitions of a run: each checks the current :class:`RunState` and returns the next
:class:`RunEvent` (the caller stores it), or raises :class:`RunError` saying why not.

Nothing here mutates the state or reads a clock it was not given.
"""

from __future__ import annotations

from typing import Any

from cockpit.runbooks.model import ROLLBACK, VALIDATION
from cockpit.runbooks.remap import step_texts
from cockpit.runbooks.run import FAILED, PENDING, RunState
from cockpit.runbooks.run_events import (
    COMMAND_RUN,
    DECIDED,
    DONE,
    FINISHED,
    OUTCOMES,
    ROLLBACK_ENTERED,
    RUNBOOK_CHANGED,
    SKIPPED,
    STARTED,
    TIMER_STARTED,
    UNDONE,
    VALIDATED,
    Clock,
    RunError,
    RunEvent,
    utc_now,
)

OUTPUT_EXCERPT = 2000


def _event(state: RunState, clock: Clock, kind: str, **fields: Any) -> RunEvent:
    return RunEvent(seq=state.last_seq + 1, at=clock(), kind=kind, **fields)


def _open(state: RunState) -> None:
    if not state.started:
        raise RunError(f"run of {state.runbook.id} has not started")
    if state.finished:
        raise RunError(f"run of {state.runbook.id} is already finished ({state.outcome})")


def _step_on_path(state: RunState, step_id: str) -> None:
    step = state.runbook.step(step_id)
    if step is None:
        raise RunError(f"{state.runbook.path}: no step {step_id!r} in runbook {state.runbook.id}")
    if step_id not in state.path:
        raise RunError(
            f"step {step_id!r} ({step.section}) is not on the active path "
            f"({state.phase}); decide or enter rollback first"
        )


def start(state: RunState, actor: str = "", clock: Clock = utc_now) -> RunEvent:
    if state.started:
        raise RunError(f"run of {state.runbook.id} already started")
    details = {
        "runbook_id": state.runbook.id,
        "path": state.runbook.path,
        "steps": step_texts(state.runbook),
    }
    return _event(state, clock, STARTED, actor=actor, details=details)


def _tick(
    state: RunState, kind: str, step_id: str, reason: str, actor: str, clock: Clock
) -> RunEvent:
    _open(state)
    _step_on_path(state, step_id)
    status = state.step_status(step_id)
    if status not in (PENDING, FAILED):
        raise RunError(f"step {step_id!r} is already {status}; undo it first")
    return _event(state, clock, kind, step_id=step_id, reason=reason, actor=actor)


def tick(state: RunState, step_id: str, actor: str = "", clock: Clock = utc_now) -> RunEvent:
    """Mark a step done."""
    return _tick(state, DONE, step_id, "", actor, clock)


def skip(
    state: RunState, step_id: str, reason: str, actor: str = "", clock: Clock = utc_now
) -> RunEvent:
    if not reason.strip():
        raise RunError(f"skipping step {step_id!r} needs a reason")
    return _tick(state, SKIPPED, step_id, reason, actor, clock)


def fail(
    state: RunState, step_id: str, reason: str, actor: str = "", clock: Clock = utc_now
) -> RunEvent:
    if not reason.strip():
        raise RunError(f"a failed step {step_id!r} needs a reason")
    _open(state)
    _step_on_path(state, step_id)
    if state.step_status(step_id) != PENDING:
        raise RunError(f"step {step_id!r} is already {state.step_status(step_id)}")
    return _event(state, clock, FAILED, step_id=step_id, reason=reason, actor=actor)


def undo(state: RunState, actor: str = "", clock: Clock = utc_now) -> RunEvent:
    """Take back the last tick, skip, failure, decision, rollback call or validation."""
    _open(state)
    if not state.undo_stack:
        raise RunError("nothing to undo")
    last = state.undo_stack[-1]
    return _event(
        state,
        clock,
        UNDONE,
        step_id=last.step_id,
        branch=last.branch,
        actor=actor,
        details={"undid_seq": last.seq, "undid_kind": last.kind},
    )


def decide(
    state: RunState, decision_id: str, branch: str, actor: str = "", clock: Clock = utc_now
) -> RunEvent:
    _open(state)
    decision = state.runbook.decision(decision_id)
    if decision is None:
        raise RunError(f"no decision {decision_id!r} in runbook {state.runbook.id}")
    if decision_id in state.decided:
        raise RunError(
            f"decision {decision_id!r} already taken ({state.decided[decision_id]}); undo it first"
        )
    if state.current_decision != decision_id:
        raise RunError(
            f"decision {decision_id!r} is not the current one "
            f"({state.current_decision or 'none pending'})"
        )
    chosen = decision.branch(branch)
    if chosen is None:
        labels = ", ".join(b.label for b in decision.branches)
        raise RunError(f"decision {decision_id!r} has no branch {branch!r} (has: {labels})")
    if chosen.target_section is None:
        raise RunError(
            f"branch {chosen.label!r} of {decision_id!r} points nowhere (line {chosen.line})"
        )
    target = state.runbook.sections[chosen.target_section]
    return _event(
        state,
        clock,
        DECIDED,
        step_id=decision_id,
        branch=chosen.label,
        actor=actor,
        details={
            "target_section": target.title,
            "target_kind": target.kind,
            "target_step": chosen.target_step,
        },
    )


def enter_rollback(
    state: RunState, reason: str = "", actor: str = "", clock: Clock = utc_now
) -> RunEvent:
    _open(state)
    if not state.runbook.steps_of(ROLLBACK):
        raise RunError(f"runbook {state.runbook.id} has no rollback steps")
    if state.phase == ROLLBACK:
        raise RunError("the run is already rolling back")
    return _event(state, clock, ROLLBACK_ENTERED, reason=reason, actor=actor)


def start_timer(
    state: RunState,
    step_id: str,
    seconds: int | None = None,
    actor: str = "",
    clock: Clock = utc_now,
) -> RunEvent:
    _open(state)
    _step_on_path(state, step_id)
    step = state.runbook.step(step_id)
    seconds = seconds if seconds is not None else (step.timer_seconds if step else None)
    if not seconds or seconds <= 0:
        raise RunError(f"step {step_id!r} has no timer; give the seconds")
    now = clock()
    due = now.timestamp() + seconds
    from datetime import UTC, datetime

    return RunEvent(
        state.last_seq + 1,
        now,
        TIMER_STARTED,
        step_id=step_id,
        actor=actor,
        details={"seconds": seconds, "due": datetime.fromtimestamp(due, UTC).isoformat()},
    )


def validate(state: RunState, actor: str = "", clock: Clock = utc_now) -> RunEvent:
    _open(state)
    if state.validated:
        raise RunError("the run is already validated")
    if state.phase != VALIDATION:
        raise RunError(f"the run is in {state.phase}, not validation")
    pending = [
        i
        for i in state.path
        if state.runbook.step(i) is not None
        and state.runbook.step(i).section == VALIDATION  # type: ignore[union-attr]
        and state.step_status(i) not in (DONE, SKIPPED)
    ]
    if pending:
        raise RunError(f"validation steps not done: {', '.join(pending)}")
    return _event(state, clock, VALIDATED, actor=actor)


def record_command(
    state: RunState,
    step_id: str,
    command: str,
    exit_code: int | None,
    output: str = "",
    actor: str = "",
    clock: Clock = utc_now,
) -> RunEvent:
    """A command was run for a step; keep its exit code and the tail of its output."""
    _open(state)
    if state.runbook.step(step_id) is None:
        raise RunError(f"no step {step_id!r} in runbook {state.runbook.id}")
    return _event(
        state,
        clock,
        COMMAND_RUN,
        step_id=step_id,
        actor=actor,
        details={"command": command, "exit_code": exit_code, "output": output[-OUTPUT_EXCERPT:]},
    )


def finish(
    state: RunState, outcome: str, reason: str = "", actor: str = "", clock: Clock = utc_now
) -> RunEvent:
    _open(state)
    if outcome not in OUTCOMES:
        raise RunError(f"outcome must be one of {', '.join(OUTCOMES)}, not {outcome!r}")
    if outcome == "rolled_back" and state.phase != ROLLBACK:
        raise RunError("outcome rolled_back needs the run to be in rollback")
    return _event(state, clock, FINISHED, reason=reason, actor=actor, details={"outcome": outcome})


def note_runbook_change(
    state: RunState, actor: str = "", clock: Clock = utc_now
) -> RunEvent | None:
    """The event recording that the runbook changed under the run, or None if it did not."""
    if state.pending_change is None or not state.started:
        return None
    details = state.pending_change.to_details()
    details["steps"] = step_texts(state.runbook)
    return _event(state, clock, RUNBOOK_CHANGED, actor=actor, details=details)
