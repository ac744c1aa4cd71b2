"""Median, p95 and mean of a small sample, with the method spelled out.

p95 is the *nearest-rank* percentile: sort the n values and take the one at 1-based rank
``ceil(0.95 * n)``. It is always a value that was observed (no interpolation inventing a
time nobody waited), and on the small samples a team sees in a week it is honest: for
n < 20 the p95 is the maximum (n = 20 gives the 19th value, n = 100 the 95th). The median
is the usual one (the mean of the two middle values when n is even), as a spreadsheet has it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Summary:
    count: int = 0
    median: float | None = None
    p95: float | None = None
    mean: float | None = None


def nearest_rank(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        raise ValueError("no values")
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def median(sorted_values: list[float]) -> float:
    n = len(sorted_values)
    middle = n // 2
    if n % 2:
        return sorted_values[middle]
    return (sorted_values[middle - 1] + sorted_values[middle]) / 2


def summarise(values: Iterable[float]) -> Summary:
    ordered = sorted(values)
    if not ordered:
        return Summary()
    return Summary(
        count=len(ordered),
        median=median(ordered),
        p95=nearest_rank(ordered, 95),
        mean=sum(ordered) / len(ordered),
    )


def format_seconds(value: float | None) -> str:
    """``42s``, ``7m05s``, ``3h12m``; ``-`` for no value."""
    if value is None:
        return "-"
    seconds = int(round(value))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
