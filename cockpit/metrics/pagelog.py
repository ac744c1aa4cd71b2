"""The pages of a report window, read once and folded once, as plain integers.

``cockpit stats`` shows the same pages four ways (per person per week, per person, per
12-hour block of a shift, per UTC week beside the flywheel). Each used to read the notify
rows, turn every one into a datetime and fold them into :class:`~pageload.Page` objects on
its own: at 100,000 incidents and 52 weeks that was ~157,000 rows, three times. Here the
rows are read once (one indexed range query, as :func:`pageload._notify_rows`), their times
as integer microseconds since the epoch computed by SQLite, folded into pages by the same
rule as :func:`pageload.dedupe`, and every figure is counted from that one list.

A person's hour band and local week come from integer arithmetic on the local time, with
the zone's UTC offset looked up once per UTC hour (:class:`LocalClock`), not a ``datetime``
per page; an hour holding a DST change is worked out page by page, so the figures are the
ones :func:`hours.band` and :func:`hours.week_of` give.
"""

from __future__ import annotations

import sqlite3
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from cockpit.metrics.hours import Band, block_at, shift_blocks, zone
from cockpit.metrics.pageload import (
    _BATON_NOTIFY,
    DEDUP_SECONDS,
    Load,
    ShiftLoad,
    _in_team,
    _merge,
    _people,
    budget_state,
    shift_budget,
)
from cockpit.store.engine import Store
from cockpit.store.records import PEOPLE, SHIFTS, PersonRow
from cockpit.store.timefmt import as_utc, to_db_text

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EPOCH_DAY = date(1970, 1, 1)  # a Thursday: weekday 3
US = 1_000_000
DEDUP_US = DEDUP_SECONDS * US
_HOUR = 3600
_DAY = 86400

# A stored time (``timefmt.SQLITE_FORMAT``) as integer microseconds since the epoch, in SQL:
# whole seconds from strftime, the six digits after the point (none: 0) added.
MICROS = (
    "(CAST(strftime('%s', {0}) AS INTEGER) * 1000000 "
    "+ CAST(substr({0} || '000000', 21, 6) AS INTEGER))"
)


def micros(value: datetime) -> int:
    """An aware (or naive UTC) datetime as integer microseconds since the epoch."""
    return (as_utc(value) - EPOCH) // timedelta(microseconds=1)


# One page: its start (microseconds since the epoch) and every incident that notified the
# person within it (the list grows while the rows are folded).
Page = tuple[int, list[str]]


class LocalClock:
    """Local wall-clock seconds of UTC instants in one zone, the offset cached per UTC day.

    A day whose offset is the same at its first and last second is taken to have no change
    inside it (zones change offset at most a few times a year, never twice in a day); a day
    holding a change (a DST switch) is looked up second by second.
    """

    def __init__(self, time_zone: str) -> None:
        self.zone = zone(time_zone)
        self._offsets: dict[int, int | None] = {}

    def _offset(self, second: int) -> int:
        moment = datetime.fromtimestamp(second, UTC).astimezone(self.zone)
        offset = moment.utcoffset()
        return int(offset.total_seconds()) if offset else 0

    def seconds(self, at_us: int) -> int:
        second = at_us // US
        day = second // _DAY
        try:
            offset = self._offsets[day]
        except KeyError:
            first, last = self._offset(day * _DAY), self._offset(day * _DAY + _DAY - 1)
            offset = self._offsets[day] = first if first == last else None
        return second + (self._offset(second) if offset is None else offset)


@lru_cache(maxsize=64)
def clock(time_zone: str) -> LocalClock:
    return LocalClock(time_zone)


