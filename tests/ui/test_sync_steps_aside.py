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
