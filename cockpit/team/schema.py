"""The team store's schema: numbered SQL migrations in ``cockpit/team/sql/``, applied in
order and recorded in ``team_schema_migrations``, like the local store's. A team store whose
schema is newer than this cockpit knows is refused with a message saying to upgrade."""

from __future__ import annotations

import re
from importlib import resources
from typing import TYPE_CHECKING

from cockpit.errors import CockpitError

if TYPE_CHECKING:
    import psycopg

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
NOTIFY_CHANNEL = "cockpit_team"
MEMBER_ROLE = "cockpit_team"


class TeamSchemaError(CockpitError):
    """The team store's schema cannot be used by this cockpit."""


def migrations() -> list[tuple[int, str, str]]:
    """(version, file name, SQL), in order."""
    found: list[tuple[int, str, str]] = []
    for entry in resources.files("cockpit.team").joinpath("sql").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    return found


def known_version() -> int:
    return migrations()[-1][0]


def current_version(conn: psycopg.Connection) -> int:
    """The team store's schema version; 0 for a database without the team schema."""
    row = conn.execute("SELECT to_regclass('team_schema_migrations') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return 0
    got = conn.execute("SELECT coalesce(max(version), 0) FROM team_schema_migrations").fetchone()
    return int(got[0]) if got else 0


def check(conn: psycopg.Connection) -> int:
    """The version, after refusing a schema this cockpit cannot use (too new, or none)."""
    version = current_version(conn)
    known = known_version()
    if version > known:
        raise TeamSchemaError(
            f"the team store's schema is version {version}, newer than this cockpit knows "
            f"({known}): upgrade cockpit on this laptop before joining"
        )
    if version == 0:
        raise TeamSchemaError(
            "this database has no team schema: run `cockpit team init URL` (as its owner) first"
        )
    if version < known:
        raise TeamSchemaError(
            f"the team store's schema is version {version}, older than this cockpit's "
            f"({known}): run `cockpit team init URL` as its owner to upgrade it"
        )
    return version


def migrate(conn: psycopg.Connection) -> tuple[int, int]:
    """Create or upgrade the schema in one transaction each step; (before, after)."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('cockpit_team_schema'))")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS team_schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        before = current_version(conn)
        known = known_version()
        if before > known:
            raise TeamSchemaError(
                f"the team store's schema is version {before}, newer than this cockpit knows "
                f"({known}): upgrade cockpit before running `cockpit team init`"
            )
        for version, name, sql in migrations():
            if version <= before:
                continue
            conn.execute(sql.encode())
            conn.execute(
                "INSERT INTO team_schema_migrations (version, name) VALUES (%s, %s)",
                (version, name),
            )
    return before, known_version()
