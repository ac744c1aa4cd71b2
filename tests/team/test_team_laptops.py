"""Two or three laptops (separate data folders and settings, `cockpit` run as a subprocess
each time) sharing batons through a real PostgreSQL team store."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
from laptops import Laptop, make_laptop, make_laptops, team_events
from team_pg import PgServer

from cockpit.team import exchange, schema

pytestmark = pytest.mark.postgres


@pytest.fixture
def laptops(tmp_path: Path, pg_server: PgServer, team_db: str) -> list[Laptop]:
    return make_laptops(tmp_path, pg_server, team_db)


def test_init_records_the_url_and_refuses_plain_text_to_a_remote_host(
    tmp_path: Path, pg_server: PgServer
) -> None:
    laptop = make_laptop(tmp_path, "laptop-a", "alice")
    result = laptop.run("team", "init", pg_server.url("owner", "team"))
    assert f"created the team schema (version {schema.known_version()})" in result.stdout
    assert "team_url" in (laptop.folder / "config.toml").read_text()
    again = laptop.run("team", "init", pg_server.url("owner", "team"))
    assert "up to date" in again.stdout
    refused = laptop.run(
        "team", "join", "postgresql://alice:hunter2@db.example.com/team", check=False
    )
    assert refused.returncode == 2
    assert "must be reached over TLS" in refused.stderr
    assert "hunter2" not in refused.stderr + refused.stdout
    assert "db.example.com" not in (laptop.folder / "config.toml").read_text()


def test_join_refuses_a_role_that_is_not_a_member(
    tmp_path: Path, pg_server: PgServer, team_db: str
) -> None:
    with psycopg.connect(pg_server.url("owner", team_db), autocommit=True) as owner:
        owner.execute("CREATE ROLE dave LOGIN")
    laptop = make_laptop(tmp_path, "laptop-d", "dave")
    result = laptop.run("team", "join", pg_server.url("dave", team_db), check=False)
    assert result.returncode == 2
    assert "GRANT cockpit_team TO dave" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_baton_offered_on_a_is_seen_and_accepted_on_b(
    laptops: list[Laptop], pg_server: PgServer, team_db: str
) -> None:
    a, b, _c = laptops
    a.run("pass", "P1", "local:bob", "-m", "db failover half done")
    a.run("team", "sync")
    b.run("team", "sync")
    assert b.batons() == [(b.batons()[0][0], "local:bob", "db failover half done", "offered")]
    b.run("accept", "P1", "--as", "local:bob")
    b.run("team", "sync")
    a.run("team", "sync")
    assert [row[3] for row in a.batons()] == ["accepted"]
    assert [row[3] for row in b.batons()] == ["accepted"]
    # Each laptop's events went up once, written by its member, from its laptop.
    assert team_events(pg_server, team_db) == [
        ("baton_offer", "alice", "laptop-a"),
        ("baton_accept", "bob", "laptop-b"),
    ]
    # Nothing pulled goes back up, and a second round moves nothing.
    assert "0 up, 0 down" in a.run("team", "sync").stdout
    assert "0 up, 0 down" in b.run("team", "sync").stdout
    status = a.run("team", "status").stdout
    assert "waiting to go up: 0; sent: 1" in status
    assert "bob on laptop-b" in status and "alice on laptop-a" in status


def test_offline_then_back_nothing_lost_nothing_twice(
    laptops: list[Laptop], pg_server: PgServer, team_db: str
) -> None:
    a, b, _c = laptops
    pg_server.stop()
    try:
        a.run("pass", "P1", "local:bob", "-m", "first")
        a.run("take", "P2", "-m", "mine now")
        down = a.run("team", "sync", check=False)
        assert down.returncode == 1
        assert "cannot be reached" in down.stderr
        assert "3 event(s) wait to go up, nothing is lost" in down.stderr
        a.run("pass", "P1", "local:carol", "-m", "second thoughts")
        assert "waiting to go up: 3" in a.run("team", "status").stdout
        assert "offline:" in a.run("team", "status").stdout
    finally:
        pg_server.start()
    assert "4 up" in a.run("team", "sync").stdout
    b.run("team", "sync")
    kinds = [kind for kind, _author, _origin in team_events(pg_server, team_db)]
    assert kinds.count("baton_offer") == 3 and kinds.count("baton_accept") == 1
    assert [(row[1], row[3]) for row in b.batons()] == [
        ("local:bob", "withdrawn"),
        ("local:carol", "offered"),
    ]
    assert [row[3] for row in b.batons("pagerduty:P2")] == ["accepted"]
    assert "0 up" in a.run("team", "sync").stdout


def test_the_server_restarted_mid_exchange(
    laptops: list[Laptop], pg_server: PgServer, team_db: str
) -> None:
    a, b, _c = laptops
    count = 3 * exchange.PUSH_BATCH - 100  # three push batches: the restart lands between
    with sqlite3.connect(a.folder / "data" / "cockpit.db") as conn:
        conn.executemany(
            "INSERT INTO baton_passes (incident_id, from_person, to_person, note, offered_at,"
            " state) VALUES ('pagerduty:P1', 'local:alice', 'local:bob', ?,"
            " '2026-12-01 10:00:00.000000', 'withdrawn')",
            [(f"offer {n}",) for n in range(count)],
        )
    with psycopg.connect(pg_server.url("owner", team_db), autocommit=True) as owner:
        # A slow team store (2 ms an insert), so that the restart lands mid-push.
        owner.execute(
            "CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN PERFORM pg_sleep(0.002); RETURN NEW; END $$"
        )
        owner.execute(
            "CREATE TRIGGER slow BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION slow()"
        )
    restarted = threading.Event()
    seen: list[object] = []

    def restart_when_half_there() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with psycopg.connect(pg_server.url("owner", team_db)) as conn:
                    row = conn.execute("SELECT count(*) FROM events").fetchone()
            except psycopg.OperationalError:
                row = None
            seen.append(row[0] if row else None)
            if row and 0 < row[0] < count:  # a batch committed, not all of them
                pg_server.restart()
                restarted.set()
                return
            time.sleep(0.01)

    watcher = threading.Thread(target=restart_when_half_there)
    watcher.start()
    first = a.run("team", "sync", check=False)
    watcher.join()
    assert restarted.is_set(), (first.stdout, first.stderr, seen[-5:])
    assert first.returncode == 1, first.stdout
    assert "went away" in first.stderr or "cannot be reached" in first.stderr
    a.run("team", "sync")
    with psycopg.connect(pg_server.url("owner", team_db)) as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT payload ->> 'note') FROM events"
        ).fetchone()
    assert row == (count, count)
    b.run("team", "sync")
    assert len(b.batons()) == count
    assert "0 up, 0 down" in a.run("team", "sync").stdout


def test_two_laptops_accept_one_offer_the_first_wins(
    laptops: list[Laptop], pg_server: PgServer, team_db: str
) -> None:
    a, b, c = laptops
    a.run("pass", "P1", "local:bob", "-m", "yours")
    a.run("team", "sync")
    b.run("team", "sync")
    c.run("team", "sync")
    b.run("accept", "P1", "--as", "local:bob")
    c.run("accept", "P1", "--as", "local:bob")
    # As if C's acceptance had queued its PagerDuty reassignment (a remote person would).
    with sqlite3.connect(c.folder / "data" / "cockpit.db") as conn:
        conn.execute(
            "INSERT INTO outbox (source, incident_id, action, payload, created_at, state, "
            "attempts, last_error, remote_ref) VALUES ('pagerduty', 'pagerduty:P1', 'reassign',"
            " '{\"person_id\": \"PBOB\"}', '2026-01-01 00:00:00.000000', 'pending', 0, '', '')"
        )
    b.run("team", "sync")
    late = c.run("team", "sync")
    assert (
        "lost the race: pagerduty:P1: the baton offer was accepted first by bob on "
        "laptop-b" in late.stdout
    )
    # PagerDuty is reassigned once, by the winner: the loser's reassignment never goes.
    assert "your reassignment at PagerDuty was withdrawn" in late.stdout
    assert c.rows("SELECT state FROM outbox WHERE action = 'reassign'") == [("superseded",)]
    assert "accepted first by bob on laptop-b" in c.run("team", "status").stdout
    kinds = [(kind, author) for kind, author, _ in team_events(pg_server, team_db)]
    assert kinds == [("baton_offer", "alice"), ("baton_accept", "bob")]
    assert "0 up" in c.run("team", "sync").stdout  # the lost one is not retried


def test_sync_without_team_mode_says_how_to_join(tmp_path: Path) -> None:
    laptop = make_laptop(tmp_path, "laptop-x", "alice")
    (laptop.folder / "config.toml").write_text("")
    result = laptop.run("team", "sync", check=False)
    assert result.returncode == 2
    assert "cockpit team join" in result.stderr


def test_help_does_not_import_psycopg() -> None:
    script = (
        "import sys\nfrom cockpit.cli.main import main\ntry:\n    main(['--help'])\n"
        "except SystemExit:\n    pass\nprint('psycopg' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip().splitlines()[-1] == "False"
    script = script.replace("['--help']", "['team', '--help']")
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip().splitlines()[-1] == "False"
