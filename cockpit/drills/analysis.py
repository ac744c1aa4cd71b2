"""Timing a drill from its step events: pure, no store, no clock.

Each tick (done, skipped, failed) and each decision is timed as the gap since the previous
event of the run (the start, a tick, a timer, a command). A *hesitation* is a gap longer
than both ``HESITATION_FACTOR`` times the drill's median gap and ``HESITATION_FLOOR``
seconds: slow relative to this person's own pace, and slow in absolute terms (the wait for a
step's own timer does not count). A step is
*unclear* when its event carries ``details["unclear"]`` or a reason starting "unclear".
The branch is *wrong* when the scenario names an expected branch and the run took another:
an expected ``rollback`` / ``validation`` is compared with where the run went, any other
value with the labels of the decisions taken. A step with a timer ticked done before its
timer ran out (counted from the timer's start, on the drill's clock: wall time times the
replay's speed) is *early*. A run that was abandoned (``E``, a resolve) *ended early*: the
steps it never reached say nothing about the runbook then, so they suggest no edit.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from cockpit.drills.replay import ThenNow

HESITATION_FACTOR = 2.0
HESITATION_FLOOR = 60.0
TIMED = ("done", "skipped", "failed", "decided")
QUIET = ("runbook_changed",)  # not an act of the person drilling


class EventLike(Protocol):
    seq: int
    at: datetime
    kind: str
    step_id: str
    branch: str
    reason: str
    details: dict[str, Any]


@dataclass
class StepTiming:
    step_id: str
    kind: str  # "step" | "decision"
    result: str  # done / skipped / failed, or the branch label of a decision
    seconds: float
    text: str = ""
    reason: str = ""
    unclear: bool = False
    hesitation: bool = False
    timer_seconds: int = 0  # the step's timer, 0 when it has none
    waited: float = 0.0  # seconds from its timer's start to the tick, on the drill's clock
    early: bool = False  # ticked done before its timer ran out


@dataclass
class DrillAnalysis:
    total_seconds: float = 0.0
    steps: list[StepTiming] = field(default_factory=list)
    median_gap: float = 0.0
    threshold: float = HESITATION_FLOOR
    expected_branch: str = ""
    taken_branch: str = ""
    wrong_branch: bool | None = None  # None: the scenario named no expected branch
    undos: int = 0
    not_reached: list[str] = field(default_factory=list)
    ended_early: bool = False  # the run was abandoned (E, a resolve), not finished
    speed: float = 1.0  # a replay's speed: the drill's clock runs this much faster
    then_now: ThenNow | None = None  # a replay: the drill against the real incident

    @property
    def hesitations(self) -> list[StepTiming]:
        return [s for s in self.steps if s.hesitation]

    @property
    def skipped(self) -> list[StepTiming]:
        return [s for s in self.steps if s.result == "skipped"]

    @property
    def unclear(self) -> list[StepTiming]:
        return [s for s in self.steps if s.unclear]

    @property
    def early(self) -> list[StepTiming]:
        return [s for s in self.steps if s.early]

    @property
    def failed(self) -> list[StepTiming]:
        return [s for s in self.steps if s.kind == "step" and s.result == "failed"]


def _is_unclear(event: EventLike) -> bool:
    return bool((event.details or {}).get("unclear")) or event.reason.lower().startswith("unclear")


def _taken(events: Sequence[EventLike]) -> tuple[str, list[str]]:
    labels = [e.branch for e in events if e.kind == "decided" and e.branch]
    rolled = any(
        e.kind == "rollback_entered" or (e.kind == "done" and e.step_id.startswith("rollback"))
        for e in events
    )
    path = "rollback" if rolled else ("validation" if labels else "")
    return path, labels


def analyse(
    events: Sequence[EventLike],
    expected_branch: str = "",
    step_texts: Mapping[str, str] | None = None,
    main_steps: Sequence[str] = (),
    timers: Mapping[str, int] | None = None,
    speed: float = 1.0,
) -> DrillAnalysis:
    """Time every tick and decision of one run (events in any order; sorted by ``seq``).

    ``timers``: step id -> its timer in seconds; ``speed``: how much faster than the wall
    the drill's clock ran (a replay), for the timers only."""
    texts = dict(step_texts or {})
    timed = dict(timers or {})
    ordered = sorted(events, key=lambda e: e.seq)
    result = DrillAnalysis(expected_branch=expected_branch, speed=speed)
    result.ended_early = any(
        e.kind == "finished" and "abandoned" in (e.branch, (e.details or {}).get("outcome"))
        for e in ordered
    )
    acts = [e for e in ordered if e.kind not in QUIET]
    if not acts:
        return result
    result.total_seconds = (acts[-1].at - acts[0].at).total_seconds()
    previous = acts[0].at
    timer_started: dict[str, datetime] = {}
    for event in acts:
        gap = max(0.0, (event.at - previous).total_seconds())
        previous = event.at
        if event.kind == "timer_started" and event.step_id:
            timer_started[event.step_id] = event.at
        if event.kind == "undone":
            result.undos += 1
            continue
        if event.kind not in TIMED:
            continue
        decision = event.kind == "decided"
        timing = StepTiming(
            step_id=event.step_id,
            kind="decision" if decision else "step",
            result=event.branch if decision else event.kind,
            seconds=gap,
            text=texts.get(event.step_id, ""),
            reason=event.reason,
            unclear=_is_unclear(event),
        )
        timer = 0 if decision else int(timed.get(event.step_id) or 0)
        if timer > 0 and event.kind == "done":
            since = timer_started.get(event.step_id)
            waited = (event.at - since).total_seconds() if since is not None else gap
            timing.timer_seconds = timer
            timing.waited = max(0.0, waited) * speed
            # A second of slack: the due notice comes on the next tick of the clock.
            timing.early = timing.waited + 1 < timer
        result.steps.append(timing)
    gaps = [s.seconds for s in result.steps]
    if gaps:
        result.median_gap = statistics.median(gaps)
        result.threshold = max(HESITATION_FACTOR * result.median_gap, HESITATION_FLOOR)
        for timing in result.steps:
            # Waiting out a step's timer is doing the step, not hesitating over it.
            waiting = (
                min(timing.timer_seconds / speed, timing.seconds) if timing.timer_seconds else 0.0
            )
            timing.hesitation = timing.seconds - waiting > result.threshold
    path, labels = _taken(acts)
    result.taken_branch = (
        path
        if expected_branch.lower() in ("rollback", "validation", "")
        else (labels[-1] if labels else "")
    )
    if expected_branch:
        wanted = expected_branch.strip().lower()
        if wanted in ("rollback", "validation"):
            result.wrong_branch = path != wanted
        else:
            result.wrong_branch = wanted not in {label.lower() for label in labels}
    # Reached: ticked, or touched at all (a timer started, a command run) and left there.
    reached = {s.step_id for s in result.steps} | {e.step_id for e in ordered if e.step_id}
    result.not_reached = [step for step in main_steps if step not in reached]
    return result


