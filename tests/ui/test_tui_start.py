"""`cockpit` with no sub-command (cli/tui_cmd.build_app): which screen it opens, and the sync
service it builds only after the first frame, in a thread, against the real emulator."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cockpit_seed import cockpit_screen, screen_text

from cockpit.app import CockpitApp
from cockpit.cli.tui_cmd import build_app
from cockpit.config import load_settings
from cockpit.integrations.pagerduty_emulator import EmulatorHandle, start_emulator
from cockpit.screens.cockpit_screen import CockpitScreen
from cockpit.store.engine import Store
from cockpit.sync.lazy import LazySync
from cockpit.widgets.runbook_checklist import RunbookChecklist


@pytest.fixture
def emulator() -> Iterator[EmulatorHandle]:
    with start_emulator(seed=11, incidents=5, days=2) as handle:
        yield handle


def _settings(tmp_path: Path, **environ: str) -> object:
    return load_settings(
        None,
        environ=environ,
        flags={"data_dir": tmp_path / "data", "runbooks": tmp_path / "runbooks"},
    )


def test_nothing_configured_and_no_store_opens_the_welcome(tmp_path: Path) -> None:
    app, store = build_app(_settings(tmp_path))
    assert store is None and app.welcome
    assert not (tmp_path / "data" / "cockpit.db").exists()  # nothing created for a look


def test_a_store_synced_before_opens_without_asking_the_keyring(tmp_path: Path) -> None:
    from cockpit.store.timefmt import to_db_text, utcnow

    seeded = Store.open(tmp_path / "data")
    with seeded.rows() as conn:
        conn.execute(
            "INSERT INTO sync_state (key, updated_at, last_ok_at, last_error, cursor) "
            "VALUES ('pagerduty:log_entries', ?, ?, '', '{}')",
            (to_db_text(utcnow()), to_db_text(utcnow())),
        )
        conn.execute("COMMIT")
    seeded.close()
    app, store = build_app(_settings(tmp_path))  # no token anywhere: the fail keyring
    try:
        assert store is not None and not app.welcome
        assert isinstance(app.sync_service, LazySync)
    finally:
        store.close()


async def test_the_sync_service_is_built_in_a_thread_after_the_first_frame(
    emulator: EmulatorHandle, tmp_path: Path
) -> None:
    settings = _settings(
        tmp_path, COCKPIT_PAGERDUTY_URL=emulator.url, COCKPIT_PAGERDUTY_TOKEN=emulator.token
    )
    app, store = build_app(settings)
    assert store is not None and isinstance(app.sync_service, LazySync)
    built_on: list[str] = []
    build = app.sync_service._build

    def recording() -> object:
        built_on.append(threading.current_thread().name)
        return build()

    app.sync_service._build = recording  # type: ignore[assignment]
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            assert isinstance(app.screen, CockpitScreen)
            for _ in range(100):
                await app.workers.wait_for_complete()
                await pilot.pause(0.05)
                if app.sync_state == "online":
                    break
            assert app.sync_state == "online"
            assert app.screen.current_id is not None  # the emulator's incidents arrived
            await pilot.press("ctrl+r")
            await app.workers.wait_for_complete()
        assert len(built_on) == 1 and built_on[0] != threading.main_thread().name
    finally:
        store.close()


async def test_the_cockpit_is_the_first_screen_and_drawn_once(
    app: CockpitApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pushed during Textual's start-up, the cockpit's first frame was drawn inside the
    start-up batch and thrown away, then drawn again (~25 ms of a ~300 ms start). As the
    app's first screen it is drawn once, with the steps focused (they have the keys)."""
    from textual.app import App

    thrown_away: list[str] = []
    display = App._display

    def recording(self: App[None], screen: object, renderable: object) -> None:
        if renderable is not None and self._batch_count:
            thrown_away.append(type(screen).__name__)
        display(self, screen, renderable)  # type: ignore[arg-type]

    monkeypatch.setattr(App, "_display", recording)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert [type(s) for s in app.screen_stack] == [CockpitScreen]
        assert thrown_away == []
        assert app.focused is cockpit_screen(app).query_one(RunbookChecklist).steps
        assert "#101 High latency on product-api" in screen_text(app)


async def test_the_steps_get_the_focus_back_after_a_dialog_closed_while_away(
    app: CockpitApp,
) -> None:
    """The terminal lost the focus while a dialog opened (an insight after a late write,
    say): Textual then restores no focus when the dialog closes. The cockpit gives it to the
    steps again, so space still ticks."""
    from textual import events

    from cockpit.screens.help import HelpScreen

    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.post_message(events.AppBlur())
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        app.post_message(events.AppFocus())
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)
        steps = cockpit_screen(app).query_one(RunbookChecklist).steps
        assert app.focused is steps
        await pilot.press("space")
        await pilot.pause()
        assert "✓" in screen_text(app)
