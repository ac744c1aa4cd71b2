"""Opening the store: SQLite in WAL mode with a busy timeout and foreign keys, or a database URL.

Writers take SQLite's write lock up front (``BEGIN IMMEDIATE``) so that two processes never
deadlock upgrading a read lock, which is what turns into "database is locked" under a busy
timeout. Readers use plain deferred transactions and never wait for a writer in WAL mode.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlmodel import Session

from cockpit.errors import StoreError
from cockpit.store import migrations

BUSY_TIMEOUT_MS = 15_000
_SQLITE_MAGIC = b"SQLite format 3\x00"
DB_NAME = "cockpit.db"


def _sqlite_engine(path: Path) -> Engine:
    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        # Take transaction control from the driver so that BEGIN is ours to choose.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = NORMAL")
        # WAL is persistent in the file; asking again is a cheap no-op.
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(conn.get_execution_options().get("sqlite_begin", "BEGIN"))

    return engine


def _describe(error: Exception, where: str) -> StoreError:
    message = str(getattr(error, "orig", error))
    lowered = message.lower()
    if "disk is full" in lowered or "disk full" in lowered:
        return StoreError(
            f"{where}: the disk is full. This change was not saved; everything saved "
            "before it is intact. Free some space and try again."
        )
    if "not a database" in lowered or "malformed" in lowered or "encrypted" in lowered:
        return StoreError(
            f"{where}: the store is damaged or is not a cockpit database ({message}). "
            "It was left untouched: move it aside to start a fresh one."
        )
    if "locked" in lowered or "busy" in lowered:
        return StoreError(
            f"{where}: another process held the store for over {BUSY_TIMEOUT_MS // 1000} s "
            "(a stuck cockpit?). Nothing was written."
        )
    if "readonly" in lowered or "read-only" in lowered or "unable to open" in lowered:
        return StoreError(f"{where}: the store cannot be written ({message}).")
    return StoreError(f"{where}: {message}")


class Store:
    """The local store. Use :meth:`read` for queries and :meth:`write` for changes."""

    def __init__(self, engine: Engine, where: str, path: Path | None = None) -> None:
        self.engine = engine
        self.where = where
        self.path = path
        self._writer = engine.execution_options(sqlite_begin="BEGIN IMMEDIATE")

    @classmethod
    def open(cls, location: Path | str, *, migrate: bool = True) -> Store:
        """Open (creating and migrating) a store.

        ``location`` is a folder (the store is ``cockpit.db`` inside it), a ``.db`` file, or a
        SQLAlchemy URL such as ``postgresql+psycopg://...``.
        """
        if isinstance(location, str) and "://" in location:
            engine = create_engine(location)
            store = cls(engine, location.split("@")[-1])
        else:
            path = Path(location)
            if path.suffix != ".db":
                path = path / DB_NAME
            _check_file(path)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise StoreError(f"{path.parent}: cannot create the data folder: {error}") from None
            store = cls(_sqlite_engine(path), str(path), path)
        try:
            store._prepare(migrate)
        except BaseException:
            store.close()
            raise
        return store

    def _prepare(self, migrate: bool) -> None:
        try:
            with self.engine.connect() as conn:
                version = migrations.current_version(conn)
                conn.rollback()
            if version > migrations.LATEST:
                raise StoreError(
                    f"{self.where}: the store is at schema version {version}, newer than this "
                    f"cockpit knows ({migrations.LATEST}). Upgrade cockpit; the file was not "
                    "touched."
                )
            if migrate and version < migrations.LATEST:
                with self._writer.begin() as conn:
                    migrations.migrate(conn, self.where)
        except (OperationalError, DatabaseError) as error:
            raise _describe(error, self.where) from None

    @property
    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            return migrations.current_version(conn)

    @contextmanager
    def read(self) -> Iterator[Session]:
        session = Session(self.engine, expire_on_commit=False)
        try:
            yield session
        except (OperationalError, DatabaseError) as error:
            raise _describe(error, self.where) from None
        finally:
            session.close()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction holding the write lock; committed on success, rolled back on error."""
        session = Session(self._writer, expire_on_commit=False)
        try:
            yield session
            session.commit()
        except (OperationalError, DatabaseError) as error:
            session.rollback()
            raise _describe(error, self.where) from None
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def integrity_check(self) -> list[str]:
        """SQLite's full integrity check; ``["ok"]`` when the file is sound."""
        with self.engine.connect() as conn:
            return [row[0] for row in conn.exec_driver_sql("PRAGMA integrity_check")]

    def execute(self, sql: str, **params: Any) -> list[Any]:
        """Plain SQL for metrics and diagnostics."""
        with self.read() as session:
            return list(session.connection().execute(text(sql), params))

    def close(self) -> None:
        self.engine.dispose()


def _check_file(path: Path) -> None:
    """Refuse a file that is not an SQLite database, before SQLite gets a chance to write it."""
    if not path.exists():
        return
    try:
        with path.open("rb") as handle:
            head = handle.read(len(_SQLITE_MAGIC))
    except OSError as error:
        raise StoreError(f"{path}: cannot read the store: {error.strerror}") from None
    if head and head != _SQLITE_MAGIC:
        raise StoreError(
            f"{path}: this file is not an SQLite database (damaged, or something else). "
            "It was left untouched: move it aside to start a fresh store."
        )


def open_store(settings: Any) -> Store:
    """The store the settings point at (``database_url`` or ``data_dir``)."""
    url = getattr(settings, "database_url", "") or ""
    return Store.open(url if url else settings.data_path)
