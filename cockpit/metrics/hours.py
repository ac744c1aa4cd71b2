"""Which kind of hour a moment is for one person: business, off-hours or sleep, in their zone.

Business is 08-18 Monday to Friday, off-hours 18-22 Monday to Friday and 08-22 at weekends,
sleep 22-08 every day. The zone is the person's own IANA zone, so a page at 03:00 in Berlin
is sleep even when the store (and the team lead) live in UTC; ``zoneinfo`` makes DST days
come out right (the wall clock is what wakes people, not UTC).

A shift is judged in 12-hour blocks of absolute time counted from its start (a DST night
does not stretch a block); the wall clock only decides the band.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Band = Literal["business", "off_hours", "sleep"]
BANDS: tuple[Band, ...] = ("business", "off_hours", "sleep")
# SRE's budget is per 12-hour shift: a longer shift is judged in blocks this long.
BLOCK = timedelta(hours=12)


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    """The person's zone; an unknown or empty name counts as UTC rather than failing a report."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def band(at: datetime, time_zone: str) -> Band:
    local = at.astimezone(zone(time_zone))
    hour = local.hour
    if hour >= 22 or hour < 8:
        return "sleep"
    if local.weekday() >= 5 or hour >= 18:
        return "off_hours"
    return "business"


def local_day(at: datetime, time_zone: str) -> date:
    return at.astimezone(zone(time_zone)).date()


def day_start(day: date, time_zone: str) -> datetime:
    """Local midnight of ``day`` as aware UTC (a DST day is 23 or 25 hours long)."""
    return datetime.combine(day, time(0), tzinfo=zone(time_zone)).astimezone(UTC)


def week_bounds(now: datetime, time_zone: str) -> tuple[datetime, datetime]:
    """The person's ISO week (Monday 00:00 local to the next Monday 00:00 local), in UTC."""
    today = local_day(now, time_zone)
    monday = today - timedelta(days=today.weekday())
    return day_start(monday, time_zone), day_start(monday + timedelta(days=7), time_zone)


def week_of(at: datetime, time_zone: str) -> date:
    """The Monday (local) of the ISO week holding ``at``."""
    day = local_day(at, time_zone)
    return day - timedelta(days=day.weekday())


def shift_blocks(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The windows a shift is judged in: itself when it lasts 12 h or less, else its 12-hour
    blocks counted from its start (a 7-day shift: 14 blocks), the last one cut at its end."""
    if end - start <= BLOCK:
        return [(start, end)]
    count = math.ceil((end - start) / BLOCK)
    return [(start + k * BLOCK, min(start + (k + 1) * BLOCK, end)) for k in range(count)]


def block_at(start: datetime, end: datetime | None, at: datetime) -> tuple[int, datetime, datetime]:
    """The 0-based index, start and end of the window of the shift [start, end) holding ``at``
    (``end`` None: an open-ended shift, judged in 12-hour blocks from its start)."""
    if end is not None and end - start <= BLOCK:
        return 0, start, end
    k = max(0, (at - start) // BLOCK)
    lo = start + k * BLOCK
    hi = lo + BLOCK if end is None else min(lo + BLOCK, end)
    return k, lo, hi
