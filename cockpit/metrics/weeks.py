"""The stats report from per-week parts, the finished weeks kept in the store.

``cockpit stats --since 52w`` at 100,000 incidents read and folded ~157,000 notify rows
and 52,000 incidents on every run (issue 17 item 6). Here the window is cut at UTC Mondays
into parts: the head (from ``since`` to the first Monday), whole weeks, and the tail (the
week holding ``until``). Each part is what its rows add to the report: its pages folded and
counted per person and local week, per judged shift block, in all; its incidents' times to
acknowledge and resolve (integer microseconds, kept whole because the report takes medians
and percentiles of them), its times to rollback, change events and flywheel counts. Parts
add up to the report exactly: counts add; distinct incidents add for the incidents a part
holds whole (every notify row of theirs is in it: no other part can count them) and are ids
joined for the others, the only ones a part keeps by id.

A whole week's part is kept in ``stats_weeks`` (migration 0006), whose triggers delete it
whenever anything the week's figures read changes (a late notify row, an incident turned
drill, an acknowledgement, a baton delivered...): a kept part is current. The parts a report
computed are stored in the transaction that read them, upgraded to a write without waiting:
SQLite refuses the upgrade when another connection holds the write lock (a sync's batch) or
has committed since the read began, and then nothing is stored this time, so a part read
before a change can never be kept after it.

What a week cannot know from its own rows is checked when it is used:

- the 60-second page fold runs across the week's start: a page that began in the last
  minute of the week before absorbs the first rows of this one. A part records the pages
  still open at its start (``carry_in``: person -> (start, counted)) and at its end; a kept
  week is used only when the pages open at its start are exactly those the report has at
  that point, else it is folded again from there (so a late row near the end of a week
  refolds the next one too);
- a person's zone (their bands and local weeks) and the shifts the week's pages fall in
  (their judged blocks) are recorded with the part and compared with the store's.

A part that fails to read (damaged, an older format) is computed again, never an error;
one that reads but fails to add up makes the report forget the kept weeks and compute from
the rows (``report.stats_report``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from cockpit.metrics.flywheel import _INCIDENT_WEEKS, _INSIGHT_WEEKS
from cockpit.metrics.pageload import DEDUP_SECONDS, Load, ShiftLoad, _in_team
from cockpit.metrics.pagelog import (
    _NOTIFY_MICROS,
    EPOCH,
    EPOCH_DAY,
    US,
    LocalClock,
    Spans,
    clock,
    judged_blocks,
    micros,
    shift_spans,
)
from cockpit.metrics.response import (
    Durations,
    GroupBy,
    ResponseRow,
    assemble,
    in_team,
    team_needle,
    window_changes,
    window_durations,
    window_rollbacks,
)
from cockpit.store.engine import Store
from cockpit.store.records import PEOPLE, PersonRow
from cockpit.store.timefmt import as_utc, to_db_text

# Bumped whenever what a part holds, or how it is computed, changes: older rows are refolded.
FORMAT = 2
DAY_US = 86400 * US
WEEK_US = 7 * DAY_US
DEDUP_US = DEDUP_SECONDS * US
BLOCK_US = 12 * 3600 * US
_HOUR = 3600
_DAY = 86400

# A tally: pages, business, off-hours and sleep pages, then the distinct incidents: a set of
# ids while a part is folded; once it is done, how many of them are the part's own and the
# ids of the others (:func:`_settle`).
Tally = list[Any]
# Pages still open at a part's edge: person -> (start in microseconds, counted in the window).
Carry = dict[str, tuple[int, bool]]
# The shifts a part's pages can fall in: (person, start, end or None), in microseconds.
SpanKey = list[tuple[str, int, int | None]]


@dataclass
class Part:
    """What the rows of [lo, hi) add to the report (times in microseconds since the epoch)."""

    lo: int
    hi: int
    carry_in: Carry
    carry_out: Carry = field(default_factory=dict)
    zones: dict[str, str] = field(default_factory=dict)
    spans: SpanKey = field(default_factory=list)
    weeks: dict[tuple[str, int], Tally] = field(default_factory=dict)  # (who, local Monday)
    blocks: dict[tuple[str, int], Tally] = field(default_factory=dict)  # (who, block start)
    # who -> [the part's own incidents, the ids of others] over all the person's tallies
    people: dict[str, list[Any]] = field(default_factory=dict)
    pages: int = 0
    durations: Durations = field(default_factory=dict)
    rollbacks: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    changes: dict[str, int] = field(default_factory=dict)
    # incidents, with an insight, guardrails, runbook drafts, insight rows
    flywheel: list[int] = field(default_factory=lambda: [0, 0, 0, 0, 0])

    def dumps(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "lo": self.lo,
                "hi": self.hi,
                "carry_in": [[who, at, kept] for who, (at, kept) in self.carry_in.items()],
                "carry_out": [[who, at, kept] for who, (at, kept) in self.carry_out.items()],
                "zones": self.zones,
                "spans": self.spans,
                "weeks": [[*key, *tally] for key, tally in self.weeks.items()],
                "blocks": [[*key, *tally] for key, tally in self.blocks.items()],
                "people": [[who, *own] for who, own in self.people.items()],
                "pages": self.pages,
                "durations": [[*key, *own] for key, own in self.durations.items()],
                "rollbacks": [[*key, own] for key, own in self.rollbacks.items()],
                "changes": self.changes,
                "flywheel": self.flywheel,
            },
            separators=(",", ":"),
        )

    @classmethod
    def loads(cls, text: str) -> Part:
        """A kept part; any damage or another format raises (the caller refolds the week)."""
        data = json.loads(text)
        if data["format"] != FORMAT:
            raise ValueError("another format")

        def tallies(rows: list[list[Any]]) -> dict[tuple[str, int], Tally]:
            return {
                (str(who), int(at)): [int(p), int(b), int(o), int(s), int(own), _ids(others)]
                for who, at, p, b, o, s, own, others in rows
            }

        def carry(rows: list[list[Any]]) -> Carry:
            return {str(who): (int(at), bool(kept)) for who, at, kept in rows}

        return cls(
            lo=int(data["lo"]),
            hi=int(data["hi"]),
            carry_in=carry(data["carry_in"]),
            carry_out=carry(data["carry_out"]),
            zones={str(k): str(v) for k, v in data["zones"].items()},
            spans=[(str(p), int(s), None if e is None else int(e)) for p, s, e in data["spans"]],
            weeks=tallies(data["weeks"]),
            blocks=tallies(data["blocks"]),
            people={str(who): [int(own), _ids(others)] for who, own, others in data["people"]},
            pages=int(data["pages"]),
            durations={
                (service, joined): (int(count), list(acks), list(fixes))
                for service, joined, count, acks, fixes in data["durations"]
            },
            rollbacks={(service, joined): list(own) for service, joined, own in data["rollbacks"]},
            changes={str(k): int(v) for k, v in data["changes"].items()},
            flywheel=[int(n) for n in data["flywheel"]],
        )


def _ids(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError("not a list of ids")
    return value


def _span_key(spans: dict[str, list[tuple[int, int | None]]], lo: int, hi: int) -> SpanKey:
    """The shifts whose blocks pages of [lo, hi) (and pages open at lo) can fall in."""
    return [
        (who, start, end)
        for who in sorted(spans)
        for start, end in spans[who]
        if start < hi and (end is None or end > lo - DEDUP_US)
    ]


def _zone_of(people: dict[str, PersonRow], who: str) -> str:
    person = people.get(who)
    return person.time_zone if person else "UTC"


class _Folder:
    """Folds one part's notify rows into pages (the rule of :func:`pagelog.fold`) and counts
    them per person and local week, per judged block, and in all."""

    def __init__(
        self,
        part: Part,
        people: dict[str, PersonRow],
        spans: dict[str, list[tuple[int, int | None]]],
    ) -> None:
        self.part = part
        self.people = people
        self.spans = spans
        self.clocks: dict[str, LocalClock] = {}

    def _clock(self, who: str) -> LocalClock:
        found = self.clocks.get(who)
        if found is None:
            tz = _zone_of(self.people, who)
            self.part.zones[who] = tz
            found = self.clocks[who] = clock(tz)
        return found

    def tallies(self, who: str, at: int) -> tuple[tuple[Tally, ...], int]:
        """The tallies a page of ``who`` starting at ``at`` counts in, and its band."""
        part = self.part
        local = self._clock(who).seconds(at)
        hour = local // _HOUR % 24
        day = local // _DAY
        weekday = (day + 3) % 7
        band = 2 if hour >= 22 or hour < 8 else 1 if weekday >= 5 or hour >= 18 else 0
        key = (who, day - weekday)
        week = part.weeks.get(key)
        if week is None:
            week = part.weeks[key] = [0, 0, 0, 0, set()]
        own = self.spans.get(who)
        if own:
            for start, end in own:
                if start <= at and (end is None or at < end):
                    block_key = (who, start + (at - start) // BLOCK_US * BLOCK_US)
                    block = part.blocks.get(block_key)
                    if block is None:
                        block = part.blocks[block_key] = [0, 0, 0, 0, set()]
                    return (week, block), band
        return (week,), band

    def fold(self, rows: Iterable[tuple[str, int, str]], since_us: int) -> None:
        part = self.part
        current: dict[str, tuple[int, tuple[Tally, ...]]] = {}
        for who, (at, kept) in part.carry_in.items():
            current[who] = (at, self.tallies(who, at)[0] if kept else ())
        tallies = self.tallies
        pages = 0
        for who, at, incident in rows:
            page = current.get(who)
            if page is not None and at - page[0] < DEDUP_US:
                for tally in page[1]:
                    tally[4].add(incident)
                continue
            if at < since_us:
                current[who] = (at, ())
                continue
            counted, band = tallies(who, at)
            for tally in counted:
                tally[0] += 1
                tally[1 + band] += 1
                tally[4].add(incident)
            current[who] = (at, counted)
            pages += 1
        part.pages = pages
        part.carry_out = {
            who: (at, bool(counted))
            for who, (at, counted) in sorted(current.items())
            if part.hi - at < DEDUP_US
        }


# The incidents of [lo, hi) whose every notify row is in [lo, hi) too: no other part can
# count them, so a part keeps only how many of them a tally holds, not their ids. A notify
# row added later anywhere deletes its incident's kept week (migration 0006): the week is
# refolded when one of its own incidents stops being its own.
_OWN = (
    "SELECT i.id FROM incidents AS i WHERE i.created_at >= ? AND i.created_at < ? "
    "AND NOT EXISTS (SELECT 1 FROM timeline_events AS o WHERE o.incident_id = i.id "
    "AND o.kind = 'notify' AND (o.at < ? OR o.at >= ?))"
)


def _settle(part: Part, own: set[str]) -> None:
    """Each tally's set of incidents as (how many are the part's own, the others' ids), and
    the same per person over all their tallies."""
    people: dict[str, set[str]] = {}
    for tallies in (part.weeks, part.blocks):
        for (who, _), tally in tallies.items():
            found: set[str] = tally[4]
            if tallies is part.weeks:
                people.setdefault(who, set()).update(found)
            others = sorted(found - own)
            tally[4:] = [len(found) - len(others), others]
    for who, found in sorted(people.items()):
        others = sorted(found - own)
        part.people[who] = [len(found) - len(others), others]


def _text(at_us: int) -> str:
    return to_db_text(EPOCH + timedelta(microseconds=at_us))


def compute_part(
    conn: sqlite3.Connection,
    lo: int,
    hi: int,
    since_us: int,
    carry_in: Carry,
    people: dict[str, PersonRow],
    spans: dict[str, list[tuple[int, int | None]]],
    *,
    head: bool = False,
) -> Part:
    """The part [lo, hi) from the store, the pages open at ``lo`` being ``carry_in``; the
    head of the window has none and reads the minute before ``since``, as the report does,
    so that a page begun just before the window is not counted again inside it."""
    part = Part(lo, hi, dict(carry_in), spans=_span_key(spans, lo, hi))
    folder = _Folder(part, people, spans)
    read_from = lo - DEDUP_US if head else lo
    window = [_text(lo), _text(hi)]
    folder.fold(conn.execute(_NOTIFY_MICROS, (_text(read_from), window[1])), since_us)
    own = {incident for (incident,) in conn.execute(_OWN, [*window, _text(read_from), window[1]])}
    _settle(part, own)
    part.durations = window_durations(conn, window)
    part.rollbacks = window_rollbacks(conn, window)
    part.changes = window_changes(conn, window)
    for _day, incidents, with_insight in conn.execute(_INCIDENT_WEEKS, window):
        part.flywheel[0] += incidents
        part.flywheel[1] += with_insight
    for _day, guardrails, runbooks in conn.execute(_INSIGHT_WEEKS, window):
        part.flywheel[2] += guardrails
        part.flywheel[3] += runbooks
        part.flywheel[4] += 1
    return part


@dataclass
class Gathered:
    """The window's parts added up, and the fresh whole weeks worth keeping."""

    since: datetime
    until: datetime
    people: dict[str, PersonRow]
    spans: Spans
    parts: list[Part] = field(default_factory=list)
    fresh: list[tuple[int, str]] = field(default_factory=list)  # week, part
    kept: int = 0  # whole weeks taken from the store


