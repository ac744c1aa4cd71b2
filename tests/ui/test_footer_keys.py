"""The footer follows the highlighted step without rebuilding itself: moving between a step
with a command and one with a timer shows and hides keys in place (a rebuild cost ~15 ms of
the event loop per step), and what it shows is what applies."""

from __future__ import annotations

from textual.widgets._footer import FooterKey

from cockpit.app import CockpitApp
from cockpit.widgets.footer import KeyFooter


def shown(app: CockpitApp) -> list[str]:
    """The actions of the keys the footer draws, in order."""
    bar = app.screen.query_one(KeyFooter)
    return [
        key.action
        for key in bar.query(FooterKey)
        if key.display and not key.has_class("-command-palette")
    ]


async def test_moving_between_steps_shows_other_keys_without_a_rebuild(app: CockpitApp) -> None:
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        bar = app.screen.query_one(KeyFooter)
        built = set(bar.query(FooterKey))
        seen: list[list[str]] = []
        for _ in range(6):
            await pilot.press("down")
            await pilot.pause()
            await pilot.pause()
            drawn = shown(app)
            assert drawn == [binding.action for binding, _, _ in bar.shown_keys()]
            seen.append(drawn)
        assert len({tuple(actions) for actions in seen}) > 1, seen  # the keys did change
        assert any("copy" in actions for actions in seen)
        assert any("copy" not in actions for actions in seen)
        assert set(bar.query(FooterKey)) == built  # the same widgets, shown or hidden


async def test_a_narrow_footer_drops_keys_from_the_end_but_never_help(app: CockpitApp) -> None:
    async with app.run_test(size=(60, 30)) as pilot:
        await pilot.pause()
        await pilot.pause()
        narrow = shown(app)
        await pilot.resize_terminal(160, 30)
        await pilot.pause()
        await pilot.pause()
        wide = shown(app)
        assert "help" in narrow and "help" in wide
        assert len(narrow) < len(wide)
        assert [a for a in wide if a in narrow] == narrow  # the same order, the end dropped