@dataclass(frozen=True)
class Edit:
    """One suggested edit of the runbook: what kind, the step or decision it is about ("" for
    the runbook as a whole) and the sentence. Plain text, not yet safe."""

    kind: str  # branch | unclear | slow-decision | stall | skipped | failed | not-reached
    step_id: str
    text: str


def edit_list(analysis: DrillAnalysis) -> list[Edit]:
    """What the runbook's owner could change, most telling first."""
    from cockpit.metrics.stats import format_seconds

    edits: list[Edit] = []
    if analysis.wrong_branch:
        decisions = [s.step_id for s in analysis.steps if s.kind == "decision"]
        edits.append(
            Edit(
                "branch",
                decisions[-1] if decisions else "",
                f"The drill expected the {analysis.expected_branch!r} branch but took "
                f"{analysis.taken_branch or 'none'!r}: state the threshold in the decision's "
                "question so the right answer is obvious.",
            )
        )
    for step in analysis.unclear:
        why = f" ({step.reason})" if step.reason.strip().lower() not in ("", "unclear") else ""
        edits.append(
            Edit("unclear", step.step_id, f"Reword `{step.step_id}`: marked unclear{why}.")
        )
    for step in analysis.hesitations:
        if step.unclear:
            continue
        if step.kind == "decision":
            edits.append(
                Edit(
                    "slow-decision",
                    step.step_id,
                    f"`{step.step_id}` took {format_seconds(step.seconds)} to decide: name the "
                    "dashboard to read and the threshold in the question.",
                )
            )
            continue
        edits.append(
            Edit(
                "stall",
                step.step_id,
                f"`{step.step_id}` stalled for {format_seconds(step.seconds)}: add the command, "
                "link or expected value it needs, or split it.",
            )
        )
    for step in analysis.skipped:
        why = f" ({step.reason})" if step.reason else ""
        edits.append(
            Edit(
                "skipped",
                step.step_id,
                f"`{step.step_id}` was skipped{why}: make it optional, move it, or drop it.",
            )
        )
    for step in analysis.failed:
        edits.append(
            Edit(
                "failed",
                step.step_id,
                f"`{step.step_id}` failed: check its command and preconditions.",
            )
        )
    if not analysis.ended_early:  # a drill ended early (E) never reached them: no evidence
        for step_id in analysis.not_reached:
            edits.append(
                Edit(
                    "not-reached",
                    step_id,
                    f"`{step_id}` was never reached: is it still needed on this path?",
                )
            )
    return edits


def suggested_edits(analysis: DrillAnalysis) -> list[str]:
    """What the runbook's owner could change, most telling first. Plain text, not yet safe."""
    return [edit.text for edit in edit_list(analysis)]
