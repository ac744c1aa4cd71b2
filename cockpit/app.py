"""CockpitApp: wires screens, bindings, the sync worker and settings; logic lives in the core."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, on, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.filter import LineFilter
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.signal import Signal
from textual.worker import Worker, WorkerState

from cockpit.screens.commands import (
    ActionCommands,
    IncidentCommands,
    RunbookCommands,
    ShiftCommands,
)
from cockpit.screens.host import host_of
from cockpit.screens.messages import (
    IncidentActed,
    StoreChanged,
    SyncCrashed,
    SyncFinished,
    SyncProgress,
    SyncStarted,
)
from cockpit.startup import release_collector
from cockpit.store.engine import Store
from cockpit.store.timefmt import utcnow
from cockpit.sync import courtesy
from cockpit.text import safe, safe_line
from cockpit.widgets.inert import InertFilter, inert_segments

if TYPE_CHECKING:
    from rich.console import RenderableType

    from cockpit.config import Settings
    from cockpit.runbooks.model import Runbook
    from cockpit.screens.store_writes import StoreWrites
    from cockpit.team.live import TeamLink, TeamStatus

Clock = Callable[[], datetime]
NOTIFY_LIMIT = 600  # characters of a notification's message: about ten lines of a toast
NOTIFY_LINES = 10
TITLE_LIMIT = 120
NOTICES_KEPT = 50


@dataclass(frozen=True)
class Notice:
    """One notification as it was shown (after the sanitiser)."""

    title: str
    message: str
    severity: str


class TeamUpdate(Message):
    """The team link (its own thread) reports how the last exchange went."""

    def __init__(self, status: TeamStatus) -> None:
        super().__init__()
        self.status = status


class CockpitApp(App[None]):
    """The on-call cockpit.

    | Key | Action |
    | :- | :- |
    | ctrl+q | Quit (priority, works in every dialog) |
    | ? | Help: every key |
    | ctrl+r | Sync now |
    | ctrl+p | Command palette |
    """

    CSS_PATH = "cockpit.tcss"
    _inert_filter: ClassVar[InertFilter] = InertFilter()  # stateless: one for every app
    TITLE = "cockpit"
    COMMANDS = App.COMMANDS | {IncidentCommands, RunbookCommands, ActionCommands, ShiftCommands}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+q",
            "quit",
            "Quit",
            tooltip="Leave the cockpit (nothing is lost: the store and the outbox keep everything)",
            id="app.quit",
            priority=True,
            show=False,  # the footer keeps its room for `? Help` at 80 columns
        ),
        Binding(
            "question_mark", "help", "Help", tooltip="Every key and what it does", id="app.help"
        ),
        Binding(
            "ctrl+r",
            "sync_now",
            "Sync",
            tooltip="Push the outbox and pull now",
            id="app.sync",
            show=False,
        ),
        Binding(
            "H",
            "handoff",
            "Handoff",
            tooltip="The shift handoff: draft, notes, sign, accept (passes the batons), export",
            id="app.handoff",
        ),
        Binding(
            "S",
            "stats",
            "Stats",
            tooltip="Pages per week per person, MTTA/MTTR, the flywheel",
            id="app.stats",
            show=False,
        ),
        Binding(
            "D",
            "drill",
            "Drill…",
            tooltip="Start a drill: a runbook in practice mode on a made-up incident",
            id="app.drill",
        ),
    ]

    def __init__(
        self,
        settings: Settings,
        store: Store | None,
        sync: Any = None,
        clock: Clock | None = None,
        *,
        welcome: bool = False,
        library: list[Runbook] | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.store = store
        self.sync_service = sync
        self.clock: Clock = clock or utcnow
        self.keymap_overrides: dict[str, str] = {}  # [keymap], set at mount
        # A sync's and the team link's news (started, progress, finished, crashed, the store
        # changed) for every screen that shows store data: each subscribes at mount.
        self.store_news: Signal[Message] = Signal(self, "store-news")
        # What the toasts said, newest last (what the user saw, sanitised): tests read it.
        self.notices: deque[Notice] = deque(maxlen=NOTICES_KEPT)
        self.welcome = welcome or store is None
        self._library = library
        self._writes: StoreWrites | None = None
        # local: no paging service; practice: only a drill's, which sends nothing.
        self.practice_only = _practice_only(sync)
        self.sync_state = (
            "local" if sync is None else ("practice" if self.practice_only else "syncing")
        )
        # When the last sync of this session that fully worked ended (app clock); None until
        # one has: the status bar then shows what the store says.
        self.last_good_sync: datetime | None = None
        # (Drill, Runbook) for `cockpit drill`: the app opens in practice mode on it.
        self.open_drill: tuple[Any, Any] | None = None
        # Team mode (a team_url is set): the background exchange and what it last said.
        self.team_link: TeamLink | None = None
        self.team_status: TeamStatus | None = None

    @property
    def library(self) -> list[Runbook]:
        """The runbooks, read once on first use (never at import, never for the welcome)."""
        if self._library is None:
            from cockpit.errors import ConfigError
            from cockpit.runbooks.library import default_runbook_dirs, load_library

            try:
                self._library = load_library(default_runbook_dirs(self.settings))
            except ConfigError as error:
                self._library = []
                self.notify(
                    f"{error}: no runbook will match until it is fixed.",
                    title="Runbooks",
                    severity="error",
                    timeout=12,
                )
        return self._library

    @property
    def writes(self) -> StoreWrites:
        """The one writer of every screen's store writes (a tick, an ack, a handoff signed, an
        insight): done at once when the store is free, else queued in order to a thread, so
        no key waits on the event loop for a sync's lock (``screens/store_writes.py``)."""
        if self._writes is None:
            from cockpit.screens.store_writes import StoreWrites

            assert self.store is not None, "the welcome screen writes nothing"
            self._writes = StoreWrites(self.store)
        return self._writes

    def reload_library(self) -> None:
        self._library = None

    def get_default_screen(self) -> Screen[Any]:
        """The first screen is the cockpit (or the welcome) itself, not a blank one the
        cockpit is pushed on: pushed during the app's start-up, its first frame was drawn
        inside Textual's start-up batch and thrown away (~25 ms), then drawn again."""
        if self.welcome:
            from cockpit.screens.welcome import WelcomeScreen

            return WelcomeScreen()
        from cockpit.screens.cockpit_screen import CockpitScreen

        return CockpitScreen()

    def on_mount(self) -> None:
        # The start-up commands hold the collector until here (cockpit/startup.py).
        self.call_after_refresh(release_collector)
        theme = getattr(self.settings, "theme", "") or "textual-dark"
        if theme in self.available_themes:
            self.theme = theme
        keymap = dict(getattr(self.settings, "tables", {}).get("keymap", {}))
        self.keymap_overrides = keymap  # the help screen and the palette show these keys
        if keymap:
            self.set_keymap(keymap)
        if self.welcome:
            return
        # The first frame is drawn without the ORM (cockpit/store/reads.py); the first
        # action needs it. Import it off the UI thread once the user is reading the screen,
        # so that pressing `a` does not wait half a second for SQLAlchemy.
        self.set_timer(1.0, self._warm_up)
        if self.open_drill is not None:
            from cockpit.screens.drill_screen import DrillScreen

            self.push_screen(DrillScreen(*self.open_drill, exit_after=True))
        if self.sync_service is not None:
            interval = max(5, int(getattr(self.settings, "sync_interval", 60) or 60))
            self.set_interval(interval, self.start_sync)
            self.call_after_refresh(self.start_sync)
        if getattr(self.settings, "team_url", ""):
            # After the first frame: the team link's threads import psycopg and the keyring.
            self.call_after_refresh(self._start_team)

    def _start_team(self) -> None:
        from cockpit.errors import CockpitError
        from cockpit.team.live import TeamLink, TeamStatus, configured_url

        if self.store is None:
            return
        try:
            url = configured_url(self.settings)
        except CockpitError as error:
            self.post_message(TeamUpdate(TeamStatus("error", message=str(error))))
            return

        def password() -> str | None:
            from cockpit.team.url import find_password

            return find_password(url)

        # Called from the link's thread: post_message is the thread-safe way in.
        self.team_link = TeamLink(
            self.store, url, lambda status: self.post_message(TeamUpdate(status)), password=password
        )
        self.team_link.start()

    def on_team_update(self, message: TeamUpdate) -> None:
        from cockpit.widgets.status_bar import StatusBar

        status, previous = message.status, self.team_status
        self.team_status = status
        for line in status.lost:
            self.notify(safe_line(line), title="Lost the race", severity="warning", timeout=15)
        if status.state == "error" and (previous is None or previous.message != status.message):
            self.notify(safe_line(status.message), title="Team store", severity="error", timeout=12)
        for screen in self.screen_stack:
            for bar in screen.query(StatusBar):
                bar.team = status
        if status.applied:
            # The same refresh path as after a paging sync: each screen reloads what it shows.
            self.store_news.publish(StoreChanged())

    @work(thread=True, exit_on_error=False, group="warm-up", description="load the ORM")
    def _warm_up(self) -> None:
        import cockpit.sync.actions  # noqa: F401 - imported for its side effect: loaded

        if self.store is not None:
            self.store.engine  # noqa: B018 - creates the engine and its pool

    def action_handoff(self) -> None:
        from cockpit.screens.handoff_screen import open_handoff

        open_handoff(host_of(self))

    def action_stats(self) -> None:
        from cockpit.screens.stats_screen import open_stats

        open_stats(host_of(self))

    def action_drill(self) -> None:
        from cockpit.screens.drill_screen import start_drill_flow

        start_drill_flow(host_of(self))

    def on_incident_acted(self, message: IncidentActed) -> None:
        if message.action == "resolve":
            from cockpit.screens.insight_screen import ask_insight

            ask_insight(host_of(self), message.incident_id)

    def action_help(self) -> None:
        from cockpit.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_sync_now(self) -> None:
        if self.team_link is not None:
            self.team_link.poke()  # ctrl+r asks the team store too
        if self.sync_service is None:
            if self.team_link is not None:
                self.notify("Exchanging with the team store.", title="Team", timeout=3)
                return
            self.notify(
                "No paging service is connected, so there is nothing to sync. "
                "Run `cockpit auth login pagerduty` to connect one.",
                title="Offline store",
                severity="warning",
            )
            return
        if self.sync_running:
            self.notify(
                "A sync is already running; its result shows when it ends.", title="Sync", timeout=4
            )
            return
        self.start_sync()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown):
            # A running sync waits its turn while this is answered (cockpit/sync/courtesy.py).
            courtesy.step_aside()
        await super().on_event(event)

    def start_sync(self) -> None:
        """Start a sync unless one is running: the timer never cancels a sync in flight
        (that threw away a first sync's chunk, and left a write in doubt)."""
        if self.sync_service is None or self.sync_running:
            return
        self.run_sync()

    @property
    def sync_running(self) -> bool:
        return any(
            worker.group == "sync" and worker.state in (WorkerState.PENDING, WorkerState.RUNNING)
            for worker in self.workers
        )

    @work(exclusive=True, exit_on_error=False, group="sync", description="sync with the service")
    async def run_sync(self) -> None:
        self.post_message(SyncStarted())

        def progress(done: int, total: int | None, what: str) -> None:
            self.post_message(SyncProgress(done, total, what))

        # sync_once also learns who "me" is from the provider (SyncService.learn_me).
        report = await self.sync_service.sync_once(progress=progress)
        self.post_message(SyncFinished(report))

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        message = str(error) or type(error).__name__
        if event.worker.group == "sync":
            self.post_message(SyncCrashed(message))
        else:
            self.notify(
                f"{message}. Nothing else was changed; try again.", title="Failed", severity="error"
            )

    def footer_shows(self, action: str) -> bool:
        """The footer shows H and D on the cockpit itself, not on the screens they open."""
        if action in ("handoff", "drill"):
            return type(self.screen).__name__ == "CockpitScreen"
        return True

    def on_sync_started(self, message: SyncStarted) -> None:
        if not self.practice_only:
            self.sync_state = "syncing"
        self.store_news.publish(message)

    def on_sync_progress(self, message: SyncProgress) -> None:
        self.store_news.publish(message)

    def _fatal_error(self) -> None:
        """Textual prints a crash with every frame's local variables, which could show a token
        or a note's text; ours shows the frames only, and the exception's message (a server
        error, say) made safe like any remote text. (Overrides a private hook: the one place
        Textual renders the traceback.)"""
        import rich
        from rich.segment import Segments
        from rich.traceback import Traceback

        self.bell()
        traceback = Traceback(show_locals=False, width=None, suppress=[rich])
        rendered = self.console.render(traceback, self.console.options)
        self._exit_renderables.append(Segments(inert_segments(rendered)))
        self._close_messages_no_wait()

    def panic(self, *renderables: RenderableType) -> None:
        """Like :meth:`_fatal_error`: what is printed on the way out is made safe first."""
        from rich.segment import Segments

        super().panic(
            *(
                Segments(inert_segments(self.console.render(r, self.console.options)))
                for r in renderables
            )
        )

    def get_line_filters(self) -> Sequence[LineFilter]:
        """Textual's filters, then the guard that drops any control, bidi or invisible
        character still in a rendered line (``cockpit.widgets.inert``): no widget, toast,
        dialog, title or status line can put one on the terminal, whatever its caller did."""
        return [*super().get_line_filters(), self._inert_filter]

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Every notification is plain text: many carry remote or runbook text, which is data,
        never Rich markup (a title holding ``[/]`` would otherwise crash the toast). Message
        and title pass the sanitiser here, once for every caller (``Screen.notify`` and
        ``Widget.notify`` come here too): control, bidi and invisible characters show as
        symbols, and a long message is cut (the toast is a few lines, not a document)."""
        shown = safe(str(message), limit=NOTIFY_LIMIT, lines=NOTIFY_LINES)
        heading = safe_line(str(title), limit=TITLE_LIMIT)
        self.notices.append(Notice(heading, shown, severity))
        super().notify(shown, title=heading, severity=severity, timeout=timeout, markup=False)

    def validate_title(self, title: Any) -> str:
        return safe_line(str(title), limit=TITLE_LIMIT)

    def validate_sub_title(self, sub_title: Any) -> str:
        return safe_line(str(sub_title), limit=TITLE_LIMIT)

    def on_sync_finished(self, message: SyncFinished) -> None:
        report = message.report
        for line in report.alerts:
            # A write did more than was asked (an acknowledgement reopened an incident):
            # loud, and it stays until dismissed.
            self.bell()
            self.notify(safe_line(line), title="Check this incident", severity="error", timeout=600)
        for line in report.paused[:1]:
            self.notify(
                f"{safe_line(line)}. Your actions stay queued and go out once the token works.",
                title="Writes paused",
                severity="error",
                timeout=20,
            )
        for line in report.reconciled[:3]:
            self.notify(safe_line(line), title="Reconciled with the paging service", timeout=8)
        if self.practice_only:
            self.sync_state = "practice"
        else:
            self.sync_state = "online" if report.online else "offline"
            if report.online and not report.errors:
                self.last_good_sync = self.clock()
        if not report.online and report.errors:
            self.notify(
                f"{safe_line(report.errors[0])}. Working offline: your actions are queued "
                "and will be "
                "sent when the service answers again.",
                title="Paging service unreachable",
                severity="warning",
                timeout=8,
            )
        elif report.errors:
            self.notify(
                "; ".join(safe_line(e) for e in report.errors[:2]),
                title="Sync problems",
                severity="warning",
            )
        if self.team_link is not None and report.online and getattr(report, "changed", False):
            # New incidents may be what parked team events were waiting for.
            self.team_link.poke()
        self.store_news.publish(message)

    def on_sync_crashed(self, message: SyncCrashed) -> None:
        self.sync_state = "practice" if self.practice_only else "offline"
        self.notify(
            f"{message.error}. The app keeps working from the local store; "
            "check the disk and press ctrl+r to try again.",
            title="Sync failed",
            severity="error",
            timeout=10,
        )
        self.store_news.publish(message)

    def on_store_changed(self, message: StoreChanged) -> None:
        self.store_news.publish(message)

    async def on_unmount(self) -> None:
        if self._writes is not None:
            # A write still waiting on the loop for a busy store goes to the writer thread,
            # which is joined at exit: quitting right after a key never drops its write.
            self._writes.close()
        if self.team_link is not None:
            import asyncio

            # A second at most: an exchange cut short by the exit is redone next time (its
            # local transaction rolls back, and a push is the same insert when repeated).
            await asyncio.to_thread(self.team_link.stop, 1.0)
        if self.sync_service is not None and hasattr(self.sync_service, "aclose"):
            try:
                await self.sync_service.aclose()
            except Exception:  # noqa: BLE001 - closing connections must not block the exit
                pass


def _practice_only(sync: Any) -> bool:
    """Whether every paging provider of ``sync`` is a drill's practice one (it sends and
    receives nothing): a drill, not a connection to a paging service."""
    providers: dict[str, Any] = getattr(sync, "providers", None) or {}
    return bool(providers) and all(getattr(p, "name", "") == "practice" for p in providers.values())
