"""The other incidents: open ones most urgent first, then the recently resolved."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option, OptionDoesNotExist

from cockpit.screens.view_model import IncidentRef, SwitcherView
from cockpit.text import safe_line

_MARK = {
    "triggered": ("●", "bold red"), "acknowledged": ("◐", "yellow"), "resolved": ("✓", "green")
}


class IncidentSwitcher(OptionList):
    """Highlighting an incident selects it. A refresh keeps the highlighted incident by id,
    never by row, so a list that reorders under the cursor leaves the cursor where it was."""

    BORDER_TITLE = "Incidents"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._shown: list[tuple[str, str, str]] = []

    def show(self, view: SwitcherView, current: str | None) -> None:
        rows = [(r.id, r.status, r.title) for r in view.open]
        rows += [("", "", "")] + [(r.id, r.status, r.title) for r in view.resolved]
        if rows == self._shown:
            return
        self._shown = rows
        keep = current or self.highlighted_id
        scroll = self.scroll_y
        options: list[Option | None] = [_option(ref, view) for ref in view.open]
        if not view.open:
            options.append(Option(Text("no open incidents", "dim"), disabled=True))
        if view.resolved:
            options.append(None)
            options.append(Option(Text("recently resolved", "dim italic"), disabled=True))
            options += [_option(ref, view) for ref in view.resolved]
        with self.prevent(OptionList.OptionHighlighted):
            self.set_options(options)
            if keep is not None:
                self.select_id(keep)
        self.scroll_to(y=scroll, animate=False, immediate=True)

    @property
    def highlighted_id(self) -> str | None:
        if self.highlighted is None:
            return None
        return self.get_option_at_index(self.highlighted).id

    def select_id(self, incident_id: str) -> None:
        try:
            index = self.get_option_index(incident_id)
        except OptionDoesNotExist:  # an incident that left the list keeps no highlight
            return
        with self.prevent(OptionList.OptionHighlighted):
            self.highlighted = index

    def ids(self) -> list[str]:
        return [option.id for option in self.options if option.id and not option.disabled]


def _option(ref: IncidentRef, view: SwitcherView) -> Option:
    mark, style = _MARK.get(ref.status, ("?", ""))
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"{mark} ", style)
    if view.urgency.get(ref.id) == "low":
        text.append("low ", "dim")
    if ref.is_drill:
        text.append("DRILL ", "reverse")
    text.append(f"{safe_line(ref.label)} ", "bold")
    text.append(safe_line(ref.title))
    return Option(text, id=ref.id)
