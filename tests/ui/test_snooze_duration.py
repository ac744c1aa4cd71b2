"""Issue 16 item 13 in the TUI: the snooze dialog reads durations with the one parser
(``cockpit.durations``: a number alone is minutes, ``2w`` is understood) and says the unit
back while typing and in the notification."""

from __future__ import annotations

from cockpit_seed import notices, store_of
from sqlmodel import select
from textual.widgets import Input, Static

from cockpit import durations
from cockpit.app import CockpitApp
from cockpit.screens import input_dialog
from cockpit.screens.input_dialog import InputDialog
from cockpit.store.models import OutboxItem

SECOND = "pagerduty:PINC102"


def test_the_dialog_and_the_cli_share_one_parser() -> None:
    from cockpit.cli import incident_cmd

    for text in ("30", "2w", "90s", "1d", "1.5h"):
        assert (
            input_dialog.parse_duration(text)
            == durations.parse_duration(text)
            == incident_cmd.parse_duration(text)
        )
    assert input_dialog.duration_meaning("30") == "= 30m: 30 minutes"
    assert input_dialog.check_duration("2w").startswith("2 weeks is too long")
    assert "a number alone is minutes" in input_dialog.check_duration("soon")
    assert input_dialog.check_duration("1d") == ""


async def test_a_bare_number_is_minutes_and_said_back(app: CockpitApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("right_square_bracket", "z")  # #102 is acknowledged
        dialog = app.screen
        assert isinstance(dialog, InputDialog)
        meaning = dialog.query_one("#dialog-meaning", Static)
        assert "30 minutes" in str(meaning.render())
        dialog.query_one(Input).value = "45"
        await pilot.pause()
        assert "= 45m: 45 minutes" in str(meaning.render())
        dialog.query_one(Input).value = "2w"
        await pilot.pause()
        assert "2 weeks" in str(meaning.render())
        await pilot.press("enter")  # too long for PagerDuty: refused, the dialog stays
        await pilot.pause()
        assert isinstance(app.screen, InputDialog)
        assert "at most 7 days" in str(dialog.query_one("#dialog-error", Static).render())
        dialog.query_one(Input).value = "45"
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, InputDialog)
        done = [n for n in notices(app) if "Snoozed" in n[1]]
        assert done and "for 45m (45 minutes)" in done[-1][1]
    with store_of(app).read() as session:
        items = {(i.action, i.incident_id): i.payload for i in session.exec(select(OutboxItem))}
    assert items[("snooze", SECOND)]["seconds"] == 45 * 60
