"""Issue 16: the live incident screen tells the truth and the runbook panel works mid-incident.

1. Rollback (`r`) moves the cursor to Rollback's first step and keeps it there; `cockpit
   show` says the run is rolling back.
2. Ticking a step whose timer still runs asks first.
4. The footer shows the keys that act on what is focused (and dialogs their own).
5. A filter with no match says what it hides; "syncing…" until the first sync ends.
6. Only an incident new to the store is announced (cycling the filter announces nothing).
8. The status bar shows the real age of the last good sync and the real state.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cockpit_seed import HERE, NOW, Clock, cockpit_screen, notices, screen_text, seed

from cockpit.app import CockpitApp
from cockpit.config import load_settings
from cockpit.drills import PracticeProvider
from cockpit.runbooks.library import load_library
from cockpit.screens.confirm import ConfirmDialog
from cockpit.screens.help import HelpScreen
from cockpit.screens.input_dialog import InputDialog
from cockpit.store.engine import Store
from cockpit.store.models import Incident, SyncState
from cockpit.sync.service import SyncReport
from cockpit.widgets.footer import KeyFooter
from cockpit.widgets.incident_panel import IncidentPanel
from cockpit.widgets.incident_switcher import IncidentSwitcher
from cockpit.widgets.runbook_checklist import RunbookChecklist
from cockpit.widgets.status_bar import StatusBar

# The test runbook with a Rollback of two steps (the shipped one has one).
TWO_STEP_ROLLBACK = (
    (HERE / "cache_stampede.md")
    .read_text()
    .replace(
        "## Rollback\n1. [ ] `flagctl disable product.swr --env prod`\n",
        "## Rollback\n1. [ ] `flagctl disable product.swr --env prod`\n"
        "2. [ ] Tell the storefront lead it is rolled back\n",
    )
)
ROLLBACK_1 = "rollback.flagctl-disable-product-swr-env-prod"
ROLLBACK_2 = "rollback.tell-the-storefront-lead-it-is-rolled-back"
TIMER_STEP = "actions.watch-the-error-rate"


async def settle(app: CockpitApp, pilot: Any) -> None:
    for _ in range(3):
        await pilot.pause()
        await app.workers.wait_for_complete()


def checklist(app: CockpitApp) -> RunbookChecklist:
    return app.screen.query_one(RunbookChecklist)


def footer(app: CockpitApp) -> dict[str, str]:
    """Key display -> description of what the current screen's footer shows."""
    bar = app.screen.query_one(KeyFooter)
    return {app.get_key_display(b): b.description for b, _, _ in bar.shown_keys()}


class FakeSync:
    """A sync service: ``gate`` holds a sync until set; ``online`` decides how it ends; a
    good sync records its time, as the real pull does."""

    providers: dict[str, Any] = {}

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store, self.clock = store, clock
        self.gate: asyncio.Event | None = None
        self.online = True
        self.arrive: list[Incident] = []

    async def sync_once(self, progress: Any = None) -> SyncReport:
        if self.gate is not None:
            await self.gate.wait()
        if not self.online:
            return SyncReport(online=False, errors=["connection refused"])
        with self.store.write() as session:
            for incident in self.arrive:
                session.add(incident)
            self.arrive = []
            row = session.get(SyncState, "pagerduty:log_entries") or SyncState(
                key="pagerduty:log_entries"
            )
            row.updated_at = row.last_ok_at = self.clock()
            session.add(row)
        return SyncReport(online=True)


@pytest.fixture
def rollback_app(tmp_path: Path) -> Iterator[CockpitApp]:
    settings, store = seed(tmp_path)
    (tmp_path / "runbooks" / "cache_stampede.md").write_text(TWO_STEP_ROLLBACK)
    yield CockpitApp(settings, store, clock=Clock(), library=load_library([tmp_path / "runbooks"]))
    store.close()


# ---------------------------------------------------------------- 1. rollback


