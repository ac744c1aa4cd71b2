"""Nothing from outside acts on the terminal: server errors, titles and runbook text holding
OSC 52 (clipboard), OSC 0 (window title), CSI 2J (clear), C1 controls and bidi overrides
reach the screen as visible symbols, through every route: the sync toast, the offline
toast, a crashed sync, any notification, the incident panel, dialogs, titles, the status bar
and the crash report. A 1 MB title is shown cut.

The assertions are on the bytes Textual hands its driver: ``TerminalCapture`` is the headless
driver that reports itself as not headless, so the app writes every frame to it exactly as
it would to a terminal (``App.driver_class``, then ``App.run_test(headless=False)``).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cockpit_seed import frozen, notices, screen_text, seed
from rich.console import Console
from rich.text import Text
from textual.app import App
from textual.drivers.headless_driver import HeadlessDriver
from textual.widgets import Static

from cockpit.app import CockpitApp
from cockpit.integrations.base import ProviderError
from cockpit.integrations.pagerduty import PagerDutyProvider
from cockpit.runbooks.library import load_library
from cockpit.screens.choice_dialog import ChoiceDialog
from cockpit.screens.confirm import ConfirmDialog
from cockpit.screens.input_dialog import InputDialog
from cockpit.screens.messages import SyncProgress, SyncStarted
from cockpit.store.engine import Store
from cockpit.store.models import Incident
from cockpit.sync import actions
from cockpit.sync.service import SyncReport, SyncService
from cockpit.widgets.incident_panel import IncidentPanel
from cockpit.widgets.incident_switcher import IncidentSwitcher
from cockpit.widgets.status_bar import StatusBar

CLIPBOARD = "\x1b]52;c;ZWNobyBwd25lZA==\x07"  # OSC 52: the clipboard becomes "echo pwned"
HOSTILE = (
    f"Invalid Input {CLIPBOARD} \x1b]0;PWNED-TITLE\x07 \x1b[2J \x9b2J "
    "\x9d0;C1-TITLE\x9c \u202eevil\u202c"
)
# None of these may reach the terminal: each would act on it.
FORBIDDEN = (
    "\x1b]52;c;ZWNobyBwd25lZA==",
    "\x1b]0;",
    "\x1b[2J",
    "\x9b",
    "\x9d",
    "\x9c",
    "\u202e",
    "\u202c",
)
# What the reader sees instead.
SHOWN = (
    "\u241b]52;c;ZWNobyBwd25lZA==",
    "\u241b]0;PWNED-TITLE",
    "\u241b[2J",
    "\u27e6U+009B\u27e72J",
    "\u27e6U+202E\u27e7evil",
)


class TerminalCapture(HeadlessDriver):
    """The headless driver, but not headless: the app writes every frame to it, and it
    keeps the text, which is exactly what a terminal would receive."""

    def __init__(self, app: App[Any], **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.written: list[str] = []
        app.terminal = self.written  # type: ignore[attr-defined]

    @property
    def is_headless(self) -> bool:
        return False

    def write(self, data: str) -> None:
        self.written.append(data)


def captured(app: CockpitApp) -> CockpitApp:
    app.driver_class = TerminalCapture
    return app


def written(app: CockpitApp) -> str:
    return "".join(app.terminal)  # type: ignore[attr-defined]


# Textual's own sequence that is not CSI: the mouse pointer's shape (kitty's OSC 22).
POINTER = re.compile(r"\x1b\]22;[a-z-]+\x07")


def assert_inert(out: str, shown: tuple[str, ...] = SHOWN, bell: bool = False) -> None:
    """No hostile sequence in ``out``; Textual's own escapes are CSI (``ESC [``) and the
    pointer shape; the visible replacements are there."""
    for sequence in FORBIDDEN:
        assert sequence not in out, f"{sequence!r} reached the terminal"
    out = POINTER.sub("", out)
    assert set(re.findall(r"\x1b(.)", out)) <= {"["}, "an escape other than CSI was written"
    assert not re.search(r"[\x80-\x9f]", out), "a C1 control was written"
    if not bell:
        assert "\x07" not in out
    # Colours and cursor moves can fall inside a word: read the text without them.
    text_only = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out)
    for text in shown:
        assert text in text_only, f"{text!r} is not on the screen"


async def settle(app: CockpitApp, pilot: Any) -> None:
    for _ in range(3):
        await pilot.pause()
        await app.workers.wait_for_complete()
    await pilot.pause()


def answering(status: int) -> httpx.MockTransport:
    """PagerDuty answering every request with ``status`` and HOSTILE as its error text."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            status, json={"error": {"message": HOSTILE, "code": 2001, "errors": [HOSTILE]}}
        )

    return httpx.MockTransport(handler)


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[tuple[Any, Store]]:
    settings, store = seed(tmp_path)
    yield settings, store
    store.close()


