"""Page load: pages per person per shift and per week, split by the hour they landed in.

A *page* is one notification to one person, counted as PagerDuty does: the push, phone call
and SMS of one notification round are one page. Precisely, a person's notify entries are
walked in time order and an entry less than ``DEDUP_SECONDS`` after the first entry of the
current page joins that page; at 60 s or later it starts a new page. (Anchoring on the first
entry, not the previous one, keeps a storm of entries every 30 s from folding into one page.)

Drill incidents never count: both the timeline row's and the incident's ``is_drill`` flag
exclude it. Every read is one indexed range query over ``timeline_events`` (``kind, at`` for
everybody, ``person_id, at`` for one person), so the cost follows the window, not the store.
The reads are plain SQL over ``sqlite3`` (no ORM): the meter is part of the first frame.

The budget is Google SRE's: at most 2 incidents per 12-hour shift. A shift of 12 h or less is
judged as a whole; a longer one (a week-long rotation) is judged in 12-hour blocks counted from
its start (start + k * 12 h), each against 2 (:func:`shift_blocks`), so ten pages in one night
of a weekly shift are red, not 10 of a budget of 28. The week budget is 2 per 12 h on call.
See :func:`budget_state` for what turns the meter amber and red.
"""

from __future__ import annotations

import math
import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal

from cockpit.metrics.hours import (
    BANDS,
    BLOCK,
    Band,
    band,
    block_at,
    day_start,
    local_day,
    shift_blocks,
    week_bounds,
)
from cockpit.store.engine import Store
from cockpit.store.records import PEOPLE, SHIFTS, PersonRow, ShiftRow
from cockpit.store.timefmt import as_utc, stamp, to_db_text

DEDUP_SECONDS = 60
INCIDENTS_PER_12H = 2
FALLBACK_SHIFT = BLOCK
# Amber once the week has used this share of its budget.
WEEK_AMBER_SHARE = 0.75
SPARK_DAYS = 14

State = Literal["green", "amber", "red"]


@dataclass(frozen=True)
class Page:
    person_id: str
    at: datetime
    incident_id: str  # the incident that started the page
    channels: tuple[str, ...] = ()
    # Every incident that notified the person within the page's minute: a storm of three
    # incidents is one page but three incidents against the shift budget.
    incident_ids: tuple[str, ...] = ()

    @property
    def incidents(self) -> tuple[str, ...]:
        return self.incident_ids or (self.incident_id,)


@dataclass
class Load:
    """Pages and distinct incidents of one person over a window, split by band."""

    person_id: str
    name: str = ""
    pages: int = 0
    incidents: int = 0
    split: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BANDS, 0))

    def add(self, pages: Iterable[Page], time_zone: str) -> None:
        seen: set[str] = set()
        for page in pages:
            self.pages += 1
            self.split[band(page.at, time_zone)] += 1
            seen.update(page.incidents)
        self.incidents += len(seen)


# ---------------------------------------------------------------- raw pages


# PagerDuty notifies whoever an incident is reassigned to. When that reassignment is a baton
# the receiver accepted in the cockpit (every outbox "reassign" is one), its notification is
# not a page: they asked for it. A notify to the receiver within a minute of that write's
# delivery is left out; ix_outbox_incident serves the lookup.
_BATON_NOTIFY = (
    "SELECT 1 FROM outbox AS o WHERE o.incident_id = t.incident_id AND o.action = 'reassign' "
    "AND o.state = 'sent' "
    "AND json_extract(o.payload, '$.person_id') = substr(t.person_id, instr(t.person_id, ':') + 1) "
    "AND t.at >= datetime(o.last_attempt_at, '-60 seconds') "
    "AND t.at <= datetime(o.sent_at, '+60 seconds')"
)


