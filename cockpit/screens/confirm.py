"""A yes/no question that names exactly what it acts on."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from cockpit.text import safe_line
from cockpit.view_model import IncidentRef
from cockpit.widgets.footer import KeyFooter
from cockpit.widgets.inert import inert


def incident_line(ref: IncidentRef) -> Text:
    """``#123 “title”``: the id and title captured when the key was pressed."""
    text = Text()
    text.append(safe_line(ref.label), "bold")
    text.append(" “")
    text.append(safe_line(ref.title)[:160])
    text.append("”")
    return text


class ConfirmDialog(ModalScreen[bool]):
    """``y`` or enter confirms, ``n`` or escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", tooltip="Confirm", id="dialog.yes"),
        Binding(
            "n,escape", "answer(False)", "No", tooltip="Cancel, change nothing", id="dialog.no"
        ),
    ]

    def __init__(self, title: str, body: Text, confirm: str = "Yes", risky: bool = False) -> None:
        super().__init__()
        # Title and body pass the sanitiser here, whoever built them (cockpit.widgets.inert).
        self.title_text = safe_line(title)
        self.body = inert(body)
        self.confirm = confirm
        self.risky = risky

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self.title_text, "bold"), classes="dialog-title")
            yield Static(self.body, classes="dialog-body")
            with Horizontal(classes="dialog-buttons"):
                yield Button(
                    f"{self.confirm} (y)", id="yes", variant="error" if self.risky else "primary"
                )
                yield Button("Cancel (n)", id="no")
        yield KeyFooter(compact=True)  # the dialog's own keys, not the screen's below

    def on_mount(self) -> None:
        self.query_one("#yes", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