def app_with(seeded: tuple[Any, Store], tmp_path: Path, sync: Any = None) -> CockpitApp:
    settings, store = seeded
    return captured(
        CockpitApp(
            settings, store, sync, clock=frozen, library=load_library([tmp_path / "runbooks"])
        )
    )


# ---------------------------------------------------------------------------- toasts


async def test_a_server_error_in_a_sync_reaches_toast_and_panel_inert(
    seeded: tuple[Any, Store], tmp_path: Path
) -> None:
    """The real adapter and SyncService: a queued acknowledge is refused with a 400 whose
    message is hostile. The "Sync problems" toast and the panel's failed-write line show it."""
    settings, store = seeded
    actions.acknowledge(store, "pagerduty:PINC101", user="")
    provider = PagerDutyProvider(
        "https://api.pagerduty.com",
        "token",
        from_email="me@example.com",
        transport=answering(400),
        max_retries=0,
    )
    app = app_with(seeded, tmp_path, SyncService(store, {"pagerduty": provider}))
    async with app.run_test(size=(200, 50), headless=False, notifications=True) as pilot:
        await settle(app, pilot)
        shown = notices(app)
        panel = screen_text(app)
    assert any(title == "Sync problems" for title, _, _ in shown)
    for title, message, _ in shown:
        assert not any(s in message + title for s in FORBIDDEN)
    assert "NOT acknowledged at PagerDuty" in panel and "\x1b" not in panel  # the failed write
    assert_inert(written(app))


class Reporting:
    """A sync service whose every sync reports ``report``."""

    def __init__(self, report: SyncReport) -> None:
        self.report = report

    async def sync_once(self, progress: Any = None) -> SyncReport:
        return self.report


async def test_every_toast_of_a_sync_report_is_inert(
    seeded: tuple[Any, Store], tmp_path: Path
) -> None:
    """Offline, a write that did more than asked, reconciled, writes paused: each toast quotes
    what the provider said (an adapter that quotes the server: a proxy can write anything)."""
    report = SyncReport(
        online=False,
        errors=[HOSTILE],
        alerts=[f"alert {HOSTILE}"],
        reconciled=[f"reconciled {HOSTILE}"],
        paused=[f"paused {HOSTILE}"],
    )
    app = app_with(seeded, tmp_path, Reporting(report))
    async with app.run_test(size=(200, 50), headless=False, notifications=True) as pilot:
        await settle(app, pilot)
        shown = notices(app)
    assert sorted(title for title, _, _ in shown) == [
        "Check this incident",
        "Paging service unreachable",
        "Reconciled with the paging service",
        "Writes paused",
    ]
    assert_inert(written(app), bell=True)  # "Check this incident" rings the bell


class Crashing:
    """A sync service whose sync raises a ProviderError with HOSTILE in it."""

    async def sync_once(self, progress: Any = None) -> SyncReport:
        raise ProviderError(HOSTILE)


async def test_a_crashed_sync_notification_is_inert(
    seeded: tuple[Any, Store], tmp_path: Path
) -> None:
    app = app_with(seeded, tmp_path, Crashing())
    async with app.run_test(size=(200, 50), headless=False, notifications=True) as pilot:
        await settle(app, pilot)
        shown = notices(app)
    assert [title for title, _, _ in shown] == ["Sync failed"]
    assert_inert(written(app))


async def test_any_notification_is_inert_whoever_sends_it(
    seeded: tuple[Any, Store], tmp_path: Path
) -> None:
    """A new call site that forgets the sanitiser: App.notify, Screen.notify, Widget.notify
    (message and title) all pass it."""
    app = app_with(seeded, tmp_path)
    async with app.run_test(size=(200, 50), headless=False, notifications=True) as pilot:
        await pilot.pause()
        app.notify(HOSTILE, title="app " + HOSTILE)
        app.screen.notify(HOSTILE, title="screen " + HOSTILE)
        app.screen.query_one(StatusBar).notify(HOSTILE, title="widget " + HOSTILE)
        await pilot.pause()
        shown = notices(app)
    assert len(shown) == 3
    for title, message, _ in shown:
        assert "\u241b]0;PWNED-TITLE" in title and "\u241b]52;c;" in message
    assert_inert(written(app))


# ---------------------------------------------------------------------------- dialogs, titles


async def test_dialogs_show_their_text_inert(seeded: tuple[Any, Store], tmp_path: Path) -> None:
    """Confirm, choice and input dialogs sanitise title, body and answers themselves."""
    app = app_with(seeded, tmp_path)
    async with app.run_test(size=(200, 50), headless=False, notifications=True) as pilot:
        await pilot.pause()
        for dialog in (
            ConfirmDialog(f"Title {HOSTILE}", Text(HOSTILE)),
            ChoiceDialog(Text(HOSTILE, "bold"), Text(HOSTILE), [("a", Text(HOSTILE))]),
            InputDialog(f"Title {HOSTILE}", Text(HOSTILE)),
        ):
            app.push_screen(dialog)
            await pilot.pause()
            text = screen_text(app)
            assert "\u241b]52;c;ZWNobyBwd25lZA==" in text and "\x1b" not in text
            app.pop_screen()
            await pilot.pause()
    assert_inert(written(app), shown=SHOWN[:3])


