"""The laptop's side of team mode, kept in the local store's own SQLite file (so that applying
a pulled event and recording that it was applied are one transaction) in tables of its own,
``team_*``, versioned by ``team_meta`` and created here, not by the store's migrations.

- ``team_outbox``: local events waiting to go up (a UUIDv7 each, made once, so a retried
  push is the same insert), and what the team store said about them.
- ``team_rows``: which local row is which team event (captured or applied), and the state it
  was last shared in, so a row is never captured twice and a pulled row never goes back up.
- ``team_state``: the pull watermark, the capture watermarks, the last exchange.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import threading
import time
import uuid

TEAM_META_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS team_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS team_outbox (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    incident_key TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',  -- pending | sent | lost
    message TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS team_rows (
    tbl TEXT NOT NULL,
    local_id INTEGER NOT NULL,
    global_id TEXT NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY (tbl, local_id)
);
CREATE INDEX IF NOT EXISTS team_rows_global ON team_rows (global_id);
CREATE TABLE IF NOT EXISTS team_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS team_parked (
    id TEXT PRIMARY KEY, tx TEXT NOT NULL, kind TEXT NOT NULL, incident_key TEXT NOT NULL,
    payload TEXT NOT NULL, author TEXT NOT NULL, origin TEXT NOT NULL
);
"""


class TeamLocalError(Exception):
    pass


def ensure(conn: sqlite3.Connection) -> None:
    """Create the team tables (inside the caller's transaction); refuse a newer layout."""
    for statement in _SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)
    row = conn.execute("SELECT value FROM team_meta WHERE key = 'version'").fetchone()
    if row is None:
        conn.execute("INSERT INTO team_meta VALUES ('version', ?)", (str(TEAM_META_VERSION),))
    elif int(row[0]) > TEAM_META_VERSION:
        raise TeamLocalError(
            f"this store's team tables are version {row[0]}, newer than this cockpit knows "
            f"({TEAM_META_VERSION}): upgrade cockpit"
        )


def get_state(conn: sqlite3.Connection, key: str, default: str = "") -> str:
    row = conn.execute("SELECT value FROM team_state WHERE key = ?", (key,)).fetchone()
    return str(row[0]) if row else default


def set_state(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO team_state VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


_last_uuid = 0
_uuid_lock = threading.Lock()


def uuid7() -> str:
    """A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits; monotonic in this
    process (RFC 9562 section 6.2): an id made in the same millisecond as the one before is
    that one plus one, so events pushed in one batch keep the order they were made in."""
    global _last_uuid
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(secrets.token_bytes(10), "big")
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    with _uuid_lock:
        if value <= _last_uuid:
            value = _last_uuid + 1
        _last_uuid = value
    return str(uuid.UUID(int=value))


def origin() -> str:
    """Which laptop: the host name, overridable for tests and shared machines."""
    return os.environ.get("COCKPIT_TEAM_ORIGIN") or os.uname().nodename