def _day_of(at_us: int) -> int:
    return at_us // DAY_US


def _read_kept(conn: sqlite3.Connection, first: int, last: int) -> dict[int, str]:
    """Week -> its kept part, as stored."""
    try:
        rows = conn.execute(
            "SELECT week, data FROM stats_weeks WHERE week >= ? AND week <= ?", (first, last)
        ).fetchall()
    except sqlite3.OperationalError:  # a store not migrated to 0006: nothing kept
        return {}
    return {week: data for week, data in rows if isinstance(data, str)}


def gather(
    conn: sqlite3.Connection,
    since: datetime,
    until: datetime,
    checkpoint: Callable[[], None],
    *,
    use_kept: bool = True,
) -> Gathered:
    """The window's parts on an open read transaction (one snapshot)."""
    since, until = as_utc(since), as_utc(until)
    since_us, until_us = micros(since), micros(until)
    people = {person.id: person for person in PEOPLE.select(conn, "")}
    spans = shift_spans(conn, since, until)
    spans_us = {
        who: [(micros(start), None if end is None else micros(end)) for start, end in own]
        for who, own in spans.items()
    }
    found = Gathered(since, until, people, spans)
    monday = _day_of(since_us) - (_day_of(since_us) + 3) % 7
    first = monday * DAY_US if monday * DAY_US >= since_us else (monday + 7) * DAY_US
    first = min(first, until_us)
    head = compute_part(conn, since_us, first, since_us, {}, people, spans_us, head=True)
    found.parts.append(head)
    carry = head.carry_out
    whole = range(first, until_us - WEEK_US + 1, WEEK_US)
    kept = _read_kept(conn, _day_of(first), _day_of(until_us)) if use_kept and len(whole) else {}
    for lo in whole:
        checkpoint()
        week = _day_of(lo)
        data = kept.get(week, "")
        part = _usable(data, lo, carry, people, spans_us) if data else None
        if part is None:
            part = compute_part(conn, lo, lo + WEEK_US, since_us, carry, people, spans_us)
            if use_kept:
                found.fresh.append((week, part.dumps()))
        else:
            found.kept += 1
        found.parts.append(part)
        carry = part.carry_out
    tail_lo = whole[-1] + WEEK_US if len(whole) else first
    if tail_lo < until_us:
        checkpoint()
        found.parts.append(compute_part(conn, tail_lo, until_us, since_us, carry, people, spans_us))
    return found


