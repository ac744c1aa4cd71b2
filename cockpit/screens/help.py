"""Every key binding of the screen below, with its id, so a keymap can rebind it."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from cockpit.screens.keys import key_display
from cockpit.widgets.footer import KeyFooter


def collect_bindings(screen: Screen[object]) -> list[tuple[str, str, str, str]]:
    """(where, keys, description, id) for the app, the screen and every widget on it."""
    rows: list[tuple[str, str, str, str]] = []
    seen: set[str] = set()
    nodes: list[DOMNode] = [screen.app, screen, *screen.walk_children()]
    for node in nodes:
        where = type(node).__name__.replace("Screen", "").replace("App", "") or "app"
        for binding in node._bindings.key_to_bindings.values():
            for item in binding:
                if not item.id or item.id in seen or not item.description:
                    continue
                seen.add(item.id)
                keys = key_display(node.app, item)
                rows.append((where, keys, item.tooltip or item.description, item.id))
    return rows


def help_table(rows: list[tuple[str, str, str, str]]) -> Table:
    table = Table(box=None, expand=True, show_header=True, header_style="bold")
    table.add_column("key", no_wrap=True)
    table.add_column("what it does", ratio=1)
    table.add_column(Text("id (for [keymap])"), style="dim", no_wrap=True)  # not markup
    for _where, keys, description, binding_id in rows:
        table.add_row(Text(keys, "bold"), Text(description), Text(binding_id))
    return table


def _page_load_of(screen: Screen[object]) -> str:
    """The page-load meter in words (its colour and why), when the screen has one."""
    from cockpit.widgets.page_load_meter import PageLoadMeter, explain

    meters = screen.query(PageLoadMeter)
    return explain(meters.first().meter) if meters else ""


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape,question_mark,q",
            "close",
            "Close",
            tooltip="Back to the cockpit",
            id="help.close",
        ),
    ]
    CLOSE = "escape, q or ? closes this help; ↑↓ and page keys scroll it."

    def __init__(self, below: Screen[object]) -> None:
        super().__init__()
        self.rows = collect_bindings(below)
        self.page_load = _page_load_of(below)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            title = Text("Keys (everything works without a mouse)", "bold")
            title.append(f"\n{self.CLOSE}", "dim")
            yield Static(title)
            yield Static(help_table(self.rows))
            yield Static(
                Text(
                    "\nctrl+p opens the command palette: every action, incidents and runbooks by "
                    "name. Rebind any key in the [keymap] table of the settings file, e.g. "
                    'incident.ack = "A".',
                    "dim",
                )
            )
            if self.page_load:
                yield Static(Text("\n" + self.page_load), id="help-page-load")
            yield Static(Text(f"\n{self.CLOSE}", "dim"))
        yield KeyFooter(compact=True)  # Close, not the keys of the screen below

    def action_close(self) -> None:
        self.dismiss(None)
