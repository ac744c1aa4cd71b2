"""The handoff draft and a drill's debrief as snapshots (frozen clock)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cockpit.app import CockpitApp

Build = Callable[..., CockpitApp]


def test_handoff_draft(snap_compare: Any, build: Build) -> None:
    assert snap_compare(build(), press=["H"], terminal_size=(120, 40))


def test_drill_debrief(snap_compare: Any, build: Build) -> None:
    # D: pick the only runbook; E, y: end the drill at once (frozen clock: nothing ticked).
    assert snap_compare(build(), press=["D", "enter", "E", "y"], terminal_size=(120, 40))
