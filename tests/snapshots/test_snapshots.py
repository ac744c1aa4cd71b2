"""The states that matter, as SVG snapshots (frozen clock, fixed seed data, no cursor blink)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cockpit.app import CockpitApp

Build = Callable[..., CockpitApp]


def test_main_160x48_dark(snap_compare: Any, build: Build) -> None:
    assert snap_compare(build(), terminal_size=(160, 48))


def test_main_80x24(snap_compare: Any, build: Build) -> None:
    assert snap_compare(build(), terminal_size=(80, 24))


def test_main_light_theme(snap_compare: Any, build: Build) -> None:
    assert snap_compare(build("textual-light"), terminal_size=(160, 48))


def test_main_80x24_light(snap_compare: Any, build: Build) -> None:
    assert snap_compare(build("textual-light"), terminal_size=(80, 24))


def test_runbook_half_done(snap_compare: Any, build: Build) -> None:
    assert snap_compare(build(), press=["space", "space"], terminal_size=(160, 48))


def test_help(snap_compare: Any, build: Build) -> None:
    assert snap_compare(build(), press=["question_mark"], terminal_size=(120, 40))


def test_palette(snap_compare: Any, build: Build) -> None:
    assert snap_compare(build(), press=["ctrl+p", *"resolve"], terminal_size=(120, 40))


def test_help_light(snap_compare: Any, build: Build) -> None:
    assert snap_compare(build("textual-light"), press=["question_mark"], terminal_size=(120, 40))


def test_palette_light(snap_compare: Any, build: Build) -> None:
    assert snap_compare(
        build("textual-light"), press=["ctrl+p", *"resolve"], terminal_size=(120, 40)
    )


def test_baton_dialog(snap_compare: Any, build: Build) -> None:
    assert snap_compare(build(), press=["b"], terminal_size=(120, 40))


def test_baton_dialog_light(snap_compare: Any, build: Build) -> None:
    assert snap_compare(build("textual-light"), press=["b"], terminal_size=(120, 40))
