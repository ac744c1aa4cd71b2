"""A request budget shared by every cockpit process of one user on this machine.

PagerDuty allows about 960 requests a minute per user, across all of that user's keys. The
TUI, a second terminal and a headless ``cockpit sync`` each hold their own HTTP client, so the
budget cannot live in memory: it lives in a small JSON file in the data folder, read and
written under an exclusive ``fcntl.flock``. The file holds

* ``stamps``: wall-clock times of the requests spent in the last minute (a sliding window),
* ``pause_until``: set after a 429, so every process holds off until the server's reset,
* ``server_remaining`` / ``server_reset_at``: what the last response's ``ratelimit-remaining``
  and ``ratelimit-reset`` headers said, decremented locally as requests are spent, so that
  requests made with the same user's other keys (which we cannot see) still slow us down.

The lock is held for a read-modify-write of a few kilobytes, never across a sleep or a request.

**Cheap per request.** Reading and writing that file on every request cost ~1.1 ms of CPU (a
lock, a JSON load, sort and two dumps of up to 600 stamps: a quarter of a first sync's event
loop). A budget now keeps what it last read in memory and spends from it without touching
the file while the window has room to spare (:data:`HEADROOM` requests more than it knows
of): it writes its spent stamps back every :data:`SYNC_EVERY` requests or
:data:`SYNC_AFTER` seconds, whichever comes first, and at once when the window, the
server's count or a pause leaves no room to spare, where every request is a locked
read-modify-write as before. Stamps not yet written are written when the budget is
garbage-collected or the process exits. Other processes may thus see up to ``SYNC_EVERY`` of
our requests late; the headroom is there for that, and it grows with the number of processes
that wrote the file in the last window (the file names them under ``writers``), so three or
ten cockpit processes still never spend more than the limit between them. Before spending
from memory a budget ``stat``-s the file (a microsecond, no lock, no read): when another
process wrote since, it reads the file again first.

**The server's numbers.** ``ratelimit-remaining``/``ratelimit-reset`` are kept in memory and
decremented as requests are spent; they go to the file (for the user's other processes) when
they leave no room to spare, and with every write anyway. ``ratelimit-limit`` replaces the
default window limit (:data:`DEFAULT_LIMIT`, used until a server has answered) with the
server's limit less :data:`MARGIN` for the user's other tools; a ``limit`` given to the
constructor stays a cap.

Every wait is capped at :data:`MAX_WAIT`: a header read from the server (or from a proxy in
front of it) and a time read back from the file are both data, and a wrong one (an epoch sent
as "seconds to wait", a file written by a clock set years ahead) would otherwise hold every
cockpit process of the user until someone deletes the file. ``ratelimit-reset`` values that
look like an epoch are read as one. While :meth:`RequestBudget.acquire` waits,
:attr:`RequestBudget.waiting` says how long and why, and ``on_wait`` is told, so a caller can
show "PagerDuty rate limit: waiting 42 s ..." instead of seeming to hang.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import json
import os
import time
import weakref
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: the budget is then per process only
    fcntl = None  # type: ignore[assignment]

DEFAULT_LIMIT = 600  # per minute until the server says its limit (PagerDuty: 960 per user)
MARGIN = 0.1  # of the server's limit, left to the user's other tools
DEFAULT_RESERVE = 20  # when the server says fewer remain, wait for its reset
SYNC_EVERY = 16  # requests spent from memory between two writes of the shared file
SYNC_AFTER = 1.0  # seconds after which what was read from the file is read again
HEADROOM = 2 * SYNC_EVERY  # room a request from memory needs, for others' unseen requests
FILE_NAME = "ratelimit.json"
_budgets = itertools.count(1)
# The longest any one wait may be, whatever a header or the shared file says. PagerDuty's
# window is a minute; two minutes leaves room for a real reset and none for a bogus one.
MAX_WAIT = 120.0
# A "seconds to wait" above this is an absolute time (seconds since 1970): 10^9 s is 31 years
# of waiting, and the epoch passed 10^9 in 2001, so no honest value is on the wrong side.
EPOCH_THRESHOLD = 1e9

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class Wait:
    """A wait :meth:`RequestBudget.acquire` is about to sit out: how long, and for what."""

    seconds: float
    reason: str

    def __str__(self) -> str:
        return f"PagerDuty rate limit: waiting {self.seconds:.0f} s {self.reason}"


WaitCallback = Callable[[Wait], None]


def header_wait(value: str | None, now: float) -> float | None:
    """Seconds to wait that a ``ratelimit-reset`` or ``Retry-After`` value means, capped.

    Seconds are the documented form; a number above :data:`EPOCH_THRESHOLD` is an epoch (some
    proxies send one) and an HTTP date is what ``Retry-After`` may hold. Either way the answer
    is in ``[0, MAX_WAIT]``; ``None`` when the value is not a time at all.
    """
    if value is None or not value.strip():
        return None
    number = _number(value)
    if number is None:
        try:
            number = parsedate_to_datetime(value.strip()).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        number -= now  # a date: an absolute time
    elif number > EPOCH_THRESHOLD:
        number -= now
    return min(max(number, 0.0), MAX_WAIT)


@dataclass
class _Seen:
    """What the shared file said when this budget last read it."""

    stamps: list[float]  # sorted
    pause_until: float
    server_remaining: int | None
    server_reset_at: float
    read_at: float
    others: int  # other processes that wrote the file in the last window
    stat: tuple[int, int, int]  # the file as written: inode, size, mtime (ns)


class RequestBudget:
    """At most ``limit`` requests per ``window`` seconds, counted across processes.

    Args:
        path: the shared state file (created with its folder on first use).
        limit: requests allowed per window, a cap; by default :data:`DEFAULT_LIMIT` until a
            server's ``ratelimit-limit`` is known, then that less :data:`MARGIN`.
        window: the sliding window, in seconds.
        reserve: when the server's ``ratelimit-remaining`` drops to this, wait for its reset.
        clock: wall-clock seconds (shared by processes, so not ``time.monotonic``).
        sleep: awaited to wait; tests pass one that advances a fake clock.
        on_wait: called with a :class:`Wait` before each wait, e.g. to show it in a status
            line; :attr:`waiting` holds the same while the wait lasts (``None`` otherwise).
    """

    def __init__(
        self,
        path: Path,
        limit: int | None = None,
        *,
        window: float = 60.0,
        reserve: int = DEFAULT_RESERVE,
        clock: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
        on_wait: WaitCallback | None = None,
    ) -> None:
        if limit is not None and limit < 1:
            raise ValueError("limit must be at least 1")
        self.path = Path(path)
        self._cap = limit
        self.window = window
        self.reserve = reserve
        self._clock = clock
        self._sleep = sleep
        self.waited = 0.0  # seconds this instance spent waiting, for benchmarks and the UI
        self.on_wait = on_wait
        self.waiting: Wait | None = None  # the wait under way, for a status line
        self._seen: _Seen | None = None
        # Stamps spent from memory, not yet in the file. The list object is shared with the
        # finalizer, which writes what is left when the budget goes away.
        self._pending: list[float] = []
        # The server's numbers as this process last heard them: limit, remaining, reset at.
        self._server_limit: int | None = None
        self._server: tuple[int, float] | None = None
        # Each budget holds its own unwritten stamps, so the file counts budgets as writers.
        self._writer = f"{os.getpid()}.{next(_budgets)}"
        weakref.finalize(
            self, _write_pending, self.path, self._pending, clock, window, self._writer
        )

    @classmethod
    def in_data_dir(cls, data_dir: Path, **kwargs: Any) -> RequestBudget:
        """The budget every process of this user shares: ``<data_dir>/ratelimit.json``."""
        return cls(Path(data_dir) / FILE_NAME, **kwargs)

    @property
    def limit(self) -> int:
        """Requests allowed per window now (see the ``limit`` argument)."""
        if self._server_limit is None:
            return self._cap or DEFAULT_LIMIT
        following = max(1, int(self._server_limit * (1 - MARGIN)))
        return min(self._cap, following) if self._cap else following

    def __repr__(self) -> str:
        return f"RequestBudget({str(self.path)!r}, limit={self.limit}/{self.window:g}s)"

    # ------------------------------------------------------------ public

    async def acquire(self, max_wait: float | None = None) -> bool:
        """Spend one request, waiting first while the window is full or the server says wait.

        With ``max_wait``, a wait longer than that is not started: nothing is spent and the
        answer is False (a caller with a deadline fails fast instead). Otherwise True.
        """
        while True:
            wait, reason = self._try()
            if wait <= 0:
                return True
            if max_wait is not None and wait > max_wait:
                return False
            await self.sit_out(Wait(wait, reason))

    async def sit_out(self, wait: Wait) -> None:
        """Wait ``wait.seconds`` (capped at MAX_WAIT), saying so through ``waiting``/``on_wait``."""
        wait = Wait(min(max(wait.seconds, 0.0), MAX_WAIT), wait.reason)
        self.waiting = wait
        if self.on_wait is not None:
            self.on_wait(wait)
        try:
            self.waited += wait.seconds
            await self._sleep(wait.seconds)
        finally:
            self.waiting = None

    def try_acquire(self) -> float:
        """Spend one request now and return 0, or spend nothing and return seconds to wait."""
        return self._try()[0]

    def wait_needed(self) -> Wait | None:
        """The wait before a request could be spent now (spending nothing), or None."""
        wait, reason = self._try(spend=False)
        return Wait(wait, reason) if wait > 0 else None

    def _try(self, *, spend: bool = True) -> tuple[float, str]:
        """(0, "") after spending one request (or, without ``spend``, finding that one could
        be spent), else (seconds to wait, what for)."""
        now = self._clock()
        if spend and self._room_to_spare(now):
            self._pending.append(now)
            self._spend_server(1)
            return 0.0, ""

        def update(state: dict[str, Any], now: float) -> tuple[float, str]:
            if state["pause_until"] > now:
                return (
                    float(state["pause_until"] - now),
                    "for PagerDuty's rate limit to reset after it refused a request (429)",
                )
            remaining = state["server_remaining"]
            server_says = remaining is not None and state["server_reset_at"] > now
            if server_says and remaining <= self.reserve:
                return (
                    float(state["server_reset_at"] - now),
                    f"for PagerDuty's rate limit to reset ({remaining} requests left for this "
                    "user, kept in reserve)",
                )
            stamps: list[float] = state["stamps"]
            limit = self.limit
            if len(stamps) >= limit:
                # A tiny floor keeps a caller from spinning when the oldest stamp is "now".
                wait = max(stamps[len(stamps) - limit] + self.window - now, 0.001)
                return (
                    wait,
                    f"for the budget to refill ({limit} requests in {self.window:g} s, "
                    "shared by this user's cockpit processes)",
                )
            if spend:
                stamps.append(now)
                if server_says:
                    state["server_remaining"] = remaining - 1
                self._spend_server(1)
            return 0.0, ""

        result: tuple[float, str] = self._locked(update)
        return result

    def _room_to_spare(self, now: float) -> bool:
        """Whether a request may be spent from memory: what was read is recent, and neither
        the window, the server's count nor a pause is close, even counting ``HEADROOM``
        requests of other processes not seen yet."""
        seen = self._seen
        if (
            seen is None
            or len(self._pending) >= SYNC_EVERY
            or not 0 <= now - seen.read_at < SYNC_AFTER
            or seen.pause_until > now
        ):
            return False
        if _stat(self.path) != seen.stat:
            return False  # another process wrote since: read what it spent first
        used = len(seen.stamps) - bisect.bisect_right(seen.stamps, now - self.window)
        # Each other writer may hold SYNC_EVERY stamps we cannot see; one more batch covers a
        # write that left the file's size and (coarse) mtime as we last saw them.
        headroom = max(HEADROOM, SYNC_EVERY * (seen.others + 1))
        if used + len(self._pending) + headroom >= self.limit:
            return False
        server = self._server_now(now)
        return server is None or server[0] > self.reserve + HEADROOM

    def _server_now(self, now: float) -> tuple[int, float] | None:
        """The server's (remaining, reset at) that still holds: the lower of what this
        process heard and what the file said, or None."""
        found = []
        if self._server is not None and self._server[1] > now:
            found.append(self._server)
        seen = self._seen
        if seen is not None and seen.server_remaining is not None and seen.server_reset_at > now:
            found.append((seen.server_remaining - len(self._pending), seen.server_reset_at))
        return min(found) if found else None

    def _spend_server(self, count: int) -> None:
        if self._server is not None:
            self._server = (self._server[0] - count, self._server[1])

    def observe(self, headers: Mapping[str, str]) -> None:
        """Learn from ``ratelimit-limit``/``-remaining``/``-reset`` on any response.

        Kept in memory; written to the shared file only when it leaves no room to spare (the
        user's other processes must hold off too). The reset is capped (see
        :func:`header_wait`) before it is stored, since the stored time holds back every
        process sharing the file.
        """
        limit = _number(headers.get("ratelimit-limit"))
        if limit is not None and limit >= 1:
            self._server_limit = int(limit)
        remaining = _number(headers.get("ratelimit-remaining"))
        reset_header = headers.get("ratelimit-reset")
        if remaining is None or _number(reset_header) is None:
            return
        now = self._clock()
        reset = header_wait(reset_header, now)
        if reset is None:
            return
        self._server = (int(remaining), now + reset)
        if int(remaining) > self.reserve + HEADROOM:
            return

        def update(state: dict[str, Any], now: float) -> None:
            return None  # _locked writes this process's numbers (the lower count wins)

        self._locked(update)

    def pause(self, seconds: float) -> None:
        """After a 429: every process sharing the file waits ``seconds`` (at most MAX_WAIT)."""
        # NaN fails every comparison, so it is tested for before min/max could pass it on.
        seconds = min(max(seconds, 0.0), MAX_WAIT) if seconds == seconds else 0.0

        def update(state: dict[str, Any], now: float) -> None:
            state["pause_until"] = max(state["pause_until"], now + seconds)

        self._locked(update)

    def used(self) -> int:
        """Requests spent in the current window, by every process."""
        return int(self._locked(lambda state, now: len(state["stamps"])))

    def flush(self) -> None:
        """Write the stamps spent from memory to the shared file now."""
        if self._pending:
            self._locked(lambda state, now: None)

    # ------------------------------------------------------------ the shared file

    def _locked(self, update: Callable[[dict[str, Any], float], Any]) -> Any:
        """``update`` on the file's state under the lock, with this process's unwritten
        stamps and server numbers merged in first; what it read is remembered."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            raw = _read_all(fd)
            now = self._clock()
            state, repaired = _load(raw, now, self.window)
            before = _signature(state)
            self._merge(state, now)
            result = update(state, now)
            # A repaired file is written back even when nothing else changed, so that a wait
            # beyond the cap never stays on disk.
            if _signature(state) != before or raw == b"" or repaired:
                state["writers"][self._writer] = now
                _write_all(fd, state)
            others = sum(1 for writer in state["writers"] if writer != self._writer)
            self._seen = _Seen(
                list(state["stamps"]),
                float(state["pause_until"]),
                state["server_remaining"],
                float(state["server_reset_at"]),
                now,
                others,
                _fstat(fd),
            )
            return result
        finally:
            os.close(fd)  # closing the descriptor releases the flock

    def _merge(self, state: dict[str, Any], now: float) -> None:
        """Add the stamps spent from memory, and the server's lower count, to ``state``."""
        pending = [s for s in self._pending if s > now - self.window]
        if pending:
            stamps: list[float] = state["stamps"]
            stamps.extend(min(s, now) for s in pending)
            stamps.sort()
            if state["server_remaining"] is not None and state["server_reset_at"] > now:
                state["server_remaining"] -= len(pending)
        self._pending.clear()
        if self._server_limit is not None:
            state["server_limit"] = self._server_limit
        elif state["server_limit"] is not None:
            # Another process heard the server's limit: a new budget (the next `cockpit
            # sync`, the TUI opened after one) follows it too instead of the default,
            # which a first sync's stamps may already fill for a minute.
            self._server_limit = state["server_limit"]
        if self._server is not None and self._server[1] > now:
            remaining, reset_at = self._server
            known = state["server_remaining"] is not None and state["server_reset_at"] > now
            if not known or remaining < state["server_remaining"]:
                state["server_remaining"] = remaining
                state["server_reset_at"] = min(reset_at, now + MAX_WAIT)