def _notify_rows(
    conn: sqlite3.Connection, since: datetime, until: datetime, person_id: str | None
) -> list[tuple[str, datetime, str, str]]:
    who, params = (
        ("t.person_id = ?", [person_id]) if person_id is not None else ("t.person_id != ''", [])
    )
    rows = conn.execute(
        "SELECT t.person_id, t.at, t.incident_id, t.channel FROM timeline_events AS t "
        "JOIN incidents AS i ON i.id = t.incident_id "
        f"WHERE t.kind = 'notify' AND t.at >= ? AND t.at < ? AND {who} "
        f"AND t.is_drill = 0 AND i.is_drill = 0 AND NOT EXISTS ({_BATON_NOTIFY}) "
        "ORDER BY t.person_id, t.at",
        [to_db_text(since), to_db_text(until), *params],
    )
    return [(p, stamp(at), i, c) for p, at, i, c in rows]


def dedupe(rows: Iterable[tuple[str, datetime, str, str]]) -> list[Page]:
    """Fold notify rows (sorted by person, then time) into pages; see the module docstring."""
    pages: list[Page] = []
    current: dict[str, int] = {}
    for person, at, incident_id, channel in rows:
        index = current.get(person)
        if index is not None and (at - pages[index].at).total_seconds() < DEDUP_SECONDS:
            page = pages[index]
            channels = page.channels
            if channel and channel not in channels:
                channels = (*channels, channel)
            incidents = page.incidents
            if incident_id not in incidents:
                incidents = (*incidents, incident_id)
            pages[index] = Page(person, page.at, page.incident_id, channels, incidents)
            continue
        current[person] = len(pages)
        pages.append(Page(person, at, incident_id, (channel,) if channel else (), (incident_id,)))
    return pages


def pages(
    store: Store, since: datetime, until: datetime, person_id: str | None = None
) -> list[Page]:
    """Pages that started in [since, until), by person then time.

    Rows from the minute before ``since`` are read too, so that a page which began just
    before the window does not reappear inside it as a second page.
    """
    with store.rows() as conn:
        return _pages(conn, since, until, person_id)


def _pages(
    conn: sqlite3.Connection, since: datetime, until: datetime, person_id: str | None
) -> list[Page]:
    since = as_utc(since)
    rows = _notify_rows(conn, since - timedelta(seconds=DEDUP_SECONDS), until, person_id)
    return [page for page in dedupe(rows) if page.at >= since]


def _people(conn: sqlite3.Connection, ids: Iterable[str]) -> dict[str, PersonRow]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    found = PEOPLE.select(conn, f"WHERE id IN ({', '.join('?' * len(wanted))})", wanted)
    return {person.id: person for person in found}


def _in_team(person: PersonRow | None, team: str | None) -> bool:
    if not team:
        return True
    return person is not None and team.lower() in {t.lower() for t in person.teams}


# ---------------------------------------------------------------- per person, week, shift


def concentration(loads: Iterable[Load]) -> float:
    """The share of all pages carried by the busiest person (0.0 when nobody was paged)."""
    counts = [load.pages for load in loads]
    total = sum(counts)
    return max(counts) / total if total else 0.0


@dataclass(frozen=True)
class ShiftLoad:
    """One judged window of a shift: the shift itself (12 h or less) or one 12-hour block."""

    person_id: str
    start: datetime  # the block's start and end
    end: datetime
    load: Load
    budget: int
    state: State
    reasons: tuple[str, ...] = ()
    shift_start: datetime | None = None
    shift_end: datetime | None = None  # None: the shift is open-ended
    block: int = 0  # 0-based index of the block in its shift
    time_zone: str = "UTC"


def shift_budget(start: datetime, end: datetime) -> int:
    """The incident budget of one judged window of a shift: 2.

    SRE's rule is at most 2 incidents per 12-hour shift, so a window of 12 h or less (an 8 h
    shift, a 12 h one, one block of a longer shift) gets 2, and a longer shift never gets a
    bigger budget: it is judged block by block (:func:`shift_blocks`). Hours on call add up in
    the week budget (:func:`week_budget`) instead.
    """
    return INCIDENTS_PER_12H


