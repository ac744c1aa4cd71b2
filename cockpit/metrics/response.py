"""Response metrics: MTTA, MTTR, time to rollback and incidents per change.

- MTTA: first acknowledgement minus created (``Incident.acknowledged_at``, else the first
  ``acknowledge`` timeline entry). Incidents never acknowledged are left out of MTTA.
- MTTR: resolved minus created, resolved incidents only.
- Time to rollback, per run: from the decision that sent the run to Rollback (the last
  ``decided`` event at or before the run's ``rollback_entered``; the ``rollback_entered``
  itself when no decision precedes it) to the last Rollback step marked done. Runs that
  never completed a Rollback step are left out.
- Incidents per change: incidents created in the window over change events in the window,
  per service; only services with at least one change event get a figure.

Every figure is summarised as median, p95 (nearest rank, see ``stats``) and mean, overall
and per service or team. Drill incidents and drill runs never count. Incidents are grouped
by their creation time in [since, until).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func
from sqlmodel import Session, col, select

from cockpit.metrics.stats import Summary, summarise
from cockpit.store.engine import Store
from cockpit.store.models import ChangeEvent, Incident, RunbookRun, StepEvent, TimelineEvent
from cockpit.store.timefmt import as_utc

GroupBy = Literal["service", "team"]
_CHUNK = 500
ALL = "(all)"
NONE = "(none)"


@dataclass(frozen=True)
class ResponseRow:
    group: str
    incidents: int
    mtta: Summary
    mttr: Summary
    rollback: Summary
    changes: int | None = None
    incidents_per_change: float | None = None


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _is_rollback_step(event: StepEvent) -> bool:
    section = str((event.details or {}).get("section", ""))
    return event.step_id.startswith("rollback") or section == "rollback"


def _points_to_rollback(event: StepEvent) -> bool:
    details = event.details or {}
    target = str(details.get("target", details.get("target_section", ""))).lower()
    return target.lstrip("#").startswith("rollback") or event.branch.lower() == "rollback"


def rollback_seconds(events: Sequence[StepEvent]) -> float | None:
    """Time to rollback of one run's events (in ``seq`` order); None if it never rolled back."""
    start: datetime | None = None
    start_index = -1
    for index, event in enumerate(events):
        if event.kind == "rollback_entered" or (
            event.kind == "decided" and _points_to_rollback(event)
        ):
            start_index = index
            start = event.at
            if event.kind == "rollback_entered":
                for earlier in reversed(events[:index]):
                    if earlier.kind == "decided":
                        start = earlier.at
                        break
            break
    if start is None:
        # No marker: the decision taken last before the first Rollback step was done.
        first = next(
            (i for i, e in enumerate(events) if e.kind == "done" and _is_rollback_step(e)), None
        )
        decided = [e for e in events[:first] if e.kind == "decided"] if first else []
        if not decided:
            return None
        start = decided[-1].at
        start_index = events.index(decided[-1])
    done = [e for e in events[start_index:] if e.kind == "done" and _is_rollback_step(e)]
    if not done:
        return None
    return (as_utc(done[-1].at) - as_utc(start)).total_seconds()


@dataclass(frozen=True)
class _Row:
    id: str
    service: str
    team: str
    created: datetime
    acknowledged: datetime | None
    resolved: datetime | None


def teams_of(joined: str) -> list[str]:
    """The teams of an incident from its stored ``team`` text ("Payments, Storefront")."""
    return [name.strip() for name in joined.split(", ") if name.strip()]