def _usable(
    data: str,
    lo: int,
    carry: Carry,
    people: dict[str, PersonRow],
    spans: dict[str, list[tuple[int, int | None]]],
) -> Part | None:
    """The kept part if it holds what this report needs of [lo, lo + a week), else None."""
    try:
        part = Part.loads(data)
    except DAMAGE:
        return None
    if part.lo != lo or part.hi != lo + WEEK_US or part.carry_in != carry:
        return None
    if any(_zone_of(people, who) != tz for who, tz in part.zones.items()):
        return None
    if part.spans != _span_key(spans, lo, lo + WEEK_US):
        return None
    return part


# What a kept part that is not what this code wrote can raise while it is read or added up.
DAMAGE = (ValueError, TypeError, KeyError, AttributeError, IndexError)


def forget(store: Store) -> bool:
    """Delete every kept week, only if the store's write lock is free now."""
    return store.try_write("DELETE FROM stats_weeks")


def store_fresh(conn: sqlite3.Connection, fresh: list[tuple[int, str]]) -> bool:
    """Keep the freshly computed weeks, in the read transaction they were computed in
    (``conn``), upgraded to a write only if that needs no wait: another writer holding the
    lock (a sync's batch) or a commit since the read began make SQLite refuse at once, and the
    report stands without its cache. True when stored."""
    if not fresh:
        return False
    try:
        conn.execute("PRAGMA busy_timeout = 0")
        conn.executemany("INSERT OR REPLACE INTO stats_weeks (week, data) VALUES (?, ?)", fresh)
        conn.execute("COMMIT")
        return True
    except sqlite3.Error:  # busy, changed since, read-only, full: not kept this time
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        return False


