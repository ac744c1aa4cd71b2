"""A client that hangs up before the answer (its own timeout) leaves no traceback behind."""

from __future__ import annotations

import socket
import struct
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx
import pytest

from cockpit.integrations.pagerduty_emulator import start_emulator

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def test_client_gone_before_a_slow_answer_is_quiet(capsys: pytest.CaptureFixture[str]) -> None:
    with start_emulator(incidents=5, now=NOW) as pd:
        pd.state.inject({"kind": "slow", "delay": 0.3, "count": 1})
        parts = urlsplit(pd.url)
        raw = socket.create_connection((parts.hostname or "", parts.port or 0))
        head = f"GET /incidents HTTP/1.1\r\nHost: x\r\nAuthorization: Token token={pd.token}"
        raw.sendall(f"{head}\r\n\r\n".encode())
        time.sleep(0.1)  # the server has read the request and is in the fault's delay
        # Linger 0: close with a reset, so the server's write fails instead of being buffered.
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        raw.close()
        time.sleep(0.6)  # the delay ends and the server tries to answer the gone client
        headers = {"Authorization": f"Token token={pd.token}"}
        answer = httpx.get(pd.url + "/incidents", headers=headers, timeout=5)
        assert pd.state.request_count == 2
    assert answer.status_code == 200
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "BrokenPipeError" not in err and "ConnectionResetError" not in err
