"""Pulled team events -> rows of the local store, and local rows -> team events.

Each kind of shared thing has a module with a ``capture(conn) -> int`` (queue the local rows
not shared yet; returns how many events) and an ``APPLY`` table from event kind to the
function that applies a pulled event of that kind (returns 'applied', 'parked' or
'skipped'). Adding a shared kind is one module and one line in each table below.

Like :mod:`cockpit.sync.actions`, every function changes the local store in the caller's
transaction, and nothing queues a write to the paging service for another laptop's event.
An event of a kind this cockpit does not know is kept in ``team_parked``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from cockpit.team import batons, handoffs, records, runs
from cockpit.team.events import Pulled, park

__all__ = ["AFTER_PULL", "APPLIERS", "CAPTURES", "Pulled", "after_pull", "apply", "capture"]

Capture = Callable[[sqlite3.Connection], int]
Applier = Callable[[sqlite3.Connection, Pulled], str]

# Order matters: a run, drill or handoff may point at a baton or a run captured before it.
CAPTURES: tuple[Capture, ...] = (batons.capture, runs.capture, handoffs.capture, records.capture)
APPLIERS: dict[str, Applier] = {**batons.APPLY, **runs.APPLY, **handoffs.APPLY, **records.APPLY}
# After each pulled page (and its parked events retried): links between kinds that came down
# in either order (a drill and its run).
AFTER_PULL: tuple[Callable[[sqlite3.Connection], None], ...] = (records.link_runs,)


def capture(conn: sqlite3.Connection) -> int:
    """Queue every local change not shared yet. Runs in the caller's write transaction
    (BEGIN IMMEDIATE), so no local row appears while it reads."""
    return sum(step(conn) for step in CAPTURES)


def after_pull(conn: sqlite3.Connection) -> None:
    for step in AFTER_PULL:
        step(conn)


def apply(conn: sqlite3.Connection, event: Pulled, own_ids: set[str]) -> str:
    """Apply one pulled event; returns 'applied', 'own', 'parked' or 'skipped'."""
    if event.id in own_ids:
        return "own"
    applier = APPLIERS.get(event.kind)
    if applier is None:
        park(conn, event)
        return "parked"
    return applier(conn, event)
