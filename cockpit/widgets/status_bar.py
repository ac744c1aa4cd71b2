"""The status bar: connection, pending outbox items (never hidden), last good sync, practice.

It says what is true: ``● online`` only after a sync that reached the paging service,
``○ offline`` (with the error, last) when it did not, ``○ no paging service`` for a local
store, ``◇ practice`` in a drill (nothing is sent or received), and the age of the last sync
that worked, counted from the clock on every tick (``last good sync 7m ago``).

In team mode it also says how the exchange with the team store goes, in a few characters:
``team ✓`` (with the age once the last exchange is a minute old), ``team offline, 3 waiting``,
``team: schema too new: upgrade cockpit``."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from cockpit.text import safe_line
from cockpit.view_model import age

if TYPE_CHECKING:
    from cockpit.team.live import TeamStatus

_LABELS = {
    "online": "● online",
    "offline": "○ offline",
    "syncing": "◌ syncing",
    "local": "○ no paging service (local store)",
    "practice": "◇ practice: no paging service, nothing is sent",
}


class StatusBar(Widget):
    """One line at the bottom of the cockpit.

    The pending count is always drawn first after the state, so a narrow terminal cuts the
    last-sync time before it cuts the number of writes still waiting to reach the service.
    """

    DEFAULT_CSS = """
    StatusBar {
        height: 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    COMPONENT_CLASSES = {
        "status-bar--online",
        "status-bar--offline",
        "status-bar--syncing",
        "status-bar--local",
        "status-bar--pending",
        "status-bar--practice",
    }

    state: reactive[str] = reactive("offline")
    pending: reactive[int] = reactive(0)
    failed: reactive[int] = reactive(0)
    progress: reactive[str] = reactive("")
    last_sync: reactive[datetime | None] = reactive(None)
    practice: reactive[bool] = reactive(False)
    detail: reactive[str] = reactive("")
    paused: reactive[str] = reactive("")  # "writes paused: the token was refused - ..."
    team: reactive[TeamStatus | None] = reactive(None)  # None: team mode is off

    def __init__(self, now: datetime | None = None, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.now = now

    def _age(self, now: datetime | None) -> str:
        if self.last_sync is None or now is None:
            return ""
        seconds = (now - self.last_sync).total_seconds()
        # Minutes are enough here, and they keep an idle bar from redrawing every second.
        return "under 1m ago" if seconds < 60 else f"{age(self.last_sync, now)} ago"

    def on_mount(self) -> None:
        # A bar drawn after the team link reported (a screen opened later) starts with it.
        self.team = getattr(self.app, "team_status", None)

    def team_words(self, now: datetime | None) -> tuple[str, str]:
        """The team part of the bar and its style's state ("" when team mode is off)."""
        status = self.team
        if status is None:
            return "", ""
        waiting = f", {status.pending} waiting" if status.pending else ""
        if status.state == "ok":
            words = "team ✓"
            if status.last_ok is not None and now is not None:
                # Healthy exchanges are seconds apart: an age shows only when they stopped.
                if (now - status.last_ok).total_seconds() >= 60:
                    words += f" {age(status.last_ok, now)} ago"
            return words + waiting, "online"
        if status.state == "offline":
            return f"team offline{waiting}", "offline"
        if status.state == "error":
            return f"team: {status.short or status.message}", "offline"
        return "team …", "syncing"

    def tick(self, now: datetime) -> None:
        """The clock moved: redraw only when the shown age changes."""
        changed = self._age(now) != self._age(self.now)
        changed = changed or self.team_words(now) != self.team_words(self.now)
        self.now = now
        if changed:
            self.refresh()

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        if self.practice:
            text.append(" PRACTICE MODE ", self.get_component_rich_style("status-bar--practice"))
            text.append(" ")
        style = self.get_component_rich_style(f"status-bar--{self.state}")
        label = _LABELS.get(self.state, self.state)
        if self.state == "syncing" and self.progress:
            label += f" {self.progress}"
        text.append(safe_line(label, limit=120), style)
        pending_style = self.get_component_rich_style("status-bar--pending") if self.pending else ""
        text.append(f"  ⇅ {self.pending} pending", pending_style)
        if self.failed:
            failed_style = self.get_component_rich_style("status-bar--offline")
            text.append(f", {self.failed} failed", failed_style)
        if self.paused:
            # Before the last-sync age: a narrow terminal must cut the age, not this.
            text.append(
                f"  {safe_line(self.paused)}", self.get_component_rich_style("status-bar--offline")
            )
        now = self.now
        team, team_state = self.team_words(now)
        if team:
            text.append(
                f"  {safe_line(team, limit=60)}",
                self.get_component_rich_style(f"status-bar--{team_state}"),
            )
        if self.state in ("local", "practice"):
            pass  # nothing is synced: no age to show
        elif self.last_sync is None:
            text.append("  last good sync: never")
        elif now is not None:
            text.append(f"  last good sync {self._age(now)}")
        if self.detail:
            text.append(f"  {safe_line(self.detail)}", "dim")
        return text