# ---------------------------------------------------------------- adding the parts up


def _add(into: dict[Any, Tally], tallies: dict[Any, Tally]) -> None:
    """Tallies added up: counts summed, the lists of other parts' ids gathered (a part's own
    incidents are nobody else's, so their counts add)."""
    for key, tally in tallies.items():
        mine = into.get(key)
        if mine is None:
            into[key] = [*tally[:5], [tally[5]] if tally[5] else []]
        else:
            mine[0] += tally[0]
            mine[1] += tally[1]
            mine[2] += tally[2]
            mine[3] += tally[3]
            mine[4] += tally[4]
            if tally[5]:
                mine[5].append(tally[5])


def _distinct(own: int, others: list[list[str]]) -> int:
    if not others:
        return own
    if len(others) == 1:
        return own + len(others[0])  # one part's ids, already distinct
    return own + len(set().union(*others))


def _load(who: str, name: str, tally: Tally | None, incidents: int | None = None) -> Load:
    if tally is None:
        return Load(who, name)
    if incidents is None:
        incidents = _distinct(tally[4], tally[5])
    split = {"business": tally[1], "off_hours": tally[2], "sleep": tally[3]}
    return Load(who, name, tally[0], incidents, split)


@dataclass
class Figures:
    weekly: dict[str, dict[date, Load]]
    loads: list[Load]
    blocks: list[ShiftLoad]
    response: list[ResponseRow]
    pages_by_week: dict[date, int]
    flywheel: dict[date, list[int]]


