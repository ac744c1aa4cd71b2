"""Everything ``cockpit stats`` and the stats screen show, gathered in one read transaction.

The notify rows of the window are read and folded into pages once (:mod:`pagelog`) and the
pages per week, per person, per shift block and per flywheel week are counted from them;
response and flywheel figures are SQL over the window's incidents. One snapshot, so the
tables agree with each other even while a sync writes.

``checkpoint`` is called between the steps: the screen passes one that raises when a newer
request has superseded this one, so a stale gathering stops instead of running to the end.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from cockpit.metrics import weeks as kept_weeks
from cockpit.metrics.flywheel import FlywheelWeek, flywheel_rows, flywheel_table
from cockpit.metrics.pageload import Load, ShiftLoad
from cockpit.metrics.pagelog import loads_by_person, loads_by_week, read_page_log, shift_windows
from cockpit.metrics.response import GroupBy, ResponseRow, response_rows
from cockpit.store.engine import Store


@dataclass(frozen=True)
class StatsReport:
    since: datetime
    until: datetime
    weekly: dict[str, dict[date, Load]]  # person id -> local Monday -> load
    loads: list[Load]  # busiest first
    blocks: list[ShiftLoad]  # every judged 12-hour block (or shorter shift)
    response: list[ResponseRow]
    flywheel: list[FlywheelWeek]


def _nothing() -> None:
    return None


def stats_report(
    store: Store,
    since: datetime,
    until: datetime,
    *,
    by: GroupBy = "service",
    team: str | None = None,
    checkpoint: Callable[[], None] = _nothing,
    cached: bool = True,
) -> StatsReport:
    """The report; ``cached``: whole weeks from the store's kept parts (:mod:`weeks`), the
    weeks computed afresh kept for next time; else everything from the rows, in one pass."""
    checkpoint()  # superseded before it began: read nothing
    if cached:
        try:
            return _from_weeks(store, since, until, by=by, team=team, checkpoint=checkpoint)
        except kept_weeks.DAMAGE:
            # A kept week that read as JSON of the right shape but not of the right types:
            # the weeks are forgotten (if the store is free now) and the report made from
            # the rows, never an error.
            kept_weeks.forget(store)
    with store.rows() as conn:
        log = read_page_log(conn, since, until)
        checkpoint()
        weekly = loads_by_week(log, team)
        loads = loads_by_person(log, team)
        blocks = shift_windows(conn, log, team)
        checkpoint()
        response = response_rows(conn, since, until, by=by, team=team)
        checkpoint()
        flywheel = flywheel_rows(conn, log)
    return StatsReport(log.since, log.until, weekly, loads, blocks, response, flywheel)


def _from_weeks(
    store: Store,
    since: datetime,
    until: datetime,
    *,
    by: GroupBy,
    team: str | None,
    checkpoint: Callable[[], None],
) -> StatsReport:
    with store.rows() as conn:
        found = read_weeks(conn, since, until, checkpoint)
        checkpoint()
        figures = kept_weeks.figures(conn, found, by=by, team=team)
        kept_weeks.store_fresh(conn, found.fresh)
    flywheel = flywheel_table(found.since, found.until, figures.flywheel, figures.pages_by_week)
    return StatsReport(
        found.since,
        found.until,
        figures.weekly,
        figures.loads,
        figures.blocks,
        figures.response,
        flywheel,
    )


def read_weeks(
    conn: sqlite3.Connection, since: datetime, until: datetime, checkpoint: Callable[[], None]
) -> kept_weeks.Gathered:
    """The window's parts (what the stats screen's test counts as one window's reading)."""
    return kept_weeks.gather(conn, since, until, checkpoint)
