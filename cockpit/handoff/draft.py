"""Drafting a handoff from the store: plain JSON-ready data, rendered by ``markdown.py``.

Rules, precisely:
- *flapping*: an open or recent incident with 3 or more ``trigger`` entries in the 24 hours
  before ``now``, or a title (digits and case ignored) on 3 or more incidents created in
  those 24 hours;
- *acknowledged but open*: status acknowledged at ``now``;
- *repeat offenders*: titles (same normalisation) that paged on 3 or more incidents in the
  7 days before ``now``, most first, at most 5.
Drill incidents never appear.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from cockpit.metrics.pageload import load_by_person
from cockpit.runbooks.model import Runbook
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
from cockpit.store.types import as_utc
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
    step: str = ""
    last_note: str = ""


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
    resolved: list[dict[str, str]] = field(default_factory=list)
    notable: list[str] = field(default_factory=list)
    load: list[dict[str, Any]] = field(default_factory=list)
    snoozed: list[str] = field(default_factory=list)
    flapping: list[str] = field(default_factory=list)
    acked_open: list[str] = field(default_factory=list)
    followups: list[str] = field(default_factory=list)
    next_oncall: list[str] = field(default_factory=list)
    offenders: list[str] = field(default_factory=list)
    notes: str = ""

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
        values["open"] = [OpenItem(**item) for item in values.get("open", [])]
        return cls(**values)


def _ref(incident: Incident) -> str:
    return f"#{incident.number}" if incident.number else incident.remote_id


def _step_of(session: Session, incident_id: str, runbooks: Mapping[str, Runbook]) -> str:
    run = session.exec(
        select(RunbookRun)
        .where(RunbookRun.incident_id == incident_id)
        .order_by(col(RunbookRun.started_at).desc(), col(RunbookRun.id).desc())
    ).first()
    if run is None or run.id is None:
        return ""
    events = list(session.exec(
        select(StepEvent).where(StepEvent.run_id == run.id).order_by(col(StepEvent.seq))
    ))
    if run.finished_at is not None:
        return f"{run.runbook_id}: finished ({run.outcome or 'done'})"
    runbook = runbooks.get(run.runbook_id)
    if runbook is not None:
        from cockpit.runbooks.run import RunState
        from cockpit.runbooks.run_events import RunEvent

        state = RunState.replay(runbook, [RunEvent(e.seq, e.at, e.kind, e.step_id, e.branch,
                                                   e.reason, e.actor, dict(e.details or {}))
                                          for e in events])
        current = state.current_step or state.current_decision
        step = runbook.step(current)
        label = step.text if step else current
        return f"{run.runbook_id}: at {label or 'the end'} ({state.phase})"
    ticked = [e for e in events if e.step_id and e.kind in ("done", "skipped", "decided")]
    if not ticked:
        return f"{run.runbook_id}: started"
    return f"{run.runbook_id}: last {ticked[-1].kind} {ticked[-1].step_id}"


def _open_items(
    session: Session, runbooks: Mapping[str, Runbook]
) -> list[OpenItem]:
    incidents = session.exec(
        select(Incident)
        .where(col(Incident.status).in_(OPEN_STATUSES), col(Incident.is_drill).is_(False))
        .order_by(col(Incident.service_name), col(Incident.created_at), col(Incident.id))
    ).all()
    items = []
    for incident in incidents:
        holder, _ = baton_holder(session, incident)
        offer = pending_offer(session, incident.id)
        note = session.exec(
            select(Note).where(Note.incident_id == incident.id)
            .order_by(col(Note.created_at).desc(), col(Note.id).desc())
        ).first()
        items.append(OpenItem(
            id=incident.id, ref=_ref(incident), title=incident.title,
            service=incident.service_name, status=incident.status, urgency=incident.urgency,
            holder=holder, holder_name=person_name(session, holder),
            offered_to=offer.to_person if offer else "",
            step=_step_of(session, incident.id, runbooks),
            last_note=note.content if note else "",
        ))
    return items


def _outbox(session: Session) -> list[dict[str, Any]]:
    rows = session.exec(
        select(OutboxItem, Incident)
        .join(Incident, col(Incident.id) == col(OutboxItem.incident_id))
        .where(col(OutboxItem.state).in_(("pending", "sending", "failed")))
        .order_by(col(OutboxItem.id))
    ).all()
    return [{"id": item.id, "action": item.action, "ref": _ref(incident), "state": item.state,
             "error": item.last_error} for item, incident in rows]


def _shift_activity(
    session: Session, draft: HandoffDraft, start: datetime, end: datetime
) -> None:
    kinds = session.exec(
        select(TimelineEvent.kind, func.count())
        .join(Incident, col(Incident.id) == col(TimelineEvent.incident_id))
        .where(col(TimelineEvent.at) >= start, col(TimelineEvent.at) < end,
               col(Incident.is_drill).is_(False),
               col(TimelineEvent.kind).in_(("acknowledge", "escalate")))
        .group_by(TimelineEvent.kind)
    ).all()
    created = session.exec(
        select(func.count()).select_from(Incident).where(
            col(Incident.created_at) >= start, col(Incident.created_at) < end,
            col(Incident.is_drill).is_(False))
    ).one()
    resolved = session.exec(
        select(Incident).where(
            col(Incident.resolved_at) >= start, col(Incident.resolved_at) < end,
            col(Incident.is_drill).is_(False))
        .order_by(col(Incident.resolved_at), col(Incident.id))
    ).all()
    by_kind = dict(kinds)
    draft.counts = {"triggered": int(created), "acknowledged": int(by_kind.get("acknowledge", 0)),
                    "resolved": len(resolved), "escalated": int(by_kind.get("escalate", 0))}
    draft.resolved = [{"ref": _ref(i), "title": i.title, "service": i.service_name}
                      for i in resolved]
    rolled = session.exec(
        select(RunbookRun, Incident)
        .join(Incident, col(Incident.id) == col(RunbookRun.incident_id))
        .where(col(RunbookRun.finished_at) >= start, col(RunbookRun.finished_at) < end,
               col(RunbookRun.is_drill).is_(False), RunbookRun.outcome == "rolled_back")
        .order_by(col(RunbookRun.finished_at))
    ).all()
    draft.notable += [f"{_ref(i)} rolled back with {run.runbook_id}" for run, i in rolled]
    if draft.counts["escalated"]:
        draft.notable.append(f"{draft.counts['escalated']} escalation(s)")


def _watch(session: Session, draft: HandoffDraft, now: datetime) -> None:
    since = now - FLAP_WINDOW
    open_rows = session.exec(
        select(Incident).where(col(Incident.status).in_(OPEN_STATUSES),
                               col(Incident.is_drill).is_(False))
        .order_by(col(Incident.created_at), col(Incident.id))
    ).all()
    draft.snoozed = [f"{_ref(i)} until {as_utc(i.snoozed_until):%Y-%m-%d %H:%M} UTC"
                     for i in open_rows if i.snoozed_until and as_utc(i.snoozed_until) > now]
    draft.acked_open = [_ref(i) for i in open_rows if i.status == "acknowledged"]
    triggers = session.exec(
        select(TimelineEvent.incident_id, func.count())
        .where(TimelineEvent.kind == "trigger", col(TimelineEvent.at) >= since,
               col(TimelineEvent.at) < now, col(TimelineEvent.is_drill).is_(False))
        .group_by(TimelineEvent.incident_id)
        .having(func.count() >= FLAP_COUNT)
    ).all()
    flapping = []
    for incident_id, count in sorted(triggers):
        incident = session.get(Incident, incident_id)
        if incident is not None and not incident.is_drill:
            flapping.append(f"{_ref(incident)} re-triggered {count} times in 24 h")
    recent = session.exec(
        select(Incident).where(col(Incident.created_at) >= since, col(Incident.created_at) < now,
                               col(Incident.is_drill).is_(False))
    ).all()
    titles = Counter(title_key(i.title) for i in recent)
    examples = {title_key(i.title): i.title for i in recent}
    flapping += [f"{examples[key]!r} opened {count} times in 24 h"
                 for key, count in sorted(titles.items()) if count >= FLAP_COUNT]
    draft.flapping = flapping


def _followups(session: Session, draft: HandoffDraft) -> None:
    insights = session.exec(
        select(Insight, Incident).join(Incident, col(Incident.id) == col(Insight.incident_id))
        .where(Insight.guardrail_owner == "").order_by(col(Insight.id))
    ).all()
    draft.followups += [f"insight on {_ref(i)} has no guardrail owner" for _, i in insights]
    runs = session.exec(
        select(RunbookRun, Incident).join(Incident, col(Incident.id) == col(RunbookRun.incident_id))
        .where(col(RunbookRun.finished_at).is_(None), col(RunbookRun.is_drill).is_(False))
        .order_by(col(RunbookRun.started_at))
    ).all()
    draft.followups += [f"{run.runbook_id} unfinished on {_ref(i)} ({i.status})"
                        for run, i in runs]
    draft.followups += [f"failed write: {o['action']} on {o['ref']}: {o['error']}"
                        for o in draft.outbox if o["state"] == "failed"]


def _next_oncall(session: Session, draft: HandoffDraft) -> None:
    end = draft.shift_end
    shifts = session.exec(
        select(OnCallShift).where(
            col(OnCallShift.start) <= end + timedelta(hours=1),
            (col(OnCallShift.end).is_(None)) | (col(OnCallShift.end) > end),
            OnCallShift.person_id != draft.from_person,
        ).order_by(col(OnCallShift.escalation_level), col(OnCallShift.start),
                   col(OnCallShift.person_id))
    ).all()
    seen: set[str] = set()
    for s in shifts:
        if s.person_id in seen:
            continue
        seen.add(s.person_id)
        until = f" until {as_utc(s.end):%a %d %b %H:%M} UTC" if s.end else ""
        draft.next_oncall.append(
            f"{person_name(session, s.person_id)} (level {s.escalation_level}){until}")


def _offenders(session: Session, draft: HandoffDraft, now: datetime) -> None:
    rows = session.exec(
        select(Incident.title).join(
            TimelineEvent, col(TimelineEvent.incident_id) == col(Incident.id)
        ).where(TimelineEvent.kind == "notify", col(TimelineEvent.at) >= now - OFFENDER_WINDOW,
                col(TimelineEvent.at) < now, col(Incident.is_drill).is_(False))
        .group_by(col(Incident.id), col(Incident.title))
    ).all()
    counts: Counter[str] = Counter()
    example: dict[str, str] = {}
    for title in rows:
        counts[title_key(title)] += 1
        example.setdefault(title_key(title), title)
    ranked = sorted(((c, k) for k, c in counts.items() if c >= FLAP_COUNT),
                    key=lambda pair: (-pair[0], pair[1]))
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
            from_person=from_person, from_name=person_name(session, from_person),
            shift_start=start, shift_end=end, drafted_at=now, to_person=to_person,
            to_name=person_name(session, to_person),
        )
        draft.outbox = _outbox(session)
        draft.open = _open_items(session, runbooks or {})
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
