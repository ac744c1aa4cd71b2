"""Drafting a handoff from the store: plain JSON-ready data, rendered by ``markdown.py``.

Rules, precisely:
- *flapping*: an open or recent incident with 3 or more ``trigger`` entries in the 24 hours
  before ``now``, or a title (digits and case ignored) on 3 or more incidents created in
  those 24 hours;
- *acknowledged but open*: status acknowledged at ``now``;
- *repeat offenders*: titles (same normalisation) that paged on 3 or more incidents in the
  7 days before ``now``, most first, at most 5;
- *the last note* of an incident: the newest note a person wrote, here or in the paging
  service; the cockpit's own notes (the handoff's and the baton's, which start with
  ``[cockpit``) are not a person's words and never count;
- *worked by* the outgoing engineer: incidents they acknowledged, resolved, wrote a note on
  or ran a runbook on since the shift started, in the order they first touched them.
  "Resolved" lists those first, then the rest by number.
Drill incidents never appear.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from cockpit.metrics.pagelog import load_by_person
from cockpit.runbooks.links import plain
from cockpit.runbooks.model import ROLLBACK, Runbook
from cockpit.store.engine import Store
from cockpit.store.models import (
    Incident,
    Insight,
    Note,
    OnCallShift,
    OutboxItem,
    RunbookRun,
    StepEvent,
    TimelineEvent,
)
from cockpit.store.queries import OPEN_STATUSES, person_name
from cockpit.store.timefmt import as_utc
from cockpit.sync.actions import baton_holder, pending_offer

FLAP_COUNT = 3
FLAP_WINDOW = timedelta(hours=24)
OFFENDER_WINDOW = timedelta(days=7)
_DIGITS = re.compile(r"\d+")


def title_key(title: str) -> str:
    return _DIGITS.sub("#", title.strip().lower())


@dataclass
class OpenItem:
    id: str
    ref: str  # what people call it: "#123" or the remote id
    title: str
    service: str
    status: str
    urgency: str
    holder: str  # person id
    holder_name: str
    offered_to: str = ""
    step: str = ""  # the runbook position in one line of plain words (older drafts: all there is)
    last_note: str = ""  # the newest note a person wrote (never the cockpit's own)
    note_by: str = ""
    note_at: str = ""  # ISO time of that note
    runbook: str = ""  # id of the latest runbook run on the incident
    runbook_title: str = ""
    run_phase: str = ""  # main | rollback | validation | finished; "" when not known
    run_outcome: str = ""  # of a finished run
    run_done: int = 0  # steps and decisions done on the run's path...
    run_total: int = 0  # ...of this many (0: not known)
    next_step: str = ""  # what to do next, as the runbook writes it (Markdown, raw)
    next_is_decision: bool = False
    branch: str = ""  # the branch taken, in plain words
    timers: list[dict[str, Any]] = field(default_factory=list)  # step (raw), seconds, due_at
    owed: list[str] = field(default_factory=list)  # writes not synced, insights unowned


@dataclass
class HandoffDraft:
    from_person: str
    from_name: str
    shift_start: datetime
    shift_end: datetime
    drafted_at: datetime
    to_person: str = ""
    to_name: str = ""
    outbox: list[dict[str, Any]] = field(default_factory=list)
    open: list[OpenItem] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    resolved: list[dict[str, Any]] = field(default_factory=list)
    notable: list[str] = field(default_factory=list)
    load: list[dict[str, Any]] = field(default_factory=list)
    snoozed: list[str] = field(default_factory=list)
    flapping: list[str] = field(default_factory=list)
    acked_open: list[str] = field(default_factory=list)
    followups: list[str] = field(default_factory=list)
    next_oncall: list[str] = field(default_factory=list)
    offenders: list[str] = field(default_factory=list)
    notes: str = ""
    # What the outgoing engineer did this shift: ref, title, status, did (verbs), at (ISO).
    worked: list[dict[str, Any]] = field(default_factory=list)
    next_people: list[str] = field(default_factory=list)  # person ids of next_oncall

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("shift_start", "shift_end", "drafted_at"):
            data[key] = getattr(self, key).isoformat()
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> HandoffDraft:
        values = dict(data)
        for key in ("shift_start", "shift_end", "drafted_at"):
            values[key] = as_utc(datetime.fromisoformat(values[key]))
        known = {f.name for f in fields(OpenItem)}
        values["open"] = [
            OpenItem(**{k: v for k, v in item.items() if k in known})
            for item in values.get("open", [])
        ]
        mine = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in mine})


def _ref(incident: Incident) -> str:
    return f"#{incident.number}" if incident.number else incident.remote_id


COCKPIT_MARK = "[cockpit"  # how the cockpit's own notes start (handoff, baton passes)
NOTE_SCAN = 50  # newest notes looked at per incident for one a person wrote


def person_wrote(text: str | None) -> bool:
    """A note a person wrote: some text, and not one the cockpit posted itself."""
    text = (text or "").strip()
    return bool(text) and not text.startswith(COCKPIT_MARK)


def _last_note(session: Session, incident_id: str) -> tuple[str, str, datetime] | None:
    """(text, author, at) of the newest note a person wrote: a note in the store, or one
    written in the paging service (its log entry carries the text)."""
    best: tuple[str, str, datetime] | None = None
    notes = session.exec(
        select(Note)
        .where(Note.incident_id == incident_id)
        .order_by(col(Note.created_at).desc(), col(Note.id).desc())
        .limit(NOTE_SCAN)
    ).all()
    for note in notes:
        if person_wrote(note.content):
            best = (note.content, note.author, as_utc(note.created_at))
            break
    entries = session.exec(
        select(TimelineEvent)
        .where(TimelineEvent.incident_id == incident_id, TimelineEvent.kind == "annotate")
        .order_by(col(TimelineEvent.at).desc(), col(TimelineEvent.id).desc())
        .limit(NOTE_SCAN)
    ).all()
    for entry in entries:
        text = str((entry.details or {}).get("note") or "")
        if not person_wrote(text):
            continue
        at = as_utc(entry.at)
        if best is None or at > best[2]:
            author = str((entry.details or {}).get("agent_name") or "")
            best = (text, author or person_name(session, entry.actor), at)
        break
    return best


def _engine_events(run: RunbookRun, events: list[StepEvent]) -> list[Any]:
    from cockpit.runbooks.run_events import STARTED, RunEvent

    out = [
        RunEvent(
            e.seq,
            as_utc(e.at),
            e.kind,
            e.step_id,
            e.branch,
            e.reason,
            e.actor,
            dict(e.details or {}),
        )
        for e in events
    ]
    if not out or out[0].kind != STARTED:
        # A run written before the engine kept a `started` event: it started with its row.
        out.insert(0, RunEvent(0, as_utc(run.started_at), STARTED, actor=run.started_by))
    return out


def _snapshot(events: list[StepEvent]) -> dict[str, str]:
    """Step id -> text as the run saw them when it started (for a runbook not loaded)."""
    texts: dict[str, str] = {}
    for event in events:
        steps = (event.details or {}).get("steps")
        if isinstance(steps, dict):
            texts.update({str(k): str(v) for k, v in steps.items()})
    return texts


def _summary(item: OpenItem) -> str:
    """The run's position in one line of plain words (what older drafts held as ``step``)."""
    name = item.runbook
    if item.run_phase == "finished":
        return f"{name}: finished ({item.run_outcome or 'done'})"
    parts = []
    if item.run_phase == ROLLBACK:
        parts.append("mid-rollback")
        if item.run_total:
            parts.append(f"{item.run_done} of {item.run_total} rollback steps done")
    elif item.run_total:
        parts.append(f"{item.run_done} of {item.run_total} done")
    if item.next_step:
        what = plain(item.next_step)
        parts.append(f"next: decide {what}" if item.next_is_decision else f"next: {what}")
    return f"{name}: " + ", ".join(parts) if parts else f"{name}: started"


