"""A multi-line note on an incident. Works offline: the outbox sends it later."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea

from cockpit.screens.confirm import incident_line
from cockpit.screens.view_model import IncidentRef


class NoteDialog(ModalScreen[str | None]):
    """ctrl+s saves, escape cancels; enter is a new line."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save note", tooltip="Save the note (sent when online)",
                id="note.save", priority=True),
        Binding("escape", "cancel", "Cancel", tooltip="Close without saving", id="note.cancel"),
    ]

    def __init__(self, ref: IncidentRef) -> None:
        super().__init__()
        self.ref = ref

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -wide"):
            title = Text("Note on ", "bold")
            title.append_text(incident_line(self.ref))
            yield Static(title, classes="dialog-title")
            yield TextArea(id="note-text", soft_wrap=True, show_line_numbers=False)
            yield Static("", id="dialog-error", classes="dialog-error")
            yield Static(Text("ctrl+s: save   escape: cancel", "dim"))

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_save(self) -> None:
        content = self.query_one(TextArea).text
        if not content.strip():
            self.query_one("#dialog-error", Static).update(Text("A note needs some text."))
            return
        self.dismiss(content)

    def action_cancel(self) -> None:
        self.dismiss(None)
