"""The team store on a real PostgreSQL: schema versions, who wrote what, append-only, and a
pull watermark that never skips an event committed late."""

from __future__ import annotations

import random
import threading
import time
import uuid

import psycopg
import pytest
from team_pg import PgServer

from cockpit.team import exchange, schema
from cockpit.team.local import uuid7

pytestmark = pytest.mark.postgres


def _insert(conn: psycopg.Connection, kind: str = "note", **payload: object) -> str:
    event_id = uuid7()
    conn.execute(
        "INSERT INTO events (id, kind, incident_key, payload, origin)"
        " VALUES (%s, %s, 'pagerduty:P1', %s, 'laptop')",
        (event_id, kind, psycopg.types.json.Jsonb(payload)),
    )
    return event_id


def test_migrate_is_idempotent_and_a_newer_schema_is_refused(
    pg_server: PgServer, team_db: str
) -> None:
    with psycopg.connect(pg_server.url("owner", team_db), autocommit=True) as conn:
        assert schema.migrate(conn) == (schema.known_version(), schema.known_version())
        assert schema.check(conn) == schema.known_version()
        conn.execute("INSERT INTO team_schema_migrations (version, name) VALUES (9999, 'x')")
        with pytest.raises(schema.TeamSchemaError, match="newer than this cockpit knows"):
            schema.check(conn)
        with pytest.raises(schema.TeamSchemaError, match="upgrade cockpit"):
            schema.migrate(conn)
    with psycopg.connect(pg_server.url("owner", "postgres"), autocommit=True) as conn:
        conn.execute("CREATE DATABASE empty_team")
    with psycopg.connect(pg_server.url("alice", "empty_team")) as conn:
        with pytest.raises(schema.TeamSchemaError, match="cockpit team init"):
            schema.check(conn)


def test_the_author_is_the_connection_and_nobody_rewrites_history(
    pg_server: PgServer, team_db: str
) -> None:
    with psycopg.connect(pg_server.url("alice", team_db), autocommit=True) as alice:
        event_id = _insert(alice, text="hello")
        row = alice.execute("SELECT author FROM events WHERE id = %s", (event_id,)).fetchone()
        assert row == ("alice",)
        # Writing as bob: the author column is not hers to set.
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            alice.execute(
                "INSERT INTO events (id, kind, author) VALUES (%s, 'note', 'bob')", (uuid7(),)
            )
        # Nor the position, which would let her jump the queue.
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            alice.execute(
                "INSERT INTO events (id, kind, tx) VALUES (%s, 'note', '1'::xid8)", (uuid7(),)
            )
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            alice.execute("UPDATE events SET payload = '{}' WHERE id = %s", (event_id,))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            alice.execute("DELETE FROM events WHERE id = %s", (event_id,))
        # The same id again inserts nothing: a retried push is harmless.
        cursor = alice.execute(
            "INSERT INTO events (id, kind) VALUES (%s, 'note') ON CONFLICT DO NOTHING",
            (event_id,),
        )
        assert cursor.rowcount == 0
    # A role that is not a member of the team reads and writes nothing.
    with psycopg.connect(pg_server.url("owner", team_db), autocommit=True) as owner:
        owner.execute("CREATE ROLE mallory LOGIN")
    with psycopg.connect(pg_server.url("mallory", team_db), autocommit=True) as mallory:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            mallory.execute("SELECT count(*) FROM events")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            _insert(mallory)


def test_row_level_security_refuses_another_author_even_with_the_column_granted(
    pg_server: PgServer, team_db: str
) -> None:
    """Belt and braces: were the author column ever granted, the policy still refuses."""
    with psycopg.connect(pg_server.url("owner", team_db), autocommit=True) as owner:
        owner.execute("GRANT INSERT (author) ON events TO cockpit_team")
    with psycopg.connect(pg_server.url("bob", team_db), autocommit=True) as bob:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            bob.execute(
                "INSERT INTO events (id, kind, author) VALUES (%s, 'note', 'alice')", (uuid7(),)
            )
        bob.execute("INSERT INTO events (id, kind, author) VALUES (%s, 'note', 'bob')", (uuid7(),))


def test_a_late_commit_is_never_skipped(pg_server: PgServer, team_db: str) -> None:
    """The textbook case: the first transaction commits after the second. A watermark taken
    from the second must not pass over the first."""
    url = pg_server.url("alice", team_db)
    with (
        psycopg.connect(url) as early,
        psycopg.connect(url, autocommit=True) as late,
        psycopg.connect(pg_server.url("bob", team_db), autocommit=True) as reader,
    ):
        first = _insert(early)  # transaction open: it has the lower position
        second = _insert(late)  # committed at once
        assert exchange.fetch_after(reader, exchange.START) == []  # held back, not skipped
        early.commit()
        got = [e.id for e in exchange.fetch_after(reader, exchange.START)]
        assert got == [first, second]  # team order is transaction order


