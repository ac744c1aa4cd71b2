"""What a runbook run looks like to whoever shows it: its checklist items, where the run
stands (:class:`RunView`, derived once from the engine's :class:`RunState`), and its
transitions in words for the timeline. Pure: the store keeps runs (``cockpit.store.run_service``)
and imports this module, never the reverse.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal, Protocol

from cockpit.runbooks.links import plain
from cockpit.runbooks.model import Decision, Runbook, Step
from cockpit.runbooks.render import format_seconds
from cockpit.runbooks.run import RunState
from cockpit.runbooks.run_events import (
    DECIDED,
    DONE,
    FAILED,
    FINISHED,
    ROLLBACK_ENTERED,
    RUNBOOK_CHANGED,
    SKIPPED,
    STARTED,
    TEAM_AUTHOR,
    TIMER_STARTED,
    UNDONE,
    VALIDATED,
    RunEvent,
)

# The keys of the checklist, as the widget asks for them and the presenter decides them.
ChecklistKey = Literal[
    "tick", "undo", "skip", "fail", "timer", "copy", "run", "link", "decide", "rollback", "pick"
]


class StoredRun(Protocol):
    """What a reader of a view may ask of its run as the store keeps it (the plain-SQL
    ``RunRow`` or the ORM's ``RunbookRun``): this module does not know the store."""

    @property
    def id(self) -> int | None: ...

    @property
    def is_drill(self) -> bool: ...


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
    """What the checklist shows of one run (``run`` is None when not started yet).

    Everything here is derived once from the engine's :class:`RunState` when the view is
    built, so rendering never re-walks the run.
    """

    runbook: Runbook
    run: StoredRun | None
    state: RunState
    items: list[Item]
    status: dict[str, str] = field(default_factory=dict)  # id -> done/skipped/failed/<branch>
    path: str = "main"  # main | rollback | validation
    current: str = ""  # id of the item to do next; "" when finished
    finished: bool = False
    outcome: str = ""
    timers: dict[str, datetime] = field(default_factory=dict)  # step id -> started at
    changes: tuple[str, ...] = ()  # "1 step added", "1 renamed" over every recorded edit
    last_tick: str = ""  # the step or decision that undo would take back
    decided: dict[str, str] = field(default_factory=dict)
    plan: list[str] = field(default_factory=list)  # ids on the path this run takes, in order
    on_plan: frozenset[str] = frozenset()
    by_id: dict[str, Item] = field(default_factory=dict)
    # Team mode: who did a step or answered a decision on another laptop (item id -> name),
    # and decisions answered differently on two laptops (id -> "decision conflict at ...").
    by: dict[str, str] = field(default_factory=dict)
    conflicts: dict[str, str] = field(default_factory=dict)

    def item(self, item_id: str) -> Item | None:
        return self.by_id.get(item_id)

    @property
    def changed(self) -> bool:
        return bool(self.state.recorded_changes)

    @property
    def progress(self) -> tuple[int, int]:
        return sum(1 for i in self.plan if i in self.status), len(self.plan)


def items_of(runbook: Runbook) -> list[Item]:
    items: list[Item] = []
    for section in runbook.sections:
        for step in section.steps:
            items.append(Item(step.id, "step", section.kind, step=step))
        for decision in section.decisions:
            items.append(Item(decision.id, "decision", section.kind, decision=decision))
    return items


def view_of(runbook: Runbook, run: StoredRun | None, state: RunState, items: list[Item]) -> RunView:
    """Derive what the checklist needs from the engine's state, once."""
    steps, phase, pending_decision = state._path()
    status = dict(state.status)
    status.update(state.decided)
    on_path = set(steps) | set(state.decided) | ({pending_decision} if pending_decision else set())
    plan = [item.id for item in items if item.id in on_path]
    finished = state.finished
    current = ""
    if not finished and state.started:
        current = next((s for s in steps if state.status.get(s) in (None, FAILED)), "")
        current = current or pending_decision
    elif not state.started:
        current = plan[0] if plan else ""
    return RunView(
        runbook=runbook,
        run=run,
        state=state,
        items=items,
        status=status,
        path=phase,
        current=current,
        finished=finished,
        outcome=state.outcome,
        timers={t.step_id: t.started_at for t in state.timers},
        changes=describe_changes(state.recorded_changes),
        last_tick="" if finished or not state.undo_stack else state.undo_stack[-1].step_id,
        decided=dict(state.decided),
        plan=plan,
        on_plan=frozenset(plan),
        by_id={item.id: item for item in items},
        by=done_by(state),
        conflicts=conflicts_of(state),
    )


def done_by(state: RunState) -> dict[str, str]:
    """Item id -> the team member whose event (pulled from another laptop) set its state."""
    found: dict[str, str] = {}
    for event in state.undo_stack:
        if not event.step_id:
            continue
        author = event.details.get(TEAM_AUTHOR)
        if isinstance(author, str) and author:
            found[event.step_id] = author
        else:
            found.pop(event.step_id, None)
    return found


def who(event: RunEvent) -> str:
    """Who did it, in words: the team member for another laptop's event, else the actor
    without its source (``local:alice`` -> ``alice``). Raw text: callers make it safe."""
    author = event.details.get(TEAM_AUTHOR)
    if isinstance(author, str) and author:
        return author
    return event.actor.split(":", 1)[-1] or "someone"


def conflicts_of(state: RunState) -> dict[str, str]:
    """Each decision answered differently on two laptops, in words (raw text)."""
    found: dict[str, str] = {}
    for decision_id, answers in state.conflicts.items():
        decision = state.runbook.decision(decision_id)
        where = decision.question if decision else decision_id
        chose = ", ".join(f"{who(e)} chose {e.branch}" for e in answers)
        found[decision_id] = f"decision conflict at {where}: {chose} — choose again"
    return found


def describe_changes(recorded: list[dict[str, object]]) -> tuple[str, ...]:
    """``("1 step added", "1 renamed")`` summed over every recorded edit of the runbook."""
    if not recorded:
        return ()

    def count(key: str) -> int:
        total = 0
        for details in recorded:
            value = details.get(key)
            total += len(value) if isinstance(value, list | tuple) else 0
        return total

    added, removed, renamed = count("added"), count("removed"), count("renamed")
    parts = []
    if added:
        parts.append(f"{added} step{'s' if added != 1 else ''} added")
    if removed:
        parts.append(f"{removed} removed")
    if renamed:
        parts.append(f"{renamed} renamed")
    return tuple(parts) or ("wording only, every step kept",)


_hashes: dict[tuple[str, int, int], str] = {}


def runbook_hash(runbook: Runbook) -> str:
    """The file's hash (cached by path, size and mtime: a tick never re-reads the file)."""
    try:
        stat = Path(runbook.path).stat()
        key = (runbook.path, stat.st_mtime_ns, stat.st_size)
        if key not in _hashes:
            _hashes[key] = hashlib.sha256(Path(runbook.path).read_bytes()).hexdigest()[:16]
        return _hashes[key]
    except OSError:
        return ""


def describe(state: RunState, event: RunEvent) -> str:
    """The timeline line of a transition, in words (raw text: the timeline makes it safe)."""
    runbook = state.runbook
    step = runbook.step(event.step_id) if event.step_id else None
    what = plain(step.text) if step else ""
    kind = event.kind
    reason = f" ({event.reason})" if event.reason else ""
    if kind == STARTED:
        return f"runbook started: {runbook.title}"
    if kind == DONE:
        return f"✓ {what}{reason}"
    if kind == SKIPPED:
        return f"↷ skipped: {what}{reason}"
    if kind == FAILED:
        return f"✗ failed: {what}{reason}"
    if kind == UNDONE:
        undid = str(event.details.get("undid_kind", "tick"))
        target = what or (
            runbook.decision(event.step_id).question  # type: ignore[union-attr]
            if runbook.decision(event.step_id)
            else event.step_id
        )
        return f"undo {undid}: {target}"
    if kind == DECIDED:
        decision = runbook.decision(event.step_id)
        question = decision.question if decision else event.step_id
        where = event.details.get("target_section", "")
        return f"◆ {question} → {event.branch}" + (f" (go to {where})" if where else "")
    if kind == ROLLBACK_ENTERED:
        return f"⟲ rollback entered{reason}"
    if kind == TIMER_STARTED:
        seconds = int(event.details.get("seconds", 0) or 0)
        return f"⏱ {format_seconds(seconds)} timer started: {what}"
    if kind == VALIDATED:
        return "runbook validated"
    if kind == FINISHED:
        return f"runbook finished: {event.details.get('outcome', '')}{reason}"
    if kind == RUNBOOK_CHANGED:
        return "runbook changed: " + ", ".join(describe_changes([event.details]))
    return f"runbook {kind.replace('_', ' ')} {event.step_id}".rstrip()


def timer_left(view: RunView, step: Step, now: datetime) -> int:
    """Seconds until the step's running timer is due (<= 0: due); the timer's own length."""
    started = view.timers.get(step.id)
    seconds = step.timer_seconds or 0
    if started is None:
        return seconds
    return seconds - int((now - started).total_seconds())
