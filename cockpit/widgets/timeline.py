"""The incident's timeline, newest first: log entries, notes, runbook ticks, baton passes.

A line-based ScrollView: each item is rendered once (per width) into strips and the view
draws only the rows on screen. A tick prepends one or two items without a layout pass of the
screen (a Static that grows would re-lay out and repaint everything on every tick), and a
refresh never moves the user: when they have scrolled down, the rows added above push the
scroll offset by as much, so what they read stays where it was.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from cockpit.store.reads import TimelineItem
from cockpit.text import safe
from cockpit.view_model import clock_time
from cockpit.widgets.step_prompt import wrap

_KIND_STYLE = {
    "trigger": "red",
    "acknowledge": "yellow",
    "resolve": "green",
    "note": "cyan",
    "runbook": "magenta",
    "command": "magenta",
    "baton": "blue",
    "notify": "dim",
}
LIMIT = 200
ITEM_LIMIT = 2_000  # characters of one note or command output shown; `cockpit show --full`
ITEM_LINES = 40
_Key = tuple[object, ...]


NARROW = 60  # below this width an item is "time kind text" under a 6-cell indent


def render_item(item: TimelineItem, more: str = "", width: int = 0) -> Text:
    """One item; a long note or output is cut (``more`` says where to read it whole). In a
    narrow column (``width`` under 60 cells) the kind is not padded to a column, and the
    text wraps under the time instead of under an 18-cell indent."""
    narrow = 0 < width < NARROW
    indent = 6 if narrow else 18
    text = Text()
    text.append(clock_time(item.at), "dim")
    kind = f" {item.kind} " if narrow else f" {item.kind:<11} "
    text.append(kind, _KIND_STYLE.get(item.kind, ""))
    if item.state:
        style = "bold yellow" if item.state == "pending" else "bold red"
        text.append(f"[{item.state}] ", style)
    # Notes and command output keep their lines, indented under the first one.
    summary = safe(item.summary, limit=ITEM_LIMIT, lines=ITEM_LINES, more=more)
    if narrow:
        text.append(summary.rstrip("\n"))
        return wrap(text, width, " " * indent)
    text.append(summary.rstrip("\n").replace("\n", "\n" + " " * indent))
    return text


def render_timeline(items: list[TimelineItem]) -> Text:
    """The whole timeline as one Text (exports and tests)."""
    if not items:
        return Text("Nothing yet.", "dim")
    return Text("\n").join(render_item(item) for item in items)


def _key(item: TimelineItem) -> _Key:
    return (item.at, item.kind, item.summary, item.actor, item.state, item.remote)


class Timeline(ScrollView, can_focus=True):
    """Scrolls by itself (↑↓, page keys); updates keep the reader's place."""

    BORDER_TITLE = "Timeline"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.items: list[TimelineItem] = []
        self._strips: dict[tuple[_Key, int, str], list[Strip]] = {}
        self.more = ""  # where a cut item can be read whole: cockpit show ID --full
        self._lines: list[Strip] = []
        self._width = 0

    def show(self, items: list[TimelineItem], more: str | None = None) -> None:
        """Show ``items`` (newest first) in place of what is shown; ``more`` is where a cut
        item can be read whole (``cockpit show ID --full``; None: as before)."""
        if more is not None:
            self.more = more
        items = list(items[:LIMIT])
        if [_key(i) for i in items] == [_key(i) for i in self.items]:
            return
        old_first = _key(self.items[0]) if self.items else None
        added = next((n for n, item in enumerate(items) if _key(item) == old_first), 0)
        self.items = items
        self._layout_lines(shift_items=added)

    def prepend(self, newest: list[TimelineItem]) -> bool:
        """Merge the newest items (newest first) over what is shown; False when they do not
        join up with it (then the caller shows the full list)."""
        if not self.items:
            self.show(newest)
            return True
        head = _key(self.items[0])
        keys = [_key(item) for item in newest]
        if head not in keys:
            return False
        added = keys.index(head)
        overlap = newest[added:]
        if [_key(i) for i in overlap] != [_key(i) for i in self.items[: len(overlap)]]:
            return False
        if added:
            self.items = (newest[:added] + self.items)[:LIMIT]
            self._layout_lines(shift_items=added)
        return True

    def _item_strips(self, item: TimelineItem, width: int) -> list[Strip]:
        key = (_key(item), width, self.more)
        strips = self._strips.get(key)
        if strips is None:
            console = self.app.console
            options = console.options.update_width(max(1, width))
            strips = [
                Strip(line)
                for line in console.render_lines(
                    render_item(item, self.more, width), options, pad=False
                )
            ]
            self._strips[key] = strips
        return strips

    def _layout_lines(self, shift_items: int = 0) -> None:
        width = self._line_width()
        self._width = width
        if not width:
            return
        if not self.items:
            self._lines = [Strip([Segment("Nothing yet.", Style(dim=True))])]
        else:
            lines: list[Strip] = []
            added_lines = 0
            for index, item in enumerate(self.items):
                strips = self._item_strips(item, width)
                if index < shift_items:
                    added_lines += len(strips)
                lines.extend(strips)
            self._lines = lines
            if shift_items and self.scroll_y > 0:
                self.scroll_to(y=self.scroll_y + added_lines, animate=False, immediate=True)
        if len(self._strips) > 4 * LIMIT:  # old widths and items that left the list
            wanted = {(_key(i), width, self.more) for i in self.items}
            self._strips = {k: v for k, v in self._strips.items() if k in wanted}
        self._set_virtual_size(Size(width, len(self._lines)))
        self.refresh()

    def _set_virtual_size(self, size: Size) -> None:
        """``virtual_size`` is a layout reactive: setting it lays out the whole screen. Only
        the scrollbar appearing or going needs that; a longer list that scrolled before (or
        still fits) only needs the scrollbar's thumb updated."""
        old = self.virtual_size
        height = self.scrollable_content_region.height
        if (
            old.height
            and old.width == size.width
            and (old.height > height) == (size.height > height)
        ):
            self.set_reactive(Timeline.virtual_size, size)
            self._scroll_update(size)
        else:
            self.virtual_size = size

    def _line_width(self) -> int:
        """The width items are laid out at: the content less a vertical scrollbar's room,
        counted always, so the scrollbar coming with a longer timeline never makes the lines
        wider than the view (nor re-lays them out)."""
        return max(0, self.size.width - self.styles.scrollbar_size_vertical)

    def on_resize(self) -> None:
        if self._line_width() != self._width:
            self._layout_lines()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        style = self.rich_style
        if index >= len(self._lines):
            return Strip.blank(width, style)
        return self._lines[index].crop_extend(scroll_x, scroll_x + width, style).apply_style(style)