def _fstat(fd: int) -> tuple[int, int, int]:
    info = os.fstat(fd)
    return (info.st_ino, info.st_size, info.st_mtime_ns)


def _stat(path: Path) -> tuple[int, int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_ino, info.st_size, info.st_mtime_ns)


def _read_all(fd: int) -> bytes:
    raw = b""
    while chunk := os.read(fd, 65536):
        raw += chunk
    return raw


def _write_all(fd: int, state: dict[str, Any]) -> None:
    os.lseek(fd, 0, os.SEEK_SET)
    os.ftruncate(fd, 0)
    os.write(fd, json.dumps(state, sort_keys=True).encode())


def _signature(state: dict[str, Any]) -> tuple[Any, ...]:
    """Enough of ``state`` to tell whether it changed (stamps are only ever added or aged
    out, and kept sorted), without encoding it."""
    stamps = state["stamps"]
    return (
        len(stamps),
        stamps[0] if stamps else None,
        stamps[-1] if stamps else None,
        state["pause_until"],
        state["server_remaining"],
        state["server_reset_at"],
        state["server_limit"],
    )


def _write_pending(
    path: Path, pending: list[float], clock: Clock, window: float, writer: str
) -> None:
    """A budget went away (or the process exits) with stamps not yet in the file."""
    if not pending or not path.parent.is_dir():
        return
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        now = clock()
        state, _ = _load(_read_all(fd), now, window)
        state["stamps"] = sorted(
            state["stamps"] + [min(s, now) for s in pending if s > now - window]
        )
        pending.clear()
        state["writers"][writer] = now
        _write_all(fd, state)
    except OSError:
        pass
    finally:
        os.close(fd)