def _run_position(
    session: Session, item: OpenItem, runbooks: Mapping[str, Runbook], now: datetime
) -> None:
    """Where the incident's latest runbook run stands: the next step, the branch taken,
    rollback, the timers still running."""
    from cockpit.runbooks.run_events import DECIDED, DONE, ROLLBACK_ENTERED, SKIPPED

    run = session.exec(
        select(RunbookRun)
        .where(RunbookRun.incident_id == item.id)
        .order_by(col(RunbookRun.started_at).desc(), col(RunbookRun.id).desc())
    ).first()
    if run is None or run.id is None:
        return
    events = list(
        session.exec(
            select(StepEvent).where(StepEvent.run_id == run.id).order_by(col(StepEvent.seq))
        )
    )
    item.runbook = run.runbook_id
    manual = [e for e in events if e.kind == ROLLBACK_ENTERED]
    runbook = runbooks.get(run.runbook_id)
    if runbook is None:
        # The runbook is not loaded here: say what the run's own record says.
        texts = _snapshot(events)
        ticked = [e for e in events if e.step_id and e.kind in (DONE, SKIPPED)]
        item.run_done = len({e.step_id for e in ticked})
        decided = [e for e in events if e.kind == DECIDED]
        if decided:
            last = decided[-1]
            item.branch = (
                f"took “{last.branch}” at “{plain(texts.get(last.step_id, last.step_id))}”"
            )
        if manual:
            item.run_phase = ROLLBACK
        if run.finished_at is not None:
            item.run_phase, item.run_outcome = "finished", run.outcome or "done"
        elif ticked:
            item.next_step = ""
            item.step = (
                f"{run.runbook_id} (not in the runbook library here): "
                f"{item.run_done} step(s) done, last "
                f"{plain(texts.get(ticked[-1].step_id, ticked[-1].step_id))}"
            )
            return
        item.step = _summary(item)
        return
    from cockpit.runbooks.run import RunState
    from cockpit.runbooks.run_view import items_of, view_of

    state = RunState.replay(runbook, _engine_events(run, events))
    view = view_of(runbook, None, state, items_of(runbook))
    item.runbook_title = runbook.title
    item.run_done, item.run_total = view.progress
    if state.finished or run.finished_at is not None:
        item.run_phase, item.run_outcome = "finished", state.outcome or run.outcome or "done"
        item.step = _summary(item)
        return
    item.run_phase = view.path
    current = view.current
    if view.path == ROLLBACK:
        # Mid-rollback the next thing to do is the first rollback step not done yet, and
        # how far the rollback got is what counts.
        back = [s.id for s in runbook.steps_of(ROLLBACK)]
        pending = [i for i in back if state.status.get(i) not in (DONE, SKIPPED)]
        item.run_done, item.run_total = len(back) - len(pending), len(back)
        current = pending[0] if pending else current
    step = runbook.step(current) if current else None
    decision = runbook.decision(current) if current and step is None else None
    if step is not None:
        item.next_step = step.text
    elif decision is not None:
        item.next_step, item.next_is_decision = decision.question, True
    taken = []
    for decision_id, label in state.decided.items():
        asked = runbook.decision(decision_id)
        if asked is None:
            continue
        answer = asked.branch(label)
        where = ""
        if answer is not None and answer.target_section is not None:
            where = f" → {runbook.sections[answer.target_section].title}"
        taken.append(f"took “{label}” at “{plain(asked.question)}”{where}")
    if state.manual_rollback:
        reason = next((e.reason for e in reversed(manual) if e.reason), "")
        taken.append("rolled back by hand" + (f": {reason}" if reason else ""))
    item.branch = "; ".join(taken)
    for timer in state.timers:
        # Still running; or run out on the step to do next (its wait is over: look now).
        if state.status.get(timer.step_id) in (DONE, SKIPPED):
            continue
        if as_utc(timer.due_at) <= now and timer.step_id != current:
            continue
        timed = runbook.step(timer.step_id)
        item.timers.append(
            {
                "step": timed.text if timed else timer.step_id,
                "seconds": int((timer.due_at - timer.started_at).total_seconds()),
                "due_at": as_utc(timer.due_at).isoformat(),
            }
        )
    item.step = _summary(item)


