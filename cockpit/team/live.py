"""Team mode, live: the exchange runs by itself in the background while the cockpit is open.

A :class:`TeamLink` owns two threads, never the event loop:

- the **exchanger** runs :func:`cockpit.team.exchange.sync` at start, shortly after a local
  change (debounced), as soon as the team store says something new arrived, and every
  ``poll`` seconds as a fallback (more often while the listener is down); after a failed
  exchange it retries with backoff. A local
  change is any commit to the store by another connection (``PRAGMA data_version``): the
  app's keys, a ``cockpit`` command in another terminal, the paging sync. It is captured
  into the team outbox at once (local only, a few milliseconds) and pushed if it was shared.
- the **listener** (:class:`Listener`) keeps its own PostgreSQL connection on ``LISTEN`` for
  the trigger's ``NOTIFY`` (:data:`cockpit.team.schema.NOTIFY_CHANNEL`), waiting a second at
  a time so that it stops promptly, and reconnects with backoff when the server goes away.

What the user sees comes out as a :class:`TeamStatus` through the ``on_status`` callback
(called from the exchanger's thread: the app posts it to its own loop). psycopg and the
keyring are imported inside the threads, so importing this module costs nothing.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cockpit.errors import CockpitError

if TYPE_CHECKING:
    import psycopg

    from cockpit.config import Settings
    from cockpit.store.engine import Store
    from cockpit.team.exchange import ExchangeReport

POLL_SECONDS = 30.0  # an exchange at least this often, NOTIFY or not
UNHEARD_POLL_SECONDS = 10.0  # ... and this often while the LISTEN connection is down
DEBOUNCE_SECONDS = 0.5  # after a local change: one exchange for a burst of keys
WATCH_SECONDS = 0.25  # how often the local store is asked whether it changed
LISTEN_WAIT = 1.0  # one wait for a notification; the stop flag is checked between waits
BACKOFF = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)  # seconds before the next try after failures
SHORT = 40  # characters of an error in the status bar; the toast has the whole message


def configured_url(settings: Settings) -> str:
    """The ``team_url`` setting; "" when team mode is off. A URL holding a password is
    refused (the password belongs in the keyring), naming where it was set."""
    url = str(getattr(settings, "team_url", "") or "").strip()
    if not url:
        return ""
    from cockpit.team.url import TeamUrlError, parse

    if parse(url).password:
        where = (getattr(settings, "sources", {}) or {}).get("team_url", "the settings")
        raise TeamUrlError(
            f"team_url ({where}) holds a password: run `cockpit team join URL` once to move it "
            "to the keyring, and keep team_url without it"
        )
    return url


@dataclass(frozen=True)
class TeamStatus:
    """What the team exchange last did, for the status bar and the toasts."""

    state: str  # "starting" | "ok" | "offline" | "error"
    pending: int = 0  # local events waiting to go up
    message: str = ""  # offline or error: the whole message (never a traceback)
    short: str = ""  # error: a few words for the status bar
    last_ok: datetime | None = None  # when an exchange last worked (UTC)
    applied: int = 0  # others' events this exchange applied here: the screen reloads
    lost: tuple[str, ...] = ()  # baton races this exchange lost: one toast each
    listening: bool = False  # the LISTEN connection is up (else polling only)


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _short(error: BaseException, message: str) -> str:
    from cockpit.team.schema import TeamSchemaError

    if isinstance(error, TeamUnavailable):
        return "psycopg missing: pip install 'cockpit[team]'"
    if isinstance(error, TeamSchemaError):
        if "newer than" in message:
            return "schema too new: upgrade cockpit"
        if "older than" in message:
            return "schema too old: run team init"
        return "no team schema: run team init"
    if "permission denied" in message or "not a member" in message:
        return "not a member of the team store"
    return message if len(message) <= SHORT else message[: SHORT - 1] + "…"


class TeamUnavailable(CockpitError):
    """Team mode is set up, but this installation cannot run it."""


def require_psycopg() -> None:
    """Refuse, saying how to fix it, when the ``team`` extra is not installed."""
    try:
        import psycopg  # noqa: F401 - imported to know it is there
    except ImportError:
        raise TeamUnavailable(
            "team mode needs psycopg, which is not installed: pip install 'cockpit[team]'"
        ) from None


def listen_connect(url: str, password: str | None) -> psycopg.Connection:
    """A connection for LISTEN: autocommit (a notification is delivered between
    transactions only), with TCP keepalives so that a dead network is noticed while idle."""
    import psycopg

    from cockpit.team.exchange import TeamUnreachable

    options: dict[str, Any] = {
        "connect_timeout": 10,
        "autocommit": True,
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 10,
        "keepalives_count": 3,
    }
    if password:
        options["password"] = password
    try:
        return psycopg.connect(url, **options)
    except psycopg.OperationalError as error:
        raise TeamUnreachable(f"the team store cannot be reached: {_first_line(error)}") from None


class Listener:
    """``LISTEN`` on a connection of its own, in a thread: ``on_notify()`` for each
    notification, ``on_up(True)`` once listening (also after a reconnect: whatever was
    missed while down is then fetched), ``on_up(False)`` when the connection is lost.
    Reconnects after ``backoff`` seconds (growing), until :meth:`stop`."""

    def __init__(
        self,
        connect: Callable[[], psycopg.Connection],
        on_notify: Callable[[], None],
        on_up: Callable[[bool], None] | None = None,
        *,
        wait: float = LISTEN_WAIT,
        backoff: Sequence[float] = BACKOFF,
    ) -> None:
        self._connect = connect
        self._on_notify = on_notify
        self._on_up = on_up or (lambda _up: None)
        self._wait = wait
        self._backoff = tuple(backoff)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.connected = False
        self.error = ""  # why the last connection failed or ended

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="cockpit-team-listen", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _up(self, up: bool) -> None:
        if up != self.connected:
            self.connected = up
            self._on_up(up)

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                self._listen()
            except Exception as error:  # noqa: BLE001 - the thread goes on and says why
                self.error = _first_line(error)
                if self.connected:
                    failures = 0  # it was up until now: the first retry is quick again
            finally:
                self._up(False)
            if not self._stop.is_set():
                self._stop.wait(self._backoff[min(failures, len(self._backoff) - 1)])
                failures += 1

    def _listen(self) -> None:
        """One connection: LISTEN, then wait for notifications until stopped or cut."""
        from cockpit.team.schema import NOTIFY_CHANNEL

        with self._connect() as conn:
            conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
            self.error = ""
            self._up(True)
            while not self._stop.is_set():
                # One notification at most per wait: the exchange reads everything new
                # anyway, so a burst of inserts wakes it once or twice.
                for _notify in conn.notifies(timeout=self._wait, stop_after=1):
                    self._on_notify()


def _data_version(conn: sqlite3.Connection) -> int:
    """Changes when another connection commits to the store (SQLite's ``data_version``);
    this connection's own commits leave it alone."""
    return int(conn.execute("PRAGMA data_version").fetchone()[0])


@dataclass
class _Schedule:
    """When the next exchange is due (monotonic seconds; None: not asked for)."""

    due: float | None = None
    next_poll: float = 0.0
    retry_at: float = 0.0  # after failures: nothing but a NOTIFY goes before this
    failures: int = 0
    notified: bool = False
    poked: bool = False

    def ask(self, at: float) -> None:
        self.due = at if self.due is None else min(self.due, at)


class TeamLink:
    """The background exchange of one cockpit with its team store (see the module's doc)."""

    def __init__(
        self,
        store: Store,
        url: str,
        on_status: Callable[[TeamStatus], object],
        *,
        password: Callable[[], str | None] | None = None,
        poll: float = POLL_SECONDS,
        debounce: float = DEBOUNCE_SECONDS,
        watch: float = WATCH_SECONDS,
        listen_wait: float = LISTEN_WAIT,
        backoff: Sequence[float] = BACKOFF,
    ) -> None:
        self.store = store
        self.url = url
        self._on_status = on_status
        self._password = password
        self._poll = poll
        self._debounce = debounce
        self._watch = watch
        self._listen_wait = listen_wait
        self._backoff = tuple(backoff)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._schedule = _Schedule()
        self._thread: threading.Thread | None = None
        self.listener: Listener | None = None
        self.status = TeamStatus("starting")
        self.exchanges = 0  # exchanges tried (for tests and the curious)

    # ---------------------------------------------------------------- control (any thread)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="cockpit-team", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop both threads; an exchange in flight finishes first (up to ``timeout``)."""
        self._stop.set()
        self._wake.set()
        if self.listener is not None:
            self.listener.stop(timeout)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def poke(self) -> None:
        """Exchange now (a key asked, or the paging sync brought new incidents)."""
        with self._lock:
            self._schedule.poked = True
        self._wake.set()

    def _notified(self) -> None:
        with self._lock:
            self._schedule.notified = True
        self._wake.set()

    def _listening(self, up: bool) -> None:
        with self._lock:
            # Listening again: what was inserted while the connection was down is fetched.
            self._schedule.notified = self._schedule.notified or up
        self._wake.set()

    # ---------------------------------------------------------------- the exchanger thread

    def _publish(self, status: TeamStatus) -> None:
        self.status = status
        try:
            self._on_status(status)
        except Exception:  # noqa: BLE001 - the app is closing: nobody to tell
            pass

    def _run(self) -> None:
        try:
            require_psycopg()
            password = self._password() if self._password else None
        except Exception as error:  # noqa: BLE001 - a broken keyring: said, not a traceback
            message = str(error) if isinstance(error, CockpitError) else _first_line(error)
            self._publish(TeamStatus("error", message=message, short=_short(error, message)))
            return
        url = self.url
        self.listener = Listener(
            lambda: listen_connect(url, password),
            self._notified,
            self._listening,
            wait=self._listen_wait,
            backoff=self._backoff,
        )
        if self._stop.is_set():
            return
        self.listener.start()
        while not self._stop.is_set():
            try:
                watcher = sqlite3.connect(self.store.path, timeout=30, isolation_level=None)
                try:
                    self._loop(watcher, password)
                finally:
                    watcher.close()
            except Exception as error:  # noqa: BLE001 - the thread goes on and says why
                message = f"the team exchange stopped: {_first_line(error)}"
                self._publish(
                    TeamStatus("error", self.status.pending, message, _short(error, message))
                )
                self._stop.wait(self._backoff[-1])

    def _loop(self, watcher: sqlite3.Connection, password: str | None) -> None:
        plan = self._schedule
        version = _data_version(watcher)
        plan.ask(time.monotonic())  # at start
        while not self._stop.is_set():
            now = time.monotonic()
            with self._lock:
                notified, plan.notified = plan.notified, False
                poked, plan.poked = plan.poked, False
            if notified:
                plan.ask(now)  # the server is up: no backoff for this
            if poked:
                plan.ask(max(now, plan.retry_at))
            current = _data_version(watcher)
            if current != version:
                version = current
                if self._capture(watcher):
                    plan.ask(max(now + self._debounce, plan.retry_at))
            if now >= plan.next_poll:
                plan.ask(now)
            if plan.due is not None and now >= plan.due:
                plan.due = None
                self._exchange(password)
                # The exchange's own writes are not a local change; one made while it ran
                # is caught by the capture right after.
                version = _data_version(watcher)
                if self._capture(watcher) and plan.failures == 0:
                    plan.ask(time.monotonic())
                continue
            wait = self._watch
            if plan.due is not None:
                wait = min(wait, max(0.0, plan.due - now))
            self._wake.wait(wait)
            self._wake.clear()

    def _capture(self, watcher: sqlite3.Connection) -> int:
        """Queue what changed locally into the team outbox (no network); publish the new
        count of what waits. Returns how many events were queued."""
        from cockpit.team import apply, local

        try:
            watcher.execute("BEGIN IMMEDIATE")
            try:
                local.ensure(watcher)
                captured = int(apply.capture(watcher))
            except BaseException:
                watcher.execute("ROLLBACK")
                raise
            watcher.execute("COMMIT")
            pending = int(
                watcher.execute(
                    "SELECT count(*) FROM team_outbox WHERE state = 'pending'"
                ).fetchone()[0]
            )
        except (sqlite3.Error, local.TeamLocalError, CockpitError):
            return 0  # the exchange itself says what is wrong, with its message
        if captured and pending != self.status.pending:
            self._publish(
                TeamStatus(
                    self.status.state,
                    pending,
                    self.status.message,
                    self.status.short,
                    self.status.last_ok,
                    listening=self._is_listening(),
                )
            )
        return captured

    def _is_listening(self) -> bool:
        return bool(self.listener and self.listener.connected)

    def _exchange(self, password: str | None) -> None:
        import psycopg

        from cockpit.redact import redact
        from cockpit.team import exchange, local

        plan = self._schedule
        self.exchanges += 1
        report: ExchangeReport | None = None
        failure: BaseException | None = None
        message = ""
        try:
            report = exchange.sync(self.store, self.url, password)
        except exchange.TeamUnreachable as error:
            failure, message = error, str(error)
        except (CockpitError, local.TeamLocalError, sqlite3.Error, psycopg.Error) as error:
            failure, message = error, _first_line(error)
        except Exception as error:  # noqa: BLE001 - the thread must go on: say it, retry later
            failure, message = error, f"the team exchange failed: {type(error).__name__}"
        now = time.monotonic()
        if report is not None:
            plan.failures = 0
            plan.retry_at = 0.0
            # Without a LISTEN connection (refused, or still connecting) nobody says when
            # others wrote: ask more often.
            plan.next_poll = now + (
                self._poll if self._is_listening() else min(self._poll, UNHEARD_POLL_SECONDS)
            )
            self._publish(
                TeamStatus(
                    "ok",
                    report.pending,
                    last_ok=datetime.now(UTC),
                    applied=report.applied,
                    lost=tuple(report.lost),
                    listening=self._is_listening(),
                )
            )
            return
        assert failure is not None
        delay = self._backoff[min(plan.failures, len(self._backoff) - 1)]
        plan.failures += 1
        plan.retry_at = now + delay
        plan.next_poll = now + min(self._poll, delay)
        message = redact(message, (password,) if password else ())
        offline = isinstance(failure, exchange.TeamUnreachable)
        self._publish(
            TeamStatus(
                "offline" if offline else "error",
                self._pending(),
                message,
                "" if offline else _short(failure, message),
                self.status.last_ok,
                listening=self._is_listening(),
            )
        )

    def _pending(self) -> int:
        try:
            conn = sqlite3.connect(self.store.path, timeout=5)
            try:
                row = conn.execute(
                    "SELECT count(*) FROM team_outbox WHERE state = 'pending'"
                ).fetchone()
            finally:
                conn.close()
        except sqlite3.Error:
            return self.status.pending
        return int(row[0]) if row else 0