def _merge(shifts: Iterable[ShiftRow]) -> dict[str, list[tuple[datetime, datetime | None]]]:
    """Each person's shifts with overlapping ones merged (several escalation levels or
    policies at once are one stretch on call, not the same hours judged twice)."""
    spans: dict[str, list[tuple[datetime, datetime | None]]] = defaultdict(list)
    known = [(r.person_id, as_utc(r.start), r.end and as_utc(r.end)) for r in shifts if r.start]
    for person_id, start, end in sorted(known, key=lambda r: (r[0], r[1])):
        own = spans[person_id]
        if own and (own[-1][1] is None or start < own[-1][1]):
            last_start, last_end = own[-1]
            merged = None if end is None or last_end is None else max(end, last_end)
            own[-1] = (last_start, merged)
        else:
            own.append((start, end))
    return spans


def budget_state(
    shift_incidents: int,
    shift_budget_: int,
    shift_sleep_pages: int,
    week_incidents: int,
    week_budget: int,
    where: str = "this shift",
) -> tuple[State, tuple[str, ...]]:
    """Green, amber or red, with the reasons.

    Red: more incidents this shift than its budget (SRE: more than 2 per 12 h), or more this
    week than the week's budget. Amber: the shift is exactly at its budget of 2 (one more
    incident is red), or the week has used ``WEEK_AMBER_SHARE`` of its budget. Pages in sleep
    hours never change the colour on their own (a block with one incident is under the
    budget, as the README says), but when the colour is amber or red they are named among
    the reasons. ``where`` names the window in the reasons ("this 12 h" for one block of a
    longer shift).
    """
    red, amber = [], []
    if shift_incidents > shift_budget_:
        red.append(f"{shift_incidents} incidents {where}, budget {shift_budget_}")
    elif shift_incidents == shift_budget_ and shift_budget_ > 0:
        amber.append(f"at the shift budget ({shift_budget_} incidents)")
    if week_budget > 0:
        if week_incidents > week_budget:
            red.append(f"{week_incidents} incidents this week, budget {week_budget}")
        elif week_incidents >= WEEK_AMBER_SHARE * week_budget:
            amber.append(f"{week_incidents} of {week_budget} incidents this week")
    sleep = [f"{shift_sleep_pages} page(s) in sleep hours {where}"] if shift_sleep_pages else []
    if red:
        return "red", tuple(red + amber + sleep)
    if amber:
        return "amber", tuple(amber + sleep)
    return "green", ()


# ---------------------------------------------------------------- the meter


@dataclass(frozen=True)
class Meter:
    """What the TUI's page-load meter shows for one person at ``now``.

    The ``shift_*`` counts and budget are for the judged window holding ``now``
    (``block_start`` to ``block_end``): the whole shift when it lasts 12 h or less, else the
    current 12-hour block of it (see :func:`shift_blocks`), or the last 12 hours off shift.
    """

    person_id: str
    now: datetime
    shift_start: datetime
    shift_end: datetime | None  # None: open-ended, or no shift on record (see on_shift)
    shift_pages: int
    shift_incidents: int
    shift_budget: int
    shift_split: dict[str, int]
    week_start: datetime
    week_pages: int
    week_incidents: int
    week_budget: int
    week_split: dict[str, int]
    days: tuple[date, ...]
    daily: tuple[int, ...]  # pages per local day, oldest first, today last
    state: State
    reasons: tuple[str, ...] = ()
    on_shift: bool = True  # False: no shift on record; the last 12 hours are used
    block_start: datetime | None = None
    block_end: datetime | None = None
    block: int = 0  # 0-based index of the current block in the shift
    blocks: int = 1  # how many blocks the shift has (0: open-ended)
    time_zone: str = "UTC"

    @property
    def in_blocks(self) -> bool:
        """The shift is longer than 12 h (or open-ended), so "this shift" is one 12 h block."""
        return self.on_shift and (self.block_start, self.block_end) != (
            self.shift_start,
            self.shift_end,
        )


def _current_shift(
    conn: sqlite3.Connection, person_id: str, now: datetime
) -> tuple[datetime, datetime | None] | None:
    """The shift holding ``now``: several rows at once (levels, policies) are one stretch."""
    stamp = to_db_text(now)
    rows = SHIFTS.select(
        conn,
        "WHERE person_id = ? AND start IS NOT NULL AND start <= ? "
        'AND ("end" IS NULL OR "end" > ?) ORDER BY start, id',
        (person_id, stamp, stamp),
    )
    if not rows:
        return None
    start = min(as_utc(r.start) for r in rows if r.start is not None)
    ends = [r.end for r in rows]
    return start, None if None in ends else max(as_utc(e) for e in ends if e is not None)


