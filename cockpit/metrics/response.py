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

import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from cockpit.metrics.pagelog import MICROS
from cockpit.metrics.stats import Summary, summarise
from cockpit.store.engine import Store
from cockpit.store.records import STEPS, StepRow
from cockpit.store.timefmt import as_utc, to_db_text

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


class StepLike(Protocol):
    """What the time to rollback reads of a step event (``StepEvent`` or ``StepRow``)."""

    @property
    def kind(self) -> str: ...
    @property
    def at(self) -> datetime: ...
    @property
    def step_id(self) -> str: ...
    @property
    def branch(self) -> str: ...
    @property
    def details(self) -> dict[str, object] | None: ...


def _is_rollback_step(event: StepLike) -> bool:
    section = str((event.details or {}).get("section", ""))
    return event.step_id.startswith("rollback") or section == "rollback"


def _points_to_rollback(event: StepLike) -> bool:
    details = event.details or {}
    target = str(details.get("target", details.get("target_section", ""))).lower()
    return target.lstrip("#").startswith("rollback") or event.branch.lower() == "rollback"


def rollback_seconds(events: Sequence[StepLike]) -> float | None:
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


def teams_of(joined: str) -> list[str]:
    """The teams of an incident from its stored ``team`` text ("Payments, Storefront")."""
    return [name.strip() for name in joined.split(", ") if name.strip()]


# One row per incident of the window, its times as integer microseconds (``pagelog.MICROS``)
# so a duration is exact: the first acknowledgement (the incident's own, else the earliest
# ``acknowledge`` entry, looked up through ix_timeline_incident_at only when it lacks one)
# and the resolution, each minus the creation. ix_incidents_created_drill serves the window.
_WINDOW = (
    "SELECT i.service_name, i.team, "
    "{ack} - {created}, {resolved} - {created} FROM incidents AS i "
    "WHERE i.is_drill = 0 AND i.created_at >= ? AND i.created_at < ?"
).format(
    created=MICROS.format("i.created_at"),
    resolved=MICROS.format("i.resolved_at"),
    ack=MICROS.format(
        "COALESCE(i.acknowledged_at, (SELECT MIN(a.at) FROM timeline_events AS a "
        "WHERE a.incident_id = i.id AND a.kind = 'acknowledge'))"
    ),
)
# ``team`` holds every team of the incident, joined ("Payments, Storefront"): the same
# whole-name, any-of match as the incident list's filter (store.reads.IncidentFilter).
_TEAM = " AND instr(', ' || lower(i.team) || ', ', ?) > 0"
# Runs of the window's incidents (not drills) and their step events, in order.
_RUNS = (
    "SELECT r.id, i.id, i.service_name, i.team FROM runbook_runs AS r "
    "JOIN incidents AS i ON i.id = r.incident_id "
    "WHERE r.is_drill = 0 AND i.is_drill = 0 AND i.created_at >= ? AND i.created_at < ?"
)


def _rollbacks(
    conn: sqlite3.Connection, window: list[str], team_clause: str
) -> list[tuple[str, str, float]]:
    """(service, team, seconds) of every time to rollback of the window's runs."""
    runs = conn.execute(_RUNS + team_clause, window).fetchall()
    if not runs:
        return []
    wanted = [run_id for run_id, *_ in runs]
    events: dict[int, list[StepRow]] = defaultdict(list)
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        where = f"WHERE run_id IN ({', '.join('?' * len(chunk))}) ORDER BY run_id, seq"
        for event in STEPS.select(conn, where, chunk):
            events[event.run_id].append(event)
    found = []
    for run_id, _incident, service, team in runs:
        seconds = rollback_seconds(events[run_id])
        if seconds is not None:
            found.append((service, team, seconds))
    return found


def _changes(conn: sqlite3.Connection, since: str, until: str) -> dict[str, int]:
    rows = conn.execute(
        "SELECT service_name, COUNT(*) FROM change_events WHERE at >= ? AND at < ? "
        "GROUP BY service_name",
        (since, until),
    )
    return {service: int(count) for service, count in rows}


