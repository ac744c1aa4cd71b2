"""Runbook runs and their events as team events (filled in by the runs work)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from cockpit.team.events import Pulled


def capture(conn: sqlite3.Connection) -> int:
    return 0


APPLY: dict[str, Callable[[sqlite3.Connection, Pulled], str]] = {}