def _oncall_hours(
    conn: sqlite3.Connection, person_id: str, start: datetime, end: datetime
) -> float:
    shifts = SHIFTS.select(
        conn,
        'WHERE person_id = ? AND start < ? AND ("end" IS NULL OR "end" > ?)',
        (person_id, to_db_text(end), to_db_text(start)),
    )
    # Overlapping levels and policies must not count the same hour twice.
    spans = sorted((max(s.start or start, start), min(s.end or end, end)) for s in shifts)
    total, cursor = 0.0, start
    for lo, hi in spans:
        lo = max(lo, cursor)
        if hi > lo:
            total += (hi - lo).total_seconds() / 3600
            cursor = hi
    return total


def week_budget(hours_on_call: float | None) -> int:
    """2 incidents per 12 h on call this week; 14 (a 12 h shift a day) when nothing is known."""
    if not hours_on_call:
        return INCIDENTS_PER_12H * 7
    return INCIDENTS_PER_12H * max(1, math.ceil(hours_on_call / 12))


def meter_for(store: Store, person_id: str, now: datetime) -> Meter:
    now = as_utc(now)
    with store.rows() as conn:
        person = PEOPLE.first(conn, "WHERE id = ?", (person_id,))
        tz = person.time_zone if person else "UTC"
        shift = _current_shift(conn, person_id, now)
        if shift is not None:
            shift_start, shift_end = shift
            block, block_start, block_end = block_at(shift_start, shift_end, now)
            blocks = len(shift_blocks(shift_start, shift_end)) if shift_end else 0
        else:
            shift_start, shift_end = now - FALLBACK_SHIFT, None
            block, block_start, block_end, blocks = 0, shift_start, now, 1
        budget = shift_budget(block_start, block_end)
        week_start, week_end = week_bounds(now, tz)
        today = local_day(now, tz)
        days = tuple(today - timedelta(days=n) for n in range(SPARK_DAYS - 1, -1, -1))
        first = min(block_start, week_start, day_start(days[0], tz))
        found = _pages(conn, first, now + timedelta(microseconds=1), person_id)
        hours = _oncall_hours(conn, person_id, week_start, week_end)
    in_shift = [p for p in found if p.at >= block_start]
    in_week = [p for p in found if p.at >= week_start]
    shift_load, week_load = Load(person_id), Load(person_id)
    shift_load.add(in_shift, tz)
    week_load.add(in_week, tz)
    per_day: dict[date, int] = defaultdict(int)
    for page in found:
        per_day[local_day(page.at, tz)] += 1
    wbudget = week_budget(hours)
    in_blocks = shift is not None and (block_start, block_end) != (shift_start, shift_end)
    state, reasons = budget_state(
        shift_load.incidents,
        budget,
        shift_load.split["sleep"],
        week_load.incidents,
        wbudget,
        where="this 12 h of the shift" if in_blocks else "this shift",
    )
    return Meter(
        person_id=person_id,
        now=now,
        shift_start=shift_start,
        shift_end=shift_end,
        shift_pages=shift_load.pages,
        shift_incidents=shift_load.incidents,
        shift_budget=budget,
        shift_split=dict(shift_load.split),
        week_start=week_start,
        week_pages=week_load.pages,
        week_incidents=week_load.incidents,
        week_budget=wbudget,
        week_split=dict(week_load.split),
        days=days,
        daily=tuple(per_day.get(day, 0) for day in days),
        state=state,
        reasons=reasons,
        on_shift=shift is not None,
        block_start=block_start,
        block_end=block_end,
        block=block,
        blocks=blocks,
        time_zone=tz,
    )


def split_of(found: Iterable[Page], time_zone: str) -> dict[Band, int]:
    counts: dict[Band, int] = dict.fromkeys(BANDS, 0)
    for page in found:
        counts[band(page.at, time_zone)] += 1
    return counts
