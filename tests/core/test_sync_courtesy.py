"""A first sync steps aside while a key is answered (cockpit/sync/courtesy.py): held, it
writes no further batch of log entries, and once the hold ends it completes with nothing
lost (what the emulator holds is what the store holds); a hold renewed without end (a key
held down) never stops it for longer than one wait's cap."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from cockpit.integrations.pagerduty import PagerDutyProvider
from cockpit.integrations.pagerduty_emulator import start_emulator
from cockpit.store import Store
from cockpit.sync import courtesy, pull

BATCH = 50


@pytest.fixture(autouse=True)
def _no_hold() -> Iterator[None]:
    courtesy.clear()
    yield
    courtesy.clear()


def _entries(store: Store) -> int:
    return int(store.execute("SELECT count(*) FROM timeline_events")[0][0])


def test_a_hold_is_never_shortened_and_clear_ends_it() -> None:
    courtesy.step_aside(60)
    courtesy.step_aside(0.001)  # a later, shorter hold does not cut the first one
    assert courtesy.held() > 30
    courtesy.clear()
    assert courtesy.held() == 0
    courtesy.wait_turn_blocking()  # returns: nothing holds it


def test_transactions_are_smaller_only_while_keys_come() -> None:
    rows = list(range(100))
    assert courtesy.parts(rows) == [rows]  # nobody at the keys: one transaction
    courtesy.step_aside()
    parts = courtesy.parts(rows)
    assert len(parts) == 100 // courtesy.SMALL and sum(parts, []) == rows
    assert courtesy.parts([]) == [[]]
    courtesy.clear()
    assert courtesy.parts(rows) == [rows]


def test_the_small_transactions_of_one_batch_share_one_cap() -> None:
    courtesy.step_aside(60)
    courtesy.wait_turn_blocking(courtesy.deadline() - courtesy.MOST)  # its cap has passed
    assert courtesy.held() > 30  # it returned for the shared cap, the hold is still on


def test_a_key_held_down_does_not_stop_the_sync() -> None:
    """Key repeat (~30 ms) renews the hold before it ends: each wait is cut at MOST."""
    stop = threading.Event()

    def key_held_down() -> None:
        while not stop.is_set():
            courtesy.step_aside()
            stop.wait(0.005)

    repeating = threading.Thread(target=key_held_down)
    repeating.start()
    try:
        for wait in (courtesy.wait_turn_blocking, lambda: asyncio.run(courtesy.wait_turn())):
            waiting = threading.Thread(target=wait)
            waiting.start()
            waiting.join(10)
            assert not waiting.is_alive(), "a renewed hold stopped the sync"
            assert courtesy.held() > 0  # it returned for the cap, not because the hold ended
    finally:
        stop.set()
        repeating.join()


async def test_a_held_sync_writes_no_more_entries_then_completes_with_nothing_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pull, "BATCH_ROWS", BATCH)
    monkeypatch.setattr(courtesy, "MOST", 3600.0)  # a key that is never answered, uncapped
    with start_emulator(incidents=200, days=10, seed=5) as emulator:
        expected = {f"pagerduty:{e.id}" for e in emulator.state.all_log_entries()}
        store = Store.open(tmp_path)
        provider = PagerDutyProvider(emulator.url, emulator.token, timeout=5.0)
        try:
            held_at: list[int] = []
            holding = threading.Event()

            def hold_once_entries_arrive() -> None:
                while _entries(store) < 2 * BATCH:
                    if sync.done():
                        return
                    threading.Event().wait(0.005)
                courtesy.step_aside(3600)  # a key that is never answered
                held_at.append(_entries(store))
                holding.set()

            sync = asyncio.create_task(pull.pull_provider(store, provider, window_days=11))
            watcher = threading.Thread(target=hold_once_entries_arrive)
            watcher.start()
            await asyncio.to_thread(holding.wait, 30)
            assert held_at, "the sync ended before it could be held"
            await asyncio.sleep(0.5)
            # The batch already past its turn may land; nothing after it.
            assert not sync.done()
            assert _entries(store) <= held_at[0] + 2 * BATCH < len(expected)
            courtesy.clear()
            await asyncio.wait_for(sync, 60)
            watcher.join()
        finally:
            await provider.aclose()
        stored = {row[0] for row in store.execute("SELECT remote_id FROM timeline_events")}
        assert stored == expected
        store.close()
