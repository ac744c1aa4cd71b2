"""The events of a runbook run: flat, JSON-serialisable, one store row each."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cockpit.errors import CockpitError

STARTED = "started"
DONE = "done"
SKIPPED = "skipped"
FAILED = "failed"
UNDONE = "undone"
DECIDED = "decided"
ROLLBACK_ENTERED = "rollback_entered"
TIMER_STARTED = "timer_started"
VALIDATED = "validated"
FINISHED = "finished"
RUNBOOK_CHANGED = "runbook_changed"
COMMAND_RUN = "command_run"
KINDS = (
    STARTED,
    DONE,
    SKIPPED,
    FAILED,
    UNDONE,
    DECIDED,
    ROLLBACK_ENTERED,
    TIMER_STARTED,
    VALIDATED,
    FINISHED,
    RUNBOOK_CHANGED,
    COMMAND_RUN,
)
# What `undone` can take back, most recent first. Timers and command runs are facts.
UNDOABLE = (DONE, SKIPPED, FAILED, DECIDED, ROLLBACK_ENTERED, VALIDATED)
OUTCOMES = ("resolved", "rolled_back", "abandoned")
# In the details of an event pulled from the team store: the team member who did it.
TEAM_AUTHOR = "team_author"

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


_STEP_FIELDS = ("seq", "at", "kind", "step_id", "branch", "reason", "actor", "details")


class RunError(CockpitError):
    """A transition the run's current state does not allow; the message says why."""


@dataclass(frozen=True)
class RunEvent:
    """One thing that happened in a run. ``details`` holds JSON-ready values only."""

    seq: int
    at: datetime
    kind: str
    step_id: str = ""
    branch: str = ""
    reason: str = ""
    actor: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def to_row(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "kind": self.kind,
            "step_id": self.step_id,
            "branch": self.branch,
            "reason": self.reason,
            "actor": self.actor,
            "details": dict(self.details),
        }

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> RunEvent:
        at = row["at"]
        if isinstance(at, str):
            at = datetime.fromisoformat(at)
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)  # SQLite drops the zone; the core stores UTC only
        return cls(
            int(row["seq"]),
            at,
            str(row["kind"]),
            row.get("step_id") or "",
            row.get("branch") or "",
            row.get("reason") or "",
            row.get("actor") or "",
            dict(row.get("details") or {}),
        )

    @classmethod
    def from_step(cls, step: Any) -> RunEvent:
        """From a stored step row (the ORM's ``StepEvent`` or the plain ``StepRow``)."""
        return cls.from_row({name: getattr(step, name) for name in _STEP_FIELDS})
