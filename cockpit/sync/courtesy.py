"""A first sync steps aside while the user's key press is answered.

The TUI's sync shares the process with the screen: one core's worth of Python between them,
handed back and forth by the GIL. Taking turns fairly, a tick pressed during a first sync
took twice as long as an idle one (p95 2.2-2.7x). So the screen says when a key arrives
(:func:`step_aside`) and the pull waits its turn (:func:`wait_turn`,
:func:`wait_turn_blocking` in its writer thread) before its next batch: a batch of entries
is ~5 ms of work, so the key's own work runs with the process to itself within a few
milliseconds; and while keys keep coming its transactions are smaller (:func:`parts`), so
the one a tick finds in progress ends sooner. While nobody presses anything the sync never
waits and writes as usual. A held key repeats faster than the hold runs out (~30 ms), so a
wait is cut at :data:`MOST`: the sync still writes a batch at least that often, whatever the
keyboard does.

One process, one user: the state is this module's. ``cockpit sync`` never steps aside.
"""

from __future__ import annotations

import asyncio
import time
from typing import TypeVar

T = TypeVar("T")

# Long enough for a tick to be written and drawn during a sync (~20-30 ms here).
KEY_HOLD = 0.04
# The longest one wait lasts, however the hold is renewed (a held key, a stuck caller).
MOST = 2 * KEY_HOLD

# While a key came in the last ACTIVE seconds, the pull writes SMALL rows a transaction
# instead of its usual 100: a tick waits for the transaction in progress (it cannot be
# stopped), and a smaller one ends sooner. Smaller transactions cost the sync more CPU
# (each commit rewrites the index pages it touched), so only while the user is at the keys.
ACTIVE = 2.0
SMALL = 25

_until = 0.0  # time.monotonic() before which the sync waits; a float: set atomically


def step_aside(seconds: float = KEY_HOLD) -> None:
    """The sync waits ``seconds`` from now before its next batch (never less than asked
    before; each wait is cut at :data:`MOST` all the same)."""
    global _until
    _until = max(_until, time.monotonic() + seconds)


def parts(rows: list[T]) -> list[list[T]]:
    """``rows`` as one transaction's worth, or as several small ones while the user is
    at the keys."""
    if not rows or _until + ACTIVE < time.monotonic():
        return [rows]
    return [rows[n : n + SMALL] for n in range(0, len(rows), SMALL)]


def held() -> float:
    """Seconds the sync still waits (0 when it need not)."""
    return max(0.0, _until - time.monotonic())


# Waits are sliced: a hold that is lifted or shortened (a test; the clock) is seen soon.
_SLICE = 0.05


def deadline() -> float:
    """When a wait starting now is cut: waits that share one (the small transactions of
    one batch) are cut together, so a key held down slows a batch by MOST at most."""
    return time.monotonic() + MOST


def _slice(until: float) -> float:
    """How long to sleep next: 0 once the hold has ended or the wait's deadline passed."""
    return max(0.0, min(held(), until - time.monotonic(), _SLICE))


async def wait_turn() -> None:
    until = deadline()
    while (pause := _slice(until)) > 0:
        await asyncio.sleep(pause)


def wait_turn_blocking(until: float | None = None) -> None:
    """Wait while a key is being answered, until ``until`` (:func:`deadline`) at most."""
    until = deadline() if until is None else until
    while (pause := _slice(until)) > 0:
        time.sleep(pause)


def clear() -> None:
    """No wait from now (tests)."""
    global _until
    _until = 0.0
