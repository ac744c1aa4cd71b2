"""What the cockpit tells the user unasked: new incidents, due timers, the page-load meter;
and the incident flows that go through a dialog (snooze, escalate, links)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cockpit_seed import NOW, Clock, cockpit_screen, notices, store_of
from sqlmodel import select

from cockpit.app import CockpitApp
from cockpit.config import load_settings
from cockpit.runbooks.library import load_library
from cockpit.screens.choice_dialog import ChoiceDialog
from cockpit.screens.confirm import ConfirmDialog
from cockpit.screens.help import HelpScreen
from cockpit.screens.input_dialog import InputDialog
from cockpit.screens.welcome import WelcomeScreen
from cockpit.store.engine import Store
from cockpit.store.models import Incident, OutboxItem, TimelineEvent
from cockpit.sync.service import SyncReport
from cockpit.widgets.incident_switcher import IncidentSwitcher
from cockpit.widgets.page_load_meter import PageLoadMeter
from cockpit.widgets.runbook_checklist import RunbookChecklist

SECOND = "pagerduty:PINC102"


class FakeSync:
    """Stands in for the sync service: a sync that, when armed, brings one new incident."""

    providers: dict[str, Any] = {}

    def __init__(self, store: Store) -> None:
        self.store = store
        self.armed = False

    async def sync_once(self, progress: Any = None) -> Any:
        if self.armed:
            self.armed = False
            with self.store.write() as session:
                session.add(
                    Incident(
                        id="pagerduty:PNEW",
                        source="pagerduty",
                        remote_id="PNEW",
                        number=200,
                        title="Checkout [red]down[/] in eu-west",
                        status="triggered",
                        urgency="high",
                        created_at=NOW,
                        updated_at=NOW,
                    )
                )
        return SyncReport(online=True)


async def settle(app: CockpitApp, pilot: Any) -> None:
    for _ in range(3):
        await pilot.pause()
        await app.workers.wait_for_complete()


async def test_new_incident_during_sync_notifies_without_moving(
    seeded: tuple[object, Store], tmp_path: Path
) -> None:
    settings, store = seeded
    sync = FakeSync(store)
    app = CockpitApp(
        settings, store, sync, clock=Clock(), library=load_library([tmp_path / "runbooks"])
    )
    bells: list[int] = []
    app.bell = lambda: bells.append(1)  # type: ignore[method-assign]
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        await pilot.press("right_square_bracket")
        await pilot.pause()
        focused = app.focused
        sync.armed = True
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        assert cockpit_screen(app).current_id == SECOND
        assert app.screen.query_one(IncidentSwitcher).highlighted_id == SECOND
        assert app.focused is focused
        new = [n for n in notices(app) if n[0] == "New high-urgency incident"]
        assert len(new) == 1 and "#200" in new[0][1] and "[red]down[/]" in new[0][1]
        assert bells
        await pilot.press("ctrl+r")  # the next sync brings nothing new: no second notice
        await settle(app, pilot)
        assert len([n for n in notices(app) if n[0].startswith("New ")]) == 1


async def test_timer_due_notifies_and_bells(seeded: tuple[object, Store], tmp_path: Path) -> None:
    settings, store = seeded
    clock = Clock()
    app = CockpitApp(settings, store, clock=clock, library=load_library([tmp_path / "runbooks"]))
    bells: list[int] = []
    app.bell = lambda: bells.append(1)  # type: ignore[method-assign]
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("space", "space", "space", "y", "space")  # ... starts the 5m timer
        await pilot.pause()
        screen: Any = app.screen
        view = screen.query_one(RunbookChecklist).view
        assert view is not None and "actions.watch-the-error-rate" in view.timers
        clock.now += timedelta(minutes=4)
        screen.tick_clock()
        await pilot.pause()  # notifications arrive as messages
        assert not [n for n in notices(app) if n[0] == "Timer due"] and not bells
        assert "1:00 left" in str(
            screen.query_one(RunbookChecklist)
            .steps.get_option("actions.watch-the-error-rate")
            .prompt
        )
        clock.now += timedelta(minutes=1, seconds=1)
        screen.tick_clock()
        screen.tick_clock()  # once per timer, not once per second
        await pilot.pause()
        due = [n for n in notices(app) if n[0] == "Timer due"]
        assert len(due) == 1 and "Watch the error rate" in due[0][1]
        assert bells == [1]


async def test_snooze_and_escalate_name_the_incident(app: CockpitApp) -> None:
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("right_square_bracket", "z")  # #102 is acknowledged
        dialog = app.screen
        assert isinstance(dialog, InputDialog) and "#102" in str(dialog.body)
        await pilot.press("enter")  # the default 30m
        await pilot.pause()
        await pilot.press("e")
        dialog = app.screen
        assert isinstance(dialog, InputDialog) and "#102" in str(dialog.body)
        await pilot.press("backspace", "0", "enter")  # level 0 is refused
        assert isinstance(app.screen, InputDialog)
        await pilot.press("backspace", "3", "enter")
        await pilot.pause()
    with store_of(app).read() as session:
        items = {(i.action, i.incident_id): i.payload for i in session.exec(select(OutboxItem))}
        lines = [
            t.kind
            for t in session.exec(select(TimelineEvent).where(TimelineEvent.incident_id == SECOND))
        ]
    assert items[("snooze", SECOND)]["seconds"] == 1800
    assert items[("escalate", SECOND)] == {"level": 3}
    assert {"snooze", "escalate"} <= set(lines)


async def test_snooze_refused_on_a_triggered_incident(app: CockpitApp) -> None:
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("z", "enter")  # #101 is triggered
        await pilot.pause()
        assert any(
            title == "Not done" and "acknowledge it first" in message
            for title, message, _ in notices(app)
        )


async def test_page_load_meter_reads_the_metrics_and_ignores_drills(app: CockpitApp) -> None:
    from cockpit.records import LogEntryRecord
    from cockpit.store.upsert import insert_log_entries

    with store_of(app).write() as session:
        session.add(
            Incident(
                id="drill:d1",
                source="drill",
                remote_id="d1",
                title="Drill",
                status="triggered",
                created_at=NOW,
                updated_at=NOW,
                is_drill=True,
            )
        )
        session.flush()
        insert_log_entries(
            session,
            "drill",
            [LogEntryRecord("LD", "d1", "notify", NOW - timedelta(minutes=5), person_id="PME")],
        )
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        meter = app.screen.query_one(PageLoadMeter)
        assert meter.meter is not None
        assert (meter.meter.shift_incidents, meter.meter.shift_budget) == (2, 2)
        assert meter.has_class("-amber")
        shown = str(meter.render())
        assert "2/2 this shift" in shown and "at the shift budget" in shown
        assert "sleep hours" in str(meter.tooltip)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen) and "at the shift budget" in app.screen.page_load


async def test_incident_links_offer_a_choice(
    app: CockpitApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISPLAY", ":0")
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", lambda url, new=0: opened.append(url))
    copied: list[str] = []
    app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
    with store_of(app).write() as session:
        incident = session.get(Incident, "pagerduty:PINC101")
        assert incident is not None
        incident.html_url = "https://acme.pagerduty.com/incidents/PINC101"
        incident.runbook_url = "https://wiki.example.com/stampede"
        session.add(incident)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("O")
        assert isinstance(app.screen, ChoiceDialog)
        await pilot.press("down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)  # a browser can open: asks first
        await pilot.press("y")
        await settle(app, pilot)
    assert copied == ["https://acme.pagerduty.com/incidents/PINC101"]
    assert opened == ["https://acme.pagerduty.com/incidents/PINC101"]


async def test_welcome_when_no_account_is_configured(tmp_path: Path) -> None:
    from cockpit.integrations.registry import configured

    (tmp_path / "config.toml").write_text("")
    settings = load_settings(
        tmp_path / "config.toml", environ={}, flags={"data_dir": tmp_path / "data"}
    )
    assert not configured(settings)  # what `cockpit` (cli/tui_cmd.py) checks first
    app = CockpitApp(settings, None, welcome=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, WelcomeScreen)
        shown = app.screen.query_one("#welcome").query_one("Static").render()
        assert "cockpit demo" in str(shown) and "cockpit auth login pagerduty" in str(shown)
        assert "alertmanager_url" in str(shown) and "config set" not in str(shown)
        await pilot.press("q")
        await pilot.pause()
    # Every command it tells the user to type exists.
    from cockpit.cli.main import build_parser
    from cockpit.screens.welcome import welcome_text

    typed = [
        line.strip().strip("`")
        for line in welcome_text().plain.splitlines()
        if line.strip().startswith("cockpit ")
    ]
    assert typed == ["cockpit demo", "cockpit auth login pagerduty"]
    for command in typed:
        build_parser().parse_args(command.split()[1:])  # exits 2 on an unknown command
    assert app.return_code == 0
    assert not (tmp_path / "data").exists()  # the welcome never creates a store


async def test_first_sync_of_a_never_synced_store_is_history_not_news(
    seeded: tuple[object, Store], tmp_path: Path
) -> None:
    settings, store = seeded
    sync = FakeSync(store)
    sync.armed = True  # the very first sync brings an incident: the store was empty before
    app = CockpitApp(
        settings, store, sync, clock=Clock(), library=load_library([tmp_path / "runbooks"])
    )
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        assert "pagerduty:PNEW" in app.screen.query_one(IncidentSwitcher).ids()
        assert not [n for n in notices(app) if n[0].startswith("New ")]
