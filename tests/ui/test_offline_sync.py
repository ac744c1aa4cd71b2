"""A note written while the paging service is unreachable reaches it once it is back.

Real parts: the PagerDuty emulator over HTTP on 127.0.0.1, the real PagerDuty adapter and
SyncService, a real SQLite store. "Offline" is the emulator dropping every connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cockpit_seed import cockpit_screen
from sqlmodel import select
from textual.widgets import TextArea

from cockpit.app import CockpitApp
from cockpit.config import load_settings
from cockpit.integrations.pagerduty import PagerDutyProvider
from cockpit.integrations.pagerduty_emulator import EmulatorHandle, start_emulator
from cockpit.store.engine import Store
from cockpit.store.models import Note
from cockpit.sync.service import SyncService
from cockpit.widgets.status_bar import StatusBar


async def settle(app: object, pilot: object) -> None:
    """Let queued sync workers start, then wait for them (a worker may be queued by a key)."""
    for _ in range(3):
        await pilot.pause()  # type: ignore[attr-defined]
        await app.workers.wait_for_complete()  # type: ignore[attr-defined]


@pytest.fixture
def emulator() -> Iterator[EmulatorHandle]:
    with start_emulator(seed=7, incidents=6, days=2) as handle:
        yield handle


async def test_note_written_offline_syncs_when_back(
    emulator: EmulatorHandle, tmp_path: Path
) -> None:
    store = Store.open(tmp_path / "data")
    provider = PagerDutyProvider(emulator.url, emulator.token, max_retries=0)
    service = SyncService(store, {"pagerduty": provider}, window_days=2)
    settings = load_settings(
        None, environ={}, flags={"data_dir": tmp_path / "data", "runbooks": tmp_path / "runbooks"}
    )
    first = await service.sync_once()
    assert first.online and first.pulled_incidents > 0
    emulator.state.inject({"kind": "drop", "count": 10_000})
    app = CockpitApp(settings, store, service, library=[])
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            bar = app.screen.query_one(StatusBar)
            assert bar.state == "offline"
            incident_id = cockpit_screen(app).current_id
            assert incident_id
            await pilot.press("n")
            app.screen.query_one(TextArea).text = "written on the plane"
            await pilot.press("ctrl+s")
            await settle(app, pilot)
            assert bar.pending == 1 and bar.state == "offline"
            emulator.state.faults.clear()
            await pilot.press("ctrl+r")
            await settle(app, pilot)
            assert bar.state == "online"
            assert bar.pending == 0
    finally:
        store.close()
    with store.read() as session:
        note = session.exec(select(Note).where(Note.content == "written on the plane")).one()
    assert note.state == "sent"
    remote = emulator.state.incident(incident_id.split(":", 1)[1])
    assert any("written on the plane" in str(n) for n in getattr(remote, "notes", []))
