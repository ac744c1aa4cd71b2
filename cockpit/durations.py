"""Durations as people type and read them: ``90s``, ``30m``, ``2h``, ``1d``, ``2w``."""

from __future__ import annotations

import math
from datetime import UTC, datetime

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}


def parse_duration(text: str, default_unit: str = "s") -> int:
    """Seconds in ``text``; a bare number is in ``default_unit``.

    Raises:
        ValueError: not a positive, finite duration.
    """
    value = text.strip().lower()
    if not value:
        raise ValueError(text)
    number, unit = (value[:-1], value[-1]) if value[-1] in UNITS else (value, default_unit)
    try:
        seconds = float(number) * UNITS[unit]
    except (ValueError, OverflowError):
        raise ValueError(text) from None
    if not math.isfinite(seconds) or seconds < 1:
        raise ValueError(text)
    return int(seconds)


def compact(seconds: int) -> str:
    """The shortest exact form: ``2h``, ``90m``, ``45s``."""
    if seconds and seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds and seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"


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
