"""The HTTP server: authentication, rate limit, faults, control endpoints, then the routes.

HTTP/1.1 with keep-alive and Content-Length on every response, one thread per connection:
a fault that makes one answer wait (``slow``, ``late_success``, ``trickle``) holds only its
own connection's thread, never ``state.lock``. Control endpoints under ``/_emulator/`` (see
``control.py``) need no token and are not counted, rate limited or faulted, so a test or the
demo can always inspect and steer the emulator.
"""

from __future__ import annotations

import json
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cockpit.integrations.pagerduty_emulator import events
from cockpit.integrations.pagerduty_emulator.account import ApiError
from cockpit.integrations.pagerduty_emulator.control import control
from cockpit.integrations.pagerduty_emulator.faults import Fault
from cockpit.integrations.pagerduty_emulator.routes import dispatch, dumps
from cockpit.integrations.pagerduty_emulator.state import EmulatorState

WRITE_METHODS = ("POST", "PUT", "DELETE", "PATCH")
EVENTS_PATHS = ("/v2/enqueue", "/enqueue")


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], state: EmulatorState, token: str) -> None:
        super().__init__(address, EmulatorHandler)
        self.state = state
        self.token = token
        # Set on close, so a trickling answer stops instead of outliving the server.
        self.stopped = threading.Event()

    def server_close(self) -> None:
        self.stopped.set()
        super().server_close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (its timeout during a slow or late_success fault) is normal
        # here, not a bug worth a traceback on stderr.
        if isinstance(sys.exc_info()[1], _GONE):
            return
        super().handle_error(request, client_address)


# The peer went away: a reset, a broken pipe, or a TLS connection closed without close_notify.
_GONE = (ConnectionError, ssl.SSLEOFError)


class _Dropped(Exception):
    """The ``drop`` fault: close the connection without answering."""


class EmulatorHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, a keep-alive client's delayed ACK
    # would add ~40 ms to every response.
    disable_nagle_algorithm = True
    server: EmulatorServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # quiet: tests and benchmarks would drown in access logs

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._handle("PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        self._handle("DELETE")

    def do_PATCH(self) -> None:  # noqa: N802
        self._handle("PATCH")

    # -- plumbing ---------------------------------------------------------------------------
    def _send(
        self, status: int, text: str, headers: dict[str, str] | None = None, trickle: float = 0.0
    ) -> None:
        data = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        try:
            self.end_headers()
            if trickle:
                self._trickle(data, trickle)
            else:
                self.wfile.write(data)
        except _GONE:
            self.close_connection = True  # the client hung up first; nobody to answer

    def _trickle(self, data: bytes, delay: float) -> None:
        # wfile is unbuffered, so each byte leaves at once and resets the client's read timer.
        for index in range(len(data)):
            if self.server.stopped.wait(delay):
                self.close_connection = True
                return
            self.wfile.write(data[index : index + 1])

    def _body(self) -> tuple[Any, str]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        if not raw:
            return None, raw
        try:
            return json.loads(raw), raw
        except json.JSONDecodeError:
            return _Unparsable(raw), raw

    def _token(self) -> str | None:
        value = self.headers.get("Authorization") or ""
        for prefix in ("Token token=", "Bearer "):
            if value.startswith(prefix):
                return value[len(prefix) :].strip()
        return None

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        raise _Dropped

    # -- one request -------------------------------------------------------------------------
    def _handle(self, method: str) -> None:
        parts = urlsplit(self.path)
        path = parts.path
        query = parse_qs(parts.query, keep_blank_values=True)
        body, raw = self._body()
        state = self.server.state
        try:
            if path.startswith("/_emulator/"):
                status, text = control(state, method, path, query, body)
                self._send(status, text)
                return
            self._serve(state, method, path, query, body, raw)
        except _Dropped:
            return

    def _serve(
        self,
        state: EmulatorState,
        method: str,
        path: str,
        query: dict[str, list[str]],
        body: Any,
        raw: str,
    ) -> None:
        state.count_request(method, path)
        record = None
        if method in WRITE_METHODS:
            shown = body.raw if isinstance(body, _Unparsable) else body
            record = state.record_write(method, path, shown, dict(self.headers.items()))
        fault = state.faults.take(method, path)
        kind = fault.kind if fault is not None else ""
        delay = fault.delay if fault is not None else 0.0
        if kind == "drop":
            self._drop()
        if kind == "slow":
            time.sleep(delay)
        if path in EVENTS_PATHS:
            status, text, headers = self._answer_event(fault, method, body)
        else:
            status, text, headers = self._answer_rest(state, fault, method, path, query, body)
        if record is not None:
            record["status"] = status
        if kind == "late_success":
            time.sleep(delay)
        self._send(status, text, headers, trickle=delay if kind == "trickle" else 0.0)

    def _answer_event(
        self, fault: Fault | None, method: str, body: Any
    ) -> tuple[int, str, dict[str, str]]:
        if fault is not None and fault.kind in ("429", "epoch_reset"):
            return (
                429,
                dumps(
                    {
                        "status": "throttle event",
                        "message": "Requests for this service are arriving too quickly.",
                    }
                ),
                {},
            )
        if fault is not None and fault.kind == "500":
            return 500, dumps({"status": "error", "message": "Internal Server Error"}), {}
        if method != "POST":
            return 405, dumps({"status": "error", "message": "Method Not Allowed"}), {}
        status, text = events.enqueue(self.server.state, body)
        return status, text, {}

    def _answer_rest(
        self,
        state: EmulatorState,
        fault: Fault | None,
        method: str,
        path: str,
        query: dict[str, list[str]],
        body: Any,
    ) -> tuple[int, str, dict[str, str]]:
        token = self._token()
        if token != self.server.token:
            error = ApiError(401, "Unauthorized", 2006, ["Authentication failed"])
            return 401, dumps(error.body()), {}
        limit, remaining, reset, allowed = state.take_rate(token)
        headers = {
            "ratelimit-limit": str(limit),
            "ratelimit-remaining": str(remaining),
            "ratelimit-reset": str(reset),
        }
        if fault is not None and fault.kind == "429":
            headers.update({"ratelimit-remaining": "0", "ratelimit-reset": str(fault.reset)})
            allowed = False
        if fault is not None and fault.kind in ("epoch_reset", "epoch_header"):
            # The machine's clock, not the emulator's (maybe fixed) one: a client compares
            # the epoch with its own time.time().
            epoch = int(time.time()) + fault.reset
            headers.update({"ratelimit-remaining": "0", "ratelimit-reset": str(epoch)})
            allowed = allowed and fault.kind == "epoch_header"
        if not allowed:
            error = ApiError(429, "Rate Limit Exceeded", 2020, ["Too many requests"])
            return 429, dumps(error.body()), headers
        if fault is not None and fault.kind == "500":
            error = ApiError(500, "Internal Server Error", 5000, ["Injected fault"])
            return 500, dumps(error.body()), headers
        if isinstance(body, _Unparsable):
            return (
                400,
                dumps(
                    ApiError(
                        400, "Invalid Input Provided", 2001, ["The body is not valid JSON"]
                    ).body()
                ),
                headers,
            )
        try:
            with state.lock:
                status, text = dispatch(state, method, path, query, body, self.headers.get("From"))
        except ApiError as error:
            return error.status, dumps(error.body()), headers
        return status, text, headers


class _Unparsable:
    """A request body that is not JSON; kept so ``writes`` shows what arrived."""

    def __init__(self, raw: str) -> None:
        self.raw = raw