async def test_rollback_moves_the_cursor_into_rollback_and_keeps_it_there(
    rollback_app: CockpitApp, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = rollback_app
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("space", "r")  # one check done, then Rollback by hand
        assert isinstance(app.screen, InputDialog)
        await pilot.press(*"p95 still rising", "enter")
        await pilot.pause()
        view = checklist(app).view
        assert view is not None and view.path == "rollback"
        assert view.current == ROLLBACK_1 and checklist(app).highlighted == ROLLBACK_1
        assert "⟲ ROLLING BACK" in screen_text(app)
        await pilot.press("space")  # ticks Rollback's first step, not a main-path check
        await pilot.pause()
        view = checklist(app).view
        assert view is not None and view.status.get(ROLLBACK_1) == "done"
        assert "checks.cache-hit-ratio-dropped-redis-cli-h-host-info" not in view.status
        # The cursor goes on to Rollback's next step, never back to the main path.
        assert view.current == ROLLBACK_2 and checklist(app).highlighted == ROLLBACK_2
        assert "r" not in footer(app)  # already rolling back
    from cockpit.cli.main import main

    code = main(
        [
            "--data-dir",
            str(tmp_path / "data"),
            "--runbooks",
            str(tmp_path / "runbooks"),
            "show",
            "PINC101",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    line = next(line for line in out.splitlines() if line.startswith("  run "))
    assert "ROLLING BACK since" in line and "(p95 still rising)" in line
    assert "1/2 rollback steps done" in line
    assert "next: Tell the storefront lead it is rolled back" in line
    assert (
        main(
            [
                "--data-dir",
                str(tmp_path / "data"),
                "--runbooks",
                str(tmp_path / "runbooks"),
                "show",
                "PINC101",
                "--json",
            ]
        )
        == 0
    )
    run = json.loads(capsys.readouterr().out)["run"]
    assert (run["runbook"], run["phase"], run["rolling_back"]) == (
        "product-cache-stampede",
        "rollback",
        True,
    )
    assert (run["done"], run["total"], run["reason"]) == (1, 2, "p95 still rising")


# ---------------------------------------------------------------- 2. timers


async def test_ticking_a_step_whose_timer_runs_asks_first(rollback_app: CockpitApp) -> None:
    app = rollback_app
    clock = app.clock
    assert isinstance(clock, Clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("space", "space", "space", "y")  # two checks, the risky step
        await pilot.pause()
        assert checklist(app).highlighted == TIMER_STEP
        assert footer(app).get("w") == "Timer"
        await pilot.press("space")  # starts the 5 m timer
        await pilot.pause()
        assert "w" not in footer(app)  # started: w no longer applies
        clock.now += timedelta(seconds=64)
        await pilot.press("space")  # a second press while it runs: asks, naming what is left
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        assert "still running: 3:56 left of 5m" in str(dialog.body)
        await pilot.press("n")  # no: nothing is ticked
        await pilot.pause()
        view = checklist(app).view
        assert view is not None and TIMER_STEP not in view.status
        clock.now += timedelta(minutes=4)  # due now: space ticks without asking
        await pilot.press("space")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmDialog)
        view = checklist(app).view
        assert view is not None and view.status.get(TIMER_STEP) == "done"


# ---------------------------------------------------------------- 4. the footer


async def test_the_footer_shows_the_keys_that_act_on_what_is_focused(
    rollback_app: CockpitApp,
) -> None:
    app = rollback_app
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        keys = footer(app)
        # The first check has no command: no Copy or Run; the incident is triggered and
        # mine: Ack, not Take.
        assert "c" not in keys and "x" not in keys
        assert {"space", "s", "f", "a", "R", "n", "?", "H", "D"} <= set(keys)
        assert "t" not in keys
        await pilot.press("down")  # the redis check has a command
        await pilot.pause()
        keys = footer(app)
        assert keys.get("c") == "Copy" and keys.get("x") == "Run"
        await pilot.press("a")  # acknowledged: no more Ack
        await pilot.pause()
        assert "a" not in footer(app)
        await pilot.press("n")  # a dialog shows its own keys, none of the screen's
        await pilot.pause()
        keys = footer(app)
        assert keys == {"^s": "Save note", "esc": "Cancel"}
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert footer(app) == {"esc": "Close"}
        assert "escape, q or ? closes this help" in screen_text(app)


async def test_the_footer_fits_and_keeps_help_at_80_columns(rollback_app: CockpitApp) -> None:
    app = rollback_app
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        keys = footer(app)
        assert "?" in keys and "space" in keys
        shown = screen_text(app).splitlines()[-1]
        assert "? Help" in shown


# ---------------------------------------------------------------- 5. saying what is hidden


async def test_a_filter_with_no_match_says_what_it_hides(tmp_path: Path) -> None:
    settings, store = seed(tmp_path)
    (tmp_path / "config.toml").write_text('[filters.search]\nservice = "search"\n')
    settings = load_settings(
        tmp_path / "config.toml",
        environ={},
        flags={"data_dir": tmp_path / "data", "runbooks": tmp_path / "runbooks"},
    )
    app = CockpitApp(settings, store, clock=Clock(), library=load_library([tmp_path / "runbooks"]))
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            for _ in range(3):  # all -> high urgency -> mine -> search
                await pilot.press("slash")
            await pilot.pause()
            said = "no incident matches 'search'; 3 open: / to change"
            panel = app.screen.query_one(IncidentPanel)
            assert said in str(panel.render())
            assert said in screen_text(app)
            assert "All quiet" not in screen_text(app)
            assert app.screen.query_one(IncidentSwitcher).border_title == "Incidents · search"
            await pilot.press("slash")  # back to all
            await pilot.pause()
            assert "#101 High latency" in screen_text(app)
    finally:
        store.close()


async def test_syncing_until_the_first_sync_ends(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "data")
    settings = load_settings(
        None, environ={}, flags={"data_dir": tmp_path / "data", "runbooks": tmp_path / "runbooks"}
    )
    clock = Clock()
    sync = FakeSync(store, clock)
    sync.gate = asyncio.Event()
    app = CockpitApp(settings, store, sync, clock=clock, library=[])
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            await pilot.pause()
            panel = app.screen.query_one(IncidentPanel)
            assert "syncing…" in str(panel.render())
            assert "All quiet" not in screen_text(app)
            sync.gate.set()
            await settle(app, pilot)
            assert "No open incident. All quiet." in str(panel.render())
    finally:
        store.close()


# ---------------------------------------------------------------- 6. only news is announced


async def test_only_an_incident_new_to_the_store_is_announced(
    seeded: tuple[object, Store], tmp_path: Path
) -> None:
    settings, store = seeded
    clock = Clock()
    sync = FakeSync(store, clock)
    app = CockpitApp(
        settings, store, sync, clock=clock, library=load_library([tmp_path / "runbooks"])
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)

        def announced() -> list[str]:
            return [n[1] for n in notices(app) if n[0].startswith("New ")]

        for _ in range(4):  # every filter, and back to all: #102 and #103 come back
            await pilot.press("slash")
            await pilot.pause()
        assert announced() == []
        with store.write() as session:  # an old incident that changes is no news either
            old = session.get(Incident, "pagerduty:PINC103")
            assert old is not None
            old.status, old.urgency = "triggered", "high"
            session.add(old)
        sync.arrive = [
            Incident(
                id="pagerduty:PNEW",
                source="pagerduty",
                remote_id="PNEW",
                number=200,
                title="Checkout down in eu-west",
                status="triggered",
                urgency="high",
                created_at=NOW,
                updated_at=NOW,
            )
        ]
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        assert len(announced()) == 1 and "#200" in announced()[0]
        for _ in range(4):
            await pilot.press("slash")
            await pilot.pause()
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        assert len(announced()) == 1


# ---------------------------------------------------------------- 8. the status bar


async def test_the_status_bar_shows_the_real_age_of_the_last_good_sync(
    seeded: tuple[object, Store], tmp_path: Path
) -> None:
    settings, store = seeded
    clock = Clock()
    sync = FakeSync(store, clock)
    app = CockpitApp(
        settings, store, sync, clock=clock, library=load_library([tmp_path / "runbooks"])
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        bar = app.screen.query_one(StatusBar)
        assert bar.render().plain.startswith("● online")
        assert "last good sync under 1m ago" in bar.render().plain
        sync.online = False
        for minute in range(1, 8):
            clock.now += timedelta(minutes=1)
            app.start_sync()
            await settle(app, pilot)
            cockpit_screen(app).tick_clock()
            shown = bar.render().plain
            assert shown.startswith("○ offline")
            assert f"last good sync {minute}m ago" in shown
            assert "connection refused" not in shown or shown.index(
                "connection refused"
            ) > shown.index("last good sync")
        sync.online = True
        clock.now += timedelta(minutes=1)
        app.start_sync()
        await settle(app, pilot)
        assert "● online" in bar.render().plain
        assert "last good sync under 1m ago" in bar.render().plain


async def test_a_drill_without_a_paging_service_is_not_online(
    seeded: tuple[object, Store], tmp_path: Path
) -> None:
    from cockpit.sync.service import SyncService

    settings, store = seeded
    service = SyncService(store, {"practice": PracticeProvider("alex")})
    app = CockpitApp(
        settings, store, service, clock=Clock(), library=load_library([tmp_path / "runbooks"])
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        shown = app.screen.query_one(StatusBar).render().plain
        assert "online" not in shown and "last good sync" not in shown
        assert shown.startswith("◇ practice: no paging service")


async def test_a_store_without_a_paging_service_says_so(app: CockpitApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        shown = app.screen.query_one(StatusBar).render().plain
        assert shown.startswith("○ no paging service") and "online" not in shown


# ---------------------------------------------------------------- 3. layout


async def test_the_runbook_gets_the_room_and_commands_stay_whole(
    rollback_app: CockpitApp,
) -> None:
    app = rollback_app
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert checklist(app).size.width >= 80  # of 120 columns
        shown = screen_text(app)
        assert "    $ redis-cli -h {{host}} info stats" in shown
        assert "why: matches service product-api, its title and high urgency" in shown
        meter = shown.splitlines()[-4]
        assert "page load" in meter and "week 2/2" in meter and not meter.rstrip().endswith("…")


async def test_a_command_longer_than_the_pane_scrolls_instead_of_breaking(
    tmp_path: Path,
) -> None:
    long = (
        "kubectl -n storefront rollout restart deployment/product-api-canary-eu-west-1 "
        "--context prod-eu-west-1-cluster --wait=true"
    )
    settings, store = seed(tmp_path)
    text = (
        (HERE / "cache_stampede.md")
        .read_text()
        .replace(
            "- [ ] Open the latency dashboard\n",
            f"- [ ] Restart the canary\n  ```sh\n  {long}\n  ```\n",
        )
    )
    (tmp_path / "runbooks" / "cache_stampede.md").write_text(text)
    app = CockpitApp(settings, store, clock=Clock(), library=load_library([tmp_path / "runbooks"]))
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            steps = checklist(app).steps
            await pilot.pause()
            assert steps.virtual_size.width > steps.scrollable_content_region.width
            shown = screen_text(app)
            assert "$ kubectl -n storefront rollout restart deployment/product-api" in shown
            assert "--context prod" not in shown  # not wrapped onto a second line
            await pilot.press(*["right"] * 60)
            await pilot.pause()
            assert steps.scroll_x > 0
            assert "--wait=true" in screen_text(app)
    finally:
        store.close()


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_similar_titles_stay_apart_and_hidden_incidents_are_counted(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    settings, store = seed(tmp_path)
    with store.write() as session:
        for number, host in ((198, "payments-db-2"), (199, "payments-db-4")):
            session.add(
                Incident(
                    id=f"pagerduty:P{number}",
                    source="pagerduty",
                    remote_id=f"P{number}",
                    number=number,
                    title=f"Disk usage above 90% on {host}",
                    status="triggered",
                    urgency="high",
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
    app = CockpitApp(settings, store, clock=Clock(), library=load_library([tmp_path / "runbooks"]))
    try:
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            rows = screen_text(app)
            switcher = app.screen.query_one(IncidentSwitcher)
            if size == (120, 40):
                # 26 cells for a title: the ends that differ are what the rows keep
                assert "…payments-db-2" in rows and "…payments-db-4" in rows
                assert not switcher.border_subtitle
            else:
                # five open incidents, four rows: the border says one more is there
                assert switcher.border_subtitle == "+1 more open (i, ↑↓)"
                assert "+1 more open" in rows
    finally:
        store.close()


def test_distinct_titles_keep_the_part_that_differs() -> None:
    from cockpit.widgets.incident_switcher import distinct_titles

    long = (
        "Disk usage above 90% on payments-db-2 (/var/lib/postgresql, 93.4%, growing "
        "1.2 GB/h since the 02:00 vacuum)"
    )
    titles = [
        "Disk usage above 90% on payments-db-2",
        "Disk usage above 90% on payments-db-4",
        "High latency on product-api",
        "High latency on product-api /product (p95 1.4 s)",
        long,
        long.replace("db-2", "db-4"),
        "Checkout 5xx above 1%",
    ]
    shown = distinct_titles(titles, [21, 17, 21, 21, 17, 17, 21])
    assert shown[0] == "Disk us…payments-db-2" and shown[1].endswith("db-4")
    assert shown[2] == "High late…product-api" and "(p95" in shown[3]
    assert "db-2" in shown[4] and "db-4" in shown[5]  # the difference is mid-title
    assert shown[6] == "Checkout 5xx above 1%"  # fits: as it is
    assert all(len(s) <= room for s, room in zip(shown, [21, 17, 21, 21, 17, 17, 21], strict=True))


def test_distinct_titles_agree_with_comparing_every_pair() -> None:
    """The neighbour walk finds what comparing each title with every other found."""
    import random

    from cockpit.widgets import incident_switcher
    from cockpit.widgets.incident_switcher import distinct_titles

    def least_alike_of_all(titles: list[str], index: int, least: int) -> int | None:
        title = titles[index]
        alike = [
            shared
            for n, other in enumerate(titles)
            if n != index
            and other != title
            and (shared := incident_switcher._common(title, other)) >= least
        ]
        return min(alike) if alike else None

    rng = random.Random(7)
    words = ["disk", "usage", "above", "90%", "on", "db-2", "db-4", "payments", "é", "漢", ""]
    for _ in range(300):
        titles = [
            " ".join(rng.choice(words) for _ in range(rng.randint(1, 12)))
            for _ in range(rng.randint(1, 25))
        ]
        titles += rng.sample(titles, k=min(3, len(titles)))  # some exactly alike
        rooms = [rng.randint(8, 40) for _ in titles]
        order = sorted(range(len(titles)), key=titles.__getitem__)
        ordered = [titles[n] for n in order]
        shares = [
            incident_switcher._common(a, b) for a, b in zip(ordered, ordered[1:], strict=False)
        ]
        for index in range(len(titles)):
            at = order.index(index)
            assert incident_switcher._least_alike(
                ordered, shares, at, rooms[index] - 2
            ) == least_alike_of_all(titles, index, rooms[index] - 2)
        assert len(distinct_titles(titles, rooms)) == len(titles)
