"""Account-level API keys can log in: /users/me refuses them (the spec says so), so login
checks the key on GET /users, asks for the user's email and saves it as pagerduty_from.

The emulator knows one kind of key, so these tests run a small PagerDuty of their own on
127.0.0.1 that answers /users/me with 400 for the account key, as the spec documents.
"""

from __future__ import annotations

import io
import json
import sys
import threading
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from memory_keyring import MemoryKeyring

from cockpit.cli.main import main
from cockpit.integrations.base import AuthError, NotFound
from cockpit.integrations.pagerduty import PagerDutyProvider

ACCOUNT_KEY = "acct-K3Y-u+xyz"
USERS = [
    {"id": "PU1", "type": "user", "name": "Zoe Ops", "email": "Zoe@Example.com"},
    {"id": "PU2", "type": "user", "name": "Sam Lee", "email": "sam@example.com"},
]


class AccountKeyPagerDuty(ThreadingHTTPServer):
    """PagerDuty as an account-level key sees it: every endpoint but /users/me."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.seen: list[tuple[str, str, dict[str, str]]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: AccountKeyPagerDuty

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        return

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        self.server.seen.append((self.command, parts.path, dict(self.headers.items())))
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if self.headers.get("Authorization") != f"Token token={ACCOUNT_KEY}":
            self._answer(401, {"error": {"message": "Unauthorized", "code": 2006}})
        elif parts.path == "/users/me":
            message = "Requests with an account-level API key cannot be made to /users/me"
            self._answer(
                400,
                {"error": {"message": "Invalid Input Provided", "code": 2001, "errors": [message]}},
            )
        elif parts.path == "/users":
            query = (parse_qs(parts.query).get("query") or [""])[0].lower()
            found = [u for u in USERS if query in u["email"].lower() or query in u["name"].lower()]
            self._answer(200, {"users": found, "limit": 100, "offset": 0, "more": False})
        else:
            self._answer(404, {"error": {"message": "Not Found", "code": 2100}})

    do_GET = _serve
    do_PUT = _serve
    do_POST = _serve


@pytest.fixture
def pagerduty() -> Iterator[AccountKeyPagerDuty]:
    server = AccountKeyPagerDuty()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def config(tmp_path: Path, pagerduty: AccountKeyPagerDuty) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'# mine\npagerduty_url = "{pagerduty.url}"\ndata_dir = "{tmp_path / "data"}"\n'
    )
    return path


def cockpit(config: Path, monkeypatch: pytest.MonkeyPatch, stdin: str, *argv: str) -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(["--config", str(config), *argv])


def saved_from(config: Path) -> object:
    return tomllib.loads(config.read_text()).get("pagerduty_from")


def test_an_account_key_logs_in_with_from_email_and_saves_it(
    config: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    memory_keyring: MemoryKeyring,
    pagerduty: AccountKeyPagerDuty,
) -> None:
    argv = ["auth", "login", "pagerduty", "--from-email", "zoe@example.com"]
    assert cockpit(config, monkeypatch, ACCOUNT_KEY + "\n", *argv) == 0
    out, err = capsys.readouterr()
    assert "an account-level API key" in out
    assert "writes are sent From Zoe Ops <Zoe@Example.com>" in out
    assert f"saved as pagerduty_from in {config}" in out
    assert ACCOUNT_KEY not in out + err + config.read_text()  # the token: keyring only
    assert memory_keyring.items[("cockpit", "pagerduty")] == ACCOUNT_KEY
    assert saved_from(config) == "Zoe@Example.com"  # as PagerDuty spells it
    assert config.read_text().startswith("# mine\n")  # the rest of the file is kept
    paths = [path for _, path, _ in pagerduty.seen]
    assert paths == ["/users/me", "/users", "/users"]  # refused, key checked, email found

    assert cockpit(config, monkeypatch, "", "auth", "status") == 0
    out = capsys.readouterr().out
    assert "pagerduty: an account-level key; writes are sent From Zoe@Example.com" in out


def test_without_from_email_the_email_is_asked_for(
    config: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    memory_keyring: MemoryKeyring,
) -> None:
    # A script pipes the token, then the email the prompt asks for.
    stdin = f"{ACCOUNT_KEY}\nsam@example.com\n"
    assert cockpit(config, monkeypatch, stdin, "auth", "login", "pagerduty") == 0
    assert "Sam Lee <sam@example.com>" in capsys.readouterr().out
    assert saved_from(config) == "sam@example.com"


@pytest.mark.parametrize(
    ("stdin", "argv", "said"),
    [
        (f"{ACCOUNT_KEY}\n", [], "give --from-email you@example.com"),
        (f"{ACCOUNT_KEY}\n", ["--from-email", "nobody@example.com"], "no user of this"),
        (f"{ACCOUNT_KEY}\n", ["--from-email", "zoë@example.com"], "pagerduty_from must be ASCII"),
        (f"{ACCOUNT_KEY}\nzoë@example.com\n", [], "pagerduty_from must be ASCII"),
        ("wrong-T0KEN\n", ["--from-email", "zoe@example.com"], "refused the token (401)"),
    ],
    ids=["no-email", "not-a-user", "non-ascii-flag", "non-ascii-typed", "wrong-token"],
)
def test_a_login_that_cannot_name_a_user_stores_nothing(
    config: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    memory_keyring: MemoryKeyring,
    stdin: str,
    argv: list[str],
    said: str,
) -> None:
    before = config.read_text()
    assert cockpit(config, monkeypatch, stdin, "auth", "login", "pagerduty", *argv) == 2
    err = capsys.readouterr().err
    assert said in err and err.count("\n") == 1
    assert memory_keyring.items == {}
    assert config.read_text() == before


async def test_a_write_without_from_names_the_setting_and_sends_nothing(
    pagerduty: AccountKeyPagerDuty,
) -> None:
    async with PagerDutyProvider(pagerduty.url, ACCOUNT_KEY, max_retries=0) as pd:
        with pytest.raises(AuthError) as caught:
            await pd.acknowledge("P123")
    message = str(caught.value)
    assert "pagerduty_from" in message
    assert "cockpit config set pagerduty_from you@example.com" in message
    assert "account-level API key" in message
    # /users/me refused, /users read (so an account key, not a wrong token), nothing written
    assert [(m, p) for m, p, _ in pagerduty.seen] == [("GET", "/users/me"), ("GET", "/users")]


async def test_a_wrong_token_on_a_write_is_not_taken_for_an_account_key(
    pagerduty: AccountKeyPagerDuty,
) -> None:
    async with PagerDutyProvider(pagerduty.url, "wrong-T0KEN", max_retries=0) as pd:
        with pytest.raises(AuthError) as caught:
            await pd.acknowledge("P123")
    assert str(caught.value).startswith("PagerDuty refused the token (401)")
    assert "pagerduty_from" not in str(caught.value)  # the sync says: log in again
    assert all(m == "GET" for m, _, _ in pagerduty.seen)


async def test_with_pagerduty_from_an_account_key_writes_from_it(
    pagerduty: AccountKeyPagerDuty,
) -> None:
    async with PagerDutyProvider(
        pagerduty.url, ACCOUNT_KEY, from_email="zoe@example.com", max_retries=0
    ) as pd:
        with pytest.raises(NotFound):  # this server has no incidents
            await pd.acknowledge("P123")
    ((method, path, headers),) = pagerduty.seen
    assert (method, path) == ("PUT", "/incidents/P123")  # /users/me never asked
    assert headers["From"] == "zoe@example.com"
