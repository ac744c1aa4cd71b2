"""The run state machine: transitions, undo, branches, outcomes, edits mid-run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cockpit.runbooks import RunError, RunEvent, RunState, parse_runbook
from cockpit.runbooks import run_machine as m
from cockpit.runbooks.model import Runbook

TEXT = """\
---
id: r
---
## Checks
- [ ] Look at the dashboard {#look}
- [ ] Check the cache hit ratio

## Actions
1. [ ] Turn on stale-while-revalidate (wait 5m)

## Decision points
- Fixed?
  - yes: go to [Validation](#validation)
  - no: go to [Rollback](#rollback)

## Rollback
1. [ ] Turn it off again
2. [ ] Tell the team

## Validation
- [ ] Latency normal
"""
T0 = datetime(2026, 3, 1, 3, 0, tzinfo=UTC)


class Run:
    """A run driven through the pure transitions, replayed after each event."""

    def __init__(self, text: str = TEXT) -> None:
        self.runbook: Runbook = parse_runbook(text, "r.md")
        self.events: list[RunEvent] = []
        self.now = T0

    def clock(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now

    @property
    def state(self) -> RunState:
        return RunState.replay(self.runbook, self.events)

    def do(self, transition: Callable[..., RunEvent], *args: object, **kw: object) -> RunState:
        self.events.append(transition(self.state, *args, clock=self.clock, **kw))
        return self.state


def started() -> Run:
    run = Run()
    run.do(m.start, actor="ana")
    return run


def test_start_and_main_path() -> None:
    run = started()
    state = run.state
    assert state.started and state.current_step == "look"
    assert state.path == (
        "look",
        "checks.check-the-cache-hit-ratio",
        "actions.turn-on-stale-while-revalidate",
    )
    assert state.current_decision == "decision.fixed"
    event = run.events[0]
    assert event.kind == "started" and event.seq == 1 and event.at.tzinfo is not None
    assert event.details["steps"]["look"] == "Look at the dashboard"
    with pytest.raises(RunError, match="already started"):
        m.start(state)


def test_tick_skip_fail_and_undo() -> None:
    run = started()
    state = run.do(m.tick, "look", actor="ana")
    assert state.step_status("look") == "done"
    assert state.current_step == "checks.check-the-cache-hit-ratio"
    with pytest.raises(RunError, match="already done"):
        m.tick(state, "look")
    with pytest.raises(RunError, match="needs a reason"):
        m.skip(state, "checks.check-the-cache-hit-ratio", " ")
    state = run.do(m.skip, "checks.check-the-cache-hit-ratio", "no redis access")
    state = run.do(m.fail, "actions.turn-on-stale-while-revalidate", "flagctl 503")
    assert state.step_status("actions.turn-on-stale-while-revalidate") == "failed"
    assert state.current_step == "actions.turn-on-stale-while-revalidate"
    state = run.do(m.undo)
    assert run.events[-1].kind == "undone"
    assert run.events[-1].step_id == "actions.turn-on-stale-while-revalidate"
    assert state.step_status("actions.turn-on-stale-while-revalidate") == "pending"
    state = run.do(m.undo)
    assert state.step_status("checks.check-the-cache-hit-ratio") == "pending"
    assert [e.kind for e in run.events].count("skipped") == 1  # never rewritten
    with pytest.raises(RunError, match="no step 'nope'"):
        m.tick(state, "nope")


def test_inactive_path_and_decision_rules() -> None:
    run = started()
    with pytest.raises(RunError, match="not on the active path"):
        m.tick(run.state, "rollback.tell-the-team")
    with pytest.raises(RunError, match="no branch 'maybe'"):
        m.decide(run.state, "decision.fixed", "maybe")
    state = run.do(m.decide, "decision.fixed", "yes", actor="ana")
    assert state.phase == "validation" and "validation.latency-normal" in state.path
    with pytest.raises(RunError, match="already taken"):
        m.decide(state, "decision.fixed", "no")
    state = run.do(m.undo)
    assert state.current_decision == "decision.fixed" and state.phase == "main"
    state = run.do(m.decide, "decision.fixed", "no")
    assert state.phase == "rollback"


def test_branch_to_rollback_measures_time_to_rollback_and_finishes() -> None:
    run = started()
    for step in run.state.path:
        run.do(m.tick, step)
    state = run.do(m.decide, "decision.fixed", "NO")
    decided_at = run.now
    assert state.current_step == "rollback.turn-it-off-again"
    assert state.time_to_rollback is None
    run.do(m.tick, "rollback.turn-it-off-again")
    state = run.do(m.tick, "rollback.tell-the-team")
    assert state.time_to_rollback == run.now - decided_at == timedelta(minutes=2)
    with pytest.raises(RunError, match="not validation"):
        m.validate(state)
    state = run.do(m.finish, "rolled_back")
    assert state.finished and state.outcome == "rolled_back"
    with pytest.raises(RunError, match="already finished"):
        m.finish(state, "resolved")
    with pytest.raises(RunError, match="already finished"):
        m.tick(state, "look")


def test_validation_timer_command_and_resolved() -> None:
    run = started()
    with pytest.raises(RunError, match="no timer"):
        m.start_timer(run.state, "look")
    state = run.do(m.start_timer, "actions.turn-on-stale-while-revalidate")
    (timer,) = state.timers
    assert timer.due_at - timer.started_at == timedelta(minutes=5)
    run.do(m.record_command, "look", "curl x", 7, "x" * 5000)
    assert run.events[-1].details["exit_code"] == 7
    assert len(run.events[-1].details["output"]) == 2000
    state = run.do(m.decide, "decision.fixed", "yes")
    with pytest.raises(RunError, match="validation steps not done"):
        m.validate(state)
    run.do(m.tick, "validation.latency-normal")
    state = run.do(m.validate)
    assert state.validated
    with pytest.raises(RunError, match="rolled_back needs"):
        m.finish(state, "rolled_back")
    with pytest.raises(RunError, match="outcome must be"):
        m.finish(state, "fine")
    assert run.do(m.finish, "resolved").outcome == "resolved"


def test_enter_rollback_by_hand_and_abandon() -> None:
    run = started()
    state = run.do(m.enter_rollback, reason="made it worse")
    assert state.phase == "rollback" and state.rollback_started_at is not None
    with pytest.raises(RunError, match="already rolling back"):
        m.enter_rollback(state)
    assert run.do(m.finish, "abandoned").outcome == "abandoned"
    with pytest.raises(RunError, match="has not started"):
        m.tick(Run().state, "look")


def test_events_round_trip_as_rows() -> None:
    run = started()
    run.do(m.tick, "look")
    rows = [e.to_row() for e in run.events]
    assert (
        RunState.replay(run.runbook, [RunEvent.from_row(r) for r in rows]).step_status("look")
        == "done"
    )


def test_runbook_edited_mid_run_keeps_progress() -> None:
    run = started()
    run.do(m.tick, "look")
    run.do(m.tick, "checks.check-the-cache-hit-ratio")
    edited = TEXT.replace(
        "- [ ] Look at the dashboard {#look}\n- [ ] Check the cache hit ratio\n",
        "- [ ] Check the cache hit ratoi\n- [ ] Look at the dashboard {#look}\n",
    ).replace("2. [ ] Tell the team\n", "")
    run.runbook = parse_runbook(edited, "r.md")
    state = run.state
    assert state.step_status("look") == "done"
    assert state.step_status("checks.check-the-cache-hit-ratoi") == "done"
    change = state.pending_change
    assert change is not None
    assert change.renamed == (
        ("checks.check-the-cache-hit-ratio", "checks.check-the-cache-hit-ratoi"),
    )
    assert change.removed == ("rollback.tell-the-team",)
    state = run.do(m.note_runbook_change)
    assert run.events[-1].kind == "runbook_changed"
    assert run.events[-1].details["removed"] == ["rollback.tell-the-team"]
    assert state.pending_change is None
    assert state.step_status("checks.check-the-cache-hit-ratoi") == "done"
    assert m.note_runbook_change(state) is None


def test_a_rollback_entered_by_hand_finishes_rolled_back_when_its_steps_are_done(
    tmp_path: Path,
) -> None:
    # Recorded through the store's run service, as the cockpit records it: the main steps
    # left undone when the engineer rolled back by hand do not keep the run open.
    from pageseed import incident

    from cockpit.runbooks.run_events import DONE, ROLLBACK_ENTERED
    from cockpit.store import Store
    from cockpit.store.run_service import RunService

    store = Store.open(tmp_path)
    incident(store, "pagerduty:R1", T0)
    runbook = parse_runbook(TEXT, "r.md")
    service = RunService(store, lambda: T0)
    service.apply("pagerduty:R1", runbook, DONE, step_id="look", actor="ana")
    service.apply("pagerduty:R1", runbook, ROLLBACK_ENTERED, reason="made it worse", actor="ana")
    rollback = [s.id for s in runbook.steps_of("rollback")]
    view = service.apply("pagerduty:R1", runbook, DONE, step_id=rollback[0], actor="ana")
    assert not view.finished
    view = service.apply("pagerduty:R1", runbook, DONE, step_id=rollback[1], actor="ana")
    assert view.finished and view.outcome == "rolled_back"
    store.close()
