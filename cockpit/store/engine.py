"""Opening the store: SQLite in WAL mode with a busy timeout and foreign keys.

Writers take SQLite's write lock up front (``BEGIN IMMEDIATE``) so that two processes never
deadlock upgrading a read lock, which is what turns into "database is locked" under a busy
timeout. Readers use plain deferred transactions and never wait for a writer in WAL mode.

Two ways in: :meth:`Store.read` / :meth:`Store.write` give SQLModel sessions (the ORM, for
changes and most queries); :meth:`Store.rows` gives a plain ``sqlite3`` read transaction for
the reads the cockpit screen makes on every refresh. SQLAlchemy is imported on the first
session, not before: the TUI draws its first frame without it (bench/startup.py).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from cockpit import paths
from cockpit.errors import StoreError
from cockpit.store import migrations

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlmodel import Session

    from cockpit.config import Settings

BUSY_TIMEOUT_MS = 15_000
WAL_AUTOCHECKPOINT = 1_000  # pages: SQLite's default
_SQLITE_MAGIC = b"SQLite format 3\x00"
DB_NAME = "cockpit.db"
_DB_ERRORS = (sqlite3.OperationalError, sqlite3.DatabaseError)
_SIDE_FILES = ("-wal", "-shm", "-journal")


def _configure(dbapi_conn: sqlite3.Connection) -> None:
    # Take transaction control from the driver so that BEGIN is ours to choose.
    dbapi_conn.isolation_level = None
    dbapi_conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    dbapi_conn.execute("PRAGMA foreign_keys = ON")
    dbapi_conn.execute("PRAGMA synchronous = NORMAL")
    dbapi_conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT}")


def _connect(path: Path, *, create: bool = False) -> sqlite3.Connection:
    """A connection to the store; only opening the store may create the file (a read
    after the file was moved away fails, and leaves no empty store behind)."""
    target = f"file:{quote(str(path))}?mode={'rwc' if create else 'rw'}"
    conn = sqlite3.connect(
        target, uri=True, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False
    )
    _configure(conn)
    return conn


def _sqlite_engine(path: Path) -> Engine:
    from sqlalchemy import create_engine, event

    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        _configure(dbapi_conn)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        options = conn.get_execution_options()
        begin = options.get("sqlite_begin", "BEGIN")
        if not options.get("sqlite_at_once"):
            conn.exec_driver_sql(begin)
            return
        # Fail at once rather than wait for another writer (Store.at_once); once the lock is
        # ours nothing else in the transaction waits in WAL mode.
        conn.exec_driver_sql("PRAGMA busy_timeout = 0")
        try:
            conn.exec_driver_sql(begin)
        finally:
            conn.exec_driver_sql(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")

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


class _Turns:
    """This process's writers take the write lock in turn, first come first served. SQLite's
    own wait for a busy lock polls with growing sleeps (1, 2, 5 ... 100 ms): a tick waiting
    behind a sync's batch could miss the moment it ended and wait behind the next one too.
    Here it is next. Other processes still meet SQLite's busy timeout."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._next = 0  # the ticket the next writer draws
        self._serving = 0  # the ticket whose turn it is
        self._owner: int | None = None

    @contextmanager
    def turn(self, *, wait: bool = True) -> Iterator[bool]:
        """Yields whether the turn is ours (always, when ``wait``)."""
        me = threading.get_ident()
        with self._cond:
            nested = self._owner == me  # a write inside a write: SQLite says what is wrong
            refused = not nested and not wait and self._next != self._serving
            if not nested and not refused:
                ticket = self._next
                self._next += 1
                while ticket != self._serving:
                    self._cond.wait()
                self._owner = me
        if nested or refused:
            yield not refused
            return
        try:
            yield True
        finally:
            with self._cond:
                self._owner = None
                self._serving += 1
                self._cond.notify_all()


