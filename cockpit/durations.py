"""Durations as people type and read them: ``90s``, ``30m``, ``2h``, ``1d``, ``2w``.

One parser with one meaning for every command and dialog: a number alone is minutes (the
unit a snooze is thought of in), and what was understood is always shown back with its unit
(:func:`compact`, :func:`describe`).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_NAMES = (("week", 604_800), ("day", 86_400), ("hour", 3600), ("minute", 60), ("second", 1))
DEFAULT_UNIT = "m"
HELP = "a duration such as 90s, 30m, 2h, 1d or 2w (a number alone is minutes)"


def parse_duration(text: str, default_unit: str = DEFAULT_UNIT) -> int:
    """Seconds in ``text``; a number alone is in ``default_unit`` (minutes; every caller in
    the cockpit keeps that default, so ``30`` means 30 minutes everywhere).

    Raises:
        ValueError: not a positive, finite duration; its message says what is accepted.
    """
    value = text.strip().lower()
    if not value:
        raise ValueError(f"no duration given: give {HELP}")
    number, unit = (value[:-1], value[-1]) if value[-1] in UNITS else (value, default_unit)
    try:
        seconds = float(number.strip()) * UNITS[unit]
    except (ValueError, OverflowError, KeyError):
        raise ValueError(f"{text.strip()!r} is not a duration: give {HELP}") from None
    if not math.isfinite(seconds) or seconds < 1:
        raise ValueError(f"{text.strip()!r} is not a positive duration: give {HELP}")
    return int(seconds)


def compact(seconds: int) -> str:
    """The shortest exact form: ``2w``, ``1d``, ``2h``, ``90m``, ``45s``."""
    for unit, size in (("w", 604_800), ("d", 86_400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def describe(seconds: int) -> str:
    """In words and exact: ``30 minutes``, ``1 hour 30 minutes``, ``1 day 6 hours``."""
    parts: list[str] = []
    rest = max(0, seconds)
    for name, size in _NAMES:
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count} {name}{'s' if count != 1 else ''}")
    return " ".join(parts) or "0 seconds"


def age(since: datetime | None, now: datetime) -> str:
    """A short age: ``45s``, ``12m``, ``3h05m``, ``2d4h``; "" when there is no start."""
    if since is None:
        return ""
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    seconds = max(0, int((now - since).total_seconds()))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d{seconds % 86400 // 3600}h"
