"""Start-up: the collector the start-up commands switch off comes back on, and the ORM the
first frame does without is loaded in the background soon after it."""

from __future__ import annotations

import gc
from pathlib import Path

from cockpit_seed import frozen

from cockpit.app import CockpitApp
from cockpit.runbooks.library import load_library
from cockpit.startup import hold_collector
from cockpit.store.engine import Store


async def test_collector_is_back_on_after_the_first_frame(app: CockpitApp) -> None:
    hold_collector()
    try:
        assert not gc.isenabled()
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            assert gc.isenabled()
    finally:
        gc.enable()


async def test_the_orm_is_warmed_up_after_the_first_frame(
    seeded: tuple[object, Store], tmp_path: Path
) -> None:
    settings, seeding = seeded
    store = Store.open(seeding.path)  # a fresh one, as `cockpit` opens it
    app = CockpitApp(settings, store, clock=frozen, library=load_library([tmp_path / "runbooks"]))
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            assert not store.engine_started  # the first frame needs no ORM
            # The warm-up starts on a timer after the first frame; wait for it however slow
            # the machine is (a loaded CI runner), rather than for a fixed time.
            for _ in range(300):
                if store.engine_started:
                    break
                await pilot.pause(0.1)
            await app.workers.wait_for_complete()
            assert store.engine_started
            await pilot.press("a")  # the first action works on the warmed-up ORM
            await pilot.pause()
            assert "Acknowledged" in " ".join(n.message for n in app.notices)
    finally:
        store.close()
