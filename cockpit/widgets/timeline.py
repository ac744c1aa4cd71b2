"""The incident's timeline, newest first: log entries, notes, runbook ticks, baton passes."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from cockpit.screens.view_model import clock_time
from cockpit.store.queries import TimelineItem
from cockpit.text import safe

_KIND_STYLE = {
    "trigger": "red",
    "acknowledge": "yellow",
    "resolve": "green",
    "note": "cyan",
    "runbook": "magenta",
    "command": "magenta",
    "baton": "blue",
    "notify": "dim",
}


class Timeline(VerticalScroll, can_focus=True):
    """Scrolls by itself; updating the content keeps the scroll position (a sync never moves it)."""

    BORDER_TITLE = "Timeline"

    def compose(self) -> ComposeResult:
        yield Static(id="timeline-body")

    def show(self, items: list[TimelineItem]) -> None:
        self.query_one("#timeline-body", Static).update(render_timeline(items))


def render_timeline(items: list[TimelineItem]) -> Text:
    text = Text()
    if not items:
        text.append("Nothing yet.", "dim")
        return text
    for index, item in enumerate(items):
        if index:
            text.append("\n")
        text.append(clock_time(item.at), "dim")
        text.append(f" {item.kind:<11}", _KIND_STYLE.get(item.kind, ""))
        if item.state:
            style = "bold yellow" if item.state == "pending" else "bold red"
            text.append(f"[{item.state}] ", style)
        # Notes and command output keep their lines, indented under the first one.
        body = safe(item.summary).rstrip("\n").replace("\n", "\n" + " " * 18)
        text.append(body)
    return text
