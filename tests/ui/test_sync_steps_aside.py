"""A key press (or a click) asks a running sync to step aside while it is answered
(cockpit/sync/courtesy.py; the pull's side is tests/core/test_sync_courtesy.py)."""

from __future__ import annotations

import pytest

from cockpit.app import CockpitApp
from cockpit.sync import courtesy


async def test_keys_and_clicks_ask_the_sync_to_step_aside(
    app: CockpitApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[float] = []
    monkeypatch.setattr(courtesy, "step_aside", lambda seconds=0.04: asked.append(seconds))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert asked == []  # nothing pressed: the sync never waits
        await pilot.press("j")
        pressed = len(asked)
        assert pressed >= 1  # (a key bubbling back up to the app asks again: harmless)
        await pilot.click("#runbook-steps")
        assert len(asked) > pressed
    courtesy.clear()


async def test_the_clock_does_not_freeze_a_running_syncs_garbage(
    app: CockpitApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The screen's once-a-second freeze (gc.freeze) is skipped while a sync runs: each of
    its pages' HTTP responses sits in a reference cycle until the collector frees it, and
    frozen it was kept (a first sync at PagerDuty's rate ended 90 MB larger)."""
    import gc

    from cockpit_seed import cockpit_screen

    frozen: list[bool] = []
    running = {"now": True}
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(running["now"]))
    monkeypatch.setattr(CockpitApp, "sync_running", property(lambda self: running["now"]))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = cockpit_screen(app)
        frozen.clear()
        screen.tick_clock()
        assert frozen == []  # a sync runs: nothing frozen
        running["now"] = False
        screen.tick_clock()
        assert frozen == [False]  # idle: frozen as before