def _owed(session: Session, incident: Incident) -> list[str]:
    owed = []
    for out in session.exec(
        select(OutboxItem)
        .where(
            OutboxItem.incident_id == incident.id,
            col(OutboxItem.state).in_(("pending", "sending", "failed")),
        )
        .order_by(col(OutboxItem.id))
    ):
        error = f" ({out.last_error})" if out.state == "failed" and out.last_error else ""
        owed.append(f"{out.action} not synced: {out.state}{error}")
    insights = session.exec(
        select(func.count())
        .select_from(Insight)
        .where(Insight.incident_id == incident.id, Insight.guardrail_owner == "")
    ).one()
    if insights:
        owed.append(f"{insights} insight(s) without a guardrail owner")
    return owed


def _open_items(session: Session, runbooks: Mapping[str, Runbook], now: datetime) -> list[OpenItem]:
    incidents = session.exec(
        select(Incident)
        .where(col(Incident.status).in_(OPEN_STATUSES), col(Incident.is_drill).is_(False))
        .order_by(col(Incident.service_name), col(Incident.created_at), col(Incident.id))
    ).all()
    items = []
    for incident in incidents:
        holder, _ = baton_holder(session, incident)
        offer = pending_offer(session, incident.id)
        item = OpenItem(
            id=incident.id,
            ref=_ref(incident),
            title=incident.title,
            service=incident.service_name,
            status=incident.status,
            urgency=incident.urgency,
            holder=holder,
            holder_name=person_name(session, holder),
            offered_to=person_name(session, offer.to_person) if offer else "",
        )
        note = _last_note(session, incident.id)
        if note is not None:
            item.last_note, item.note_by, item.note_at = note[0], note[1], note[2].isoformat()
        _run_position(session, item, runbooks, now)
        item.owed = _owed(session, incident)
        items.append(item)
    return items


