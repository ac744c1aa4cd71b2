"""Faults the emulator can be told to produce: rate limiting, errors, slowness, drops.

A fault is armed for ``count`` matching requests and then disarms itself. Requests to the
control endpoints under ``/_emulator/`` never match, so a test can always disarm or inspect.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any

KINDS = ("429", "500", "slow", "drop", "late_success")


class FaultError(ValueError):
    """A fault description that cannot be armed."""


@dataclass(slots=True)
class Fault:
    """One armed fault.

    ``path`` is a prefix of the request path (``/incidents``), ``method`` an HTTP method; both
    empty match every request. ``delay`` is seconds for ``slow`` and ``late_success``,
    ``reset`` the ``ratelimit-reset`` seconds a ``429`` announces.
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
        armed = fault if isinstance(fault, Fault) else Fault.from_json(fault)
        if armed.kind not in KINDS:
            raise FaultError(f"fault kind {armed.kind!r} is not one of {', '.join(KINDS)}")
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
