"""The run state: a pure replay of :class:`RunEvent` rows over a runbook.

Events from several laptops (team mode) merge into one run, so the replay also settles what
two people did to the same thing: a second tick of a step already ticked changes nothing
(it is kept in ``duplicates``); two different answers to one decision leave it unanswered
and in ``conflicts`` until someone answers it again; an undo takes back the very event it
was made for (the same step, kind and branch), not whatever happens to be last in the
merged order.

Events name steps by the ids of the runbook version they were recorded against (the
``started`` and ``runbook_changed`` events carry a snapshot of those ids and texts). Replay
maps them onto the runbook it is given with :func:`remap_steps`, so a run survives edits of
the file; ``pending_change`` says what moved when the change is not yet recorded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cockpit.runbooks.model import ACTIONS, CHECKS, ROLLBACK, VALIDATION, Runbook
from cockpit.runbooks.remap import RunbookChange, remap_steps, step_texts
from cockpit.runbooks.run_events import (
    DECIDED,
    DONE,
    FAILED,
    FINISHED,
    ROLLBACK_ENTERED,
    SKIPPED,
    STARTED,
    TIMER_STARTED,
    UNDOABLE,
    UNDONE,
    VALIDATED,
    RunEvent,
)

PENDING = "pending"
MAIN = "main"


@dataclass(frozen=True)
class Timer:
    step_id: str
    started_at: datetime
    due_at: datetime


@dataclass
class RunState:
    runbook: Runbook
    events: list[RunEvent] = field(default_factory=list)
    started_at: datetime | None = None
    status: dict[str, str] = field(default_factory=dict)
    decided: dict[str, str] = field(default_factory=dict)
    manual_rollback: bool = False
    timers: list[Timer] = field(default_factory=list)
    validated: bool = False
    outcome: str = ""
    finished_at: datetime | None = None
    rollback_started_at: datetime | None = None
    step_done_at: dict[str, datetime] = field(default_factory=dict)
    undo_stack: list[RunEvent] = field(default_factory=list)
    recorded_changes: list[dict[str, object]] = field(default_factory=list)
    pending_change: RunbookChange | None = None
    ignored: list[RunEvent] = field(default_factory=list)
    duplicates: list[RunEvent] = field(default_factory=list)
    conflicts: dict[str, list[RunEvent]] = field(default_factory=dict)  # decision -> answers

    # -- derived -----------------------------------------------------------------------
    @property
    def started(self) -> bool:
        return self.started_at is not None

    @property
    def finished(self) -> bool:
        return bool(self.outcome)

    @property
    def last_seq(self) -> int:
        return max((event.seq for event in self.events), default=0)

    def _path(self) -> tuple[list[str], str, str]:
        runbook = self.runbook
        path = [step.id for step in runbook.steps_of(CHECKS, ACTIONS)]
        if self.manual_rollback:
            return (
                path + [s.id for s in runbook.steps_of(ROLLBACK) if s.id not in path],
                ROLLBACK,
                "",
            )
        for decision in runbook.decisions:
            if decision.id not in self.decided:
                return path, MAIN, decision.id
            branch = decision.branch(self.decided[decision.id])
            if branch is None or branch.target_section is None:
                continue
            target = runbook.sections[branch.target_section]
            ids = [step.id for step in target.steps]
            if branch.target_step in ids:
                ids = ids[ids.index(branch.target_step) :]
            path += [i for i in ids if i not in path]
            if target.kind in (ROLLBACK, VALIDATION):
                return path, target.kind, ""
        path += [s.id for s in runbook.steps_of(VALIDATION) if s.id not in path]
        return path, VALIDATION, ""

    @property
    def path(self) -> tuple[str, ...]:
        """Step ids on the active path: main, then Validation or Rollback once decided."""
        return tuple(self._path()[0])

    @property
    def phase(self) -> str:
        return self._path()[1]

    @property
    def current_decision(self) -> str:
        return self._path()[2]

    @property
    def current_step(self) -> str:
        """The first step on the active path that is neither done nor skipped ('' if none)."""
        for step_id in self.path:
            if self.status.get(step_id, PENDING) in (PENDING, FAILED):
                return step_id
        return ""

    def step_status(self, step_id: str) -> str:
        return self.status.get(step_id, PENDING)

    @property
    def rollback_done_at(self) -> datetime | None:
        steps = [s.id for s in self.runbook.steps_of(ROLLBACK)]
        if self.phase != ROLLBACK or not steps:
            return None
        if any(self.status.get(i) not in (DONE, SKIPPED) for i in steps):
            return None
        times = [self.step_done_at[i] for i in steps if i in self.step_done_at]
        return max(times) if times else None

    @property
    def time_to_rollback(self) -> timedelta | None:
        """From the decision (or call) that sent the run to Rollback to its last step done."""
        done = self.rollback_done_at
        if self.rollback_started_at is None or done is None:
            return None
        return done - self.rollback_started_at

    # -- replay ------------------------------------------------------------------------
    @classmethod
    def replay(cls, runbook: Runbook, events: Iterable[RunEvent]) -> RunState:
        state = cls(runbook=runbook, events=sorted(events, key=lambda e: e.seq))
        final = step_texts(runbook)
        mapping: dict[str, str] | None = None
        translated: list[RunEvent] = []
        change: RunbookChange | None = None
        for event in state.events:
            snapshot = (
                event.details.get("steps") if event.kind in (STARTED, "runbook_changed") else None
            )
            if isinstance(snapshot, dict):
                change = remap_steps({str(k): str(v) for k, v in snapshot.items()}, final)
                mapping = change.mapping
            if event.kind == "runbook_changed":
                state.recorded_changes.append(dict(event.details))
            if event.step_id and mapping is not None:
                new_id = mapping.get(event.step_id)
                if new_id is None:
                    state.ignored.append(event)  # its step was removed from the runbook
                    continue
                if new_id != event.step_id:
                    event = _with_step(event, new_id)
            translated.append(event)
        if change is not None and change.changed:
            state.pending_change = change
        state._settle(translated)
        return state

    def _settle(self, events: list[RunEvent]) -> None:
        """Apply ``events`` in order; an undo takes its event out and the rest is applied
        again (undos are rare, so a run with none is replayed in one pass)."""
        effective: list[RunEvent] = []
        for event in events:
            if event.kind != UNDONE:
                if self._apply(event):
                    effective.append(event)
                continue
            target = self._undo_target(event)
            if target is None:
                continue  # already taken back (two people undid the same tick)
            effective = [e for e in effective if e is not target]
            self._reset()
            for kept in effective:
                self._apply(kept)

    def _undo_target(self, undo: RunEvent) -> RunEvent | None:
        kind = undo.details.get("undid_kind")
        if not kind:  # an undo written before it named its event: the last one in effect
            return self.undo_stack[-1] if self.undo_stack else None
        for event in reversed(self.undo_stack):
            if (
                event.kind == kind
                and event.step_id == undo.step_id
                and (kind != DECIDED or event.branch == undo.branch)
            ):
                return event
        return None

    def _reset(self) -> None:
        self.started_at = None
        self.status = {}
        self.decided = {}
        self.manual_rollback = False
        self.timers = []
        self.validated = False
        self.outcome = ""
        self.finished_at = None
        self.rollback_started_at = None
        self.step_done_at = {}
        self.undo_stack = []
        self.conflicts = {}

    def _apply(self, event: RunEvent) -> bool:
        """Apply one event; False when it changes nothing (it repeats what another laptop's
        event already did: kept in ``duplicates``)."""
        if self._repeats(event):
            self.duplicates.append(event)
            return False
        kind = event.kind
        if kind == STARTED:
            self.started_at = self.started_at or event.at
        elif kind in (DONE, SKIPPED, FAILED):
            self.status[event.step_id] = kind
            if kind in (DONE, SKIPPED):
                self.step_done_at[event.step_id] = event.at
        elif kind == DECIDED:
            self._decide(event)
        elif kind == ROLLBACK_ENTERED:
            self.manual_rollback = True
            self.rollback_started_at = self.rollback_started_at or event.at
        elif kind == TIMER_STARTED:
            seconds = int(event.details.get("seconds", 0) or 0)
            self.timers = [t for t in self.timers if t.step_id != event.step_id]
            self.timers.append(
                Timer(event.step_id, event.at, event.at + timedelta(seconds=seconds))
            )
        elif kind == VALIDATED:
            self.validated = True
        elif kind == FINISHED:
            self.outcome = str(event.details.get("outcome", "")) or "abandoned"
            self.finished_at = event.at
        if kind in UNDOABLE:
            self.undo_stack.append(event)
        return True

    def _repeats(self, event: RunEvent) -> bool:
        kind = event.kind
        if kind in (DONE, SKIPPED):
            return self.status.get(event.step_id) in (DONE, SKIPPED)
        if kind == FAILED:
            return self.status.get(event.step_id) is not None
        if kind == DECIDED:
            return self.decided.get(event.step_id) == event.branch
        if kind == STARTED:
            return self.started_at is not None
        if kind == ROLLBACK_ENTERED:
            return self.manual_rollback
        if kind == VALIDATED:
            return self.validated
        if kind == FINISHED:
            return bool(self.outcome)
        return False

    def _decide(self, event: RunEvent) -> None:
        """A second, different answer to a decision (given on another laptop) is a conflict:
        the decision waits again, with both answers, until it is answered once more."""
        decision = event.step_id
        if decision in self.decided:
            first = next(
                (
                    e
                    for e in reversed(self.undo_stack)
                    if e.kind == DECIDED and e.step_id == decision
                ),
                None,
            )
            del self.decided[decision]
            self.conflicts[decision] = [e for e in (first, event) if e is not None]
            return
        self.conflicts.pop(decision, None)
        self.decided[decision] = event.branch
        if self.phase == ROLLBACK and self.rollback_started_at is None:
            self.rollback_started_at = event.at


def _with_step(event: RunEvent, step_id: str) -> RunEvent:
    return RunEvent(
        event.seq,
        event.at,
        event.kind,
        step_id,
        event.branch,
        event.reason,
        event.actor,
        dict(event.details),
    )