@dataclass
class _Values:
    """The durations of one group, in seconds (as ``timedelta.total_seconds`` gives them)."""

    incidents: int = 0
    mtta: list[float] = field(default_factory=list)
    mttr: list[float] = field(default_factory=list)
    rollback: list[float] = field(default_factory=list)

    def row(self, group: str, changes: int | None) -> ResponseRow:
        per_change = self.incidents / changes if changes else None
        return ResponseRow(
            group=group,
            incidents=self.incidents,
            mtta=summarise(self.mtta),
            mttr=summarise(self.mttr),
            rollback=summarise(self.rollback),
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
    with store.rows() as conn:
        return response_rows(conn, since, until, by=by, team=team)


def response_rows(
    conn: sqlite3.Connection,
    since: datetime,
    until: datetime,
    *,
    by: GroupBy = "service",
    team: str | None = None,
) -> list[ResponseRow]:
    """:func:`response_report` on an open read transaction.

    SQLite picks the window's incidents and works out each one's times to acknowledge and
    resolve in whole microseconds; no ORM object is made. The order statistics (median,
    p95) need every value of a group sorted: at 52,000 incidents reading the rows costs
    0.14 s and Python's sort of both columns 8 ms, where ``ROW_NUMBER()`` in SQLite took
    0.135 s for each column (CPU, measured on bench/stats.py's store).
    """
    window = [to_db_text(since), to_db_text(until)]
    team_clause = _TEAM if team else ""
    params = [*window, team_needle(team)] if team else window
    durations = window_durations(conn, window, team_clause, params)
    rollbacks: dict[tuple[str, str], list[float]] = defaultdict(list)
    for service, joined, seconds in _rollbacks(conn, params, team_clause):
        rollbacks[service, joined].append(seconds)
    return assemble(durations, rollbacks, _changes(conn, *window), by=by, team=team)


# (service, team text) -> (incidents, their times to acknowledge, to resolve, in microseconds)
Durations = dict[tuple[str, str], tuple[int, list[int], list[int]]]


def team_needle(team: str) -> str:
    """What ``_TEAM`` looks for in ``', ' || lower(team) || ', '``."""
    return f", {team.strip().lower()}, "


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def in_team(joined: str | None, needle: str) -> bool:
    """``_TEAM`` in Python, exactly: SQLite's ``lower()`` folds ASCII letters only."""
    return joined is not None and needle in f", {joined.translate(_ASCII_LOWER)}, "


def window_durations(
    conn: sqlite3.Connection,
    window: list[str],
    team_clause: str = "",
    params: list[str] | None = None,
) -> Durations:
    """The window's incidents by their (service, team) text, one dict step each; the groups
    and the seconds are made later once per distinct pair rather than once per incident."""
    found: dict[tuple[str, str], tuple[list[int], list[int], list[int]]] = {}
    for service, joined, ack, resolved in conn.execute(_WINDOW + team_clause, params or window):
        own = found.get((service, joined))
        if own is None:
            own = found[service, joined] = ([0], [], [])
        own[0][0] += 1
        if ack is not None:
            own[1].append(ack)
        if resolved is not None:
            own[2].append(resolved)
    return {key: (count[0], acks, fixes) for key, (count, acks, fixes) in found.items()}


def window_rollbacks(
    conn: sqlite3.Connection, window: list[str]
) -> dict[tuple[str, str], list[float]]:
    """Every time to rollback of the window's runs by the incident's (service, team)."""
    rollbacks: dict[tuple[str, str], list[float]] = defaultdict(list)
    for service, joined, seconds in _rollbacks(conn, window, ""):
        rollbacks[service, joined].append(seconds)
    return dict(rollbacks)


def window_changes(conn: sqlite3.Connection, window: list[str]) -> dict[str, int]:
    return _changes(conn, window[0], window[1])


def assemble(
    durations: Durations,
    rollbacks: dict[tuple[str, str], list[float]],
    changes: dict[str, int],
    *,
    by: GroupBy = "service",
    team: str | None = None,
) -> list[ResponseRow]:
    """The rows of :func:`response_rows` from the window's incidents (already of ``team``)."""
    overall = _Values()
    groups: dict[str, _Values] = defaultdict(_Values)
    for key in durations.keys() | rollbacks.keys():
        service, joined = key
        # An incident of several teams counts under each of them.
        names = [service or NONE] if by == "service" else teams_of(joined or "") or [NONE]
        count, acks, fixes = durations.get(key, (0, [], []))
        # Exactly timedelta.total_seconds(): whole microseconds over 10**6.
        mtta = [ack / 1_000_000 for ack in acks]
        mttr = [resolved / 1_000_000 for resolved in fixes]
        for values in (overall, *(groups[name] for name in names)):
            values.incidents += count
            values.mtta += mtta
            values.mttr += mttr
            values.rollback += rollbacks.get(key, [])
    services = {service for service, _ in durations}
    if team:
        total_changes = sum(changes.get(service, 0) for service in services)
    else:
        total_changes = sum(changes.values())
    report = [overall.row(ALL, total_changes)]
    for name in sorted(groups):
        group_changes = changes.get(name) if by == "service" else None
        report.append(groups[name].row(name, group_changes))
    return report
