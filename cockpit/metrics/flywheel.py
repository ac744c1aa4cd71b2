"""The flywheel per UTC week beside the pages: incidents, how many left an insight, the
guardrails and runbook drafts recorded, and the pages (``cockpit stats``, the stats screen).

Plain SQL over ``sqlite3`` like the rest of the stats (no ORM): the recording side of the
flywheel is ``cockpit.flywheel``.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from cockpit.metrics.pagelog import EPOCH_DAY, PageLog, pages_by_utc_week, read_page_log
from cockpit.store.engine import Store
from cockpit.store.timefmt import as_utc, to_db_text


@dataclass(frozen=True)
class FlywheelWeek:
    monday: date  # UTC weeks: the flywheel is a team figure, not a person's
    incidents: int
    with_insight: int
    guardrails: int
    runbooks: int
    pages: int


def _monday(at: datetime) -> date:
    day = as_utc(at).date()
    return day - timedelta(days=day.weekday())


def flywheel_weeks(store: Store, since: datetime, until: datetime) -> list[FlywheelWeek]:
    with store.rows() as conn:
        return flywheel_rows(conn, read_page_log(conn, since, until))


# Incidents and insights per UTC week, counted by SQLite: the week is the Monday's day
# number since the epoch (1970-01-01 was a Thursday). ix_incidents_created_drill and
# ix_insights_created serve the windows; the insight check is one list of incident ids.
_DAY = "(CAST(strftime('%s', {0}) AS INTEGER) / 86400)"
_WEEK = "({day} - ({day} + 3) % 7)"
_INCIDENT_WEEKS = (
    "SELECT {week} AS monday, COUNT(*), "
    "SUM(i.id IN (SELECT incident_id FROM insights)) FROM incidents AS i "
    "WHERE i.is_drill = 0 AND i.created_at >= ? AND i.created_at < ? GROUP BY monday"
).format(week=_WEEK.format(day=_DAY.format("i.created_at")))
_INSIGHT_WEEKS = (
    "SELECT {week} AS monday, SUM(COALESCE(n.guardrail, '') != ''), "
    "SUM(COALESCE(n.runbook_draft, '') != '') FROM insights AS n "
    "JOIN incidents AS i ON i.id = n.incident_id "
    "WHERE i.is_drill = 0 AND n.created_at >= ? AND n.created_at < ? GROUP BY monday"
).format(week=_WEEK.format(day=_DAY.format("n.created_at")))


def flywheel_rows(conn: sqlite3.Connection, log: PageLog) -> list[FlywheelWeek]:
    """The flywheel per UTC week of ``log``'s window, its pages taken from ``log``."""
    since, until = log.since, log.until
    window = (to_db_text(since), to_db_text(until))
    found: dict[date, list[int]] = {}
    for day, incidents, with_insight in conn.execute(_INCIDENT_WEEKS, window):
        week = found.setdefault(EPOCH_DAY + timedelta(days=day), [0, 0, 0, 0])
        week[0] += incidents
        week[1] += with_insight
    for day, guardrails, runbooks in conn.execute(_INSIGHT_WEEKS, window):
        week = found.setdefault(EPOCH_DAY + timedelta(days=day), [0, 0, 0, 0])
        week[2] += guardrails
        week[3] += runbooks
    return flywheel_table(since, until, found, pages_by_utc_week(log))


def flywheel_table(
    since: datetime, until: datetime, counts: dict[date, list[int]], pages: dict[date, int]
) -> list[FlywheelWeek]:
    """Every UTC week from ``since``'s to ``until``'s (weeks with nothing in them too), from
    the weeks' incidents, incidents with an insight, guardrails and drafts, and pages."""
    weeks: dict[date, list[int]] = {}
    monday = _monday(since)
    while monday < until.date():
        weeks[monday] = [0, 0, 0, 0, 0]
        monday += timedelta(days=7)
    for monday, sums in counts.items():
        week = weeks.setdefault(monday, [0, 0, 0, 0, 0])
        for index in range(4):
            week[index] += sums[index]
    for monday, count in pages.items():
        weeks.setdefault(monday, [0, 0, 0, 0, 0])[4] += count
    return [FlywheelWeek(monday, *week) for monday, week in sorted(weeks.items())]
