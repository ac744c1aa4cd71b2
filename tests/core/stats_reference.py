"""The stats as they were computed before issue 17 item 6 (ORM rows, notify rows read and
folded into pages once per figure), kept verbatim as the reference the SQL aggregates of
``cockpit.metrics.report`` must match. Only the imports were gathered here."""

# ruff: noqa
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from cockpit.metrics.flywheel import FlywheelWeek, _monday
from cockpit.metrics.hours import block_at, shift_blocks, week_of
from cockpit.metrics.pageload import (
    Load,
    Page,
    ShiftLoad,
    _in_team,
    _merge,
    _pages,
    _people,
    budget_state,
    pages,
    shift_budget,
)
from cockpit.metrics.response import ALL, NONE, GroupBy, ResponseRow, rollback_seconds, teams_of
from cockpit.metrics.stats import summarise
from cockpit.store.engine import Store
from cockpit.store.models import (
    ChangeEvent,
    Incident,
    Insight,
    RunbookRun,
    StepEvent,
    TimelineEvent,
)
from cockpit.store.records import SHIFTS
from cockpit.store.timefmt import as_utc, to_db_text

_CHUNK = 500


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


@dataclass(frozen=True)
class _Row:
    id: str
    service: str
    team: str
    created: datetime
    acknowledged: datetime | None
    resolved: datetime | None


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


def load_by_person(
    store: Store, since: datetime, until: datetime, team: str | None = None
) -> list[Load]:
    """Each paged person's load in [since, until), busiest first (ties by person id)."""
    with store.rows() as conn:
        found = _pages(conn, since, until, None)
        people = _people(conn, (p.person_id for p in found))
    grouped: dict[str, list[Page]] = defaultdict(list)
    for page in found:
        grouped[page.person_id].append(page)
    loads = []
    for person_id, own in grouped.items():
        person = people.get(person_id)
        if not _in_team(person, team):
            continue
        load = Load(person_id, person.name if person else person_id)
        load.add(own, person.time_zone if person else "UTC")
        loads.append(load)
    return sorted(loads, key=lambda load: (-load.pages, load.person_id))


def weekly_load(
    store: Store, since: datetime, until: datetime, team: str | None = None
) -> dict[str, dict[date, Load]]:
    """person id -> Monday of the person's local ISO week -> load of that week."""
    with store.rows() as conn:
        found = _pages(conn, since, until, None)
        people = _people(conn, (p.person_id for p in found))
    grouped: dict[tuple[str, date], list[Page]] = defaultdict(list)
    for page in found:
        person = people.get(page.person_id)
        tz = person.time_zone if person else "UTC"
        grouped[(page.person_id, week_of(page.at, tz))].append(page)
    result: dict[str, dict[date, Load]] = defaultdict(dict)
    for (person_id, monday), own in sorted(grouped.items()):
        person = people.get(person_id)
        if not _in_team(person, team):
            continue
        load = Load(person_id, person.name if person else person_id)
        load.add(own, person.time_zone if person else "UTC")
        result[person_id][monday] = load
    return dict(result)


def shift_loads(
    store: Store, since: datetime, until: datetime, team: str | None = None
) -> list[ShiftLoad]:
    """Every judged window (see :func:`shift_blocks`) that started in [since, until), with its
    load and budget state, by block start then person. A block still running at ``until``
    counts the pages so far; an open-ended shift runs in 12-hour blocks up to ``until``."""
    since, until = as_utc(since), as_utc(until)
    with store.rows() as conn:
        rows = SHIFTS.select(
            conn,
            'WHERE start IS NOT NULL AND start < ? AND ("end" IS NULL OR "end" > ?)',
            (to_db_text(until), to_db_text(since)),
        )
        spans = _merge(rows)
        people = _people(conn, spans)
        found = _pages(conn, since, until, None) if spans else []
    by_person: dict[str, list[Page]] = defaultdict(list)
    for page in found:
        by_person[page.person_id].append(page)
    result = []
    for person_id, own in spans.items():
        person = people.get(person_id)
        if not _in_team(person, team):
            continue
        tz = person.time_zone if person else "UTC"
        own_pages = by_person.get(person_id, [])
        for shift_start, shift_end in own:
            # An open-ended shift: whole blocks up to the one holding ``until``.
            end = shift_end or block_at(shift_start, None, until - timedelta(microseconds=1))[2]
            for index, (lo, hi) in enumerate(shift_blocks(shift_start, end)):
                if not since <= lo < until:
                    continue
                load = Load(person_id, person.name if person else person_id)
                load.add([p for p in own_pages if lo <= p.at < hi], tz)
                budget = shift_budget(lo, hi)
                where = "this shift" if (lo, hi) == (shift_start, shift_end) else "this 12 h"
                state, reasons = budget_state(
                    load.incidents, budget, load.split["sleep"], 0, 0, where=where
                )
                result.append(
                    ShiftLoad(
                        person_id,
                        lo,
                        hi,
                        load,
                        budget,
                        state,
                        reasons,
                        shift_start,
                        shift_end,
                        index,
                        tz,
                    )
                )
    return sorted(result, key=lambda s: (s.start, s.person_id))


def flywheel_weeks(store: Store, since: datetime, until: datetime) -> list[FlywheelWeek]:
    since, until = as_utc(since), as_utc(until)
    with store.read() as session:
        incidents = session.exec(
            select(Incident.id, Incident.created_at).where(
                col(Incident.is_drill).is_(False),
                col(Incident.created_at) >= since,
                col(Incident.created_at) < until,
            )
        ).all()
        insights = session.exec(
            select(Insight)
            .join(Incident, col(Incident.id) == col(Insight.incident_id))
            .where(
                col(Incident.is_drill).is_(False),
                col(Insight.created_at) >= since,
                col(Insight.created_at) < until,
            )
        ).all()
        all_insight_ids = set(session.exec(select(Insight.incident_id)).all())
    counts: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    monday = _monday(since)
    while monday < until.date():
        counts[monday]["incidents"] += 0
        monday += timedelta(days=7)
    for incident_id, created in incidents:
        week = counts[_monday(created)]
        week["incidents"] += 1
        week["with_insight"] += incident_id in all_insight_ids
    for insight in insights:
        week = counts[_monday(insight.created_at)]
        week["guardrails"] += bool(insight.guardrail)
        week["runbooks"] += bool(insight.runbook_draft)
    for page in pages(store, since, until):
        counts[_monday(page.at)]["pages"] += 1
    return [
        FlywheelWeek(
            m, c["incidents"], c["with_insight"], c["guardrails"], c["runbooks"], c["pages"]
        )
        for m, c in sorted(counts.items())
    ]
