"""What a checklist key does to a run, decided without a terminal (cockpit.presenter.checklist):
every key on plain runs replayed through the engine, the way the cockpit screen sees them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from cockpit.presenter.checklist import (
    AskBranch,
    AskReason,
    ConfirmEarlyTick,
    ConfirmRisky,
    OfferLinks,
    PickRunbook,
    Record,
    Refuse,
    UseCommand,
    check_reason,
    checklist_move,
    tick_move,
    with_reason,
)
from cockpit.runbooks import RunEvent, RunState, parse_runbook
from cockpit.runbooks import run_machine as m
from cockpit.runbooks.run_view import RunView, items_of, view_of

TEXT = """\
---
id: swr
---
# Turn on stale-while-revalidate

## Checks
- [ ] Look at the [dashboard](https://grafana.example/d/cache) {#look}
- [ ] Read the pods `kubectl -n {{namespace}} get pods` {#pods}

## Actions
1. [ ] Turn on stale-while-revalidate (wait 5m) {#swr}
2. [ ] ⚠ Flush the cache {#flush}

## Decision points
- Fixed?
  - yes: go to [Validation](#validation)
  - no: go to [Rollback](#rollback)

## Rollback
1. [ ] Turn it off again {#off}

## Validation
- [ ] Latency normal {#latency}
- [ ] ⚠ Drain the canary, then watch it (wait 2m) {#canary}
"""
T0 = datetime(2026, 3, 1, 3, 0, tzinfo=UTC)
DECISION = "decision.fixed"


class Run:
    """A run driven through the engine's transitions, seen as the checklist sees it."""

    def __init__(self) -> None:
        self.runbook = parse_runbook(TEXT, "swr.md")
        self.events: list[RunEvent] = []
        self.now = T0

    def clock(self) -> datetime:
        self.now += timedelta(seconds=10)
        return self.now

    @property
    def view(self) -> RunView:
        state = RunState.replay(self.runbook, self.events)
        return view_of(self.runbook, None, state, items_of(self.runbook))

    def do(self, transition: Callable[..., RunEvent], *args: object) -> Run:
        state = RunState.replay(self.runbook, self.events)
        self.events.append(transition(state, *args, clock=self.clock))
        return self


def started() -> Run:
    return Run().do(m.start)


def test_ids_are_the_ones_written() -> None:
    ids = [item.id for item in started().view.items]
    assert {"look", "pods", "swr", "flush", DECISION, "off", "latency"} <= set(ids)


def test_space_ticks_the_highlighted_step_or_the_current_one() -> None:
    run = started()
    assert checklist_move(run.view, "tick", "pods", run.now) == Record("done", "pods")
    assert checklist_move(run.view, "tick", "", run.now) == Record("done", "look")
    gone = checklist_move(run.view, "tick", "nope", run.now)  # a step since edited away
    assert gone == Refuse("Highlight a step first (↑↓).")


def test_space_on_a_ticked_step_undoes_only_the_last_tick() -> None:
    run = started().do(m.tick, "look").do(m.tick, "pods")
    assert checklist_move(run.view, "tick", "pods", run.now) == Record("undone")
    move = checklist_move(run.view, "tick", "look", run.now)
    assert move == Refuse("Only the last tick can be undone (u).")


def test_undo_needs_a_tick() -> None:
    run = started()
    assert checklist_move(run.view, "undo", "look", run.now) == Refuse("Nothing to undo.")
    run.do(m.tick, "look")
    assert checklist_move(run.view, "undo", "", run.now) == Record("undone")


def test_a_timer_step_starts_its_timer_then_asks_before_an_early_tick() -> None:
    run = started().do(m.tick, "look").do(m.tick, "pods")
    first = checklist_move(run.view, "tick", "swr", run.now)
    assert first == Record("timer_started", "swr", {"seconds": 300})
    assert first.arguments() == {"step_id": "swr", "details": {"seconds": 300}}
    run.do(m.start_timer, "swr", 300)
    early = checklist_move(run.view, "tick", "swr", run.now + timedelta(seconds=60))
    assert isinstance(early, ConfirmEarlyTick) and early.step.id == "swr"
    assert 230 <= early.left <= 240
    confirmed = tick_move(run.view, early.step, run.now, timer_confirmed=True)
    assert confirmed == Record("done", "swr")
    due = checklist_move(run.view, "tick", "swr", run.now + timedelta(minutes=6))
    assert due == Record("done", "swr")


def test_the_timer_key() -> None:
    run = started()
    assert checklist_move(run.view, "timer", "look", run.now) == Refuse("This step has no timer.")
    assert checklist_move(run.view, "timer", "swr", run.now) == Record(
        "timer_started", "swr", {"seconds": 300}
    )


def test_a_risky_step_is_confirmed_first() -> None:
    run = started()
    move = checklist_move(run.view, "tick", "flush", run.now)
    assert isinstance(move, ConfirmRisky)
    assert move.step.id == "flush" and move.then == Record("done", "flush")


def test_skip_fail_and_rollback_ask_why_and_record_only_with_a_reason() -> None:
    run = started()
    skip = checklist_move(run.view, "skip", "pods", run.now)
    assert isinstance(skip, AskReason) and skip.kind == "skipped" and skip.step is not None
    assert with_reason(skip, "  no cluster access ") == Record(
        "skipped", "pods", reason="no cluster access"
    )
    assert with_reason(skip, "   ") is None and with_reason(skip, None) is None
    fail = checklist_move(run.view, "fail", "pods", run.now)
    assert isinstance(fail, AskReason) and fail.kind == "failed"
    back = checklist_move(run.view, "rollback", "", run.now)
    assert back == AskReason("rollback_entered")
    assert with_reason(back, "worse") == Record("rollback_entered", reason="worse")
    assert check_reason(" ") and not check_reason("because")


def test_decisions_ask_for_a_branch_once() -> None:
    run = started()
    for step_id in ("look", "pods", "swr", "flush"):
        run.do(m.tick, step_id)
    for key in ("tick", "decide"):
        move = checklist_move(run.view, key, DECISION, run.now)  # type: ignore[arg-type]
        assert isinstance(move, AskBranch) and move.item.id == DECISION
    # d finds the open decision wherever the highlight is.
    found = checklist_move(run.view, "decide", "look", run.now)
    assert isinstance(found, AskBranch) and found.item.id == DECISION
    run.do(m.decide, DECISION, "yes")
    answered = checklist_move(run.view, "tick", DECISION, run.now)
    assert answered == Refuse("Already answered; undo it first (u) to change the answer.")
    nothing_left = checklist_move(run.view, "decide", "", run.now)
    assert nothing_left == Refuse("No decision waits for an answer on this run's path.")


def test_commands_copy_and_run_only_from_a_step_that_has_one() -> None:
    run = started()
    for key in ("copy", "run"):
        move = checklist_move(run.view, key, "pods", run.now)  # type: ignore[arg-type]
        assert isinstance(move, UseCommand) and move.how == key and move.step.id == "pods"
        refused = checklist_move(run.view, key, "look", run.now)  # type: ignore[arg-type]
        assert refused == Refuse("This step has no command.")


def test_links_pick_and_no_run() -> None:
    run = started()
    assert checklist_move(run.view, "link", "look", run.now) == OfferLinks()
    assert checklist_move(None, "pick", "", run.now) == PickRunbook()
    assert checklist_move(run.view, "pick", "look", run.now) == PickRunbook()
    assert checklist_move(None, "tick", "look", run.now) is None


def test_a_run_not_started_ticks_its_first_step() -> None:
    run = Run()
    assert checklist_move(run.view, "tick", "", run.now) == Record("done", "look")


def test_a_failed_timer_step_ticks_without_starting_its_timer_again() -> None:
    run = started().do(m.tick, "look").do(m.tick, "pods").do(m.fail, "swr", "flagctl 503")
    assert checklist_move(run.view, "tick", "swr", run.now) == Record("done", "swr")


def test_a_risky_timer_step_still_asks_after_the_early_tick_is_confirmed() -> None:
    run = started()
    for step_id in ("look", "pods", "swr", "flush"):
        run.do(m.tick, step_id)
    run.do(m.decide, DECISION, "yes").do(m.tick, "latency").do(m.start_timer, "canary", 120)
    early = checklist_move(run.view, "tick", "canary", run.now)
    assert isinstance(early, ConfirmEarlyTick)
    confirmed = tick_move(run.view, early.step, run.now, timer_confirmed=True)
    assert isinstance(confirmed, ConfirmRisky) and confirmed.then == Record("done", "canary")
