"""A PagerDuty REST API v2 (and Events API v2) emulator: a real HTTP server on 127.0.0.1.

Used by the demo, the tests and the benchmarks. ``start_emulator()`` seeds an account and
serves it from a daemon thread::

    with start_emulator(incidents=50) as pd:
        httpx.get(pd.url + "/incidents", headers={"Authorization": f"Token token={pd.token}"})
        pd.state.inject({"kind": "429", "count": 1, "reset": 2})

Behaviour choices where the spec is silent: incidents list oldest first, log entries newest
first; acknowledging an acknowledged incident succeeds and logs again; snoozing needs an
acknowledged incident (400, code 1012) and a duration of 1..604800 s (400, code 1013).

Where the spec speaks (``updates.py`` has the details): a ``PUT`` with ``status:
acknowledged`` on a resolved incident reopens it, acknowledged by and assigned to the
``From`` user (log: assign, acknowledge); any other write to a resolved incident is 400 with
code 1001. A ``PUT`` with both ``assignments`` and ``status: acknowledged`` reassigns, then
acknowledges: the incident ends acknowledged by the caller and assigned to the new assignees,
logged assign, notify (the new assignees are paged), acknowledge.

For tests: faults (``faults.py``: 429, epoch_reset, epoch_header, 500, slow, late_success,
trickle, drop); ``state.writes``, the journal of every write request (``journal.py``);
``state.set_status(id, "investigating")`` for a status a client does not know;
``note_ids="per_incident"`` (or ``state.note_ids``) for note ids "1", "2"... per incident.
``state.trigger(title, details=..., contexts=[...], teams=[...])`` for an alert body (details
an object or a string, links and images as ``body.contexts``) and an incident of several teams;
the Events API puts an event's ``links`` and ``images`` in the alert's ``body.contexts`` too.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType

from cockpit.integrations.pagerduty_emulator.account import ApiError
from cockpit.integrations.pagerduty_emulator.faults import Fault, FaultError
from cockpit.integrations.pagerduty_emulator.seed import seed_history
from cockpit.integrations.pagerduty_emulator.server import EmulatorServer
from cockpit.integrations.pagerduty_emulator.state import EmulatorState

__all__ = [
    "ApiError",
    "EmulatorHandle",
    "EmulatorState",
    "Fault",
    "FaultError",
    "seed_history",
    "start_emulator",
]


@dataclass
class EmulatorHandle:
    """A running emulator. ``stop()`` (or leaving the ``with`` block) shuts it down."""

    url: str
    token: str
    state: EmulatorState
    cert_path: Path | None = None
    _server: EmulatorServer | None = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> EmulatorHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_emulator(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    tls: bool = False,
    seed: int | None = 1,
    incidents: int = 200,
    days: int = 30,
    token: str = "emulator-token",
    now: datetime | None = None,
    rate_limit_per_minute: int = 960,
    note_ids: str = "global",
) -> EmulatorHandle:
    """Seed an account and serve it on ``host:port`` (0: any free port) in a daemon thread.

    ``note_ids``: ``"global"`` (unique ids, as PagerDuty) or ``"per_incident"`` ("1", "2"...
    restarting on each incident, seeded notes included)."""
    state = EmulatorState(
        now=now, rng_seed=seed, rate_limit_per_minute=rate_limit_per_minute, note_ids=note_ids
    )
    seed_history(state, incidents=incidents, days=days, now=now, seed=seed)
    server = EmulatorServer((host, port), state, token)
    cert_path = None
    if tls:
        import ssl

        from cockpit.integrations.pagerduty_emulator.tls import make_certificate

        cert_path, key_path = make_certificate()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_path, key_path)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    bound_host, bound_port = str(server.server_address[0]), int(server.server_address[1])
    scheme = "https" if tls else "http"
    shown = "127.0.0.1" if bound_host in ("", "0.0.0.0") else bound_host
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.1},
        name=f"pagerduty-emulator-{bound_port}",
        daemon=True,
    )
    thread.start()
    return EmulatorHandle(
        url=f"{scheme}://{shown}:{bound_port}",
        token=token,
        state=state,
        cert_path=cert_path,
        _server=server,
        _thread=thread,
    )
