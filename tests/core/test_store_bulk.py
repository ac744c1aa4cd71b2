"""While a bulk writer (a sync's pull) runs, no commit of this process copies the WAL into
the database: the pull checkpoints in its own thread, and a tick committed meanwhile does
not pay for it (it did: 18 ms of a 20 ms tick during a first sync, issue 17 item 4)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlmodel import Session

from cockpit.integrations.pagerduty import PagerDutyProvider
from cockpit.integrations.pagerduty_emulator import start_emulator
from cockpit.store import Store, engine
from cockpit.store.engine import driver_connection
from cockpit.store.models import SyncState
from cockpit.sync import pull


def _db_size(store: Store) -> int:
    return store.path.stat().st_size


def _fill_wal(store: Store, pages: int) -> None:
    """New rows worth ``pages`` pages, committed without a checkpoint: they sit in the WAL."""
    with store.write(checkpoint=False) as session:
        conn = driver_connection(session)
        conn.execute("CREATE TABLE IF NOT EXISTS filler (x BLOB)")
        conn.executemany("INSERT INTO filler VALUES (?)", [(b"x" * 4000,)] * pages)


def _small_write(store: Store, key: str) -> None:
    with store.write() as session:
        session.add(SyncState(key=key))


def test_a_commit_copies_a_full_wal_as_sqlite_does_when_no_bulk_writer_runs(
    tmp_path: Path,
) -> None:
    store = Store.open(tmp_path)
    _fill_wal(store, engine.WAL_AUTOCHECKPOINT + 200)
    before = _db_size(store)
    _small_write(store, "tick")
    assert _db_size(store) > before + engine.WAL_AUTOCHECKPOINT * 4000
    store.close()


def test_no_commit_copies_the_wal_while_a_bulk_writer_runs(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    with store.bulk():
        _fill_wal(store, engine.WAL_AUTOCHECKPOINT + 200)
        before = _db_size(store)
        _small_write(store, "tick")
        assert _db_size(store) == before  # the tick left the WAL alone
        store.checkpoint()  # the bulk writer's own, in its thread
        assert _db_size(store) > before + engine.WAL_AUTOCHECKPOINT * 4000
    _fill_wal(store, engine.WAL_AUTOCHECKPOINT + 200)
    before = _db_size(store)
    _small_write(store, "after")  # the bulk writer is gone: SQLite's checkpoint is back
    assert _db_size(store) > before
    with store.read() as session:
        assert session.get(SyncState, "tick") is not None
    store.close()


async def test_a_write_made_during_a_first_sync_leaves_the_wal_to_the_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A WAL of one page is "full": every ordinary commit would copy it.
    monkeypatch.setattr(engine, "WAL_AUTOCHECKPOINT", 1)
    monkeypatch.setattr(pull, "BATCH_ROWS", 50)
    sizes: list[tuple[int, int]] = []

    class Ticked(Store):
        """After the sync's 8th commit, a tick's write is made (in the sync's writer thread,
        between two of its batches) and the database file's size is read around it."""

        commits = 0

        @contextmanager
        def write(self, **options: bool) -> Iterator[Session]:
            with super().write(**options) as session:
                yield session
            self.commits += 1
            if self.commits == 8:
                before = _db_size(self)
                _small_write(self, "tick")
                sizes.append((before, _db_size(self)))

    with start_emulator(incidents=300, days=14, seed=11) as emulator:
        store = Ticked.open(tmp_path)
        provider = PagerDutyProvider(emulator.url, emulator.token, timeout=5.0)
        result = await pull.pull_provider(store, provider, window_days=15)
        await provider.aclose()
    assert result.new_entries > 0
    [(before, after)] = sizes
    assert after == before  # the tick did not copy the sync's pages
    _small_write(store, "later")  # the sync is over: commits checkpoint again
    assert _db_size(store) > before
    store.close()
