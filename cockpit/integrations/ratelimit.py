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
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: the budget is then per process only
    fcntl = None  # type: ignore[assignment]

DEFAULT_LIMIT = 600  # per minute, well below PagerDuty's 960 so other tools keep some room
DEFAULT_RESERVE = 20  # when the server says fewer remain, wait for its reset
FILE_NAME = "ratelimit.json"

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class RequestBudget:
    """At most ``limit`` requests per ``window`` seconds, counted across processes.

    Args:
        path: the shared state file (created with its folder on first use).
        limit: requests allowed per window.
        window: the sliding window, in seconds.
        reserve: when the server's ``ratelimit-remaining`` drops to this, wait for its reset.
        clock: wall-clock seconds (shared by processes, so not ``time.monotonic``).
        sleep: awaited to wait; tests pass one that advances a fake clock.
    """

    def __init__(
        self,
        path: Path,
        limit: int = DEFAULT_LIMIT,
        *,
        window: float = 60.0,
        reserve: int = DEFAULT_RESERVE,
        clock: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.path = Path(path)
        self.limit = limit
        self.window = window
        self.reserve = reserve
        self._clock = clock
        self._sleep = sleep
        self.waited = 0.0  # seconds this instance spent waiting, for benchmarks and the UI

    @classmethod
    def in_data_dir(cls, data_dir: Path, **kwargs: Any) -> RequestBudget:
        """The budget every process of this user shares: ``<data_dir>/ratelimit.json``."""
        return cls(Path(data_dir) / FILE_NAME, **kwargs)

    def __repr__(self) -> str:
        return f"RequestBudget({str(self.path)!r}, limit={self.limit}/{self.window:g}s)"

    # ------------------------------------------------------------ public

    async def acquire(self) -> None:
        """Spend one request, waiting first while the window is full or the server says wait."""
        while True:
            wait = self.try_acquire()
            if wait <= 0:
                return
            self.waited += wait
            await self._sleep(wait)

    def try_acquire(self) -> float:
        """Spend one request now and return 0, or spend nothing and return seconds to wait."""

        def update(state: dict[str, Any], now: float) -> float:
            if state["pause_until"] > now:
                return float(state["pause_until"] - now)
            remaining = state["server_remaining"]
            server_says = remaining is not None and state["server_reset_at"] > now
            if server_says and remaining <= self.reserve:
                return float(state["server_reset_at"] - now)
            stamps: list[float] = state["stamps"]
            if len(stamps) >= self.limit:
                # A tiny floor keeps a caller from spinning when the oldest stamp is "now".
                return max(stamps[len(stamps) - self.limit] + self.window - now, 0.001)
            stamps.append(now)
            if server_says:
                state["server_remaining"] = remaining - 1
            return 0.0

        return self._locked(update)

    def observe(self, headers: Mapping[str, str]) -> None:
        """Learn from ``ratelimit-remaining`` / ``ratelimit-reset`` on any response."""
        remaining = _number(headers.get("ratelimit-remaining"))
        reset = _number(headers.get("ratelimit-reset"))
        if remaining is None or reset is None:
            return

        def update(state: dict[str, Any], now: float) -> None:
            state["server_remaining"] = int(remaining)
            state["server_reset_at"] = now + max(reset, 0.0)

        self._locked(update)

    def pause(self, seconds: float) -> None:
        """After a 429: every process sharing the file waits ``seconds`` from now."""

        def update(state: dict[str, Any], now: float) -> None:
            state["pause_until"] = max(state["pause_until"], now + max(seconds, 0.0))

        self._locked(update)

    def used(self) -> int:
        """Requests spent in the current window, by every process."""
        return self._locked(lambda state, now: len(state["stamps"]))

    # ------------------------------------------------------------ the shared file

    def _locked(self, update: Callable[[dict[str, Any], float], Any]) -> Any:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            raw = b""
            while chunk := os.read(fd, 65536):
                raw += chunk
            now = self._clock()
            state = _load(raw, now - self.window)
            before = json.dumps(state, sort_keys=True)
            result = update(state, now)
            after = json.dumps(state, sort_keys=True)
            if after != before or raw == b"":
                os.lseek(fd, 0, os.SEEK_SET)
                os.ftruncate(fd, 0)
                os.write(fd, after.encode())
            return result
        finally:
            os.close(fd)  # closing the descriptor releases the flock


def _load(raw: bytes, horizon: float) -> dict[str, Any]:
    """The state from the file, stamps older than ``horizon`` dropped; a damaged file resets."""
    state: dict[str, Any] = {
        "stamps": [],
        "pause_until": 0.0,
        "server_remaining": None,
        "server_reset_at": 0.0,
    }
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    stamps = data.get("stamps")
    if isinstance(stamps, list):
        state["stamps"] = sorted(
            float(s) for s in stamps if isinstance(s, int | float) and s > horizon
        )
    for key in ("pause_until", "server_reset_at"):
        if isinstance(data.get(key), int | float):
            state[key] = float(data[key])
    if isinstance(data.get("server_remaining"), int):
        state["server_remaining"] = data["server_remaining"]
    return state


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


__all__ = ["DEFAULT_LIMIT", "FILE_NAME", "RequestBudget"]
