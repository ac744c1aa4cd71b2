"""The store: schema, migrations, refusal of damaged or newer files, full disk, timestamps."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import inspect

from cockpit.errors import StoreError
from cockpit.store import Incident, Note, Store, TimelineEvent, migrations
from cockpit.store.models import SQLModel


def _incident(n: int, **kw: object) -> Incident:
    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    values: dict[str, object] = dict(
        id=f"pagerduty:P{n}",
        source="pagerduty",
        remote_id=f"P{n}",
        title=f"incident {n}",
        status="triggered",
        created_at=now + timedelta(minutes=n),
        updated_at=now + timedelta(minutes=n),
    )
    values.update(kw)
    return Incident(**values)  # type: ignore[arg-type]


def test_new_store_is_wal_with_foreign_keys_and_latest_schema(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    assert store.path == tmp_path / "cockpit.db"
    assert store.schema_version == migrations.LATEST
    assert store.execute("PRAGMA journal_mode")[0][0] == "wal"
    assert store.execute("PRAGMA foreign_keys")[0][0] == 1
    assert store.execute("PRAGMA busy_timeout")[0][0] >= 5000
    store.close()


def test_migrated_schema_matches_the_models(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    inspector = inspect(store.engine)
    for table in SQLModel.metadata.sorted_tables:
        columns = {c["name"] for c in inspector.get_columns(table.name)}
        assert columns == {c.name for c in table.columns}, table.name
        indexes = {i["name"] for i in inspector.get_indexes(table.name)}
        assert {i.name for i in table.indexes} <= indexes, table.name
    store.close()


def test_timestamps_are_aware_utc_whatever_zone_they_were_given_in(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    berlin = timezone(timedelta(hours=1))
    with store.write() as session:
        session.add(_incident(1, created_at=datetime(2026, 3, 29, 3, 30, tzinfo=berlin)))
    with store.read() as session:
        got = session.get(Incident, "pagerduty:P1")
        assert got is not None
        assert got.created_at.tzinfo is not None
        assert got.created_at == datetime(2026, 3, 29, 2, 30, tzinfo=UTC)
    store.close()


def test_remote_text_is_kept_raw(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    hostile = "[bold]x[/] \x1b]52;c;aGk=\x07 \x1b[2J"
    with store.write() as session:
        session.add(_incident(1, title=hostile))
    with store.read() as session:
        assert session.get(Incident, "pagerduty:P1").title == hostile  # type: ignore[union-attr]
    store.close()


def test_a_file_that_is_not_sqlite_is_refused_and_untouched(tmp_path: Path) -> None:
    bad = tmp_path / "cockpit.db"
    bad.write_bytes(b"this is my shopping list, not a database" * 100)
    before = bad.read_bytes()
    with pytest.raises(StoreError, match="not an SQLite database"):
        Store.open(tmp_path)
    assert bad.read_bytes() == before
    assert not (tmp_path / "cockpit.db-wal").exists()


def test_a_damaged_database_gets_a_clear_message(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    store.close()
    path = tmp_path / "cockpit.db"
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # trash the schema page, keep the header
    path.write_bytes(bytes(data))
    before = path.read_bytes()
    with pytest.raises(StoreError, match="damaged|not a cockpit database"):
        Store.open(tmp_path)
    assert path.read_bytes()[:4096] == before[:4096]


def test_a_newer_schema_is_refused_untouched(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    store.close()
    path = tmp_path / "cockpit.db"
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (99, 'future', '2030-01-01')")
    before = path.read_bytes()
    with pytest.raises(StoreError, match="newer than this cockpit knows"):
        Store.open(tmp_path)
    assert path.read_bytes() == before


def test_opening_an_empty_first_schema_store_migrates_it_forward(tmp_path: Path) -> None:
    # A store created by the first release (schema 1) with data in it.
    path = tmp_path / "cockpit.db"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
            "name VARCHAR NOT NULL, applied_at TEXT NOT NULL)"
        )
        for statement in migrations.all_migrations()[0].statements():
            conn.execute(statement)
        conn.execute("INSERT INTO schema_migrations VALUES (1, 'initial', '2026-01-01')")
        conn.execute(
            "INSERT INTO incidents (id, source, remote_id, title, status, urgency, priority, "
            "service_id, service_name, team, escalation_policy_id, assignees, html_url, "
            "runbook_url, incident_key, labels, annotations, created_at, updated_at, is_drill) "
            "VALUES ('pagerduty:P1', 'pagerduty', 'P1', 'old', 'resolved', 'high', '', '', '', "
            "'', '', '[]', '', '', '', '{}', '{}', '2026-01-01 00:00:00.000000', "
            "'2026-01-01 00:00:00.000000', 0)"
        )
    store = Store.open(tmp_path)
    assert store.schema_version == migrations.LATEST
    with store.read() as session:
        old = session.get(Incident, "pagerduty:P1")
        assert old is not None and old.title == "old"
    store.close()


def test_a_failed_migration_leaves_the_store_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = migrations.Migration(
        1, "initial", "CREATE TABLE t1 (x INTEGER); CREATE TABLE broken (;"
    )
    monkeypatch.setattr(migrations, "all_migrations", lambda: [broken])
    with pytest.raises(StoreError):
        Store.open(tmp_path)
    with sqlite3.connect(tmp_path / "cockpit.db") as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert "t1" not in tables and "schema_migrations" not in tables


def test_full_disk_fails_the_write_cleanly_and_keeps_what_was_committed(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    with store.write() as session:
        session.add(_incident(1))
    pages = store.execute("PRAGMA page_count")[0][0]
    with pytest.raises(StoreError, match="disk is full"):
        with store.write() as session:
            # SQLite's page cap fails a write exactly as a full disk does (SQLITE_FULL).
            session.connection().exec_driver_sql(f"PRAGMA max_page_count = {pages + 1}")
            for n in range(2, 400):
                session.add(_incident(n, title="x" * 2000))
    with store.read() as session:
        assert session.get(Incident, "pagerduty:P1") is not None
        assert session.get(Incident, "pagerduty:P2") is None
    store.close()


def test_deleting_an_incident_cascades_to_its_timeline(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    with store.write() as session:
        session.add(_incident(1))
        session.flush()
        session.add(TimelineEvent(incident_id="pagerduty:P1", at=datetime.now(UTC), kind="note"))
        session.add(Note(incident_id="pagerduty:P1", content="n"))
    with store.write() as session:
        session.delete(session.get(Incident, "pagerduty:P1"))
    assert store.execute("SELECT count(*) FROM timeline_events")[0][0] == 0
    assert store.execute("SELECT count(*) FROM notes")[0][0] == 0
    store.close()


def test_foreign_keys_refuse_a_timeline_event_without_its_incident(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    with pytest.raises(StoreError):
        with store.write() as session:
            session.add(TimelineEvent(incident_id="pagerduty:NOPE", at=datetime.now(UTC), kind="x"))
    store.close()


def test_every_migration_applies_in_order_from_the_first_schema(tmp_path: Path) -> None:
    path = tmp_path / "cockpit.db"
    store = Store.open(tmp_path, migrate=False)
    store.close()
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("BEGIN IMMEDIATE")
        migrations.migrate(conn, str(path), upto=1)
        conn.execute("COMMIT")
    store = Store.open(tmp_path, migrate=False)
    assert store.schema_version == 1
    store.close()
    with sqlite3.connect(path) as conn:
        before = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert "ix_incidents_remote" not in before
    store = Store.open(tmp_path)
    assert store.schema_version == migrations.LATEST >= 2
    names = {r[0] for r in store.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert {"ix_incidents_remote", "ix_incidents_number"} <= names
    applied = [r[0] for r in store.execute("SELECT version FROM schema_migrations ORDER BY 1")]
    assert applied == list(range(1, migrations.LATEST + 1))
    plan = store.execute("EXPLAIN QUERY PLAN SELECT * FROM incidents WHERE remote_id = 'P1'")
    assert "ix_incidents_remote" in " ".join(str(row) for row in plan)
    store.close()


def test_open_incidents_are_found_through_an_index_not_a_walk(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    plan = store.execute(
        "EXPLAIN QUERY PLAN SELECT * FROM incidents WHERE status IN ('triggered', "
        "'acknowledged') AND is_drill = 0 ORDER BY created_at DESC"
    )
    assert "ix_incidents_status_drill (status=? AND is_drill=?)" in " ".join(map(str, plan))
    store.close()


def test_a_sqlite_url_opens_the_file_and_other_databases_are_refused(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'elsewhere.db'}")
    assert store.schema_version == migrations.LATEST
    store.close()
    assert (tmp_path / "elsewhere.db").exists()
    with pytest.raises(StoreError, match="database_url.*not supported.*SQLite"):
        Store.open("postgresql+psycopg://cockpit:s3cret@db.example:5432/cockpit")
    with pytest.raises(StoreError) as refused:
        Store.open("postgresql://cockpit:s3cret@db.example/cockpit")
    assert "s3cret" not in str(refused.value)


def test_a_read_never_creates_a_store_and_odd_paths_work(tmp_path: Path) -> None:
    folder = tmp_path / "odd name #1?&=%"
    store = Store.open(folder)
    assert store.execute("SELECT count(*) FROM incidents")[0][0] == 0
    (folder / "cockpit.db").rename(tmp_path / "moved-aside.db")
    for suffix in ("-wal", "-shm"):
        (folder / f"cockpit.db{suffix}").unlink(missing_ok=True)
    with pytest.raises(StoreError):
        store.execute("SELECT count(*) FROM incidents")
    assert not (folder / "cockpit.db").exists()  # no empty store left in its place
    store.close()
