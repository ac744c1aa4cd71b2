"""Pass the baton to someone on the roster, with a required note for them."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from cockpit.screens.confirm import incident_line
from cockpit.text import safe_line
from cockpit.view_model import IncidentRef, RosterEntry
from cockpit.widgets.footer import KeyFooter


class BatonDialog(ModalScreen[tuple[str, str] | None]):
    """Pick a person (on call now first), write a note, enter passes. Returns (person id, note)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", tooltip="Keep the baton", id="baton.cancel"),
    ]

    def __init__(self, ref: IncidentRef, roster: list[RosterEntry], holder_id: str) -> None:
        super().__init__()
        self.ref = ref
        self.roster = [entry for entry in roster if entry.person_id != holder_id]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -wide"):
            title = Text("Pass the baton of ", "bold")
            title.append_text(incident_line(self.ref))
            yield Static(title, classes="dialog-title")
            options = [_option(entry) for entry in self.roster]
            if not options:
                options = [
                    Option(Text("nobody on the roster yet (sync first)", "dim"), disabled=True)
                ]
            yield OptionList(*options, id="baton-people")
            yield Input(
                placeholder="note for them (required): what is going on, what's next",
                id="baton-note",
            )
            yield Static("", id="dialog-error", classes="dialog-error")
            yield Static(Text("↑↓ pick   tab: note   enter: pass   escape: cancel", "dim"))
        yield KeyFooter(compact=True)  # the dialog's own keys, not the screen's below

    def on_mount(self) -> None:
        people = self.query_one(OptionList)
        people.focus()
        if self.roster:
            people.highlighted = 0

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.query_one("#baton-note", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        people = self.query_one(OptionList)
        error = self.query_one("#dialog-error", Static)
        if people.highlighted is None or not self.roster:
            error.update(Text("Pick who receives the baton."))
            return
        if not event.value.strip():
            error.update(Text("Write a short note for the receiver."))
            return
        person = people.get_option_at_index(people.highlighted).id or ""
        self.dismiss((person, event.value.strip()))

    def action_cancel(self) -> None:
        self.dismiss(None)


def _option(entry: RosterEntry) -> Option:
    text = Text(safe_line(entry.name), "bold")
    if entry.on_call:
        text.append(f"  {entry.on_call}", "green")
    return Option(text, id=entry.person_id)