def _outbox(session: Session) -> list[dict[str, Any]]:
    rows = session.exec(
        select(OutboxItem, Incident)
        .join(Incident, col(Incident.id) == col(OutboxItem.incident_id))
        .where(col(OutboxItem.state).in_(("pending", "sending", "failed")))
        .order_by(col(OutboxItem.id))
    ).all()
    return [
        {
            "id": item.id,
            "action": item.action,
            "ref": _ref(incident),
            "state": item.state,
            "error": item.last_error,
        }
        for item, incident in rows
    ]


def _shift_activity(session: Session, draft: HandoffDraft, start: datetime, end: datetime) -> None:
    kinds = session.exec(
        select(TimelineEvent.kind, func.count())
        .join(Incident, col(Incident.id) == col(TimelineEvent.incident_id))
        .where(
            col(TimelineEvent.at) >= start,
            col(TimelineEvent.at) < end,
            col(Incident.is_drill).is_(False),
            col(TimelineEvent.kind).in_(("acknowledge", "escalate")),
        )
        .group_by(TimelineEvent.kind)
    ).all()
    created = session.exec(
        select(func.count())
        .select_from(Incident)
        .where(
            col(Incident.created_at) >= start,
            col(Incident.created_at) < end,
            col(Incident.is_drill).is_(False),
        )
    ).one()
    resolved = session.exec(
        select(Incident)
        .where(
            col(Incident.resolved_at) >= start,
            col(Incident.resolved_at) < end,
            col(Incident.is_drill).is_(False),
        )
        .order_by(col(Incident.resolved_at), col(Incident.id))
    ).all()
    by_kind = dict(kinds)
    draft.counts = {
        "triggered": int(created),
        "acknowledged": int(by_kind.get("acknowledge", 0)),
        "resolved": len(resolved),
        "escalated": int(by_kind.get("escalate", 0)),
    }
    touched = {w["id"] for w in draft.worked}
    ordered = sorted(
        resolved,
        key=lambda i: (
            i.id not in touched,
            i.number is None,
            i.number or 0,
            as_utc(i.created_at),
            i.id,
        ),
    )
    draft.resolved = [
        {"ref": _ref(i), "title": i.title, "service": i.service_name, "touched": i.id in touched}
        for i in ordered
    ]
    rolled = session.exec(
        select(RunbookRun, Incident)
        .join(Incident, col(Incident.id) == col(RunbookRun.incident_id))
        .where(
            col(RunbookRun.finished_at) >= start,
            col(RunbookRun.finished_at) < end,
            col(RunbookRun.is_drill).is_(False),
            RunbookRun.outcome == "rolled_back",
        )
        .order_by(col(RunbookRun.finished_at))
    ).all()
    draft.notable += [f"{_ref(i)} rolled back with {run.runbook_id}" for run, i in rolled]
    if draft.counts["escalated"]:
        draft.notable.append(f"{draft.counts['escalated']} escalation(s)")


VERBS = ("acked", "noted", "ran", "resolved")  # the order a line of work reads in


