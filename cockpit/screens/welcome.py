"""Shown by `cockpit` when no paging account is configured: how to connect one, or try the demo."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Vertical
from textual.screen import Screen
from textual.widgets import Static

from cockpit.widgets.footer import KeyFooter


def welcome_text() -> Text:
    text = Text()
    text.append("Welcome to cockpit\n\n", "bold")
    text.append("No paging service is connected yet. Two ways to start:\n\n")
    text.append("  cockpit demo\n", "bold green")
    text.append("      a local PagerDuty emulator with a month of history and a fresh\n")
    text.append("      incident arriving ~20 s after start; nothing leaves this machine.\n\n")
    text.append("  cockpit auth login pagerduty\n", "bold green")
    text.append("      store your PagerDuty API token in the OS keyring, then run\n")
    text.append("      `cockpit` again.\n\n")
    text.append('  alertmanager_url = "http://alertmanager:9093"\n', "bold green")
    text.append("      in the settings file (`cockpit config` prints where it goes), or\n")
    text.append("      COCKPIT_ALERTMANAGER_URL, or `cockpit --set alertmanager_url=...`.\n\n")
    text.append("Runbooks are read from your runbooks folder (--runbooks DIR).\n")
    text.append("Press q to quit.", "dim")
    return text


class WelcomeScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "app.quit", "Quit", tooltip="Leave; nothing was changed", id="welcome.quit"),
    ]

    def compose(self) -> ComposeResult:
        with Center():
            with Vertical(id="welcome"):
                yield Static(welcome_text())
        yield KeyFooter()
