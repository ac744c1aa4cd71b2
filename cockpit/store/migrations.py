"""Versioned schema migrations, each applied in one transaction and recorded.

Migrations are the numbered SQL files in ``cockpit/store/sql/`` (``0001_initial.sql``...).
A file is frozen once released; a change to the schema is a new file. A database whose
version is newer than the newest migration we know is refused untouched.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from importlib import resources

from cockpit.errors import StoreError
from cockpit.store.timefmt import to_db_text, utcnow

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    def statements(self) -> list[str]:
        """The file's statements, whole: a trigger's body holds semicolons of its own, so a
        statement ends where SQLite says it is complete, not at every semicolon."""
        found, pending = [], ""
        for line in self.sql.splitlines():
            if line.lstrip().startswith("--"):
                continue
            pending += line + "\n"
            if sqlite3.complete_statement(pending):
                statement = pending.strip().removesuffix(";").strip()
                if statement:
                    found.append(statement)
                pending = ""
        if pending.strip():
            found.append(pending.strip())
        return found


def all_migrations() -> list[Migration]:
    found = []
    for entry in resources.files("cockpit.store.sql").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    for index, migration in enumerate(found, start=1):
        if migration.version != index:
            raise RuntimeError(f"migration numbering has a gap at {migration.version}")
    return found


LATEST = len(all_migrations())


def current_version(conn: sqlite3.Connection) -> int:
    has_table = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_migrations'"
    ).fetchone()
    if not has_table:
        return 0
    value = conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0]
    return int(value or 0)


def migrate(conn: sqlite3.Connection, where: str, upto: int | None = None) -> list[int]:
    """Bring the schema to ``upto`` (default: latest). Returns the versions applied.

    The caller owns the transaction (``conn`` in autocommit mode, inside its ``BEGIN``):
    all of it commits or none of it does.
    """
    target = LATEST if upto is None else upto
    version = current_version(conn)
    if version > LATEST:
        raise StoreError(
            f"{where}: the store is at schema version {version}, newer than this cockpit "
            f"knows ({LATEST}). Upgrade cockpit; the file was not touched."
        )
    if version == 0:
        conn.execute(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
            "name VARCHAR NOT NULL, applied_at TEXT NOT NULL)"
        )
    applied = []
    for migration in all_migrations():
        if version < migration.version <= target:
            for statement in migration.statements():
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, ?)",
                (migration.version, migration.name, to_db_text(utcnow())),
            )
            applied.append(migration.version)
    return applied
