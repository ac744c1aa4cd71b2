"""A question with a few named answers: a runbook decision, what to do with an open run."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from cockpit.widgets.footer import KeyFooter
from cockpit.widgets.inert import inert


class ChoiceDialog(ModalScreen[str | None]):
    """↑↓ and enter choose, escape cancels. Returns the chosen answer's key."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", tooltip="Close without choosing", id="choice.cancel"),
    ]

    def __init__(self, title: Text, body: Text, choices: list[tuple[str, Text]]) -> None:
        super().__init__()
        # Title, body and answers pass the sanitiser here, whoever built them.
        self.title_text = inert(title, single_line=True)
        self.body = inert(body)
        self.choices = [(key, inert(label)) for key, label in choices]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -wide"):
            yield Static(self.title_text, classes="dialog-title")
            yield Static(self.body, classes="dialog-body")
            yield OptionList(*[Option(label, id=key) for key, label in self.choices], id="choices")
            yield Static(Text("↑↓ choose   enter: confirm   escape: cancel", "dim"))
        yield KeyFooter(compact=True)  # the dialog's own keys, not the screen's below

    def on_mount(self) -> None:
        choices = self.query_one(OptionList)
        choices.focus()
        choices.highlighted = 0

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