class StoreBusy(StoreError):
    """Another connection holds the write lock, and the write was asked not to wait for it
    (:meth:`Store.at_once`). Nothing was written."""


class Store:
    """The local store. Use :meth:`read` for queries and :meth:`write` for changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = str(path)
        self._engine: Engine | None = None
        self._writer: Engine | None = None
        self._writer_at_once: Engine | None = None
        self._engine_lock = threading.Lock()  # the app warms it up in a thread
        self._local = threading.local()
        self._turns = _Turns()
        self._bulk = 0  # bulk writers running (Store.bulk): no commit copies the WAL meanwhile
        self._bulk_lock = threading.Lock()  # not the engine's: building that takes a while

    @property
    def engine_started(self) -> bool:
        """Whether the ORM's engine was built (the first frame is drawn without it)."""
        return self._engine is not None

    @property
    def engine(self) -> Engine:
        with self._engine_lock:
            if self._engine is None:
                engine = _sqlite_engine(self.path)
                self._writer = engine.execution_options(sqlite_begin="BEGIN IMMEDIATE")
                self._writer_at_once = self._writer.execution_options(sqlite_at_once=True)
                self._engine = engine
            return self._engine

    @property
    def writer(self) -> Engine:
        """The engine whose transactions take the write lock up front (without waiting for
        it inside :meth:`at_once`)."""
        self.engine  # noqa: B018 - creates the engines
        writer = self._writer_at_once if self._at_once else self._writer
        assert writer is not None
        return writer

    @property
    def _at_once(self) -> bool:
        return bool(getattr(self._local, "at_once", False))

    @contextmanager
    def at_once(self) -> Iterator[None]:
        """Writes made by this thread in this block take the write lock only if it is free
        now: when another connection holds it (a sync's batch), :meth:`write` raises
        :class:`StoreBusy` at once instead of waiting up to the busy timeout. The UI writes
        this way on its event loop and hands a busy write to a thread."""
        previous = self._at_once
        self._local.at_once = True
        try:
            yield
        finally:
            self._local.at_once = previous

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """While a bulk writer (a sync's pull) runs, no commit of this process copies the WAL
        into the database (SQLite's auto-checkpoint): the bulk writer calls
        :meth:`checkpoint` itself, in its own thread, at its own pace. The writes that would
        otherwise pay for it are the UI's: a tick committed while a first sync had filled
        the WAL ran the checkpoint (and its two fsyncs), 18 ms median of a 20 ms write
        (bench/responsiveness.py --during-sync). Once no bulk writer runs, the next commit
        past the WAL's size checkpoints as SQLite does."""
        with self._bulk_lock:
            self._bulk += 1
        try:
            yield
        finally:
            with self._bulk_lock:
                self._bulk -= 1

    @classmethod
    def open(cls, location: Path | str, *, migrate: bool = True) -> Store:
        """Open (creating and migrating) a store.

        ``location`` is a folder (the store is ``cockpit.db`` inside it), a ``.db`` file, or
        a ``sqlite:///`` URL.
        """
        if isinstance(location, str) and "://" in location:
            if not location.startswith("sqlite:///") or len(location) == len("sqlite:///"):
                raise StoreError(
                    f"database_url: {location.split('@')[-1]!r} is not supported: the store "
                    "is an SQLite file (use a sqlite:/// URL, or data_dir for a folder)."
                )
            location = Path(location.removeprefix("sqlite:///"))
        path = Path(location)
        data_folder = path.suffix != ".db"
        if data_folder:
            path = path / DB_NAME
        _check_file(path)
        try:
            # The data folder is the user's alone (0700). The folder of a store file named by
            # database_url may be shared (a home folder): only the folders made for it are.
            top = path.parent if data_folder else _first_missing(path.parent)
            if top is not None:
                paths.private_dir(path.parent, top=top)
            paths.private_file(path)
        except OSError as error:
            raise StoreError(
                f"{path.parent}: cannot create the data folder or the store: "
                f"{error.strerror or error}"
            ) from None
        store = cls(path)
        try:
            store._prepare(migrate)
        except BaseException:
            store.close()
            raise
        # SQLite makes -wal and -shm with the store's own mode; those of an older cockpit
        # (0644) are tightened, with whatever else the cockpit keeps beside the store.
        if data_folder:
            paths.tighten_folder(path.parent)
        for suffix in _SIDE_FILES:
            paths.tighten(path.with_name(path.name + suffix))
        return store

    def _prepare(self, migrate: bool) -> None:
        try:
            conn = _connect(self.path, create=True)
        except _DB_ERRORS as error:
            raise _describe(error, self.where) from None
        try:
            # WAL is persistent in the file: set once here, kept by every later connection.
            conn.execute("PRAGMA journal_mode = WAL")
            version = migrations.current_version(conn)
            if version > migrations.LATEST:
                raise StoreError(
                    f"{self.where}: the store is at schema version {version}, newer than this "
                    f"cockpit knows ({migrations.LATEST}). Upgrade cockpit; the file was not "
                    "touched."
                )
            if migrate and version < migrations.LATEST:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    migrations.migrate(conn, self.where)
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
        except _DB_ERRORS as error:
            raise _describe(error, self.where) from None
        finally:
            conn.close()

    @property
    def schema_version(self) -> int:
        with self.rows() as conn:
            return migrations.current_version(conn)

    @contextmanager
    def rows(self) -> Iterator[sqlite3.Connection]:
        """A plain read transaction (one consistent snapshot for every query in it)."""
        try:
            conn = _connect(self.path)
        except _DB_ERRORS as error:
            raise _describe(error, self.where) from None
        try:
            conn.execute("BEGIN")
            yield conn
        except _DB_ERRORS as error:
            raise _describe(error, self.where) from None
        finally:
            conn.close()

    def try_write(self, sql: str) -> bool:
        """Run one statement as its own write, only if the write lock is free now (never
        waiting for a sync's batch): whether it was done. For what may simply be skipped, as
        forgetting the kept statistics."""
        try:
            conn = _connect(self.path)
        except sqlite3.Error:
            return False
        try:
            conn.execute("PRAGMA busy_timeout = 0")
            conn.execute(sql)
            return True
        except sqlite3.Error:
            return False
        finally:
            conn.close()

    @contextmanager
    def read(self) -> Iterator[Session]:
        from sqlalchemy.exc import DatabaseError, OperationalError
        from sqlmodel import Session

        session = Session(self.engine, expire_on_commit=False)
        try:
            yield session
        except (OperationalError, DatabaseError, *_DB_ERRORS) as error:
            raise _describe(error, self.where) from None
        finally:
            session.close()

    @contextmanager
    def write(self, *, checkpoint: bool = True) -> Iterator[Session]:
        """One transaction holding the write lock; committed on success, rolled back on error.

        A failing write is a StoreError whether it went through the ORM or through the plain
        ``sqlite3`` connection under the session (the sync's bulk inserts,
        ``cockpit.store.bulk``): a full disk says so, and nothing is half written.

        ``checkpoint=False``: this commit does not copy the WAL into the database even when
        the WAL is past SQLite's auto-checkpoint size (a first sync's many small batches
        each paid for one, ~4 ms a commit, holding the write turn); the writer calls
        :meth:`checkpoint` when it is done. No commit copies it while :meth:`bulk` runs."""
        from sqlalchemy.exc import DatabaseError, OperationalError
        from sqlmodel import Session

        at_once = self._at_once
        with self._turns.turn(wait=not at_once) as ours:
            if not ours:
                raise StoreBusy(f"{self.where}: this process is writing to the store")
            session = Session(self.writer, expire_on_commit=False)
            deferred: sqlite3.Connection | None = None
            try:
                yield session
                if not checkpoint or self._bulk:
                    deferred = driver_connection(session)
                    deferred.execute("PRAGMA wal_autocheckpoint = 0")
                session.commit()
            except (OperationalError, DatabaseError, *_DB_ERRORS) as error:
                _rollback(session)
                if at_once and _is_busy(error):
                    raise StoreBusy(f"{self.where}: another writer holds the store") from None
                raise _describe(error, self.where) from None
            except BaseException:
                session.rollback()
                raise
            finally:
                if deferred is not None:
                    deferred.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT}")
                session.close()

    def checkpoint(self) -> None:
        """Copy the WAL into the database now, waiting for no reader or writer (PASSIVE):
        what SQLite's auto-checkpoint would have done at the commits made with
        ``write(checkpoint=False)``. Best effort, as the auto-checkpoint is."""
        try:
            conn = _connect(self.path)
        except _DB_ERRORS:
            return
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except _DB_ERRORS:
            pass  # the next commit's auto-checkpoint will do it
        finally:
            conn.close()

    def integrity_check(self) -> list[str]:
        """SQLite's full integrity check; ``["ok"]`` when the file is sound."""
        with self.rows() as conn:
            return [row[0] for row in conn.execute("PRAGMA integrity_check")]

    def execute(self, sql: str, **params: Any) -> list[Any]:
        """Plain SQL (``:name`` parameters) for metrics and diagnostics."""
        with self.rows() as conn:
            return conn.execute(sql, params).fetchall()

    def close(self) -> None:
        """Close, first letting SQLite keep its planner's statistics current (``PRAGMA
        optimize`` before closing, as SQLite advises; bounded by ``analysis_limit``). It is
        best effort: a store another process is writing is closed all the same, at once."""
        if self._engine is not None:
            try:
                # A deferred transaction that waits for nobody: busy means "next time".
                with self._engine.connect() as conn:
                    conn.exec_driver_sql("PRAGMA busy_timeout = 0")
                    conn.exec_driver_sql("PRAGMA analysis_limit = 400")
                    conn.exec_driver_sql("PRAGMA optimize")
                    conn.commit()
            except Exception:  # noqa: BLE001 - statistics are an optimisation, never an error
                pass
        if self._engine is not None:
            self._engine.dispose()


