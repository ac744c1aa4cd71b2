"""The real Prometheus Alertmanager binary on 127.0.0.1, for tests that import this module.

The server is started on a free port with a temporary storage path, clustering disabled and a
"null" receiver (nothing is ever notified), and is stopped at teardown (terminate, then kill).
When the binary is not installed, the fixture skips with the reason.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

CONFIG = """\
route:
  receiver: "null"
  group_by: [alertname, service]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: "null"
"""
AUTH_USER = "ops"
AUTH_PASSWORD = "pw-for-tests"
# bcrypt of AUTH_PASSWORD (cost 5), made once with libxcrypt; the server's web config wants a hash.
AUTH_HASH = "$2b$05$abcdefghijklmnopqrstuubWQ10EGig0aoVbc5Juq9udww4uCvKWW"
SKIP_REASON = (
    "prometheus-alertmanager binary not installed: apt-get install prometheus-alertmanager"
)


def find_binary() -> str | None:
    return shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class AlertmanagerServer:
    """One Alertmanager process; ``restart`` keeps the port and starts on fresh storage."""

    def __init__(self, binary: str, root: Path, *, basic_auth: bool = False) -> None:
        self.binary = binary
        self.root = root
        self.auth = (AUTH_USER, AUTH_PASSWORD) if basic_auth else None
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        (root / "am.yml").write_text(CONFIG, encoding="utf-8")
        if basic_auth:
            web = f'basic_auth_users:\n  {AUTH_USER}: "{AUTH_HASH}"\n'
            (root / "web.yml").write_text(web, encoding="utf-8")

    def start(self) -> None:
        self.starts += 1
        storage = self.root / f"data{self.starts}"
        storage.mkdir()
        log = (self.root / f"am{self.starts}.log").open("wb")
        self.process = subprocess.Popen(
            [
                self.binary,
                f"--config.file={self.root / 'am.yml'}",
                f"--storage.path={storage}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--cluster.listen-address=",
                "--log.level=warn",
                *([f"--web.config.file={self.root / 'web.yml'}"] if self.auth else []),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"alertmanager exited: {self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/-/ready", auth=self.auth, timeout=0.5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"alertmanager not ready after 15 s: {self.log_tail()}")

    def log_tail(self) -> str:
        log = self.root / f"am{self.starts}.log"
        return log.read_text(errors="replace")[-2000:] if log.exists() else ""

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    # ------------------------------------------------------------ helpers for tests

    def post_alerts(self, *alerts: dict[str, Any]) -> None:
        """POST /api/v2/alerts. Alerts last an hour unless they say otherwise, so a test
        that moves its clock forward a few minutes does not see them expire."""
        now = datetime.now(UTC)
        body = []
        for alert in alerts:
            item = dict(alert)
            item.setdefault("startsAt", _iso(now))
            item.setdefault("endsAt", _iso(now + timedelta(hours=1)))
            body.append(item)
        response = httpx.post(f"{self.url}/api/v2/alerts", json=body, auth=self.auth, timeout=5)
        response.raise_for_status()

    def clear_alerts(self, *alerts: dict[str, Any]) -> None:
        """What Prometheus sends when an alert stops firing: the same labels, endsAt now."""
        now = datetime.now(UTC)
        self.post_alerts(
            *(
                {
                    **a,
                    "startsAt": _iso(now - timedelta(minutes=1)),
                    "endsAt": _iso(now - timedelta(seconds=1)),
                }
                for a in alerts
            )
        )

    def get(self, path: str) -> Any:
        response = httpx.get(f"{self.url}/api/v2{path}", auth=self.auth, timeout=5)
        response.raise_for_status()
        return response.json()


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _serve(tmp_path: Path, basic_auth: bool) -> Iterator[AlertmanagerServer]:
    binary = find_binary()
    if binary is None:
        pytest.skip(SKIP_REASON)
    root = tmp_path / ("alertmanager-auth" if basic_auth else "alertmanager")
    root.mkdir()
    server = AlertmanagerServer(binary, root, basic_auth=basic_auth)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[AlertmanagerServer]:
    yield from _serve(tmp_path, basic_auth=False)


@pytest.fixture
def alertmanager_basic_auth(tmp_path: Path) -> Iterator[AlertmanagerServer]:
    """The server behind basic auth (user ``AUTH_USER``, password ``AUTH_PASSWORD``)."""
    yield from _serve(tmp_path, basic_auth=True)
