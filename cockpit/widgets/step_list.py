"""An OptionList whose prompts can change without re-measuring every option.

``OptionList.replace_option_prompt`` drops the line cache of the whole list, so the next frame
measures the height of every option again: on a long runbook each tick then costs time in
proportion to the number of steps. A tick changes one or two lines whose height rarely
changes, so :meth:`StepList.set_prompt` keeps the line cache when the height is the same and
only drops the rendered strips (the visible lines are rendered again, nothing else).
"""

from __future__ import annotations

from textual.visual import VisualType
from textual.widgets import OptionList


class StepList(OptionList):
    """The checklist's steps. Relies on OptionList internals of the pinned Textual (8.2.8)."""

    def set_prompt(self, option_id: str, prompt: VisualType) -> None:
        index = self.get_option_index(option_id)
        option = self.get_option_at_index(index)
        cache = self._line_cache
        old_height = cache.heights.get(index)
        option._set_prompt(prompt)
        region = self.scrollable_content_region
        if old_height is None or not region:
            self._clear_caches()
            return
        width = region.width - self._get_left_gutter_width()
        padding = self.get_component_styles("option-list--option").padding
        height = self._get_visual(option).get_height(
            self.styles, width - padding.width)  # type: ignore[arg-type]
        if height + option._divider != old_height:
            self._clear_caches()
            return
        for key in [key for key in self._option_render_cache.keys() if key[0] is option]:
            self._option_render_cache.discard(key)
        self.refresh_lines(cache.index_to_line[index], old_height)
