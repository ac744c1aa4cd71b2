"""A first sync writes each chunk in small transactions (issue 17 item 4): stopped between
two of them, the chunk is not recorded as done, and the next sync completes it with nothing
lost and nothing stored or counted twice."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from cockpit.integrations.pagerduty import PagerDutyProvider
from cockpit.integrations.pagerduty_emulator import start_emulator
from cockpit.records import IncidentRecord, LogEntryRecord
from cockpit.store import Store
from cockpit.store.models import SyncState
from cockpit.sync import pull


class CountedStore(Store):
    """The real store, calling ``on_commit(n)`` after its n-th committed write."""

    on_commit: object = None
    commits = 0

    @contextmanager
    def write(self, **options: bool) -> Iterator[Session]:
        with super().write(**options) as session:
            yield session
        self.commits += 1
        if callable(self.on_commit):
            self.on_commit(self.commits)


def sized_store(sizes: list[int]) -> type[Store]:
    """The real store, appending to ``sizes`` how many rows each committed write changed."""

    class Sized(Store):
        @contextmanager
        def write(self, **options: bool) -> Iterator[Session]:
            with super().write(**options) as session:
                conn = session.connection().connection.driver_connection
                before = conn.total_changes  # type: ignore[union-attr]
                yield session
                session.flush()
                sizes.append(conn.total_changes - before)  # type: ignore[union-attr]

    return Sized


def _provider(url: str, token: str) -> PagerDutyProvider:
    return PagerDutyProvider(url, token, timeout=5.0, max_retries=2, backoff_base=0.01)


def _entries(store: Store) -> list[str]:
    return [row[0] for row in store.execute("SELECT remote_id FROM timeline_events")]


async def test_a_first_sync_stopped_between_batches_resumes_with_nothing_lost_or_doubled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pull, "BATCH_ROWS", 50)
    with start_emulator(incidents=300, days=14, seed=11) as emulator:
        expected = {f"pagerduty:{e.id}" for e in emulator.state.all_log_entries()}
        store = CountedStore.open(tmp_path)
        loop = asyncio.get_running_loop()
        enough = asyncio.Event()
        # The roster, the first chunk's incidents (3 batches), then some of its entries.
        store.on_commit = lambda n: n >= 8 and loop.call_soon_threadsafe(enough.set)
        provider = _provider(emulator.url, emulator.token)
        first = asyncio.create_task(pull.pull_provider(store, provider, window_days=15))
        waiting = asyncio.ensure_future(enough.wait())
        await asyncio.wait({first, waiting}, return_when=asyncio.FIRST_COMPLETED)
        assert not first.done(), first.exception()  # stopped in the middle, not ended
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        await provider.aclose()

        stored = _entries(store)
        with store.read() as session:
            state = session.get(SyncState, "pagerduty:log_entries")
        # Stopped inside the first chunk: some of its entries are in, the chunk is not done.
        assert 0 < len(stored) < len(expected)
        assert state is None or (
            state.watermark is None and "initial_done_until" not in (state.cursor or {})
        )

        store.on_commit = None
        provider = _provider(emulator.url, emulator.token)
        result = await pull.pull_provider(store, provider, window_days=15)
        await provider.aclose()

    entries = _entries(store)
    assert len(entries) == len(set(entries))  # nothing stored twice
    assert set(entries) == expected  # nothing lost
    assert len(stored) + result.new_entries == len(expected)  # nothing counted twice
    assert store.integrity_check() == ["ok"]
    store.close()


async def test_every_write_transaction_of_a_first_sync_is_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No transaction writes more than BATCH_ROWS incidents or timeline rows."""
    monkeypatch.setattr(pull, "BATCH_ROWS", 40)
    sizes: list[int] = []

    Sized = sized_store(sizes)

    with start_emulator(incidents=200, days=10, seed=5) as emulator:
        store = Sized.open(tmp_path)
        provider = _provider(emulator.url, emulator.token)
        result = await pull.pull_provider(store, provider, window_days=11)
        await provider.aclose()
    assert result.new_entries > 10 * 40
    # An entries batch also sets first acknowledgements: at most one row per entry.
    assert max(sizes) <= 2 * 40
    assert len(sizes) > result.new_entries // 40
    store.close()


def test_a_batch_builds_its_rows_before_it_takes_the_write_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rows (times as text, details as JSON) are built outside the transaction, which
    then holds the write lock a fifth less (a tick waiting for it waits less)."""
    monkeypatch.setattr(pull, "BATCH_ROWS", 50)

    class Tracked(Store):
        writing = False

        @contextmanager
        def write(self, **options: bool) -> Iterator[Session]:
            with super().write(**options) as session:
                self.writing = True
                try:
                    yield session
                finally:
                    self.writing = False

    store = Tracked.open(tmp_path)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    incident = IncidentRecord(
        id="PINC", title="t", status="resolved", created_at=start, updated_at=start
    )
    entries = [
        LogEntryRecord(id=f"R{n:03d}", incident_id="PINC", type="notify", created_at=start)
        for n in range(120)
    ]
    built_while_writing: list[bool] = []
    real = pull.timeline_tuples

    def timeline_tuples(source: str, rows: Any) -> Any:
        built_while_writing.append(store.writing)
        return real(source, rows)

    monkeypatch.setattr(pull, "timeline_tuples", timeline_tuples)
    _, inserted = pull._write(store, "pagerduty", [incident], entries)
    assert inserted == 120
    assert built_while_writing == [False, False, False]  # three batches, none inside one
    assert len(_entries(store)) == 120
    store.close()


async def test_a_headless_pull_writes_larger_transactions_the_tui_keeps_small_ones(
    tmp_path: Path,
) -> None:
    """`cockpit sync` (no key waits on it) writes up to HEADLESS_BATCH_ROWS rows a
    transaction; the TUI's pull, outside that block, keeps BATCH_ROWS."""
    sizes: list[int] = []

    Sized = sized_store(sizes)

    with start_emulator(incidents=300, days=10, seed=6) as emulator:
        for name, block in (("tui", nullcontext()), ("cli", pull.transactions_of(250))):
            sizes.clear()
            store = Sized.open(tmp_path / name)
            provider = _provider(emulator.url, emulator.token)
            with block:
                result = await pull.pull_provider(store, provider, window_days=11)
            await provider.aclose()
            store.close()
            assert result.new_entries > 1_000
            if name == "tui":
                assert max(sizes) <= 2 * pull.BATCH_ROWS
            else:
                assert 2 * pull.BATCH_ROWS < max(sizes) <= 2 * 250
