"""The TUI's sync timer never cancels a sync in flight (issue 17 item 2).

The app's sync interval is made short (50 ms instead of `sync_interval`, at least 5 s) and
the emulator slows its log-entry pages, so the first sync spans many timer ticks. Real
parts: the PagerDuty emulator over HTTP on 127.0.0.1, the PagerDuty adapter, SyncService,
a SQLite store. The sync service is wrapped only to record its calls: each start, each
cancellation (CancelledError) and each end.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.app import App

from cockpit.app import CockpitApp
from cockpit.config import load_settings
from cockpit.integrations.pagerduty import PagerDutyProvider
from cockpit.integrations.pagerduty_emulator import EmulatorHandle, start_emulator
from cockpit.store.engine import Store
from cockpit.sync.service import SyncReport, SyncService

TICK = 0.05  # seconds: the fake sync interval


@pytest.fixture
def emulator() -> Iterator[EmulatorHandle]:
    with start_emulator(seed=7, incidents=30, days=3) as handle:
        yield handle


class RecordingSync:
    """The real service, with a record of what happened to each sync_once call."""

    def __init__(self, service: SyncService) -> None:
        self.service = service
        self.started = 0
        self.cancelled = 0
        self.finished: list[SyncReport] = []
        self.running = False

    async def sync_once(self, progress: Any = None) -> SyncReport:
        self.started += 1
        self.running = True
        try:
            report = await self.service.sync_once(progress=progress)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.running = False
        self.finished.append(report)
        return report

    async def aclose(self) -> None:
        await self.service.aclose()


async def test_the_interval_never_cancels_a_running_sync(
    emulator: EmulatorHandle, tmp_path: Path
) -> None:
    store = Store.open(tmp_path / "data")
    provider = PagerDutyProvider(emulator.url, emulator.token, max_retries=0)
    sync = RecordingSync(SyncService(store, {"pagerduty": provider}, window_days=3))
    settings = load_settings(
        None, environ={}, flags={"data_dir": tmp_path / "data", "runbooks": tmp_path / "runbooks"}
    )
    # Every page of log entries takes 0.25 s: the first sync lasts many ticks.
    emulator.state.inject({"kind": "slow", "delay": 0.25, "count": 6, "path": "/log_entries"})
    app = CockpitApp(settings, store, sync, library=[])
    ticks_during_first_sync: list[int] = []
    real_set_interval = app.set_interval

    def short_interval(
        interval: float, callback: Callable[[], Any] | None = None, **kwargs: Any
    ) -> Any:
        if getattr(callback, "__name__", "") != "start_sync" or callback is None:
            return real_set_interval(interval, callback, **kwargs)
        start_sync = callback

        def tick() -> None:
            if sync.running and not sync.finished:
                ticks_during_first_sync.append(sync.started)
            start_sync()

        return App.set_interval(app, TICK, tick, **kwargs)

    app.set_interval = short_interval  # type: ignore[method-assign]
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            for _ in range(400):
                await pilot.pause(TICK)
                if sync.finished:
                    break
            assert sync.finished, "the first sync never ended"
            assert sync.cancelled == 0
            # The timer fired again and again while it ran, and started nothing.
            assert len(ticks_during_first_sync) >= 5
            assert set(ticks_during_first_sync) == {1}
            first = sync.finished[0]
            assert first.online and not first.errors
            assert first.pulled_incidents == len(emulator.state.incidents)
            await pilot.pause(4 * TICK)
            await app.workers.wait_for_complete()
            assert sync.cancelled == 0  # nor any later one
            # The interval keeps starting syncs (each of a few ms): one may be under way now.
            assert app.sync_state in {"online", "syncing"}
            assert app.last_good_sync is not None
    finally:
        store.close()
    stored = store.execute("SELECT count(*) FROM incidents")[0][0]
    assert stored == len(emulator.state.incidents)
