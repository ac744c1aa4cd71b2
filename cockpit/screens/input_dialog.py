"""One line of input with a check: snooze duration, escalation level, a command parameter."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from cockpit.text import safe_line
from cockpit.widgets.inert import inert

Check = Callable[[str], str]  # returns an error message, or "" when the value is fine


class InputDialog(ModalScreen[str | None]):
    """Enter submits (when the check passes), escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", tooltip="Close without acting", id="dialog.cancel"),
    ]

    def __init__(
        self,
        title: str,
        body: Text,
        *,
        placeholder: str = "",
        value: str = "",
        check: Check | None = None,
    ) -> None:
        super().__init__()
        # Title and body pass the sanitiser here, whoever built them (cockpit.widgets.inert).
        self.title_text = safe_line(title)
        self.body = inert(body)
        self.placeholder = placeholder
        self.value = value
        self.check = check

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self.title_text, "bold"), classes="dialog-title")
            yield Static(self.body, classes="dialog-body")
            yield Input(value=self.value, placeholder=self.placeholder, id="dialog-input")
            yield Static("", id="dialog-error", classes="dialog-error")
            yield Static(Text("enter: OK   escape: cancel", "dim"))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        problem = self.check(event.value) if self.check else ""
        if problem:
            self.query_one("#dialog-error", Static).update(inert(problem))
            return
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


def parse_duration(value: str) -> int | None:
    """``30m``, ``2h``, ``90s``, ``1d`` or plain minutes -> seconds."""
    value = value.strip().lower()
    if not value:
        return None
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    number, unit = (value[:-1], value[-1]) if value[-1] in units else (value, "m")
    try:
        amount = float(number)
    except ValueError:
        return None
    seconds = int(amount * units[unit])
    return seconds if seconds > 0 else None


def check_duration(value: str) -> str:
    seconds = parse_duration(value)
    if seconds is None:
        return "Give a duration such as 30m, 2h or 1d."
    if seconds > 604_800:
        return "PagerDuty snoozes for at most 7 days."
    return ""


def check_level(value: str) -> str:
    return "" if value.strip().isdigit() and int(value) >= 1 else "Give a level: 1, 2, 3..."


def check_not_empty(value: str) -> str:
    return "" if value.strip() else "This value is needed before the command is copied or run."
