"""Issue 13, items 6 and 8 in the TUI.

- An incident whose title makes a runbook regex backtrack catastrophically (in Python's
  ``re``) opens, and is switched to and away from, within a bound; a key pressed right after
  the switch is handled in that bound too.
- Runbook parameters: ``<region name>`` is asked, filled in shell-quoted, copied and run
  as shown, and the timeline keeps the command that ran; values typed on one incident are
  neither shown nor used on another.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from cockpit_seed import cockpit_screen, frozen, screen_text, seed, store_of
from sqlmodel import select
from textual.widgets import Input

from cockpit.app import CockpitApp
from cockpit.runbooks.library import load_library
from cockpit.screens.confirm import ConfirmDialog
from cockpit.screens.input_dialog import InputDialog
from cockpit.store.engine import Store
from cockpit.store.models import StepEvent, TimelineEvent
from cockpit.widgets.incident_switcher import IncidentSwitcher
from cockpit.widgets.runbook_checklist import RunbookChecklist

PARAMS = """\
---
id: params-check
title: Params check
match:
  title: "."
---
## Checks
- [ ] Redis stats `redis-cli -h {{redis_host}} info stats`
- [ ] Say the region `echo <region name>`
"""

WORDS = """\
---
id: words-only
title: Words only
match:
  title: '^(\\w+\\s?)*$'
---
## Checks
- [ ] Look `echo look here`
"""

BOMB_TITLE = "a" * 30 + "!"


def library_app(
    tmp_path: Path, store_and_settings: tuple[object, Store], *texts: tuple[str, str]
) -> CockpitApp:
    settings, store = store_and_settings
    folder = tmp_path / "library"
    folder.mkdir()
    for name, text in texts:
        (folder / name).write_text(text, encoding="utf-8")
    return CockpitApp(settings, store, clock=frozen, library=load_library([folder]))


def incident_on_screen(app: CockpitApp) -> str:
    view = cockpit_screen(app).incident_view
    return str(view.incident.number)


def set_input(app: CockpitApp, value: str) -> None:
    assert isinstance(app.screen, InputDialog)
    app.screen.query_one(Input).value = value


@pytest.fixture
def bomb_seeded(tmp_path: Path) -> tuple[object, Store]:
    settings, store = seed(tmp_path, title=BOMB_TITLE)
    yield settings, store  # type: ignore[misc]
    store.close()


async def test_an_incident_with_a_catastrophic_title_opens_and_switches_within_a_bound(
    bomb_seeded: tuple[object, Store],
    tmp_path: Path,
) -> None:
    app = library_app(tmp_path, bomb_seeded, ("words.md", WORDS))
    started = time.perf_counter()
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert incident_on_screen(app) == "101"  # the 30 a's and a !: the first one shown
        assert time.perf_counter() - started < 10  # the app's start, with its first frame
        switched = time.perf_counter()
        await pilot.press("right_square_bracket")  # away
        await pilot.pause()
        assert incident_on_screen(app) == "102"
        await pilot.press("left_square_bracket", "i")  # back to #101, and a key right after
        await pilot.pause()
        took = time.perf_counter() - switched
        assert incident_on_screen(app) == "101"
        assert "No runbook matches this incident" in screen_text(app)
        assert app.focused is app.screen.query_one(IncidentSwitcher)  # "i" was handled
        assert took < 2, f"switching took {took:.2f} s"


async def test_values_typed_on_one_incident_are_not_used_on_another(
    seeded: tuple[object, Store],
    tmp_path: Path,
) -> None:
    app = library_app(tmp_path, seeded, ("params.md", PARAMS))
    copied: list[str] = []
    app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert incident_on_screen(app) == "101"
        await pilot.press("c")
        set_input(app, "cache-101")
        await pilot.press("enter")
        await pilot.pause()
        assert copied == ["redis-cli -h cache-101 info stats"]
        assert "redis-cli -h cache-101 info stats" in screen_text(app)
        assert "redis_host=cache-101" in screen_text(app)

        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert incident_on_screen(app) == "102"
        assert "cache-101" not in screen_text(app)  # neither shown...
        assert "redis_host=?" in screen_text(app)
        await pilot.press("c")
        assert isinstance(app.screen, InputDialog)  # ...nor used: asked again
        set_input(app, "cache-102")
        await pilot.press("enter")
        await pilot.pause()
        assert copied[-1] == "redis-cli -h cache-102 info stats"

        await pilot.press("left_square_bracket")
        await pilot.pause()
        assert incident_on_screen(app) == "101"
        await pilot.press("c")  # #101 keeps its own value: not asked
        await pilot.pause()
        assert not isinstance(app.screen, InputDialog)
        assert copied[-1] == "redis-cli -h cache-101 info stats"


async def test_a_parameter_with_spaces_is_asked_filled_quoted_run_and_kept(
    seeded: tuple[object, Store],
    tmp_path: Path,
) -> None:
    app = library_app(tmp_path, seeded, ("params.md", PARAMS))
    copied: list[str] = []
    app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
    typed = "eu west; echo INJECTED"
    ran = "echo 'eu west; echo INJECTED'"
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("down", "x")
        assert isinstance(app.screen, InputDialog)
        assert app.screen.title_text == "Parameter: region name"
        set_input(app, typed)
        await pilot.press("enter")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        assert ran in str(dialog.body) and "<region name>" not in str(dialog.body)
        await pilot.press("y")
        for _ in range(3):
            await app.workers.wait_for_complete()
            await pilot.pause()
        await pilot.press("c")  # copied as it ran: filled and quoted the same way
        await pilot.pause()
        assert copied == [ran]
        assert ran in screen_text(app)
    with store_of(app).read() as session:
        event = session.exec(select(StepEvent).where(StepEvent.kind == "command_run")).one()
        line = session.exec(select(TimelineEvent).where(TimelineEvent.kind == "command")).one()
    assert event.details["command"] == ran and event.details["exit_code"] == 0
    assert event.details["output"] == typed + "\n"  # one argument: nothing else ran
    assert line.summary == f"$ {ran}\nexit 0\n{typed}"


async def test_a_checklist_without_values_shows_the_placeholders(
    seeded: tuple[object, Store],
    tmp_path: Path,
) -> None:
    app = library_app(tmp_path, seeded, ("params.md", PARAMS))
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "redis-cli -h {{redis_host}} info stats" in text
        assert "echo <region name>" in text
        checklist = app.screen.query_one(RunbookChecklist)
        assert dict(checklist.params) == {}
