"""Team mode, live (cockpit/team/live.py) on a real PostgreSQL: the LISTEN thread wakes when
another connection inserts an event and comes back after the server restarts; the team link
exchanges by itself after a local change, shows what waits while the team store is down, and
delivers it once the store is back. Timeouts are generous: these say "it happens", not "fast"."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from laptops import Laptop, make_laptop, team_events
from team_pg import PgServer

from cockpit.integrations.pagerduty_emulator import start_emulator
from cockpit.store.engine import Store
from cockpit.sync import actions
from cockpit.team.live import Listener, TeamLink, TeamStatus, listen_connect
from cockpit.team.local import uuid7

pytestmark = pytest.mark.postgres

PATIENCE = 30.0  # seconds: a loaded CI machine, not a speed claim


def _insert_event(pg_server: PgServer, team_db: str, member: str = "bob") -> None:
    with psycopg.connect(pg_server.url(member, team_db), autocommit=True) as conn:
        conn.execute(
            "INSERT INTO events (id, kind, incident_key, payload, origin)"
            " VALUES (%s, 'note', 'pagerduty:P9', '{}'::jsonb, 'elsewhere')",
            (uuid7(),),
        )


def _until(check: Callable[[], bool], patience: float = PATIENCE) -> bool:
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


class Ups:
    """What a listener reported: each time it was up or down, and each notification."""

    def __init__(self) -> None:
        self.changes: list[bool] = []
        self.woke = threading.Event()

    def up(self, value: bool) -> None:
        self.changes.append(value)

    def notified(self) -> None:
        self.woke.set()


@pytest.fixture
def listener(pg_server: PgServer, team_db: str) -> Iterator[tuple[Listener, Ups]]:
    ups = Ups()
    found = Listener(
        lambda: listen_connect(pg_server.url("alice", team_db), None),
        ups.notified,
        ups.up,
        wait=0.2,
        backoff=(0.2, 0.5, 1.0),
    )
    found.start()
    yield found, ups
    found.stop()


def test_the_listener_wakes_when_another_connection_inserts(
    listener: tuple[Listener, Ups], pg_server: PgServer, team_db: str
) -> None:
    found, ups = listener
    assert _until(lambda: found.connected), found.error
    assert not ups.woke.is_set()  # nothing was inserted yet
    _insert_event(pg_server, team_db)
    assert ups.woke.wait(PATIENCE)


def test_the_listener_comes_back_after_the_server_restarts(
    listener: tuple[Listener, Ups], pg_server: PgServer, team_db: str
) -> None:
    found, ups = listener
    assert _until(lambda: found.connected), found.error
    pg_server.restart()
    # Down (the server closed the connection), then up again on a new one.
    assert _until(lambda: ups.changes[-3:] == [True, False, True]), ups.changes
    ups.woke.clear()
    _insert_event(pg_server, team_db)
    assert ups.woke.wait(PATIENCE)


class Statuses:
    def __init__(self) -> None:
        self.seen: list[TeamStatus] = []

    def __call__(self, status: TeamStatus) -> None:
        self.seen.append(status)

    @property
    def last(self) -> TeamStatus | None:
        return self.seen[-1] if self.seen else None


def _link(laptop: Laptop, url: str, statuses: Statuses) -> tuple[TeamLink, Store]:
    store = Store.open(laptop.folder / "data")
    link = TeamLink(
        store, url, statuses, poll=60.0, listen_wait=0.2, backoff=(0.2, 0.5, 1.0), watch=0.05
    )
    link.start()
    return link, store


@pytest.fixture
def two(tmp_path: Path, pg_server: PgServer, team_db: str) -> list[Laptop]:
    found = [make_laptop(tmp_path, "laptop-a", "alice"), make_laptop(tmp_path, "laptop-b", "bob")]
    for laptop in found:
        laptop.run("team", "join", pg_server.url(laptop.member, team_db))
    return found


def test_a_baton_taken_on_a_reaches_b_with_no_command_run(
    two: list[Laptop], pg_server: PgServer, team_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = two
    monkeypatch.setenv("COCKPIT_TEAM_ORIGIN", "laptop-a")  # read when A's event is pushed
    seen_a, seen_b = Statuses(), Statuses()
    link_a, store_a = _link(a, pg_server.url("alice", team_db), seen_a)
    link_b, store_b = _link(b, pg_server.url("bob", team_db), seen_b)
    try:
        assert _until(lambda: bool(seen_b.last and seen_b.last.state == "ok")), seen_b.seen
        assert _until(lambda: bool(link_b.listener and link_b.listener.connected))
        # A local change only: the link notices the commit, pushes, and B hears of it.
        actions.take_baton(store_a, "pagerduty:P1", user="alice")
        assert _until(lambda: [row[3] for row in b.batons()] == ["accepted"]), b.batons()
        assert b.batons()[0][1] == "local:alice"
        # The status that says so is reported just after the apply commits: wait for it too.
        assert _until(lambda: any(status.applied for status in seen_b.seen)), seen_b.seen
        assert ("baton_accept", "alice", "laptop-a") in team_events(pg_server, team_db)
        assert seen_a.last is not None and seen_a.last.pending == 0
    finally:
        link_a.stop()
        link_b.stop()
        store_a.close()
        store_b.close()


def test_offline_shows_what_waits_then_delivers_it_when_the_store_is_back(
    two: list[Laptop], pg_server: PgServer, team_db: str
) -> None:
    a, _b = two
    seen = Statuses()
    pg_server.stop()
    try:
        link, store = _link(a, pg_server.url("alice", team_db), seen)
        try:
            assert _until(lambda: bool(seen.last and seen.last.state == "offline")), seen.seen
            assert seen.last is not None and "cannot be reached" in seen.last.message
            actions.offer_baton(store, "pagerduty:P1", "local:bob", "yours", user="alice")
            assert _until(lambda: bool(seen.last and seen.last.pending == 1)), seen.seen
            assert seen.last is not None and seen.last.state == "offline"
        finally:
            pg_server.start()
        assert _until(lambda: bool(seen.last and seen.last.state == "ok")), seen.seen[-3:]
        assert seen.last is not None and seen.last.pending == 0
        assert [kind for kind, _, _ in team_events(pg_server, team_db)] == ["baton_offer"]
    finally:
        link.stop()
        store.close()


def test_a_schema_this_cockpit_does_not_know_is_a_message_not_a_crash(
    two: list[Laptop], pg_server: PgServer, team_db: str
) -> None:
    a, _b = two
    with psycopg.connect(pg_server.url("owner", team_db), autocommit=True) as owner:
        owner.execute("INSERT INTO team_schema_migrations (version, name) VALUES (9999, 'x')")
    seen = Statuses()
    link, store = _link(a, pg_server.url("alice", team_db), seen)
    try:
        assert _until(lambda: bool(seen.last and seen.last.state == "error")), seen.seen
        assert seen.last is not None
        assert seen.last.short == "schema too new: upgrade cockpit"
        assert "upgrade cockpit on this laptop" in seen.last.message
    finally:
        link.stop()
        store.close()


def test_cockpit_sync_also_pushes_a_local_baton_and_a_down_team_store_is_a_warning(
    two: list[Laptop], pg_server: PgServer, team_db: str
) -> None:
    a, _b = two
    with start_emulator(incidents=3, days=2, seed=5) as emulator:
        env = {"COCKPIT_PAGERDUTY_URL": emulator.url, "COCKPIT_PAGERDUTY_TOKEN": emulator.token}
        first = a.run("sync", env=env, check=False)
        assert first.returncode == 0, first.stderr
        assert "team: 0 up, 0 down" in first.stdout
        store = Store.open(a.folder / "data")
        try:
            found = store.execute(
                "SELECT id FROM incidents WHERE source = 'pagerduty' AND status != 'resolved'"
                " AND remote_id NOT IN ('P1', 'P2') ORDER BY id"
            )
            actions.take_baton(store, str(found[0][0]), user="alice")
            second = a.run("sync", env=env, check=False)
            assert second.returncode == 0, second.stderr
            assert "team: 2 up" in second.stdout
            assert [(kind, author) for kind, author, _ in team_events(pg_server, team_db)] == [
                ("baton_offer", "alice"),
                ("baton_accept", "alice"),
            ]
            # The team store down: the paging sync still works and says so by its exit code.
            actions.take_baton(store, str(found[1][0]), user="alice")
        finally:
            store.close()
        pg_server.stop()
        try:
            third = a.run("sync", env=env, check=False)
        finally:
            pg_server.start()
    assert third.returncode == 0, third.stderr
    assert "online:" in third.stdout
    assert "warning: team: the team store cannot be reached" in third.stderr
    assert "2 event(s) wait to go up, nothing is lost" in third.stderr
    assert "Traceback" not in third.stderr


def test_without_psycopg_the_link_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    laptop = make_laptop(tmp_path, "laptop-a", "alice")
    monkeypatch.setitem(sys.modules, "psycopg", None)  # `import psycopg` now fails
    seen = Statuses()
    link, store = _link(laptop, "postgresql://alice@/team", seen)
    try:
        assert _until(lambda: seen.last is not None), seen.seen
        assert seen.last is not None and seen.last.state == "error"
        assert "pip install 'cockpit[team]'" in seen.last.message
    finally:
        link.stop()
        store.close()
