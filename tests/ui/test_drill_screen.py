"""Practice mode from the TUI: a scripted drill with an advancing clock gives the expected
debrief; no write reaches the emulator during a drill, while the same keys on a real
incident do write (so the check can fail)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from cockpit_seed import HERE, NOW, seed, store_of
from sqlmodel import select
from textual.widgets import Input, Static, TextArea

from cockpit.app import CockpitApp
from cockpit.config import load_settings
from cockpit.drills import PracticeProvider, Scenario
from cockpit.integrations.pagerduty import PagerDutyProvider
from cockpit.integrations.pagerduty_emulator import EmulatorHandle, start_emulator
from cockpit.metrics.stats import format_seconds
from cockpit.runbooks.library import load_library
from cockpit.screens.choice_dialog import ChoiceDialog
from cockpit.screens.cockpit_screen import CockpitScreen
from cockpit.screens.confirm import ConfirmDialog
from cockpit.screens.debrief_screen import DebriefScreen
from cockpit.screens.drill_screen import BANNER, DrillScreen, open_drill
from cockpit.screens.input_dialog import InputDialog
from cockpit.store.engine import Store
from cockpit.store.models import Drill, StepEvent
from cockpit.sync.service import SyncService

CHECK_2 = "checks.cache-hit-ratio-dropped-redis-cli-h-host-info"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self):  # type: ignore[no-untyped-def]
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clocked(tmp_path: Path) -> Iterator[tuple[CockpitApp, Clock]]:
    settings, store = seed(tmp_path)
    clock = Clock()
    app = CockpitApp(settings, store, clock=clock, library=load_library([tmp_path / "runbooks"]))
    yield app, clock
    store.close()


async def test_scripted_drill_gives_the_expected_debrief(
    clocked: tuple[CockpitApp, Clock], tmp_path: Path
) -> None:
    app, clock = clocked
    scenario = Scenario(
        title="[DRILL] product p95 2.4 s",
        expected_branch="validation",
        symptoms=("p95 2.4 s on /product",),
        runbook_id="product-cache-stampede",
    )
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        screen = open_drill(app, app.library[0], scenario)
        await pilot.pause()
        assert isinstance(app.screen, DrillScreen) and screen is app.screen
        banner = str(screen.query_one("#practice-banner", Static).content)
        assert BANNER in banner and "p95 2.4 s on /product" in banner
        assert screen.current_id == screen.drill.incident_id
        await pilot.press("right_square_bracket")  # stays on the drill
        assert screen.current_id == screen.drill.incident_id

        async def at(seconds: float, *keys: str) -> None:
            clock.advance(seconds)
            await pilot.press(*keys)
            await pilot.pause()

        await at(10, "space")  # check 1: 10 s
        clock.advance(200)
        await pilot.press("U")  # check 2 (highlighted: the current step) is unclear...
        assert isinstance(app.screen, InputDialog)
        await pilot.press(*"which host?", "enter")
        assert CHECK_2 in screen.unclear
        await at(0, "space")  # ...and ticked 200 s after check 1: a stall
        await at(15, "space", "y")  # the risky step, confirmed
        await at(5, "space")  # starts the timer
        await at(20, "space", "y")  # the timer step, 20 s after its timer started: it still
        # runs, so the tick asks first (issue 16 item 2)
        await at(30, "d", "down", "enter")  # "no": Rollback, against the scenario
        await at(10, "space")  # the rollback step
        if not isinstance(app.screen, DebriefScreen):
            await at(5, "space")  # validation, when the engine asks for it after Rollback
        debrief = app.screen
        assert isinstance(debrief, DebriefScreen)  # the run ended: the debrief opened
        analysis = debrief.analysis
        times = [s.seconds for s in analysis.steps]
        assert times in ([10, 200, 15, 20, 30, 10], [10, 200, 15, 20, 30, 10, 5])
        assert analysis.total_seconds == sum(times) + 5  # + the timer start
        assert [s.step_id for s in analysis.hesitations] == [CHECK_2]
        assert [s.step_id for s in analysis.unclear] == [CHECK_2]
        assert analysis.unclear[0].reason == "unclear: which host?"
        assert analysis.wrong_branch is True and analysis.taken_branch == "rollback"
        summary = str(debrief.query_one("#debrief-summary", Static).content)
        assert f"Total {format_seconds(sum(times) + 5)}" in summary and "WRONG BRANCH" in summary
        assert "1 stall(s)" in summary and "1 unclear" in summary
        edits = str(debrief.query_one("#debrief-edits", Static).content)
        assert "expected the 'validation' branch" in edits and "Reword" in edits
        await pilot.press("m")
        assert isinstance(app.screen, InputDialog)
        target = tmp_path / "debrief.md"
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert type(app.screen) is CockpitScreen  # back to the live cockpit
        times = [s.seconds for s in analysis.steps]
    report = target.read_text(encoding="utf-8")
    assert report.startswith("# Drill debrief: Cache stampede on product detail")
    assert "WRONG BRANCH" in report and "| 2 |" in report and "stall, unclear" in report
    with store_of(app).read() as session:
        drill = session.exec(select(Drill)).one()
        unclear = session.exec(select(StepEvent).where(StepEvent.step_id == CHECK_2)).one()
    assert drill.finished_at == NOW + timedelta(seconds=sum(times) + 5)
    assert drill.report_md == report
    assert unclear.kind == "done" and unclear.details["unclear"] is True


async def test_start_a_drill_from_the_key_and_end_it(clocked: tuple[CockpitApp, Clock]) -> None:
    app, _ = clocked
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("D")
        picker = app.screen
        assert isinstance(picker, ChoiceDialog)
        # The replay entry on top; the first runbook highlighted, so enter drills it.
        assert picker.choices[0][0] == "__replay__"
        assert "never drilled" in picker.choices[1][1].plain
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DrillScreen)
        await pilot.press("x")  # run a command: never in a drill
        await pilot.press("E")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await pilot.pause()
        debrief = app.screen
        assert isinstance(debrief, DebriefScreen)
        assert debrief.analysis.steps == [] and "No step was ticked" in debrief.drill.report_md
    with store_of(app).read() as session:
        assert (
            session.exec(select(StepEvent.kind).where(StepEvent.kind == "command_run")).all() == []
        )


@pytest.fixture
def emulator() -> Iterator[EmulatorHandle]:
    with start_emulator(seed=7, incidents=6, days=2) as handle:
        yield handle


async def settle(app: CockpitApp, pilot: object) -> None:
    for _ in range(3):
        await pilot.pause()  # type: ignore[attr-defined]
        await app.workers.wait_for_complete()


async def note(app: CockpitApp, pilot: object, text: str) -> None:
    await pilot.press("n")  # type: ignore[attr-defined]
    app.screen.query_one(TextArea).text = text
    await pilot.press("ctrl+s")  # type: ignore[attr-defined]
    await settle(app, pilot)


async def test_a_drill_never_writes_to_the_emulator(
    emulator: EmulatorHandle, tmp_path: Path
) -> None:
    store = Store.open(tmp_path / "data")
    (tmp_path / "runbooks").mkdir()
    (tmp_path / "runbooks" / "rb.md").write_text((HERE / "cache_stampede.md").read_text())
    provider = PagerDutyProvider(emulator.url, emulator.token, max_retries=0)
    service = SyncService(store, {"pagerduty": provider}, window_days=2)
    settings = load_settings(
        None, environ={}, flags={"data_dir": tmp_path / "data", "runbooks": tmp_path / "runbooks"}
    )
    assert (await service.sync_once()).pulled_incidents > 0
    app = CockpitApp(settings, store, service, library=load_library([tmp_path / "runbooks"]))
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            emulator.state.writes.clear()
            await pilot.press("D", "enter")
            await pilot.pause()
            assert isinstance(app.screen, DrillScreen)
            await pilot.press("a")  # acknowledge the drill incident
            await note(app, pilot, "practice note")
            await pilot.press("space")  # tick a step
            await pilot.press("R", "down", "enter")  # resolve, abandon the run
            await settle(app, pilot)
            assert isinstance(app.screen, DebriefScreen)
            await pilot.press("ctrl+r")
            await settle(app, pilot)
            assert emulator.state.writes == []
            await pilot.press("escape")
            await pilot.pause()
            assert type(app.screen) is CockpitScreen
            await note(app, pilot, "real note")  # the same keys on a real incident
            await pilot.press("ctrl+r")
            await settle(app, pilot)
            assert [w["method"] for w in emulator.state.writes] == ["POST"]
    finally:
        store.close()


async def test_practice_app_of_cockpit_drill(tmp_path: Path) -> None:
    """`cockpit drill` opens the app on the drill with the practice provider only."""
    from cockpit.drills import scenario_from_runbook, start_drill

    settings, store = seed(tmp_path)
    runbook = load_library([tmp_path / "runbooks"])[0]
    drill = start_drill(store, runbook, scenario_from_runbook(runbook), participant="ann")
    practice = PracticeProvider("ann")
    app = CockpitApp(settings, store, SyncService(store, {"practice": practice}))
    app.open_drill = (drill, runbook)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            assert isinstance(app.screen, DrillScreen) and app.screen.exit_after
            await pilot.press("H")  # no handoff from practice mode
            assert isinstance(app.screen, DrillScreen)
            await pilot.press("a")
            await settle(app, pilot)
            await pilot.press("E", "y")
            await pilot.pause()
            assert isinstance(app.screen, DebriefScreen)
            await pilot.press("escape")
            await pilot.pause()
        assert practice.refused == []  # nothing even tried to write
        assert app.return_code == 0
    finally:
        store.close()
