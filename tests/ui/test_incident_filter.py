"""`/` cycles the incident list through all, high urgency, mine and the saved filters."""

from __future__ import annotations

from pathlib import Path

from cockpit.app import CockpitApp
from cockpit.config import load_settings
from cockpit.widgets.incident_switcher import IncidentSwitcher


def _open_ids(app: CockpitApp) -> list[str]:
    switcher = app.screen.query_one(IncidentSwitcher)
    ids = switcher.ids()
    resolved = {"pagerduty:PINC099"}
    return [i for i in ids if i and i not in resolved]


async def test_slash_cycles_the_filters_and_keeps_the_choice_on_refresh(
    app: CockpitApp, tmp_path: Path
) -> None:
    (tmp_path / "config.toml").write_text('[filters.logging]\nservice = "logging"\n')
    app.settings = load_settings(
        tmp_path / "config.toml",
        environ={},
        flags={"data_dir": tmp_path / "data", "runbooks": tmp_path / "runbooks"},
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        everything = _open_ids(app)
        assert set(everything) == {"pagerduty:PINC101", "pagerduty:PINC102", "pagerduty:PINC103"}
        switcher = app.screen.query_one(IncidentSwitcher)
        await pilot.press("slash")
        await pilot.pause()
        assert set(_open_ids(app)) == {"pagerduty:PINC101", "pagerduty:PINC102"}
        assert "high urgency" in str(switcher.border_title)
        await pilot.press("slash")
        await pilot.pause()
        assert _open_ids(app) == ["pagerduty:PINC101"]  # assigned to me (Alex, PME)
        app.screen.reload()  # a refresh keeps the filter
        await pilot.pause()
        assert _open_ids(app) == ["pagerduty:PINC101"]
        await pilot.press("slash")
        await pilot.pause()
        assert _open_ids(app) == ["pagerduty:PINC103"]  # the saved [filters.logging]
        await pilot.press("slash")
        await pilot.pause()
        assert set(_open_ids(app)) == set(everything)
        assert switcher.border_title == "Incidents"