def _is_busy(error: Exception) -> bool:
    message = str(getattr(error, "orig", error)).lower()
    return "locked" in message or "busy" in message


def _rollback(session: Session) -> None:
    """Roll back after a failed write. SQLite may have rolled the transaction back itself (a
    full disk does): the error that matters is the first one, not "no transaction"."""
    from sqlalchemy.exc import DatabaseError, OperationalError

    try:
        session.rollback()
    except (OperationalError, DatabaseError, *_DB_ERRORS):
        session.close()


def driver_connection(session: Session) -> sqlite3.Connection:
    """The ``sqlite3`` connection under an ORM session, in the session's transaction (its
    pending changes flushed first), for the plain-SQL reads of ``cockpit.store.reads``."""
    session.flush()
    conn: sqlite3.Connection = session.connection().connection.driver_connection  # type: ignore[assignment]
    return conn


def _first_missing(folder: Path) -> Path | None:
    """The topmost folder of ``folder``'s path that does not exist yet; None if it does."""
    missing = None
    while not folder.exists():
        missing = folder
        if folder.parent == folder:
            break
        folder = folder.parent
    return missing


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


def open_store(settings: Settings) -> Store:
    """The store the settings point at (``database_url``, a sqlite:/// URL, or ``data_dir``)."""
    url = settings.database_url or ""
    return Store.open(url if url else settings.data_path)


def store_path(settings: Settings) -> Path:
    """The file :func:`open_store` opens (whether or not it exists yet)."""
    url = settings.database_url or ""
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///"))
    path = Path(settings.data_path)
    return path if path.suffix == ".db" else path / DB_NAME
