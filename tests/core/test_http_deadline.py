"""Every request has a total deadline: a server trickling its answer cannot hold a sync.

The server here is real HTTP on 127.0.0.1: it sends its headers, then one byte of body every
50 ms, which never trips httpx's per-read timeout. Deadlines are short so each test stays
well under a few seconds; the only timing asserted is "ended within the deadline + slack".
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from cockpit.integrations.alertmanager import AlertmanagerProvider
from cockpit.integrations.base import RateLimited, Unavailable
from cockpit.integrations.pagerduty import PagerDutyProvider
from cockpit.integrations.pagerduty_http import REQUEST_DEADLINE, PagerDutyHTTP
from cockpit.integrations.ratelimit import RequestBudget

DEADLINE = 0.6
TIMEOUT = 0.5  # per read: a byte every 50 ms never reaches it
SLACK = 1.5


class SlowServer:
    """Answers every request by trickling (``mode="trickle"``) or with a 429."""

    def __init__(self, mode: str = "trickle", reset: str = "5") -> None:
        self.mode = mode
        self.reset = reset
        self.seen: list[str] = []
        self.url = ""
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while True:  # keep-alive: a retry may come on the same connection
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                length = 0
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                if length:
                    await reader.readexactly(length)
                self.seen.append(f"{method} {urlsplit(target).path}")
                if self.mode == "429":
                    writer.write(
                        b"HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\n"
                        b"ratelimit-remaining: 0\r\nratelimit-reset: "
                        + self.reset.encode()
                        + b"\r\nContent-Length: 2\r\n\r\n{}"
                    )
                    await writer.drain()
                    continue
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: 100000\r\n\r\n{"
                )
                for _ in range(200):  # 10 s at most, far past any deadline here
                    if reader.at_eof() or writer.is_closing():
                        return
                    writer.write(b" ")
                    await writer.drain()
                    await asyncio.sleep(0.05)
                return
        except (ConnectionError, asyncio.CancelledError):
            return
        finally:
            self._tasks.discard(task)
            writer.close()


@pytest.fixture
async def trickle() -> AsyncIterator[SlowServer]:
    server = SlowServer()
    await server.start()
    yield server
    await server.stop()


async def no_wait(seconds: float) -> None:
    await asyncio.sleep(0)


def client(url: str, **kwargs: object) -> PagerDutyHTTP:
    options: dict[str, object] = {
        "timeout": TIMEOUT,
        "deadline": DEADLINE,
        "max_retries": 1,
        "sleep": no_wait,
    }
    options.update(kwargs)
    return PagerDutyHTTP(url, "t0ken-for-deadline-tests", **options)  # type: ignore[arg-type]


def test_the_default_deadline_is_importable_and_used() -> None:
    assert 0 < REQUEST_DEADLINE <= 60
    assert PagerDutyHTTP("http://127.0.0.1:9", "t").deadline == REQUEST_DEADLINE
    with pytest.raises(ValueError):
        PagerDutyHTTP("http://127.0.0.1:9", "t", deadline=0)
    # What the outbox's settle wait reads from a provider (push.py: request_deadline).
    assert PagerDutyProvider("http://127.0.0.1:9", "t").request_deadline == REQUEST_DEADLINE
    assert PagerDutyProvider("http://127.0.0.1:9", "t", deadline=2.5).request_deadline == 2.5


async def test_a_trickled_read_is_retried_then_unavailable_within_its_deadlines(
    trickle: SlowServer,
) -> None:
    http = client(trickle.url)
    started = time.monotonic()
    with pytest.raises(Unavailable) as caught:
        await http.request("GET", "/incidents")
    elapsed = time.monotonic() - started
    await http.aclose()
    assert "no complete answer within the 0.6 s deadline after 2 tries" in str(caught.value)
    assert trickle.seen == ["GET /incidents", "GET /incidents"]  # retried like a timeout
    assert elapsed < 2 * DEADLINE + SLACK


async def test_a_trickled_write_is_in_doubt_and_never_sent_twice(trickle: SlowServer) -> None:
    http = client(trickle.url, max_retries=3)
    started = time.monotonic()
    with pytest.raises(Unavailable) as caught:
        await http.request(
            "POST",
            "/incidents/P1/notes",
            json={"note": {"content": "x"}},
            headers={"From": "me@example.com"},
            idempotent=False,
        )
    elapsed = time.monotonic() - started
    await http.aclose()
    message = str(caught.value)
    assert "no complete answer within the 0.6 s deadline" in message
    assert "may have arrived: check the incident before sending it again" in message
    assert caught.value.retryable  # the outbox keeps it, and checks before resending
    assert trickle.seen == ["POST /incidents/P1/notes"]
    assert elapsed < DEADLINE + SLACK


async def test_a_write_does_not_wait_out_a_429_past_its_deadline(tmp_path: Path) -> None:
    """A lock guarding the write must not run out while the write is still to be sent."""
    server = SlowServer(mode="429", reset="30")
    await server.start()
    budget = RequestBudget.in_data_dir(tmp_path)
    http = client(server.url, budget=budget, max_retries=5)
    started = time.monotonic()
    try:
        with pytest.raises(RateLimited) as caught:
            await http.request("POST", "/incidents/P1/notes", json={}, idempotent=False)
    finally:
        await http.aclose()
        await server.stop()
    assert time.monotonic() - started < DEADLINE + SLACK
    assert server.seen == ["POST /incidents/P1/notes"]  # not sent again after the 429
    assert caught.value.reset_after == pytest.approx(30.0)
    # The user's other processes still hold off for the reset the server asked for.
    wait = budget.wait_needed()
    assert wait is not None and 25 < wait.seconds <= 30


async def test_a_write_is_not_sent_when_the_shared_budget_would_wait_past_its_deadline(
    trickle: SlowServer, tmp_path: Path
) -> None:
    budget = RequestBudget.in_data_dir(tmp_path)
    RequestBudget.in_data_dir(tmp_path).pause(20)  # another process was told to hold off
    http = client(trickle.url, budget=budget)
    started = time.monotonic()
    try:
        with pytest.raises(RateLimited) as caught:
            await http.request("POST", "/incidents/P1/notes", json={}, idempotent=False)
        assert time.monotonic() - started < SLACK
        assert trickle.seen == []  # nothing sent, so the outbox may simply try again later
        assert "would pass its 0.6 s deadline" in str(caught.value)
        assert "after it refused a request (429)" in str(caught.value)
    finally:
        await http.aclose()


async def test_alertmanager_reads_and_writes_end_within_the_deadline(
    trickle: SlowServer,
) -> None:
    async with AlertmanagerProvider(
        trickle.url, timeout=TIMEOUT, deadline=DEADLINE, max_retries=1, sleep=no_wait
    ) as am:
        started = time.monotonic()
        with pytest.raises(Unavailable) as read:
            await am.server_version()
        assert time.monotonic() - started < 2 * DEADLINE + SLACK
        assert "deadline after 2 tries" in str(read.value)
        trickle.seen.clear()
        started = time.monotonic()
        # The silence POST itself: the public writes read a snapshot first, which this
        # server cannot give.
        with pytest.raises(Unavailable) as write:
            await am._request("POST", "/silences", json={}, idempotent=False)
        assert time.monotonic() - started < DEADLINE + SLACK
    assert "may have arrived" in str(write.value)
    assert trickle.seen == ["POST /api/v2/silences"]
    assert am.request_deadline == DEADLINE  # what the outbox waits before re-checking


async def test_a_fast_answer_is_not_cut_by_the_deadline(tmp_path: Path) -> None:
    """The deadline bounds slow answers only: the emulator answers well inside it."""
    from cockpit.integrations.pagerduty_emulator import start_emulator

    with start_emulator(incidents=2, days=1) as pd:
        http = PagerDutyHTTP(pd.url, pd.token, deadline=DEADLINE)
        try:
            body = await http.request("GET", "/users/me")
        finally:
            await http.aclose()
    assert body["user"]["email"]