async def test_a_hostile_incident_title_in_the_resolve_dialog(tmp_path: Path) -> None:
    settings, store = seed(tmp_path, title=f"Disk full {HOSTILE}")
    app = captured(
        CockpitApp(settings, store, clock=frozen, library=load_library([tmp_path / "runbooks"]))
    )
    try:
        async with app.run_test(size=(200, 50), headless=False, notifications=True) as pilot:
            await pilot.pause()
            await pilot.press("R")
            await pilot.pause()
            assert isinstance(app.screen, ConfirmDialog)
            await pilot.press("n")
            await pilot.pause()
    finally:
        store.close()
    assert_inert(written(app))


async def test_titles_are_inert(seeded: tuple[Any, Store], tmp_path: Path) -> None:
    """App and screen titles pass the sanitiser; a border title set raw (a call site that
    forgot it) is still dropped from the line before it reaches the terminal."""
    app = app_with(seeded, tmp_path)
    async with app.run_test(size=(200, 50), headless=False, notifications=True) as pilot:
        await pilot.pause()
        app.title = HOSTILE
        app.sub_title = HOSTILE
        assert app.title.startswith("Invalid Input \u241b]52;c;") and "\x1b" not in app.title
        assert "\x9b" not in app.sub_title
        app.screen.query_one(IncidentSwitcher).border_title = HOSTILE
        app.screen.mount(Static(HOSTILE, markup=False))
        await pilot.pause()
    out = written(app)
    assert_inert(out, shown=())
    assert "]52;c;ZWNobyBwd25lZA==" in out  # the printable rest is there, without its ESC


# ---------------------------------------------------------------------------- status bar


async def test_the_status_bar_is_inert(seeded: tuple[Any, Store], tmp_path: Path) -> None:
    app = app_with(seeded, tmp_path)
    async with app.run_test(size=(250, 50), headless=False, notifications=True) as pilot:
        await pilot.pause()
        bar = app.screen.query_one(StatusBar)
        app.post_message(SyncStarted())
        app.post_message(SyncProgress(0, None, HOSTILE))
        await pilot.pause()
        assert bar.state == "syncing"
        line = screen_text(app).splitlines()[-2]
        bar.paused = HOSTILE
        await pilot.pause()
    assert "\u241b]52;c;ZWNobyBwd25lZA==" in line and "\x1b" not in line
    assert_inert(written(app), shown=SHOWN[:2])


# ---------------------------------------------------------------------------- crash report


async def test_the_crash_report_is_inert(seeded: tuple[Any, Store], tmp_path: Path) -> None:
    """An exception whose message holds HOSTILE ends the app: the traceback printed on the way
    out shows it as symbols."""
    app = app_with(seeded, tmp_path)
    report = io.StringIO()
    app.error_console = Console(
        file=report,
        force_terminal=True,
        width=200,
        color_system="truecolor",
        markup=False,
        highlight=False,
    )

    def boom() -> None:
        raise ProviderError(HOSTILE)

    with pytest.raises(ProviderError):
        async with app.run_test(size=(200, 50), headless=False, notifications=True) as pilot:
            await pilot.pause()
            app.call_later(boom)
            await pilot.pause()
            await pilot.pause()
    printed = report.getvalue()
    assert "ProviderError" in printed
    assert_inert(printed, shown=SHOWN[:2], bell=True)
    assert_inert(written(app), shown=(), bell=True)


# ---------------------------------------------------------------------------- 1 MB title


async def test_a_one_megabyte_title_is_shown_cut(tmp_path: Path) -> None:
    """The store keeps the whole title; the panel, the list and the toasts show a few hundred
    characters of it and say how to read the rest."""
    title = ("word " * 200_000)[:1_000_000]
    settings, store = seed(tmp_path, title=title)
    app = captured(
        CockpitApp(settings, store, clock=frozen, library=load_library([tmp_path / "runbooks"]))
    )
    try:
        async with app.run_test(size=(200, 50), headless=False, notifications=True) as pilot:
            await pilot.pause()
            panel = app.screen.query_one(IncidentPanel)
            head = panel.content.renderables[0].plain  # type: ignore[union-attr]
            switcher = app.screen.query_one(IncidentSwitcher)
            option = str(switcher.get_option_at_index(0).prompt)
        with store.read() as session:
            kept = session.get(Incident, "pagerduty:PINC101")
            assert kept is not None and kept.title == title
    finally:
        store.close()
    assert "more characters: cockpit show PINC101 --full" in head
    assert len(head) < 2_000 and len(option) < 400
    assert len(written(app)) < 200_000  # whole frames, not a megabyte of title
