"""A multi-line note on an incident. Works offline: the outbox sends it later."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea

from cockpit.screens.confirm import ConfirmDialog, incident_line
from cockpit.view_model import IncidentRef
from cockpit.widgets.footer import KeyFooter


class NoteDialog(ModalScreen[str | None]):
    """ctrl+s saves, escape cancels (asking first when the note has text); enter is a new line.

    Neither binding is a priority binding, on purpose. Textual runs a priority binding in the
    app the moment the key is read, while the keys and pastes before it may still wait in the
    text area's queue: a fast typist's or a paste's last characters were not in the box yet,
    so ctrl+s saved a truncated note (or found it empty and kept the dialog open), and escape,
    which asks only when there is text, would look too early too. A plain binding reaches
    this screen only after the text area has handled, in order, every key and paste before it.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+s",
            "save",
            "Save note",
            tooltip="Save the note (sent when online)",
            id="note.save",
        ),
        Binding(
            "escape",
            "cancel",
            "Cancel",
            tooltip="Close without saving (asks first when the note has text)",
            id="note.cancel",
        ),
    ]

    def __init__(self, ref: IncidentRef) -> None:
        super().__init__()
        self.ref = ref
        # Set once the dialog has given its answer: a second ctrl+s or escape queued behind
        # the first must not run the callback again or pop the screen underneath.
        self._answered = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -wide"):
            title = Text("Note on ", "bold")
            title.append_text(incident_line(self.ref))
            yield Static(title, classes="dialog-title")
            yield TextArea(id="note-text", soft_wrap=True, show_line_numbers=False)
            yield Static("", id="dialog-error", classes="dialog-error")
            yield Static(Text("ctrl+s: save   escape: cancel", "dim"))
        yield KeyFooter(compact=True)  # the dialog's own keys, not the screen's below

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def _answer(self, result: str | None) -> None:
        if self._answered or not self.is_current:
            return
        self._answered = True
        self.dismiss(result)

    def action_save(self) -> None:
        # Exactly what is in the box: not stripped, not re-wrapped (a note is data, so
        # ``[bold]`` stays literal text).
        content = self.query_one(TextArea).text
        if not content.strip():
            self.query_one("#dialog-error", Static).update(Text("A note needs some text."))
            return
        self._answer(content)

    def action_cancel(self) -> None:
        text = self.query_one(TextArea).text
        if not text.strip():
            # Blank: nothing that could be saved is lost, so no question.
            self._answer(None)
            return
        lines = len(text.splitlines()) or 1
        body = Text("Discard the note on ")
        body.append_text(incident_line(self.ref))
        body.append(
            f"?\n{len(text)} characters on {lines} line{'s' if lines != 1 else ''} "
            "will be lost; it was not saved."
        )

        def answered(discard: bool | None) -> None:
            if discard:
                self._answer(None)
            # No: the note stays as it was, and the screen gives the text area its focus back.

        self.app.push_screen(
            ConfirmDialog("Discard this note?", body, "Discard", risky=True), answered
        )
