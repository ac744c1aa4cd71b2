"""The start-up commands switch the garbage collector off; the app must switch it back on."""

from __future__ import annotations

import gc

from cockpit.app import CockpitApp
from cockpit.startup import hold_collector


async def test_collector_is_back_on_after_the_first_frame(app: CockpitApp) -> None:
    hold_collector()
    try:
        assert not gc.isenabled()
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            assert gc.isenabled()
    finally:
        gc.enable()
