"""What a checklist key does to a runbook run, decided without a terminal.

A key on the checklist (``cockpit.runbooks.run_view.ChecklistKey``) and the run as the user
sees it give one :data:`Move`: a transition to record, a question to ask first (a reason, a
branch, a confirmation), a command to copy or run, or a refusal that says why. The screen
asks the questions, records through ``cockpit.store.run_service`` and draws the result;
tests (``tests/core/test_checklist_presenter.py``) drive every branch with plain runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from cockpit.runbooks.model import Step
from cockpit.runbooks.run_view import ChecklistKey, Item, RunView, timer_left

# The transitions a checklist key records (``cockpit.runbooks.run_events``' names).
Transition = Literal[
    "done", "skipped", "failed", "undone", "decided", "rollback_entered", "timer_started",
    "finished",
]  # fmt: skip
Asked = Literal["skipped", "failed", "rollback_entered"]


@dataclass(frozen=True)
class Record:
    """Record this transition of the run (one write, with its timeline line)."""

    kind: Transition
    step_id: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    branch: str = ""

    def arguments(self) -> dict[str, Any]:
        """The keyword arguments of ``RunService.apply`` for this transition."""
        found: dict[str, Any] = {}
        if self.step_id:
            found["step_id"] = self.step_id
        if self.details:
            found["details"] = dict(self.details)
        if self.reason:
            found["reason"] = self.reason
        if self.branch:
            found["branch"] = self.branch
        return found


@dataclass(frozen=True)
class Refuse:
    """Nothing to do: say why (a warning the user reads)."""

    message: str
    title: str = ""


@dataclass(frozen=True)
class ConfirmEarlyTick:
    """The step's timer still runs (``left`` seconds): tick it anyway only if the user says
    so; then :func:`tick_move` with ``timer_confirmed``."""

    step: Step
    left: int


@dataclass(frozen=True)
class ConfirmRisky:
    """The step is marked risky: record ``then`` only once the user confirms."""

    step: Step
    then: Record


@dataclass(frozen=True)
class AskReason:
    """Ask why in a few words (kept in the timeline and the debrief), then :func:`with_reason`."""

    kind: Asked
    step: Step | None = None


@dataclass(frozen=True)
class AskBranch:
    """Ask which branch of the decision to take, then record ``decided``."""

    item: Item


@dataclass(frozen=True)
class UseCommand:
    """Copy (``how == "copy"``) or run the step's command, once its parameters are known."""

    how: Literal["copy", "run"]
    step: Step


@dataclass(frozen=True)
class PickRunbook:
    """Offer the library to pick another runbook for this incident."""


@dataclass(frozen=True)
class OfferLinks:
    """Offer the highlighted step's links (copied; opened only if the user says so)."""


Move = (
    Record
    | Refuse
    | ConfirmEarlyTick
    | ConfirmRisky
    | AskReason
    | AskBranch
    | UseCommand
    | PickRunbook
    | OfferLinks
)

NO_STEP = Refuse("Highlight a step first (↑↓).")


def checklist_move(
    run: RunView | None, key: ChecklistKey, item_id: str, now: datetime
) -> Move | None:
    """What ``key`` pressed with ``item_id`` highlighted does to ``run`` (None: nothing, as
    a key on a decision that has no step to act on)."""
    if key == "pick":
        return PickRunbook()
    if run is None:
        return None
    if key == "undo":
        return Record("undone") if run.last_tick else Refuse("Nothing to undo.")
    if key == "rollback":
        return AskReason("rollback_entered")
    if key == "decide":
        item_id = next(
            (i for i in run.plan if run.by_id[i].kind == "decision" and i not in run.status), ""
        )
        if not item_id:
            return Refuse("No decision waits for an answer on this run's path.")
    item = run.item(item_id or run.current)
    if item is None:
        return NO_STEP
    if item.kind == "decision" and key in ("tick", "decide"):
        return decide_move(run, item)
    step = item.step
    if step is None:
        return None
    if key == "link":
        return OfferLinks()
    if key == "tick":
        return tick_move(run, step, now)
    if key in ("skip", "fail"):
        return AskReason("skipped" if key == "skip" else "failed", step)
    if key == "timer":
        if not step.timer_seconds:
            return Refuse("This step has no timer.")
        return Record("timer_started", step.id, {"seconds": step.timer_seconds})
    if key == "copy" or key == "run":
        if not step.command:
            return Refuse("This step has no command.")
        return UseCommand(key, step)
    return None


def decide_move(run: RunView, item: Item) -> Move | None:
    if item.decision is None:
        return None
    if item.id in run.status:
        return Refuse("Already answered; undo it first (u) to change the answer.")
    return AskBranch(item)


def tick_move(run: RunView, step: Step, now: datetime, *, timer_confirmed: bool = False) -> Move:
    """Space on a step: tick it; on a ticked one, undo it if it was the last tick; on a
    timer step, start the timer first and ask before ticking while it runs; on a risky
    step, confirm first."""
    status = run.status.get(step.id)
    if status in ("done", "skipped"):
        if step.id == run.last_tick:
            return Record("undone")
        return Refuse("Only the last tick can be undone (u).")
    if step.timer_seconds and step.id not in run.timers and status != "failed":
        return Record("timer_started", step.id, {"seconds": step.timer_seconds})
    left = timer_left(run, step, now) if step.id in run.timers else 0
    if left > 0 and not timer_confirmed:
        return ConfirmEarlyTick(step, left)
    done = Record("done", step.id)
    return ConfirmRisky(step, done) if step.risky else done


def check_reason(value: str) -> str:
    """The input check of a reason: empty is refused, with what to write instead."""
    return "" if value.strip() else "Say why in a few words: the next person will read it."


def with_reason(asked: AskReason, reason: str | None) -> Record | None:
    """The transition a reason given to :class:`AskReason` records (None: no reason, so
    nothing is recorded)."""
    if not reason or not reason.strip():
        return None
    return Record(asked.kind, asked.step.id if asked.step else "", reason=reason.strip())