def _incidents(session: Session, since: datetime, until: datetime, team: str | None) -> list[_Row]:
    query = select(Incident).where(
        col(Incident.is_drill).is_(False),
        col(Incident.created_at) >= as_utc(since),
        col(Incident.created_at) < as_utc(until),
    )
    if team:
        # ``team`` holds every team of the incident, joined ("Payments, Storefront"): the same
        # whole-name, any-of match as the incident list's filter (store.reads.IncidentFilter).
        joined = func.instr(", " + func.lower(Incident.team) + ", ", f", {team.strip().lower()}, ")
        query = query.where(joined > 0)
    rows = [
        _Row(i.id, i.service_name, i.team, i.created_at, i.acknowledged_at, i.resolved_at)
        for i in session.exec(query.order_by(col(Incident.created_at), col(Incident.id)))
    ]
    missing = [row.id for row in rows if row.acknowledged is None]
    first_ack: dict[str, datetime] = {}
    for chunk in _chunks(missing):
        for incident_id, at in session.exec(
            select(TimelineEvent.incident_id, func.min(TimelineEvent.at))
            .where(col(TimelineEvent.incident_id).in_(chunk), TimelineEvent.kind == "acknowledge")
            .group_by(TimelineEvent.incident_id)
        ):
            first_ack[incident_id] = as_utc(datetime.fromisoformat(str(at)))
    return [
        _Row(r.id, r.service, r.team, r.created, r.acknowledged or first_ack.get(r.id), r.resolved)
        for r in rows
    ]


def _rollbacks(session: Session, incident_ids: Sequence[str]) -> dict[str, list[float]]:
    runs: dict[int, str] = {}
    for chunk in _chunks(incident_ids):
        for run_id, incident_id in session.exec(
            select(RunbookRun.id, RunbookRun.incident_id).where(
                col(RunbookRun.incident_id).in_(chunk), col(RunbookRun.is_drill).is_(False)
            )
        ):
            if run_id is not None:
                runs[run_id] = incident_id
    events: dict[int, list[StepEvent]] = defaultdict(list)
    for chunk in _chunks(sorted(runs)):
        for event in session.exec(
            select(StepEvent)
            .where(col(StepEvent.run_id).in_(chunk))
            .order_by(col(StepEvent.run_id), col(StepEvent.seq))
        ):
            events[event.run_id].append(event)
    result: dict[str, list[float]] = defaultdict(list)
    for run_id, incident_id in runs.items():
        seconds = rollback_seconds(events[run_id])
        if seconds is not None:
            result[incident_id].append(seconds)
    return result


def _changes(session: Session, since: datetime, until: datetime) -> dict[str, int]:
    rows = session.exec(
        select(ChangeEvent.service_name, func.count())
        .where(col(ChangeEvent.at) >= as_utc(since), col(ChangeEvent.at) < as_utc(until))
        .group_by(ChangeEvent.service_name)
    )
    return {service: int(count) for service, count in rows}


def _row(
    group: str, rows: list[_Row], rollbacks: dict[str, list[float]], changes: int | None
) -> ResponseRow:
    mtta = [(r.acknowledged - r.created).total_seconds() for r in rows if r.acknowledged]
    mttr = [(r.resolved - r.created).total_seconds() for r in rows if r.resolved]
    ttr = [seconds for r in rows for seconds in rollbacks.get(r.id, [])]
    per_change = len(rows) / changes if changes else None
    return ResponseRow(
        group=group,
        incidents=len(rows),
        mtta=summarise(mtta),
        mttr=summarise(mttr),
        rollback=summarise(ttr),
        changes=changes or None,
        incidents_per_change=per_change,
    )


def response_report(
    store: Store,
    since: datetime,
    until: datetime,
    *,
    by: GroupBy = "service",
    team: str | None = None,
) -> list[ResponseRow]:
    """The overall row (group ``(all)``) first, then one row per service or team by name."""
    with store.read() as session:
        rows = _incidents(session, since, until, team)
        rollbacks = _rollbacks(session, [r.id for r in rows])
        changes = _changes(session, since, until)
    groups: dict[str, list[_Row]] = defaultdict(list)
    for row in rows:
        if by == "service":
            groups[row.service or NONE].append(row)
            continue
        # An incident of several teams counts under each of them.
        for name in teams_of(row.team) or [NONE]:
            groups[name].append(row)
    if team:
        total_changes = sum(changes.get(service, 0) for service in {r.service for r in rows})
    else:
        total_changes = sum(changes.values())
    report = [_row(ALL, rows, rollbacks, total_changes)]
    for name in sorted(groups):
        group_changes = changes.get(name) if by == "service" else None
        report.append(_row(name, groups[name], rollbacks, group_changes))
    return report