def test_concurrent_writers_and_a_reader_that_never_skips(
    pg_server: PgServer, team_db: str
) -> None:
    writers, per_writer = 8, 25
    url = pg_server.url("alice", team_db)
    written: list[str] = []
    lock = threading.Lock()
    done = threading.Event()
    errors: list[BaseException] = []

    def write(seed: int) -> None:
        rng = random.Random(seed)
        try:
            with psycopg.connect(url) as conn:
                for _ in range(per_writer):
                    batch = [_insert(conn) for _ in range(rng.randint(1, 3))]
                    time.sleep(rng.random() * 0.02)  # hold the transaction open a while
                    conn.commit()
                    with lock:
                        written.extend(batch)
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    seen: list[str] = []
    naive: list[str] = []

    def read(out: list[str], careful: bool) -> None:
        mark = exchange.START
        with psycopg.connect(pg_server.url("bob", team_db), autocommit=True) as conn:
            while True:
                finished = done.is_set()
                if careful:
                    events = [(e.tx, e.id) for e in exchange.fetch_after(conn, mark, limit=50)]
                else:  # what a watermark on positions alone would read
                    events = [
                        (str(r[0]), str(r[1]))
                        for r in conn.execute(
                            "SELECT tx::text, id::text FROM events"
                            " WHERE (tx, id) > (%s::xid8, %s::uuid) ORDER BY tx, id LIMIT 50",
                            mark,
                        )
                    ]
                if events:
                    out.extend(event_id for _tx, event_id in events)
                    mark = events[-1]
                elif finished:
                    return
                time.sleep(0.001)

    readers = [
        threading.Thread(target=read, args=(seen, True)),
        threading.Thread(target=read, args=(naive, False)),
    ]
    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in readers + threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    for thread in readers:
        thread.join(timeout=60)
    assert not errors
    assert not any(thread.is_alive() for thread in readers)
    assert len(written) >= writers * per_writer
    assert len(seen) == len(set(seen)), "an event was read twice"
    assert set(seen) == set(written), f"skipped {len(set(written) - set(seen))} event(s)"
    # The hazard was real in this run: positions alone skip events committed late.
    assert len(set(written) - set(naive)) > 0


def test_listen_notify_on_insert(pg_server: PgServer, team_db: str) -> None:
    with psycopg.connect(pg_server.url("bob", team_db), autocommit=True) as listener:
        listener.execute(f"LISTEN {schema.NOTIFY_CHANNEL}")
        with psycopg.connect(pg_server.url("alice", team_db), autocommit=True) as alice:
            _insert(alice)
        got = list(listener.notifies(timeout=5, stop_after=1))
    assert [n.channel for n in got] == [schema.NOTIFY_CHANNEL]


def test_uuid7_is_version_7_and_time_ordered() -> None:
    ids = [uuid7() for _ in range(50)]
    assert all(uuid.UUID(i).version == 7 for i in ids)
    assert [i[:13] for i in ids] == sorted(i[:13] for i in ids)


def test_uuid7_is_monotonic_within_a_process() -> None:
    ids = [uuid7() for _ in range(2_000)]  # many share a millisecond
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_pages_crossing_a_power_of_ten_in_transaction_ids_skip_nothing(
    pg_server: PgServer, team_db: str
) -> None:
    """Pull pages are ordered by the transaction id as a number: ordered as text ("999" after
    "1000") a page ended past rows it never returned, and the watermark skipped them."""
    url = pg_server.url("alice", team_db)
    with psycopg.connect(url, autocommit=True) as conn:
        now = int(conn.execute("SELECT pg_current_xact_id()::text").fetchone()[0])  # type: ignore[index]
        boundary = 10 ** len(str(now))
        assert boundary - now < 200_000, "the test cluster is older than this test expects"
        for _ in range(boundary - now - 10):  # spend transaction ids up to just below it
            conn.execute("SELECT pg_current_xact_id()")
        made = [_insert(conn) for _ in range(30)]  # one transaction each: they cross it
    with psycopg.connect(pg_server.url("bob", team_db), autocommit=True) as reader:
        mark, got = exchange.START, []
        while page := exchange.fetch_after(reader, mark, limit=4):
            got += [event.id for event in page]
            mark = (page[-1].tx, page[-1].id)
    assert [i for i in got if i in set(made)] == made  # all of them, once, in order