def _worked(session: Session, draft: HandoffDraft, start: datetime) -> None:
    """Incidents the outgoing engineer touched since the shift started: acknowledged,
    resolved, noted (here or in the paging service) or ran a runbook on. In the order they
    first touched them; what they did in a fixed order."""
    who = draft.from_person
    did: dict[str, dict[str, datetime]] = defaultdict(dict)
    runbooks: dict[str, list[str]] = defaultdict(list)

    def touch(incident_id: str, verb: str, at: datetime) -> None:
        at = as_utc(at)
        seen = did[incident_id].get(verb)
        did[incident_id][verb] = at if seen is None else min(seen, at)

    for incident_id, kind, at, details in session.exec(
        select(
            TimelineEvent.incident_id, TimelineEvent.kind, TimelineEvent.at, TimelineEvent.details
        ).where(
            TimelineEvent.actor == who,
            col(TimelineEvent.at) >= start,
            col(TimelineEvent.is_drill).is_(False),
            col(TimelineEvent.kind).in_(("acknowledge", "resolve", "annotate")),
        )
    ).all():
        if kind == "annotate" and not person_wrote(str((details or {}).get("note") or "")):
            continue
        touch(incident_id, {"acknowledge": "acked", "resolve": "resolved"}.get(kind, "noted"), at)
    authors = [a for a in (draft.from_name, who) if a]
    for incident_id, content, at in session.exec(
        select(Note.incident_id, Note.content, Note.created_at).where(
            col(Note.author).in_(authors), col(Note.created_at) >= start
        )
    ).all():
        if person_wrote(content):
            touch(incident_id, "noted", at)
    for incident_id, runbook_id, at in session.exec(
        select(RunbookRun.incident_id, RunbookRun.runbook_id, func.min(StepEvent.at))
        .join(StepEvent, col(StepEvent.run_id) == col(RunbookRun.id))
        .where(
            StepEvent.actor == who, col(StepEvent.at) >= start, col(RunbookRun.is_drill).is_(False)
        )
        .group_by(col(RunbookRun.incident_id), col(RunbookRun.runbook_id))
    ).all():
        touch(incident_id, "ran", at)
        runbooks[incident_id].append(runbook_id)
    rows = []
    for incident_id, verbs in did.items():
        incident = session.get(Incident, incident_id)
        if incident is None or incident.is_drill:
            continue
        words = []
        for verb in VERBS:
            if verb in verbs:
                words.append(
                    f"ran {', '.join(sorted(runbooks[incident_id]))}" if verb == "ran" else verb
                )
        first = min(verbs.values())
        rows.append(
            (
                first,
                incident.number or 0,
                incident_id,
                {
                    "id": incident_id,
                    "ref": _ref(incident),
                    "title": incident.title,
                    "status": incident.status,
                    "did": words,
                    "at": first.isoformat(),
                },
            )
        )
    draft.worked = [row for *_, row in sorted(rows, key=lambda r: (r[0], r[1], r[2]))]


def _watch(session: Session, draft: HandoffDraft, now: datetime) -> None:
    since = now - FLAP_WINDOW
    open_rows = session.exec(
        select(Incident)
        .where(col(Incident.status).in_(OPEN_STATUSES), col(Incident.is_drill).is_(False))
        .order_by(col(Incident.created_at), col(Incident.id))
    ).all()
    draft.snoozed = [
        f"{_ref(i)} until {as_utc(i.snoozed_until):%Y-%m-%d %H:%M} UTC"
        for i in open_rows
        if i.snoozed_until and as_utc(i.snoozed_until) > now
    ]
    draft.acked_open = [_ref(i) for i in open_rows if i.status == "acknowledged"]
    triggers = session.exec(
        select(TimelineEvent.incident_id, func.count())
        .where(
            TimelineEvent.kind == "trigger",
            col(TimelineEvent.at) >= since,
            col(TimelineEvent.at) < now,
            col(TimelineEvent.is_drill).is_(False),
        )
        .group_by(TimelineEvent.incident_id)
        .having(func.count() >= FLAP_COUNT)
    ).all()
    flapping = []
    for incident_id, count in sorted(triggers):
        incident = session.get(Incident, incident_id)
        if incident is not None and not incident.is_drill:
            flapping.append(f"{_ref(incident)} re-triggered {count} times in 24 h")
    recent = session.exec(
        select(Incident).where(
            col(Incident.created_at) >= since,
            col(Incident.created_at) < now,
            col(Incident.is_drill).is_(False),
        )
    ).all()
    titles = Counter(title_key(i.title) for i in recent)
    examples = {title_key(i.title): i.title for i in recent}
    flapping += [
        f"{examples[key]!r} opened {count} times in 24 h"
        for key, count in sorted(titles.items())
        if count >= FLAP_COUNT
    ]
    draft.flapping = flapping