def _load(raw: bytes, now: float, window: float) -> tuple[dict[str, Any], bool]:
    """The state from the file and whether it had to be repaired.

    Stamps older than the window are dropped; times are clamped so that no wait read back is
    longer than MAX_WAIT (pauses, server resets) or the window (stamps "from the future", left
    by a clock that was set ahead); a damaged file resets.
    """
    state: dict[str, Any] = {
        "stamps": [],
        "pause_until": 0.0,
        "server_remaining": None,
        "server_reset_at": 0.0,
        "server_limit": None,
        "writers": {},
    }
    repaired = False
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    stamps = data.get("stamps")
    if isinstance(stamps, list):
        kept = [float(s) for s in stamps if _finite(s) and s > now - window]
        if any(s > now for s in kept):
            repaired = True
        state["stamps"] = sorted(min(s, now) for s in kept)
    for key in ("pause_until", "server_reset_at"):
        value = data.get(key)
        if isinstance(value, int | float) and _finite(value):
            state[key] = min(float(value), now + MAX_WAIT)
            repaired = repaired or value > now + MAX_WAIT
        elif key in data:
            repaired = True  # not a time: written back as the default
    remaining = data.get("server_remaining")
    if isinstance(remaining, int) and not isinstance(remaining, bool):
        state["server_remaining"] = remaining
    limit = data.get("server_limit")
    if isinstance(limit, int) and not isinstance(limit, bool) and limit >= 1:
        state["server_limit"] = limit
    writers = data.get("writers")
    if isinstance(writers, dict):
        state["writers"] = {
            str(name): float(at)
            for name, at in writers.items()
            if _finite(at) and now - window < at <= now + window
        }
    return state, repaired


def _finite(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and value == value
        and abs(value) != float("inf")
    )


def _number(value: str | None) -> float | None:
    """A finite number from a header, else None ("nan" and "inf" parse, but are not times)."""
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if _finite(number) else None


__all__ = [
    "DEFAULT_LIMIT",
    "HEADROOM",
    "MARGIN",
    "SYNC_AFTER",
    "SYNC_EVERY",
    "EPOCH_THRESHOLD",
    "FILE_NAME",
    "MAX_WAIT",
    "RequestBudget",
    "Wait",
    "WaitCallback",
    "header_wait",
]