def band_of(local_seconds: int) -> Band:
    """:func:`hours.band` from local wall-clock seconds since the epoch."""
    hour = local_seconds // _HOUR % 24
    if hour >= 22 or hour < 8:
        return "sleep"
    if (local_seconds // _DAY + 3) % 7 >= 5 or hour >= 18:
        return "off_hours"
    return "business"


_MONDAYS: dict[int, date] = {}


def monday_of(local_seconds: int) -> date:
    """:func:`hours.week_of` from local wall-clock seconds since the epoch."""
    day = local_seconds // _DAY
    monday = day - (day + 3) % 7
    found = _MONDAYS.get(monday)
    if found is None:
        found = _MONDAYS[monday] = EPOCH_DAY + timedelta(days=monday)
    return found


@dataclass
class PersonPages:
    """One person's pages in the window, in time order, and what they add up to."""

    person_id: str
    time_zone: str
    total: Load
    pages: list[Page] = field(default_factory=list)
    weeks: dict[date, Load] = field(default_factory=dict)  # local Monday -> load


@dataclass
class PageLog:
    """The pages that started in [since, until) by person (by id), who those people are,
    and the pages per UTC week."""

    since: datetime
    until: datetime
    by_person: dict[str, PersonPages]
    people: dict[str, PersonRow]
    utc_weeks: dict[date, int]


# The rows and filters of ``pageload._notify_rows``, in time order (the order of
# ix_timeline_kind_at, so SQLite sorts nothing: sorting ~157,000 rows by person cost more than
# reading them). Drill incidents are one list of ids rather than a join per row (a timeline
# row always has its incident: the foreign key cascades), and the
# baton check only runs for incidents that have a delivered reassignment.
_NOTIFY_MICROS = (
    "SELECT t.person_id, {micros}, t.incident_id FROM timeline_events AS t "
    "WHERE t.kind = 'notify' AND t.at >= ? AND t.at < ? AND t.person_id != '' "
    "AND t.is_drill = 0 "
    "AND t.incident_id NOT IN (SELECT id FROM incidents WHERE is_drill = 1) "
    "AND (t.incident_id NOT IN (SELECT incident_id FROM outbox WHERE action = 'reassign' "
    "AND state = 'sent') OR NOT EXISTS ({baton})) ORDER BY t.at"
).format(micros=MICROS.format("t.at"), baton=_BATON_NOTIFY)


def fold(
    rows: Iterable[tuple[str, int, str]],
    since_us: int,
    people: dict[str, PersonRow],
) -> tuple[dict[str, PersonPages], dict[date, int]]:
    """:func:`pageload.dedupe` on integer times, counting as it goes.

    Rows come in time order; each person's pages go out in time order with their load over
    the window and per local week (pages, hour bands, distinct incidents), and the pages per
    UTC week. Pages that start before ``since_us`` are folded but not kept: the rows of the
    minute before the window only stop a page from being counted twice. One pass, inlined,
    because at a year of a big store it runs ~157,000 times.
    """
    found: dict[str, PersonPages] = {}
    # who -> (start, incidents, the incident sets this page's incidents count in)
    current: dict[str, tuple[int, list[str], tuple[set[str], ...]]] = {}
    seen: dict[str, set[str]] = {}
    week_seen: dict[tuple[str, date], set[str]] = {}
    clocks: dict[str, LocalClock] = {}
    utc_weeks: dict[date, int] = defaultdict(int)
    mondays = _MONDAYS
    for who, at, incident in rows:
        page = current.get(who)
        if page is not None and at - page[0] < DEDUP_US:
            if incident not in page[1]:
                page[1].append(incident)
                for counted in page[2]:
                    counted.add(incident)
            continue
        incidents = [incident]
        if at < since_us:
            current[who] = (at, incidents, ())
            continue
        own = found.get(who)
        if own is None:
            person = people.get(who)
            name, tz = (person.name, person.time_zone) if person else (who, "UTC")
            own = found[who] = PersonPages(who, tz, Load(who, name))
            clocks[who] = clock(tz)
            seen[who] = set()
        local = clocks[who].seconds(at)
        hour = local // _HOUR % 24
        day = local // _DAY
        weekday = (day + 3) % 7
        if hour >= 22 or hour < 8:
            hour_band: Band = "sleep"
        elif weekday >= 5 or hour >= 18:
            hour_band = "off_hours"
        else:
            hour_band = "business"
        monday = mondays.get(day - weekday) or monday_of(local)
        week = own.weeks.get(monday)
        if week is None:
            week = own.weeks[monday] = Load(who, own.total.name)
            week_seen[who, monday] = set()
        total = own.total
        total.pages += 1
        total.split[hour_band] += 1
        week.pages += 1
        week.split[hour_band] += 1
        sets = (seen[who], week_seen[who, monday])
        for counted in sets:
            counted.add(incident)
        own.pages.append((at, incidents))
        current[who] = (at, incidents, sets)
        utc_day = at // (_DAY * US)
        utc_monday = utc_day - (utc_day + 3) % 7
        utc_weeks[mondays.get(utc_monday) or monday_of(utc_monday * _DAY)] += 1
    for who, own in found.items():
        own.total.incidents = len(seen[who])
        for monday, week in own.weeks.items():
            week.incidents = len(week_seen[who, monday])
        own.weeks = dict(sorted(own.weeks.items()))
    return dict(sorted(found.items())), dict(utc_weeks)


def read_page_log(conn: sqlite3.Connection, since: datetime, until: datetime) -> PageLog:
    since, until = as_utc(since), as_utc(until)
    early = since - timedelta(seconds=DEDUP_SECONDS)
    # The roster is small (tens of people): read it whole rather than after the fold.
    people = {person.id: person for person in PEOPLE.select(conn, "")}
    rows = conn.execute(_NOTIFY_MICROS, (to_db_text(early), to_db_text(until)))
    found, utc_weeks = fold(rows, micros(since), people)
    return PageLog(since, until, found, people, utc_weeks)


def _load(person_id: str, name: str, own: Iterable[Page], time_zone: str) -> Load:
    load = Load(person_id, name)
    seconds = clock(time_zone).seconds
    seen: set[str] = set()
    for start, incidents in own:
        load.pages += 1
        load.split[band_of(seconds(start))] += 1
        seen.update(incidents)
    load.incidents = len(seen)
    return load


def loads_by_person(log: PageLog, team: str | None = None) -> list[Load]:
    """:func:`load_by_person` from the log: busiest first (ties by person id)."""
    loads = [
        own.total
        for person_id, own in log.by_person.items()
        if _in_team(log.people.get(person_id), team)
    ]
    return sorted(loads, key=lambda load: (-load.pages, load.person_id))


def loads_by_week(log: PageLog, team: str | None = None) -> dict[str, dict[date, Load]]:
    """:func:`weekly_load` from the log: person id -> local Monday -> load."""
    return {
        person_id: own.weeks
        for person_id, own in log.by_person.items()
        if _in_team(log.people.get(person_id), team)
    }


def pages_by_utc_week(log: PageLog) -> dict[date, int]:
    """Pages per UTC week (its Monday), for the flywheel beside the pages."""
    return log.utc_weeks


Spans = dict[str, list[tuple[datetime, datetime | None]]]
# person id, name, zone, block start, block end -> the load of that block
BlockLoad = Callable[[str, str, str, datetime, datetime], Load]


def shift_spans(conn: sqlite3.Connection, since: datetime, until: datetime) -> Spans:
    """Each person's stretches on call that overlap [since, until), overlaps merged."""
    rows = SHIFTS.select(
        conn,
        'WHERE start IS NOT NULL AND start < ? AND ("end" IS NULL OR "end" > ?)',
        (to_db_text(until), to_db_text(since)),
    )
    return _merge(rows)


def shift_windows(
    conn: sqlite3.Connection, log: PageLog, team: str | None = None
) -> list[ShiftLoad]:
    """:func:`shift_loads` from the log (the shifts read from ``conn``)."""
    starts: dict[str, list[int]] = {}

    def load_of(person_id: str, name: str, tz: str, lo: datetime, hi: datetime) -> Load:
        paged = log.by_person.get(person_id)
        own_pages = paged.pages if paged else []
        own = starts.get(person_id)
        if own is None:
            own = starts[person_id] = [start for start, _ in own_pages]
        first, last = bisect_left(own, micros(lo)), bisect_left(own, micros(hi))
        return _load(person_id, name, own_pages[first:last], tz)

    spans = shift_spans(conn, log.since, log.until)
    return judged_blocks(conn, log.since, log.until, log.people, spans, team, load_of)


def judged_blocks(
    conn: sqlite3.Connection,
    since: datetime,
    until: datetime,
    roster: dict[str, PersonRow],
    spans: Spans,
    team: str | None,
    load_of: BlockLoad,
) -> list[ShiftLoad]:
    """Every judged block of ``spans`` that starts in [since, until), its load from
    ``load_of``, by block start then person."""
    people = {**_people(conn, set(spans) - set(roster)), **roster}
    result = []
    for person_id, own in spans.items():
        person = people.get(person_id)
        if not _in_team(person, team):
            continue
        name, tz = (person.name, person.time_zone) if person else (person_id, "UTC")
        for shift_start, shift_end in own:
            # An open-ended shift: whole blocks up to the one holding ``until``.
            end = shift_end or block_at(shift_start, None, until - timedelta(microseconds=1))[2]
            for index, (lo, hi) in enumerate(shift_blocks(shift_start, end)):
                if not since <= lo < until:
                    continue
                load = load_of(person_id, name, tz, lo, hi)
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


# ---------------------------------------------------------------- from the store


def load_by_person(
    store: Store, since: datetime, until: datetime, team: str | None = None
) -> list[Load]:
    """Each paged person's load in [since, until), busiest first (ties by person id)."""

    with store.rows() as conn:
        log = read_page_log(conn, since, until)
    return loads_by_person(log, team)


def weekly_load(
    store: Store, since: datetime, until: datetime, team: str | None = None
) -> dict[str, dict[date, Load]]:
    """person id -> Monday of the person's local ISO week -> load of that week."""

    with store.rows() as conn:
        log = read_page_log(conn, since, until)
    return loads_by_week(log, team)


def shift_loads(
    store: Store, since: datetime, until: datetime, team: str | None = None
) -> list[ShiftLoad]:
    """Every judged window (see :func:`shift_blocks`) that started in [since, until), with its
    load and budget state, by block start then person. A block still running at ``until``
    counts the pages so far; an open-ended shift runs in 12-hour blocks up to ``until``."""

    with store.rows() as conn:
        return shift_windows(conn, read_page_log(conn, since, until), team)
