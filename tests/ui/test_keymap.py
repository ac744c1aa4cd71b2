"""A ``[keymap]`` rebind works everywhere a key is named: the key itself, the help screen and
the command palette (which shows and runs the binding, not a copy of it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from cockpit.app import CockpitApp
from cockpit.config import ConfigError, load_settings
from cockpit.screens.commands import ActionCommands
from cockpit.screens.help import collect_bindings
from cockpit.store.models import OutboxItem

SETTINGS = """\
[cockpit]
sync_interval = 30

[keymap]
incident.ack = "K"
"runbook.undo" = "ctrl+u,U"

[filters.logging]
service = "logging"
"""


def _rebind(app: CockpitApp, tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(SETTINGS)
    app.settings = load_settings(
        tmp_path / "config.toml",
        environ={},
        flags={"data_dir": tmp_path / "data", "runbooks": tmp_path / "runbooks"},
    )


def _acks(app: CockpitApp) -> list[str]:
    assert app.store is not None
    with app.store.read() as session:
        return [
            row.incident_id
            for row in session.exec(select(OutboxItem).where(OutboxItem.action == "acknowledge"))
        ]


async def test_a_rebound_key_acts_and_the_old_one_does_not(app: CockpitApp, tmp_path: Path) -> None:
    _rebind(app, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        assert _acks(app) == []
        await pilot.press("K")
        await pilot.pause()
        assert _acks(app) == ["pagerduty:PINC101"]


async def test_help_and_palette_show_the_rebound_keys_and_the_palette_runs_the_binding(
    app: CockpitApp, tmp_path: Path
) -> None:
    _rebind(app, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        keys = {binding_id: key for _, key, _, binding_id in collect_bindings(app.screen)}
        assert keys["incident.ack"] == "K"
        assert keys["runbook.undo"] == "^u/U"
        assert keys["incident.resolve"] == "R"  # not rebound: its own key

        entries = {name: (hint, run) for name, hint, run in ActionCommands(app.screen).entries()}
        ack = next(name for name in entries if name.startswith("Acknowledge"))
        assert entries[ack][0] == "K"
        assert entries["Undo the last tick"][0] == "^u/U"
        entries[ack][1]()  # choosing it in the palette
        await pilot.pause()
        assert _acks(app) == ["pagerduty:PINC101"]


def test_tables_beside_a_cockpit_table_are_kept_and_a_bad_keymap_entry_is_named(
    tmp_path: Path,
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(SETTINGS)
    settings = load_settings(path, environ={})
    assert settings.tables["keymap"] == {"incident.ack": "K", "runbook.undo": "ctrl+u,U"}
    assert settings.tables["filters"] == {"logging": {"service": "logging"}}

    path.write_text('[keymap]\n"incident.ack" = 3\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert str(path) in str(caught.value)
    assert "'incident.ack' must be a key string" in str(caught.value)
