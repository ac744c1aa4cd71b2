"""Faults the emulator can be told to produce: rate limiting, errors, slowness, drops.

A fault is armed for ``count`` matching requests and then disarms itself. Requests to the
control endpoints under ``/_emulator/`` never match, so a test can always disarm or inspect.
Arm one with ``state.inject({...})`` or ``POST /_emulator/faults`` (one object or a list).

Kinds (writes are applied unless the kind says otherwise):

``429``
    refused with 429, ``ratelimit-remaining: 0`` and ``ratelimit-reset: <reset>`` seconds.
``epoch_reset``
    the same 429, but ``ratelimit-reset`` holds an epoch, ``now + reset`` in whole seconds
    since 1970 on the machine's clock, as some proxies send (the Events API, which sends
    no rate headers, answers its plain 429).
``epoch_header``
    served normally, but with ``ratelimit-remaining: 0`` and the epoch ``ratelimit-reset``
    (REST API only).
``500``
    refused with 500; nothing applied.
``slow``
    waits ``delay`` seconds, then serves normally.
``late_success``
    applies the request, then holds the answer ``delay`` seconds (a client that gave up
    meanwhile never learns its write landed). Any method and path: notes, snoozes, PUTs.
``trickle``
    serves normally, but after the headers the body goes out one byte every ``delay``
    seconds (``delay`` > 0): a client with only a per-read timeout never finishes. Only
    the connection's own thread waits; other requests are served meanwhile.
``drop``
    closes the connection without an answer; nothing applied.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any

KINDS = ("429", "500", "slow", "drop", "late_success", "trickle", "epoch_reset", "epoch_header")


class FaultError(ValueError):
    """A fault description that cannot be armed."""


@dataclass(slots=True)
class Fault:
    """One armed fault.

    ``path`` is a prefix of the request path (``/incidents``), ``method`` an HTTP method; both
    empty match every request. ``delay`` is seconds for ``slow`` and ``late_success``, and
    seconds per byte for ``trickle``; ``reset`` the ``ratelimit-reset`` seconds a ``429``
    announces, or how far ahead of now the epoch of ``epoch_reset``/``epoch_header`` lies.
    """

    kind: str
    count: int = 1
    delay: float = 0.0
    reset: int = 30
    path: str = ""
    method: str = ""

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fault:
        if not isinstance(data, dict):
            raise FaultError('a fault is a JSON object such as {"kind": "500", "count": 1}')
        kind = str(data.get("kind", ""))
        if kind not in KINDS:
            raise FaultError(f"fault kind {kind!r} is not one of {', '.join(KINDS)}")
        try:
            fault = cls(
                kind=kind,
                count=int(data.get("count", 1)),
                delay=float(data.get("delay", 0.0)),
                reset=int(data.get("reset", 30)),
                path=str(data.get("path", "") or ""),
                method=str(data.get("method", "") or "").upper(),
            )
        except (TypeError, ValueError) as error:
            raise FaultError(f"fault field has the wrong type: {error}") from None
        if fault.count < 1 or fault.delay < 0 or fault.reset < 0:
            raise FaultError("fault count must be >= 1, delay and reset >= 0")
        if fault.kind == "trickle" and fault.delay <= 0:
            raise FaultError("a trickle fault needs a delay > 0 (seconds per byte)")
        return fault

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method != method:
            return False
        return not self.path or path.startswith(self.path)


class FaultBox:
    """The armed faults, consumed in the order they were injected."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def inject(self, fault: Fault | dict[str, Any]) -> Fault:
        # A Fault built by hand is checked as one from JSON would be.
        armed = Fault.from_json(fault.to_json() if isinstance(fault, Fault) else fault)
        with self._lock:
            self._faults.append(armed)
        return armed

    def take(self, method: str, path: str) -> Fault | None:
        """The first armed fault matching this request, with one use consumed."""
        if path.startswith("/_emulator/"):
            return None
        with self._lock:
            for index, fault in enumerate(self._faults):
                if fault.matches(method, path):
                    fault.count -= 1
                    if fault.count <= 0:
                        del self._faults[index]
                    return Fault(fault.kind, 1, fault.delay, fault.reset, fault.path, fault.method)
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def armed(self) -> list[Fault]:
        with self._lock:
            return [Fault(**asdict(fault)) for fault in self._faults]
