"""Practice mode on screen: replaying a past incident from `D` (its events arrive as the
clock moves, the debrief compares then and now, nothing reaches the emulator), and the fixes
of issue 14 item 7 that only show on screen: the incident's age moves, the debrief names the
participant, the symptoms are never cut mid-sentence, `x` is refused before any parameter is
asked. A fake clock everywhere: no sleeps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from cockpit_seed import HERE, NOW, Clock, notices, screen_text, seed
from sqlmodel import select
from textual.widgets import Static

from cockpit.app import CockpitApp
from cockpit.config import load_settings
from cockpit.drills import Scenario
from cockpit.integrations.pagerduty import PagerDutyProvider
from cockpit.integrations.pagerduty_emulator import start_emulator
from cockpit.records import LogEntryRecord
from cockpit.runbooks.library import load_library
from cockpit.screens.choice_dialog import ChoiceDialog
from cockpit.screens.cockpit_screen import CockpitScreen
from cockpit.screens.confirm import ConfirmDialog
from cockpit.screens.debrief_screen import DebriefScreen
from cockpit.screens.drill_screen import BANNER, REFUSED, DrillScreen, fit, open_drill
from cockpit.screens.input_dialog import InputDialog
from cockpit.store.engine import Store
from cockpit.store.models import OutboxItem, TimelineEvent
from cockpit.store.upsert import insert_log_entries
from cockpit.sync.service import SyncService

PAST = "pagerduty:PINC099"  # the seed's resolved incident, created 600 min before NOW
CREATED = NOW - timedelta(minutes=600)
LONG = (
    "p95 latency on /product above 800 ms for 5 minutes, or 5xx above 1%, usually right "
    "after a cache flush or a deploy that changed the cache key format."
)


@pytest.fixture
def clocked(tmp_path: Path) -> Iterator[tuple[CockpitApp, Clock, Store]]:
    settings, store = seed(tmp_path)
    with store.write() as session:  # what happened to #99 then
        insert_log_entries(
            session,
            "pagerduty",
            [
                LogEntryRecord("H1", "PINC099", "trigger", CREATED, "Triggered through the API"),
                LogEntryRecord(
                    "H2",
                    "PINC099",
                    "acknowledge",
                    CREATED + timedelta(minutes=2),
                    "Acknowledged by Bob Day.",
                    agent_id="PBOB",
                    agent_name="Bob Day",
                ),
                LogEntryRecord(
                    "H3",
                    "PINC099",
                    "annotate",
                    CREATED + timedelta(minutes=5),
                    "Note added",
                    agent_id="PBOB",
                    agent_name="Bob Day",
                    details={"note": "Rolled back the indexer deploy."},
                ),
                LogEntryRecord(
                    "H4",
                    "PINC099",
                    "resolve",
                    CREATED + timedelta(minutes=30),
                    "Resolved by Bob Day.",
                    agent_id="PBOB",
                    agent_name="Bob Day",
                ),
            ],
        )
    clock = Clock()
    app = CockpitApp(settings, store, clock=clock, library=load_library([tmp_path / "runbooks"]))
    yield app, clock, store
    store.close()


def _timeline(store: Store, incident_id: str) -> list[str]:
    with store.read() as session:
        return [
            e.summary
            for e in session.exec(
                select(TimelineEvent).where(TimelineEvent.incident_id == incident_id)
            )
        ]


async def test_replay_a_past_incident_from_d(clocked: tuple[CockpitApp, Clock, Store]) -> None:
    app, clock, store = clocked
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("D")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, ChoiceDialog)
        assert "Replay a past incident" in picker.choices[0][1].plain
        await pilot.press("up", "enter")  # the entry on top
        await pilot.pause()
        incidents = app.screen
        assert isinstance(incidents, ChoiceDialog)
        assert incidents.choices[0][0] == PAST
        assert "#99 Search index lag" in incidents.choices[0][1].plain
        await pilot.press("enter")
        await pilot.pause()
        runbooks = app.screen
        assert isinstance(runbooks, ChoiceDialog)
        assert "No runbook matches it" in runbooks.body.plain  # so it is picked
        await pilot.press("enter")
        await pilot.pause()
        speeds = app.screen
        assert isinstance(speeds, ChoiceDialog) and speeds.choices[0][0] == "10"
        await pilot.press("enter")  # x10
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DrillScreen) and screen.replay is not None
        banner = str(screen.query_one("#practice-banner", Static).content)
        assert BANNER in banner and "(replay ×10)" in banner
        drill = screen.drill
        assert drill.scenario["replay_of"] == PAST
        lines = _timeline(store, drill.incident_id)
        assert any("Triggered through the API" in line for line in lines)
        assert not any("Rolled back" in line for line in lines)  # not yet: +5 min then
        clock.now += timedelta(seconds=29)  # 4 min 50 s then
        screen.tick_clock()
        assert not any("Rolled back" in line for line in _timeline(store, drill.incident_id))
        clock.now += timedelta(seconds=1)  # 5 min then, at x10
        screen.tick_clock()
        await pilot.pause()
        lines = _timeline(store, drill.incident_id)
        assert "[then +5m00s] Bob Day: Rolled back the indexer deploy." in lines
        assert any(
            title.startswith("Note from Bob Day (then +5m00s)") for title, _, _ in notices(app)
        )
        banner = str(screen.query_one("#practice-banner", Static).content)
        assert "arrived, next in 2m30s" in banner  # the resolve: +30 min then, 3 min here
        await pilot.press("space")  # tick a step, then end the drill
        await pilot.press("E", "y")
        await pilot.pause()
        debrief = app.screen
        assert isinstance(debrief, DebriefScreen)
        compared = debrief.analysis.then_now
        assert compared is not None and compared.label == "#99"
        assert compared.acknowledged[0] == 120.0 and compared.resolved[0] == 1800.0
        assert compared.branch == ("rollback", "") and compared.rollback[0] == 300.0
        table = str(debrief.query_one("#debrief-then-now", Static).content)
        assert table  # rendered
        assert "## Then and now" in debrief.drill.report_md
        assert "| Rollback started | 5m00s (a note) | never |" in debrief.drill.report_md
        assert screen.replay is not None
        arrived = screen.replay.delivered
        clock.now += timedelta(hours=1)
        screen.tick_clock()  # the drill is over: the replay delivers nothing more
        assert screen.replay.delivered == arrived < len(screen.replay.events)
    with store.read() as session:
        assert session.exec(select(OutboxItem)).all() == []


async def test_a_replay_from_the_tui_writes_nothing_to_the_emulator(tmp_path: Path) -> None:
    with start_emulator(seed=3, incidents=30, days=4) as emulator:
        store = Store.open(tmp_path / "data")
        (tmp_path / "runbooks").mkdir()
        (tmp_path / "runbooks" / "rb.md").write_text((HERE / "cache_stampede.md").read_text())
        provider = PagerDutyProvider(emulator.url, emulator.token, max_retries=0)
        service = SyncService(store, {"pagerduty": provider}, window_days=5)
        settings = load_settings(
            None,
            environ={},
            flags={"data_dir": tmp_path / "data", "runbooks": tmp_path / "runbooks"},
        )
        assert (await service.sync_once()).pulled_incidents > 0
        clock = Clock(NOW)
        app = CockpitApp(
            settings, store, service, clock=clock, library=load_library([tmp_path / "runbooks"])
        )
        try:
            async with app.run_test(size=(120, 40)) as pilot:
                for _ in range(3):
                    await pilot.pause()
                    await app.workers.wait_for_complete()
                emulator.state.writes.clear()
                await pilot.press("D")
                await pilot.pause()
                await pilot.press("up", "enter")
                await pilot.pause()
                await pilot.press("enter", "enter")
                await pilot.pause()
                await pilot.press("down", "down", "down", "down", "enter")  # x60
                await pilot.pause()
                screen = app.screen
                assert isinstance(screen, DrillScreen) and screen.replay is not None
                clock.now += timedelta(hours=3)
                screen.tick_clock()  # the whole incident arrives
                assert screen.replay.finished
                await pilot.press("a")  # acknowledge the drill incident
                await pilot.press("ctrl+r")
                for _ in range(3):
                    await pilot.pause()
                    await app.workers.wait_for_complete()
                assert emulator.state.writes == []
        finally:
            store.close()


# ---------------------------------------------------------------- item 7, on screen


async def test_the_drill_incidents_age_moves(clocked: tuple[CockpitApp, Clock, Store]) -> None:
    app, clock, _ = clocked
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = open_drill(app, app.library[0])
        await pilot.pause()
        assert screen is not None
        assert "age 0s" in screen_text(app)
        clock.now += timedelta(seconds=30)
        screen.tick_clock()
        await pilot.pause()
        assert "age 30s" in screen_text(app)


async def test_the_debrief_names_the_participant(clocked: tuple[CockpitApp, Clock, Store]) -> None:
    app, _, _ = clocked
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        open_drill(app, app.library[0])
        await pilot.pause()
        await pilot.press("E", "y")
        await pilot.pause()
        debrief = app.screen
        assert isinstance(debrief, DebriefScreen)
        summary = str(debrief.query_one("#debrief-summary", Static).content)
        assert "by Alex Night" in summary and "PME" not in summary
        assert ", by Alex Night" in debrief.drill.report_md


@pytest.mark.parametrize(("size", "whole"), [((120, 40), True), ((80, 24), False)])
async def test_the_symptoms_are_never_cut_mid_sentence(
    clocked: tuple[CockpitApp, Clock, Store], size: tuple[int, int], whole: bool
) -> None:
    app, _, _ = clocked
    scenario = Scenario(title="[DRILL] stampede", symptoms=(LONG,), difficulty="hard")
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        screen = open_drill(app, app.library[0], scenario)
        await pilot.pause()
        await pilot.pause()
        assert screen is not None
        banner = screen.query_one("#practice-banner", Static)
        text = str(banner.content)
        assert BANNER in text
        assert len(banner.render_lines(banner.region.reset_offset)) <= 3
        shown = text.split("symptoms: ", 1)[1]
        if whole:
            assert shown == LONG
        else:  # cut after a clause, and said so
            assert shown.endswith("…") and LONG.startswith(shown[:-1])
            assert LONG[len(shown) - 1] == ","
        # Marking a step unclear takes a line: the symptoms give it up, still not mid-word.
        await pilot.press("U", "enter")
        await pilot.pause()
        text = str(banner.content)
        assert "marked unclear" in text
        assert len(banner.render_lines(banner.region.reset_offset)) <= 3


def test_fit_cuts_after_a_sentence_or_a_clause_never_in_a_word() -> None:
    def measure(text: str, width: int) -> int:
        return -(-len(text) // width)

    assert fit("One. Two, three.", 40, 1, measure) == "One. Two, three."
    assert fit("One sentence here. Two, three and four.", 20, 1, measure) == "One sentence here.…"
    assert fit("Alpha beta, gamma delta epsilon", 14, 1, measure) == "Alpha beta…"
    assert fit("Alphabetagamma deltaepsilon", 16, 1, measure) == "Alphabetagamma…"
    assert fit("anything", 10, 0, measure) == ""


async def test_x_is_refused_before_any_parameter_is_asked(
    clocked: tuple[CockpitApp, Clock, Store],
) -> None:
    app, _, store = clocked
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = open_drill(app, app.library[0])
        await pilot.pause()
        await pilot.press("space")  # check 1 done: the current step is the one with {{host}}
        await pilot.pause()
        await pilot.press("x")
        await pilot.pause()
        assert not isinstance(app.screen, InputDialog)  # no "Parameter: host" first
        assert app.screen is screen
        assert ("Practice mode", REFUSED, "warning") in notices(app)
        await pilot.press("c")  # copying still asks, as outside a drill
        await pilot.pause()
        assert isinstance(app.screen, InputDialog)
        await pilot.press("escape")
    with store.read() as session:
        assert (
            session.exec(select(TimelineEvent).where(TimelineEvent.kind == "command")).all() == []
        )


async def test_end_drill_says_unticked_steps_suggest_no_edit(
    clocked: tuple[CockpitApp, Clock, Store],
) -> None:
    app, _, _ = clocked
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        open_drill(app, app.library[0])
        await pilot.pause()
        await pilot.press("space", "E")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await pilot.pause()
        debrief = app.screen
        assert isinstance(debrief, DebriefScreen)
        assert debrief.analysis.ended_early and debrief.analysis.not_reached
        edits = str(debrief.query_one("#debrief-edits", Static).content)
        assert "never reached" not in edits
        summary = str(debrief.query_one("#debrief-summary", Static).content)
        assert "Ended early" in summary


async def test_the_debrief_drafts_its_edits(
    clocked: tuple[CockpitApp, Clock, Store], tmp_path: Path
) -> None:
    app, clock, _ = clocked
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = open_drill(app, app.library[0])
        await pilot.pause()
        assert screen is not None
        clock.now += timedelta(seconds=10)
        await pilot.press("space")
        await pilot.press("U")
        await pilot.pause()
        await pilot.press(*"which host?", "enter")
        await pilot.pause()
        clock.now += timedelta(seconds=20)
        await pilot.press("space")
        await pilot.pause()
        await pilot.press("E", "y")
        await pilot.pause()
        debrief = app.screen
        assert isinstance(debrief, DebriefScreen)
        await pilot.press("e")
        await pilot.pause()
        path = debrief.draft_path
        assert path is not None and path.parent == tmp_path / "runbooks" / "drafts"
        shown = str(debrief.query_one("#debrief-draft", Static).content)
        assert "lint: clean" in shown and f"+++ {path}" in shown
        assert "marked unclear (unclear: which host?): reword it." in path.read_text()


async def test_x_on_a_drill_incident_in_the_plain_cockpit_is_refused_before_parameters(
    clocked: tuple[CockpitApp, Clock, Store],
) -> None:
    # A drill left open and looked at from the cockpit itself, not the drill screen.
    app, _, store = clocked
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        drill_screen = open_drill(app, app.library[0])
        await pilot.pause()
        drill_incident = drill_screen.current_id
        app.pop_screen()
        await pilot.pause()
        cockpit = app.screen
        assert isinstance(cockpit, CockpitScreen) and not isinstance(cockpit, DrillScreen)
        cockpit.current_id = drill_incident
        cockpit._show_incident(follow=True)
        await pilot.pause()
        await pilot.press("space")  # check 1 done: the current step is the one with {{host}}
        await pilot.pause()
        await pilot.press("x")
        await pilot.pause()
        assert not isinstance(app.screen, InputDialog)  # no "Parameter: host" first
        assert any(title == "Practice mode" for title, _, _ in notices(app))
    with store.read() as session:
        assert (
            session.exec(select(TimelineEvent).where(TimelineEvent.kind == "command")).all() == []
        )