def _followups(session: Session, draft: HandoffDraft) -> None:
    insights = session.exec(
        select(Insight, Incident)
        .join(Incident, col(Incident.id) == col(Insight.incident_id))
        .where(Insight.guardrail_owner == "")
        .order_by(col(Insight.id))
    ).all()
    draft.followups += [f"insight on {_ref(i)} has no guardrail owner" for _, i in insights]
    runs = session.exec(
        select(RunbookRun, Incident)
        .join(Incident, col(Incident.id) == col(RunbookRun.incident_id))
        .where(col(RunbookRun.finished_at).is_(None), col(RunbookRun.is_drill).is_(False))
        .order_by(col(RunbookRun.started_at))
    ).all()
    draft.followups += [f"{run.runbook_id} unfinished on {_ref(i)} ({i.status})" for run, i in runs]
    draft.followups += [
        f"failed write: {o['action']} on {o['ref']}: {o['error']}"
        for o in draft.outbox
        if o["state"] == "failed"
    ]


def _next_oncall(session: Session, draft: HandoffDraft) -> None:
    end = draft.shift_end
    shifts = session.exec(
        select(OnCallShift)
        .where(
            col(OnCallShift.start) <= end + timedelta(hours=1),
            (col(OnCallShift.end).is_(None)) | (col(OnCallShift.end) > end),
            OnCallShift.person_id != draft.from_person,
        )
        .order_by(
            col(OnCallShift.escalation_level), col(OnCallShift.start), col(OnCallShift.person_id)
        )
    ).all()
    seen: set[str] = set()
    for s in shifts:
        if s.person_id in seen:
            continue
        seen.add(s.person_id)
        draft.next_people.append(s.person_id)
        until = f" until {as_utc(s.end):%a %d %b %H:%M} UTC" if s.end else ""
        draft.next_oncall.append(
            f"{person_name(session, s.person_id)} (level {s.escalation_level}){until}"
        )


def _offenders(session: Session, draft: HandoffDraft, now: datetime) -> None:
    rows = session.exec(
        select(Incident.title)
        .join(TimelineEvent, col(TimelineEvent.incident_id) == col(Incident.id))
        .where(
            TimelineEvent.kind == "notify",
            col(TimelineEvent.at) >= now - OFFENDER_WINDOW,
            col(TimelineEvent.at) < now,
            col(Incident.is_drill).is_(False),
        )
        .group_by(col(Incident.id), col(Incident.title))
    ).all()
    counts: Counter[str] = Counter()
    example: dict[str, str] = {}
    for title in rows:
        counts[title_key(title)] += 1
        example.setdefault(title_key(title), title)
    ranked = sorted(
        ((c, k) for k, c in counts.items() if c >= FLAP_COUNT), key=lambda pair: (-pair[0], pair[1])
    )
    draft.offenders = [f"{example[k]!r} paged {c} times in 7 days" for c, k in ranked[:5]]


def draft_handoff(
    store: Store,
    from_person: str,
    shift_start: datetime,
    shift_end: datetime,
    now: datetime,
    *,
    to_person: str = "",
    runbooks: Mapping[str, Runbook] | None = None,
) -> HandoffDraft:
    start, end, now = as_utc(shift_start), as_utc(shift_end), as_utc(now)
    with store.read() as session:
        draft = HandoffDraft(
            from_person=from_person,
            from_name=person_name(session, from_person),
            shift_start=start,
            shift_end=end,
            drafted_at=now,
            to_person=to_person,
            to_name=person_name(session, to_person),
        )
        draft.outbox = _outbox(session)
        _worked(session, draft, start)
        draft.open = _open_items(session, runbooks or {}, now)
        _shift_activity(session, draft, start, min(end, now) if now > start else end)
        _watch(session, draft, now)
        _followups(session, draft)
        _next_oncall(session, draft)
        _offenders(session, draft, now)
    draft.load = [
        {"person": load.name, "pages": load.pages, "incidents": load.incidents, **load.split}
        for load in load_by_person(store, start, end)
    ]
    return draft


def group_by_service(items: list[OpenItem]) -> dict[str, list[OpenItem]]:
    grouped: dict[str, list[OpenItem]] = defaultdict(list)
    for item in items:
        grouped[item.service or "(no service)"].append(item)
    return dict(sorted(grouped.items()))
