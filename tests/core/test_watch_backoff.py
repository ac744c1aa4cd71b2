"""`cockpit sync --watch` backs off while nothing changes: every pass re-reads a short
overlap of log entries it already has, and that is no change (SyncReport.changed counts only
what is new). Driven against the emulator, with a fake clock for the waits between passes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cockpit.cli.sync_cmd import _sync
from cockpit.integrations.pagerduty import PagerDutyProvider
from cockpit.integrations.pagerduty_emulator import EmulatorHandle, start_emulator
from cockpit.store.engine import Store
from cockpit.sync.service import SyncReport, SyncService

INTERVAL = 60.0


@pytest.fixture
def emulator() -> Iterator[EmulatorHandle]:
    with start_emulator(incidents=20, days=2, seed=7) as handle:
        yield handle


class _Stop(Exception):
    """Ends the watch once the fake clock has run long enough."""


class FakeClock:
    """Stands in for asyncio.sleep between passes: it records each wait, moves virtual
    time on, runs ``at`` hooks, and stops the watch after ``until`` seconds."""

    def __init__(self, until: float) -> None:
        self.until = until
        self.now = 0.0
        self.waits: list[float] = []
        self.hooks: dict[int, object] = {}

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds
        hook = self.hooks.pop(len(self.waits), None)
        if callable(hook):
            hook()
        if self.now >= self.until:
            raise _Stop


async def _synced_with_recent_activity(
    tmp_path: Path, emulator: EmulatorHandle
) -> tuple[Store, SyncService]:
    """A store after a first sync and an incremental one that picked up a new incident: the
    watermark now sits just before those entries, so each later pass re-reads them."""
    store = Store.open(tmp_path / "data")
    provider = PagerDutyProvider(emulator.url, emulator.token, max_retries=1)
    service = SyncService(store, {"pagerduty": provider})
    assert (await service.sync_once()).online
    emulator.state.trigger("Disk usage above 90% on payments-db-2")
    report = await service.sync_once()
    assert report.new_entries > 0 and report.changed
    again = await service.sync_once()
    assert again.pulled_entries > 0 and again.new_entries == 0  # the overlap, read again
    assert not again.changed
    return store, service


async def test_an_idle_watch_sends_at_most_one_request_per_interval(
    tmp_path: Path, emulator: EmulatorHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    store, service = await _synced_with_recent_activity(tmp_path, emulator)
    clock = FakeClock(until=12 * INTERVAL)
    before = emulator.state.request_count
    with pytest.raises(_Stop):
        await _sync(service, store, watch=True, interval=INTERVAL, sleep=clock.sleep)
    requests = emulator.state.request_count - before
    passes = len(clock.waits)
    assert passes >= 3  # it kept polling, just less often
    assert requests <= clock.now / INTERVAL, (requests, clock.waits)
    # Backed off: twice the interval after the first idle pass, then four times.
    assert clock.waits[0] >= 1.8 * INTERVAL
    assert all(wait >= 3.6 * INTERVAL for wait in clock.waits[1:])
    assert "0 new" in capsys.readouterr().out


async def test_a_new_incident_brings_the_watch_back_to_the_interval(
    tmp_path: Path, emulator: EmulatorHandle
) -> None:
    store, service = await _synced_with_recent_activity(tmp_path, emulator)
    clock = FakeClock(until=20 * INTERVAL)
    # During the third wait an incident fires: the next pass finds it and polls again after
    # one interval, then backs off again.
    clock.hooks[3] = lambda: emulator.state.trigger("Checkout 5xx above 1%")
    with pytest.raises(_Stop):
        await _sync(service, store, watch=True, interval=INTERVAL, sleep=clock.sleep)
    assert clock.waits[2] >= 3.6 * INTERVAL
    assert 0.9 * INTERVAL <= clock.waits[3] <= 1.1 * INTERVAL
    assert clock.waits[4] >= 1.8 * INTERVAL
    titles = store.execute("SELECT title FROM incidents WHERE title = 'Checkout 5xx above 1%'")
    assert titles


def test_what_counts_as_a_change() -> None:
    assert not SyncReport().changed
    # An incremental pull that only re-read its overlap.
    assert not SyncReport(pulled_incidents=1, pulled_entries=4, new_entries=0).changed
    assert SyncReport(pulled_incidents=1, pulled_entries=4, new_entries=1).changed
    # A snapshot pull (Alertmanager): incidents written because they changed.
    assert SyncReport(pulled_incidents=2).changed
    assert SyncReport(sent=1).changed and SyncReport(failed=1).changed
