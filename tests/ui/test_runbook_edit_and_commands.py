"""A runbook edited mid-run, step links, skip reasons, and running a step's command."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cockpit_seed import NOW, cockpit_screen, frozen, notices, screen_text, store_of
from sqlmodel import select

from cockpit.app import CockpitApp
from cockpit.runbooks.library import load_library
from cockpit.screens.choice_dialog import ChoiceDialog
from cockpit.screens.confirm import ConfirmDialog
from cockpit.screens.input_dialog import InputDialog
from cockpit.store.engine import Store
from cockpit.store.models import Incident, StepEvent, TimelineEvent
from cockpit.widgets.runbook_checklist import RunbookChecklist

ECHO = """\
---
id: echo-check
title: Echo check
match:
  title: "(?i)latency"
---
## Checks
- [ ] Say the word `echo {{word}}`
- [ ] Read the [echo wiki](https://wiki.example.com/echo) and https://status.example.com/
"""


def checklist(app: CockpitApp) -> RunbookChecklist:
    return app.screen.query_one(RunbookChecklist)


async def test_runbook_edited_mid_run_keeps_progress_and_says_what_changed(
    app: CockpitApp, tmp_path: Path
) -> None:
    path = tmp_path / "runbooks" / "cache_stampede.md"
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("space", "space")
        await pilot.pause()
        text = path.read_text()
        path.write_text(
            text.replace(
                "- [ ] Open the latency dashboard\n",
                "- [ ] Open the latency dashboards\n",
            ).replace(
                "info stats`\n",
                "info stats`\n- [ ] Check the CDN error rate\n",
            )
        )
        later = path.stat().st_mtime + 10
        os.utime(path, (later, later))
        app.screen.reload()  # type: ignore[attr-defined]  # what a sync does
        await pilot.pause()
        view = checklist(app).view
        assert view is not None
        assert view.changes == ("1 step added", "1 renamed")
        assert view.status["checks.open-the-latency-dashboards"] == "done"
        assert view.status["checks.cache-hit-ratio-dropped-redis-cli-h-host-info"] == "done"
        assert view.current == "checks.check-the-cdn-error-rate"
        assert "runbook changed: 1 step added, 1 renamed" in screen_text(app)
        app.screen.reload()  # type: ignore[attr-defined]  # recorded once, not per refresh
        await pilot.pause()
    with store_of(app).read() as session:
        changed = session.exec(select(StepEvent).where(StepEvent.kind == "runbook_changed")).one()
        line = session.exec(
            select(TimelineEvent).where(TimelineEvent.summary.startswith("runbook changed"))
        ).one()  # type: ignore[attr-defined]
    assert changed.details["added"] == ["checks.check-the-cdn-error-rate"]
    assert changed.details["renamed"] == [
        ["checks.open-the-latency-dashboard", "checks.open-the-latency-dashboards"]
    ]
    assert "1 step added, 1 renamed" in line.summary


async def test_skip_needs_a_reason(app: CockpitApp) -> None:
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("s")
        assert isinstance(app.screen, InputDialog)
        await pilot.press("enter")
        assert isinstance(app.screen, InputDialog)  # refused: no reason
        await pilot.press(*"no grafana access", "enter")
        await pilot.pause()
        view = checklist(app).view
        assert view is not None and view.status["checks.open-the-latency-dashboard"] == "skipped"
    with store_of(app).read() as session:
        event = session.exec(select(StepEvent).where(StepEvent.kind == "skipped")).one()
    assert event.reason == "no grafana access"


@pytest.fixture
def echo_app(seeded: tuple[object, Store], tmp_path: Path) -> CockpitApp:
    settings, _store = seeded
    folder = tmp_path / "echo"
    folder.mkdir()
    (folder / "echo.md").write_text(ECHO)
    return CockpitApp(settings, _store, clock=frozen, library=load_library([folder]))


async def test_run_command_asks_with_parameters_filled_and_keeps_output(
    echo_app: CockpitApp,
) -> None:
    app = echo_app
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("x")
        assert isinstance(app.screen, InputDialog)  # the parameter first
        await pilot.press(*"ok", "enter")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        body = str(dialog.body)
        assert "echo ok" in body and "{{word}}" not in body
        assert "#101" in body and "timeout" in body
        await pilot.press("y")
        for _ in range(3):
            await app.workers.wait_for_complete()
            await pilot.pause()
        assert "ok" in screen_text(app)
    with store_of(app).read() as session:
        event = session.exec(select(StepEvent).where(StepEvent.kind == "command_run")).one()
        line = session.exec(select(TimelineEvent).where(TimelineEvent.kind == "command")).one()
    assert event.details["command"] == "echo ok" and event.details["exit_code"] == 0
    assert event.details["output"] == "ok\n"
    assert line.summary == "$ echo ok\nexit 0\nok"


async def test_a_secret_in_command_output_never_reaches_the_store(
    echo_app: CockpitApp,
) -> None:
    app = echo_app
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("x")
        await pilot.press(*"DB_PASSWORD=hunter2hunter2", "enter")
        await pilot.pause()
        await pilot.press("y")
        for _ in range(3):
            await app.workers.wait_for_complete()
            await pilot.pause()
        # The timeline line (the narrow timeline column may wrap it after "$ echo").
        assert "DB_PASSWORD=«redacted»" in screen_text(app)
    assert app.store is not None
    with app.store.rows() as conn:
        dump = "\n".join(
            str(row)
            for table in ("step_events", "timeline_events")
            for row in conn.execute(f"SELECT * FROM {table}")
        )
    assert "DB_PASSWORD=" in dump and "«redacted»" in dump
    assert "hunter2hunter2" not in dump


async def test_command_is_never_run_in_a_drill(echo_app: CockpitApp) -> None:
    app = echo_app
    with store_of(app).write() as session:
        session.add(
            Incident(
                id="drill:d1",
                source="drill",
                remote_id="d1",
                title="Latency drill",
                status="triggered",
                urgency="high",
                created_at=NOW,
                updated_at=NOW,
                is_drill=True,
            )
        )
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        cockpit_screen(app).go_to_incident("drill:d1")
        await pilot.pause()
        await pilot.press("x", *"ok", "enter")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmDialog)
        assert any("never run in a drill" in message for _, message, _ in notices(app))
    with store_of(app).read() as session:
        assert not session.exec(select(StepEvent).where(StepEvent.kind == "command_run")).all()


async def test_step_link_is_copied_and_shown_with_its_url(
    echo_app: CockpitApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    app = echo_app
    copied: list[str] = []
    app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        shown = screen_text(app)
        # The link text in the step, each URL whole on a line of its own under it.
        assert "○ Read the echo wiki and ‹link›" in shown
        assert "    ‹https://wiki.example.com/echo›" in shown
        assert "    ‹https://status.example.com/›" in shown
        assert "[echo wiki](" not in shown
        await pilot.press("down", "o")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceDialog)  # two links in the step: which one?
        assert [key for key, _ in app.screen.choices] == [
            "https://wiki.example.com/echo",
            "https://status.example.com/",
        ]
        await pilot.press("down", "enter")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmDialog)  # no browser here: copy only
        assert any("No browser here" in message for _, message, _ in notices(app))
    assert copied == ["https://status.example.com/"]


async def test_command_shown_once_when_it_is_the_inline_code(echo_app: CockpitApp) -> None:
    app = echo_app
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert screen_text(app).count("echo {{word}}") == 1
