"""Drills and debriefs, insights and guardrails, local notes as team events (to be filled)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from cockpit.team.events import Pulled


def capture(conn: sqlite3.Connection) -> int:
    return 0


APPLY: dict[str, Callable[[sqlite3.Connection, Pulled], str]] = {}
