"""The other incidents: open ones most urgent first, then the recently resolved.

Rows are one line each. A title too long for the column is cut where it still tells the
incidents apart: when two titles share their start (``Disk usage above 90% on
payments-db-2`` / ``…-db-4``) the row keeps the end that differs (``Disk usage…payments-db-2``)
instead of two identical beginnings. When the list cannot show every open incident, its
border says how many are out of view (``+1 more open``).
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option, OptionDoesNotExist

from cockpit.text import safe_line
from cockpit.view_model import IncidentRef, SwitcherView

_MARK = {
    "triggered": ("●", "bold red"),
    "acknowledged": ("◐", "yellow"),
    "resolved": ("✓", "green"),
}
_Row = tuple[str, str, str, str]


class IncidentSwitcher(OptionList):
    """Highlighting an incident selects it. A refresh keeps the highlighted incident by id,
    never by row, so a list that reorders under the cursor leaves the cursor where it was."""

    BORDER_TITLE = "Incidents"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._shown: list[_Row] = []
        self._view: SwitcherView | None = None
        self._empty = Text("no open incidents", "dim")
        self._width = 0
        self._open = 0

    def show(self, view: SwitcherView, current: str | None, empty: Text | None = None) -> None:
        """Show ``view``; ``empty`` is what the list says when no open incident is in it (the
        filter hides them all, the first sync is still running...)."""
        self._view = view
        empty = empty or Text("no open incidents", "dim")
        width = self._title_room()
        rows = [(r.id, r.status, r.title, "") for r in view.open]
        rows += [("", "", "", str(width))] + [(r.id, r.status, r.title, "") for r in view.resolved]
        if rows == self._shown and empty == self._empty:
            return
        self._shown, self._empty, self._width = rows, empty, width
        keep = current or self.highlighted_id
        scroll = self.scroll_y
        refs = view.open + view.resolved
        titles = dict(
            zip(
                [r.id for r in refs],
                distinct_titles(
                    [safe_line(r.title) for r in refs],
                    [width - _prefix_cells(r, view) for r in refs],
                ),
                strict=True,
            )
        )
        options: list[Option | None] = [_option(ref, view, titles[ref.id]) for ref in view.open]
        if not view.open:
            options.append(Option(empty, disabled=True))
        if view.resolved:
            options.append(None)
            options.append(Option(Text("recently resolved", "dim italic"), disabled=True))
            options += [_option(ref, view, titles[ref.id]) for ref in view.resolved]
        self._open = len(view.open)
        with self.prevent(OptionList.OptionHighlighted):
            self.set_options(options)
            if keep is not None:
                self.select_id(keep)
        self.scroll_to(y=scroll, animate=False, immediate=True)
        self.call_after_refresh(self._count_hidden)

    def _title_room(self) -> int:
        """Cells a row has: the content width less a scrollbar's room (counted always, so a
        scrollbar that comes or goes never re-cuts the titles) and an option's padding."""
        padding = self.get_component_styles("option-list--option").padding
        width = self.size.width - self.styles.scrollbar_size_vertical - padding.width
        return max(0, width)

    def on_resize(self) -> None:
        if self._view is not None and self._title_room() != self._width:
            view, self._shown = self._view, []
            self.show(view, self.highlighted_id, self._empty)
        self._count_hidden()

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._count_hidden()

    def _count_hidden(self) -> None:
        """``+N more open`` in the border while open incidents are out of view."""
        height = self.scrollable_content_region.height
        if not height or not self.is_mounted:
            return
        top = round(self.scroll_y)
        hidden = sum(1 for line in range(self._open) if not top <= line < top + height)
        subtitle = f"+{hidden} more open (i, ↑↓)" if hidden else ""
        if self.border_subtitle != subtitle:
            self.border_subtitle = subtitle

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


def _prefix(ref: IncidentRef, view: SwitcherView) -> list[tuple[str, str]]:
    mark, style = _MARK.get(ref.status, ("?", ""))
    parts = [(f"{mark} ", style)]
    if view.urgency.get(ref.id) == "low":
        parts.append(("low ", "dim"))
    if ref.is_drill:
        parts.append(("DRILL ", "reverse"))
    parts.append((f"{safe_line(ref.label)} ", "bold"))
    return parts


def _prefix_cells(ref: IncidentRef, view: SwitcherView) -> int:
    return sum(cell_len(part) for part, _ in _prefix(ref, view))


def _option(ref: IncidentRef, view: SwitcherView, title: str) -> Option:
    text = Text(no_wrap=True, overflow="ellipsis")
    for part, style in _prefix(ref, view):
        text.append(part, style)
    text.append(title)
    return Option(text, id=ref.id)


def distinct_titles(titles: list[str], rooms: list[int]) -> list[str]:
    """Each title cut to its room so that titles sharing a start stay apart: the head, an
    ellipsis, and the part from the word where it differs from the most alike other title
    (cut in turn when long). A title that fits, or whose difference shows before the cut,
    is left to the list's own ellipsis."""
    # In sorted order the start two titles share is the least of what each neighbouring
    # pair between them shares, so the alike titles are a title's neighbours and one
    # comparison per neighbouring pair tells all of them (comparing every title with every
    # other was ~40,000 comparisons for the 200 rows of a first frame).
    order = sorted(range(len(titles)), key=titles.__getitem__)
    ordered = [titles[n] for n in order]
    place = {index: at for at, index in enumerate(order)}
    next_shares = [_common(a, b) for a, b in zip(ordered, ordered[1:], strict=False)]
    result = []
    for index, title in enumerate(titles):
        room = rooms[index]
        if room < 12 or cell_len(title) <= room:
            result.append(title)
            continue
        # The others that would look the same when cut at the room: the first difference
        # from any of them is what the row must keep.
        shared = _least_alike(ordered, next_shares, place[index], room - 2)
        if shared is None:  # every difference shows before the list's ellipsis
            result.append(title)
            continue
        # From the word the difference is in (or the word it starts, after a space).
        start = (
            shared + 1
            if shared < len(title) and title[shared] == " "
            else title.rfind(" ", 0, shared) + 1
        )
        part = title[start:]
        limit = room // 2 + 4
        if cell_len(part) > limit and shared - start >= limit - 1:
            part = title[shared - (limit - 2) :]  # the difference itself must stay in
        if cell_len(part) > limit:
            part = part[: limit - 1].rstrip() + "…"
        head = title[: max(1, room - 1 - cell_len(part))].rstrip()
        result.append(f"{head}…{part}")
    return result


def _least_alike(ordered: list[str], next_shares: list[int], at: int, least: int) -> int | None:
    """The shortest start the title at ``at`` shares with another (different) title that
    shares at least ``least`` characters with it, or None when none does. ``ordered`` is
    every title sorted; ``next_shares[n]`` is what ``ordered[n]`` and ``ordered[n + 1]``
    share."""
    title = ordered[at]
    found: int | None = None
    for step in (-1, 1):
        shared = len(title)
        n = at + step
        while 0 <= n < len(ordered):
            shared = min(shared, next_shares[min(n, n - step)])
            if shared < least:
                break
            if ordered[n] != title:
                found = shared if found is None else min(found, shared)
            n += step
    return found


def _common(left: str, right: str) -> int:
    n = 0
    for a, b in zip(left, right, strict=False):
        if a != b:
            break
        n += 1
    return n
