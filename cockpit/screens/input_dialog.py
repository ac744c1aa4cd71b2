"""One line of input with a check: snooze duration, escalation level, a command parameter.

A dialog may also say, under the box and as the user types, what the value will be taken to
mean (a duration is read back with its unit: "30" -> "30m = 30 minutes")."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from cockpit import durations
from cockpit.text import safe_line
from cockpit.widgets.footer import KeyFooter
from cockpit.widgets.inert import inert

Check = Callable[[str], str]  # returns an error message, or "" when the value is fine
Meaning = Callable[[str], str]  # what the value will be taken to mean, "" when nothing to say


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
        meaning: Meaning | None = None,
    ) -> None:
        super().__init__()
        # Title and body pass the sanitiser here, whoever built them (cockpit.widgets.inert).
        self.title_text = safe_line(title)
        self.body = inert(body)
        self.placeholder = placeholder
        self.value = value
        self.check = check
        self.meaning = meaning

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self.title_text, "bold"), classes="dialog-title")
            yield Static(self.body, classes="dialog-body")
            yield Input(value=self.value, placeholder=self.placeholder, id="dialog-input")
            yield Static(
                self._meaning_of(self.value), id="dialog-meaning", classes="dialog-meaning"
            )
            yield Static("", id="dialog-error", classes="dialog-error")
            yield Static(Text("enter: OK   escape: cancel", "dim"))
        yield KeyFooter(compact=True)

    def _meaning_of(self, value: str) -> Text:
        return inert(self.meaning(value), single_line=True) if self.meaning else Text()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self.meaning is not None:
            self.query_one("#dialog-meaning", Static).update(self._meaning_of(event.value))
        self.query_one("#dialog-error", Static).update("")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        problem = self.check(event.value) if self.check else ""
        if problem:
            self.query_one("#dialog-error", Static).update(inert(problem))
            return
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


MAX_SNOOZE = 604_800  # PagerDuty snoozes for at most 7 days


def parse_duration(value: str) -> int | None:
    """Seconds, read by the one parser (:mod:`cockpit.durations`: ``30`` is 30 minutes);
    None when it is not a duration."""
    try:
        return durations.parse_duration(value)
    except ValueError:
        return None


def check_duration(value: str) -> str:
    try:
        seconds = durations.parse_duration(value)
    except ValueError as error:
        return str(error)
    if seconds > MAX_SNOOZE:
        return f"{durations.describe(seconds)} is too long: PagerDuty snoozes for at most 7 days."
    return ""


def duration_meaning(value: str) -> str:
    """``30`` -> ``30m = 30 minutes``: the unit is always shown back before anything is sent."""
    seconds = parse_duration(value)
    if seconds is None:
        return ""
    return f"= {durations.compact(seconds)}: {durations.describe(seconds)}"


def check_level(value: str) -> str:
    return "" if value.strip().isdecimal() and int(value) >= 1 else "Give a level: 1, 2, 3..."


def check_not_empty(value: str) -> str:
    return "" if value.strip() else "This value is needed before the command is copied or run."
