"""The flywheel per UTC week beside the pages: incidents, how many left an insight, the
guardrails and runbook drafts recorded, and the pages (``cockpit stats``, the stats screen).

Plain SQL over ``sqlite3`` like the rest of the stats (no ORM): the recording side of the
flywheel is ``cockpit.flywheel``.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
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
    counts: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    monday = _monday(since)
    while monday < until.date():
        counts[monday]["incidents"] += 0
        monday += timedelta(days=7)
    for day, incidents, with_insight in conn.execute(_INCIDENT_WEEKS, window):
        week = counts[EPOCH_DAY + timedelta(days=day)]
        week["incidents"] += incidents
        week["with_insight"] += with_insight
    for day, guardrails, runbooks in conn.execute(_INSIGHT_WEEKS, window):
        week = counts[EPOCH_DAY + timedelta(days=day)]
        week["guardrails"] += guardrails
        week["runbooks"] += runbooks
    for monday, count in pages_by_utc_week(log).items():
        counts[monday]["pages"] += count
    return [
        FlywheelWeek(
            m, c["incidents"], c["with_insight"], c["guardrails"], c["runbooks"], c["pages"]
        )
        for m, c in sorted(counts.items())
    ]
