"""httpx on cockpit's asyncio network backend, against a small HTTP server on 127.0.0.1: a
kept-alive connection the server closed is not reused, a slow answer times out as httpx's
ReadTimeout, and the PagerDuty client runs on this backend."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from cockpit.integrations.asyncio_net import AsyncioBackend, asyncio_transport
from cockpit.integrations.pagerduty import PagerDutyProvider


class Server:
    """Answers each request with its connection's number; ``close_after`` answers per
    connection, then the server hangs up (keep-alive promised all the same)."""

    def __init__(self, close_after: int = 100, delay: float = 0.0) -> None:
        self.close_after = close_after
        self.delay = delay
        self.connections = 0
        self.url = ""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        number = self.connections
        try:
            for _ in range(self.close_after):
                head = await reader.readuntil(b"\r\n\r\n")
                if not head:
                    break
                await asyncio.sleep(self.delay)
                body = str(number).encode()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    handler = Server()
    listening = await asyncio.start_server(handler.handle, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    handler.url = f"http://127.0.0.1:{port}"
    async with listening:
        yield handler


async def test_a_connection_the_server_closed_while_idle_is_not_reused(server: Server) -> None:
    server.close_after = 1
    async with httpx.AsyncClient(transport=asyncio_transport(False)) as client:
        first = await client.get(server.url)
        await asyncio.sleep(0.05)  # the server's close arrives while the connection is idle
        second = await client.get(server.url)
    assert (first.text, second.text) == ("1", "2")


async def test_a_kept_alive_connection_is_reused(server: Server) -> None:
    async with httpx.AsyncClient(transport=asyncio_transport(False)) as client:
        answers = [(await client.get(server.url)).text for _ in range(3)]
    assert answers == ["1", "1", "1"]


async def test_a_slow_answer_is_a_read_timeout(server: Server) -> None:
    server.delay = 1.0
    async with httpx.AsyncClient(transport=asyncio_transport(False), timeout=0.1) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get(server.url)


async def test_a_refused_connection_is_a_connect_error() -> None:
    listening = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    listening.close()
    await listening.wait_closed()
    async with httpx.AsyncClient(transport=asyncio_transport(False)) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"http://127.0.0.1:{port}")


async def test_the_pagerduty_client_uses_the_asyncio_backend() -> None:
    async with PagerDutyProvider("https://api.pagerduty.com", "token") as provider:
        client = provider._http._client
        pool = client._transport._pool  # type: ignore[attr-defined]
        assert isinstance(pool._network_backend, AsyncioBackend)
