"""Two cockpits open side by side (two data folders, alice's and bob's, real PostgreSQL, both
joined): what one engineer does (a baton taken, a runbook step ticked) shows on the other's
screen with no key pressed there.

Both apps run headless in this process (``App.run_test``); each has its own team link (the
exchange thread and the LISTEN thread), as the real ``cockpit`` does. The waits poll the
screen's text with a generous timeout: they say "it shows", not "it shows fast"."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from laptops import Laptop, make_laptop, make_laptops, team_events
from team_pg import PgServer

from cockpit.app import CockpitApp
from cockpit.config import load_settings
from cockpit.runbooks.library import load_library
from cockpit.store.engine import Store
from cockpit.widgets.baton import Baton
from cockpit.widgets.status_bar import StatusBar

pytestmark = pytest.mark.postgres

PATIENCE = 30.0


def screen_text(app: CockpitApp) -> str:
    """Every character the compositor would write to the terminal for the current screen
    (as tests/ui/cockpit_seed.py's, which this folder cannot import)."""
    update = app.screen._compositor.render_full_update()
    return "\n".join("".join(segment.text for segment in strip) for strip in update.strips)


async def until(check: Callable[[], bool], patience: float = PATIENCE) -> bool:
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(0.1)
    return check()


@pytest.fixture
def two(tmp_path: Path, pg_server: PgServer, team_db: str) -> list[Laptop]:
    found = [make_laptop(tmp_path, "laptop-a", "alice"), make_laptop(tmp_path, "laptop-b", "bob")]
    for laptop in found:
        laptop.run("team", "join", pg_server.url(laptop.member, team_db))
    return found


def cockpit_of(laptop: Laptop, library: list[Any] | None = None) -> tuple[CockpitApp, Store]:
    settings = load_settings(
        laptop.folder / "config.toml",
        environ={},
        flags={"data_dir": laptop.folder / "data", "user": laptop.member},
    )
    assert settings.team_url  # `cockpit team join` wrote it
    store = Store.open(laptop.folder / "data")
    return CockpitApp(settings, store, library=library or []), store


def baton_line(app: CockpitApp) -> str:
    return str(app.screen.query_one(Baton).content)


def team_words(app: CockpitApp) -> str:
    bar = app.screen.query_one(StatusBar)
    return bar.team_words(bar.now)[0]


async def test_a_baton_taken_in_a_shows_in_b_without_a_key_in_b(two: list[Laptop]) -> None:
    a, b = two
    app_a, store_a = cockpit_of(a)
    app_b, store_b = cockpit_of(b)
    try:
        async with app_a.run_test(size=(120, 40)) as pilot_a, app_b.run_test(size=(120, 40)):
            for app in (app_a, app_b):
                assert await until(lambda app=app: team_words(app) == "team ✓"), team_words(app)
            # Both show the same incident, and nobody holds its baton yet.
            assert app_a.screen.current_id == app_b.screen.current_id  # type: ignore[attr-defined]
            assert "nobody holds it" in baton_line(app_b)
            await pilot_a.press("t")
            assert "baton you" in screen_text(app_a)
            assert await until(lambda: "baton alice" in screen_text(app_b)), screen_text(app_b)
            assert "nobody holds it" not in baton_line(app_b)
            assert team_words(app_b) == "team ✓"
    finally:
        store_a.close()
        store_b.close()


async def test_offline_the_bar_counts_what_waits_and_it_goes_up_once_back(
    two: list[Laptop], pg_server: PgServer, team_db: str
) -> None:
    a, _b = two
    app, store = cockpit_of(a)
    pg_server.stop()
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            try:
                assert await until(lambda: team_words(app).startswith("team offline")), team_words(
                    app
                )
                await pilot.press("t")
                # Take = an offer accepted at once: two events wait, counted on the bar.
                assert await until(lambda: team_words(app) == "team offline, 2 waiting"), (
                    team_words(app)
                )
                assert "team offline, 2 waiting" in screen_text(app)
            finally:
                pg_server.start()
            assert await until(lambda: team_words(app) == "team ✓", 90), team_words(app)
        assert [kind for kind, _, _ in team_events(pg_server, team_db)] == [
            "baton_offer",
            "baton_accept",
        ]
    finally:
        store.close()


async def test_a_baton_race_lost_is_a_toast(
    tmp_path: Path, pg_server: PgServer, team_db: str
) -> None:
    a, b, c = make_laptops(tmp_path, pg_server, team_db)
    a.run("pass", "P1", "local:bob", "-m", "yours")
    a.run("team", "sync")
    b.run("team", "sync")
    c.run("team", "sync")
    b.run("accept", "P1", "--as", "local:bob")
    c.run("accept", "P1", "--as", "local:bob")
    b.run("team", "sync")  # bob's laptop wins
    app, store = cockpit_of(c)
    try:
        async with app.run_test(size=(120, 40)):
            # C's first exchange pushes its acceptance, which the team store refuses.
            assert await until(lambda: bool(lost(app))), list(app.notices)
            assert "accepted first by bob on laptop-b" in lost(app)[0]
            assert team_words(app) == "team ✓"
    finally:
        store.close()


def lost(app: CockpitApp) -> list[str]:
    return [n.message for n in app.notices if n.title == "Lost the race"]


PSYCOPG_AFTER_A_KEY = """
import asyncio, sys, time
from pathlib import Path
from typing import Any
from cockpit.app import CockpitApp
from cockpit.config import load_settings
from cockpit.runbooks.library import load_library
from cockpit.store.engine import Store

folder, url = Path(sys.argv[1]), sys.argv[2]
settings = load_settings(None, environ={}, flags={"data_dir": folder, "team_url": url or None})
store = Store.open(folder)

async def main() -> None:
    app = CockpitApp(settings, store, library=[])
    async with app.run_test() as pilot:
        await pilot.press("t")
        deadline = time.monotonic() + (20 if url else 2)
        while "psycopg" not in sys.modules and time.monotonic() < deadline:
            await asyncio.sleep(0.1)

asyncio.run(main())
print("psycopg" in sys.modules, "cockpit.team.live" in sys.modules)
"""


@pytest.mark.parametrize("team", [False, True])
def test_without_team_mode_the_tui_imports_nothing_of_it(
    tmp_path: Path, pg_server: PgServer, team_db: str, team: bool
) -> None:
    laptop = make_laptop(tmp_path, "laptop-a", "alice")
    url = pg_server.url("alice", team_db) if team else ""
    result = subprocess.run(
        [sys.executable, "-c", PSYCOPG_AFTER_A_KEY, str(laptop.folder / "data"), url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ([str(team)] * 2)


RUNBOOK = """---
id: payments-incident
title: Payments incident
services: [payments]
match:
  title: "(?i)incident"
---
# Payments incident

## Checks
- [ ] Open the payments dashboard
- [ ] Check the queue depth
"""


async def test_a_tick_in_a_shows_in_b_runbook_panel(two: list[Laptop], tmp_path: Path) -> None:
    folder = tmp_path / "runbooks"
    folder.mkdir()
    (folder / "payments.md").write_text(RUNBOOK)
    a, b = two
    app_a, store_a = cockpit_of(a, load_library([folder]))
    app_b, store_b = cockpit_of(b, load_library([folder]))
    try:
        async with app_a.run_test(size=(160, 48)) as pilot_a, app_b.run_test(size=(160, 48)):
            for app in (app_a, app_b):
                assert await until(lambda app=app: team_words(app) == "team ✓"), team_words(app)
            assert "Open the payments dashboard" in screen_text(app_b)
            assert "— alice" not in screen_text(app_b)
            await pilot_a.press("space")  # ticks the highlighted (first) step
            assert await until(lambda: "— alice" in screen_text(app_b)), screen_text(app_b)
            assert "not started" not in screen_text(app_b)
    finally:
        store_a.close()
        store_b.close()
