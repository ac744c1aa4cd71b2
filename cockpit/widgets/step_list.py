"""An OptionList that never breaks a line: a command longer than the pane scrolls sideways.

Two things differ from Textual's OptionList:

- **No wrapping, sideways scrolling.** The prompts come already wrapped where wrapping is
  right (the step's prose, ``step_prompt.wrap``); a command or URL line is left whole. Every
  option is rendered at the width of the widest line, and the view shows the part at the
  horizontal scroll offset (``left`` / ``right``, the mouse wheel with shift, or the
  scrollbar), so ``flagctl enable product.swr --env prod`` is never cut into ``product.s`` /
  ``wr``.
- **Cheap prompt updates.** ``OptionList.replace_option_prompt`` drops the line cache of the
  whole list, so the next frame measures the height of every option again: on a long
  runbook each tick then costs time in proportion to the number of steps. A tick changes
  one or two lines whose height rarely changes, so :meth:`StepList.set_prompt` keeps the
  line cache when the height (and the widest line) is the same and only drops the rendered
  strips of that option.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from rich.segment import Segment
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.strip import Strip
from textual.style import Style
from textual.visual import Padding, VisualType
from textual.widgets import OptionList
from textual.widgets.option_list import Option

if TYPE_CHECKING:
    from textual.css.styles import RulesMap


class StepList(OptionList):
    """The checklist's steps. Relies on OptionList internals of the pinned Textual (8.2.8)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "left",
            "scroll_left",
            "Scroll left",
            tooltip="Show the left part of a command too long for the pane",
            id="runbook.scroll-left",
            show=False,
        ),
        Binding(
            "right",
            "scroll_right",
            "Scroll right",
            tooltip="Show the rest of a command too long for the pane",
            id="runbook.scroll-right",
            show=False,
        ),
    ]

    DEFAULT_CSS = """
    StepList {
        text-wrap: nowrap;
        text-overflow: clip;
        overflow-x: auto;
    }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._widths: dict[int, int] = {}  # option index -> widest line, padding included

    # ------------------------------------------------------------------ width

    @property
    def _rules(self) -> RulesMap:
        return cast("RulesMap", self.styles)

    def _visible_width(self) -> int:
        return self.scrollable_content_region.width - self._get_left_gutter_width()

    def _render_width(self) -> int:
        """The width every option is rendered at: the pane, or the widest line."""
        return max(self._visible_width(), max(self._widths.values(), default=0))

    def _measure(self, index: int, option: Option) -> int:
        padding = self.get_component_styles("option-list--option").padding
        width = self._get_visual(option).get_optimal_width(self._rules, 10_000) + padding.width
        self._widths[index] = width
        return width

    def _clear_caches(self) -> None:
        self._widths.clear()
        super()._clear_caches()

    # ------------------------------------------------------------------ OptionList internals

    def _update_lines(self) -> None:
        """OptionList._update_lines, measuring each new option's widest line too, and with
        the virtual width of the widest line (so the view can scroll to it)."""
        if not self.scrollable_content_region:
            return
        line_cache = self._line_cache
        lines = line_cache.lines
        next_index = lines[-1][0] + 1 if lines else 0
        get_visual = self._get_visual
        width = self._visible_width()
        if next_index < len(self.options):
            padding = self.get_component_styles("option-list--option").padding
            for index, option in enumerate(self.options[next_index:], next_index):
                line_cache.index_to_line[index] = len(line_cache.lines)
                line_count = (
                    get_visual(option).get_height(self._rules, width - padding.width)
                    + option._divider
                )
                line_cache.heights[index] = line_count
                line_cache.lines.extend([(index, line_no) for line_no in range(line_count)])
                self._measure(index, option)
        last_divider = self.options and self.options[-1]._divider
        virtual_size = Size(self._render_width(), len(lines) - (1 if last_divider else 0))
        if virtual_size != self.virtual_size:
            self.virtual_size = virtual_size
            self._scroll_update(virtual_size)

    def _get_option_render(self, option: Option, style: Style) -> list[Strip]:
        """OptionList._get_option_render at the widest line's width, not the pane's."""
        padding = self.get_component_styles("option-list--option").padding
        width = self._render_width()
        cache_key = (option, style, padding)
        if (strips := self._option_render_cache.get(cache_key)) is None:
            visual = self._get_visual(option)
            if padding:
                visual = Padding(visual, padding)
            strips = visual.to_strips(self, visual, width, None, style)
            meta = {"option": self._option_to_index[option]}
            strips = [
                strip.extend_cell_length(width, style.rich_style).apply_meta(meta)
                for strip in strips
            ]
            if option._divider:
                rule = self.get_visual_style("option-list--separator")
                strips.append(Strip([Segment("─" * width, rule.rich_style)], width))
            self._option_render_cache[cache_key] = strips
        return strips

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        scroll_x = int(self.scroll_offset.x)
        width = self.scrollable_content_region.width
        if not scroll_x and strip.cell_length == width:
            return strip
        return strip.crop_extend(scroll_x, scroll_x + width, None)

    # ------------------------------------------------------------------ prompts

    def set_prompt(self, option_id: str, prompt: VisualType) -> None:
        index = self.get_option_index(option_id)
        option = self.get_option_at_index(index)
        cache = self._line_cache
        old_height = cache.heights.get(index)
        old_widest = self._render_width()
        option._set_prompt(prompt)
        region = self.scrollable_content_region
        if old_height is None or not region:
            self._clear_caches()
            return
        self._measure(index, option)
        width = self._visible_width()
        padding = self.get_component_styles("option-list--option").padding
        height = self._get_visual(option).get_height(self._rules, width - padding.width)
        if height + option._divider != old_height or self._render_width() != old_widest:
            self._clear_caches()
            return
        for key in [key for key in self._option_render_cache.keys() if key[0] is option]:
            self._option_render_cache.discard(key)
        self.refresh_lines(cache.index_to_line[index], old_height)