def figures(
    conn: sqlite3.Connection,
    found: Gathered,
    *,
    by: GroupBy = "service",
    team: str | None = None,
) -> Figures:
    """The report's figures from the parts (the team and grouping applied here)."""
    weeks: dict[tuple[str, int], Tally] = {}
    blocks: dict[tuple[str, int], Tally] = {}
    durations: dict[tuple[str, str], tuple[list[int], list[int], list[int]]] = {}
    rollbacks: dict[tuple[str, str], list[float]] = {}
    changes: dict[str, int] = {}
    pages: dict[date, int] = {}
    flywheel: dict[date, list[int]] = {}
    people_incidents: dict[str, Tally] = {}
    for part in found.parts:
        _add(weeks, part.weeks)
        _add(blocks, part.blocks)
        _add(people_incidents, {who: [0, 0, 0, 0, *own] for who, own in part.people.items()})
        for key, (count, acks, fixes) in part.durations.items():
            own = durations.get(key)
            if own is None:
                own = durations[key] = ([0], [], [])
            own[0][0] += count
            own[1].extend(acks)
            own[2].extend(fixes)
        for key, seconds in part.rollbacks.items():
            rollbacks.setdefault(key, []).extend(seconds)
        for service, count in part.changes.items():
            changes[service] = changes.get(service, 0) + count
        day = _day_of(part.lo)
        monday = EPOCH_DAY + timedelta(days=day - (day + 3) % 7)
        if part.pages:
            pages[monday] = pages.get(monday, 0) + part.pages
        if part.flywheel[0] or part.flywheel[4]:
            sums = flywheel.setdefault(monday, [0, 0, 0, 0])
            for index in range(4):
                sums[index] += part.flywheel[index]
    people = found.people

    def name_of(who: str) -> str:
        person = people.get(who)
        return person.name if person else who

    by_person: dict[str, dict[date, Load]] = {}
    totals: dict[str, Tally] = {}
    for (who, monday_day), tally in sorted(weeks.items()):
        if not tally[0]:
            continue  # only incidents joining a page counted in another week
        by_person.setdefault(who, {})[EPOCH_DAY + timedelta(days=monday_day)] = _load(
            who, name_of(who), tally
        )
        total = totals.get(who)
        if total is None:
            totals[who] = tally[:4]
        else:
            for index in range(4):
                total[index] += tally[index]
    weekly = {who: own for who, own in by_person.items() if _in_team(people.get(who), team)}
    loads = []
    for who in by_person:
        if _in_team(people.get(who), team):
            own, others = people_incidents[who][4:]
            loads.append(_load(who, name_of(who), [*totals[who], 0, []], _distinct(own, others)))
    loads.sort(key=lambda load: (-load.pages, load.person_id))

    def block_load(who: str, name: str, _tz: str, lo: datetime, _hi: datetime) -> Load:
        return _load(who, name, blocks.get((who, micros(lo))))

    judged = judged_blocks(conn, found.since, found.until, people, found.spans, team, block_load)
    needle = team_needle(team) if team else None
    own_durations: Durations = {
        key: (count[0], acks, fixes)
        for key, (count, acks, fixes) in durations.items()
        if needle is None or in_team(key[1], needle)
    }
    own_rollbacks = {
        key: seconds
        for key, seconds in rollbacks.items()
        if needle is None or in_team(key[1], needle)
    }
    response = assemble(own_durations, own_rollbacks, changes, by=by, team=team)
    return Figures(weekly, loads, judged, response, pages, flywheel)
