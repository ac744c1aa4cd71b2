"""Pages for me this shift and this week against the budget, with a 14-day sparkline.

The numbers are ``cockpit.metrics.pageload.meter_for``: the budget is Google SRE's (at most
2 incidents per 12-hour shift; a longer shift, like a week-long rotation, is judged in 12-hour
blocks from its start, so "this shift" is the current block, against 2), pages are split into
business / off-hours / sleep hours in my own time zone, and drill incidents never count.
Green, amber or red comes from the metrics too, with the reasons: shown on the first line
when not green, in the tooltip on hover, and on the help screen (``?``) for keyboard users.
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.widget import Widget

from cockpit.metrics.hours import zone
from cockpit.metrics.pageload import Meter, meter_for
from cockpit.store.engine import Store

_BARS = " ▁▂▃▄▅▆▇█"


def load_page_load(store: Store, me_id: str, now: datetime) -> Meter:
    """The meter's numbers (one indexed range query over my notify entries)."""
    return meter_for(store, me_id, now)


def sparkline(values: tuple[int, ...] | list[int]) -> str:
    top = max(values, default=0)
    if top == 0:
        return _BARS[1] * len(values)
    return "".join(
        _BARS[max(1, round(v / top * (len(_BARS) - 1)))] if v else _BARS[1] for v in values
    )


def block_span(meter: Meter, fmt: str = "%H:%M") -> str:
    """The current 12 h block's local start and end, like ``20:00–08:00``."""
    if meter.block_start is None or meter.block_end is None:
        return ""
    tz = zone(meter.time_zone)
    return f"{meter.block_start.astimezone(tz):{fmt}}–{meter.block_end.astimezone(tz):{fmt}}"


def explain(meter: Meter | None) -> str:
    """The meter in words: what it counts and why it has its colour (tooltip and help)."""
    if meter is None:
        return "Page load: not computed yet."
    if meter.in_blocks:
        of = f" of {meter.blocks}" if meter.blocks else ""
        window = (
            f"This 12 h of the shift (block {meter.block + 1}{of}, "
            f"{block_span(meter, '%a %H:%M')} your time)"
        )
    else:
        window = "This shift"
    lines = [
        f"Page load: {meter.state}.",
        f"{window}: {meter.shift_incidents} incident(s), {meter.shift_pages} page(s); "
        f"budget {meter.shift_budget} incidents (SRE: at most 2 per 12-hour shift).",
        f"This week: {meter.week_incidents} incident(s), {meter.week_pages} page(s); "
        f"budget {meter.week_budget} (2 per 12 h on call this week).",
        "This week's pages by hour: "
        f"business {meter.week_split.get('business', 0)}, "
        f"off-hours {meter.week_split.get('off_hours', 0)}, "
        f"sleep {meter.week_split.get('sleep', 0)} (your time zone).",
    ]
    if not meter.on_shift:
        lines.append("No on-call shift on record now: the last 12 hours count as the shift.")
    elif meter.in_blocks:
        lines.append(
            "A shift longer than 12 h is judged in 12-hour blocks from its start, "
            "each against 2 incidents; a page in an earlier block does not count here."
        )
    lines += [f"- {reason}" for reason in meter.reasons]
    lines.append("Drill incidents never count.")
    return "\n".join(lines)


class PageLoadMeter(Widget):
    """Two lines: the shift and week against their budgets (and why, when not green), then
    the week's split by hour band and the 14-day sparkline."""

    DEFAULT_CSS = """
    PageLoadMeter {
        height: 2;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    COMPONENT_CLASSES = {"page-load-meter--bar", "page-load-meter--label"}

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.meter: Meter | None = None

    def show(self, meter: Meter) -> None:
        if meter == self.meter:
            return
        self.meter = meter
        for level in ("green", "amber", "red"):
            self.set_class(meter.state == level, f"-{level}")
        self.tooltip = explain(meter)
        self.refresh()

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        meter = self.meter
        text.append("page load ", "bold")
        if meter is None:
            text.append("…", "dim")
            return text
        bar_style = self.get_component_rich_style("page-load-meter--bar")
        label_style = self.get_component_rich_style("page-load-meter--label")
        budget = meter.shift_budget
        filled = min(meter.shift_incidents, budget + 1)
        text.append("■" * filled + "□" * max(0, budget - filled), bar_style)
        where = f"this 12 h {block_span(meter)}" if meter.in_blocks else "this shift"
        text.append(f" {meter.shift_incidents}/{budget} {where}")
        text.append(f"  week {meter.week_incidents}/{meter.week_budget}", "dim")
        if meter.reasons:
            text.append(f"  {meter.state}: ", bar_style)
            text.append(meter.reasons[0], label_style)
        text.append("\n")
        split = meter.week_split
        text.append(
            f"biz {split.get('business', 0)} · off {split.get('off_hours', 0)} · "
            f"sleep {split.get('sleep', 0)}  ",
            label_style,
        )
        text.append(sparkline(meter.daily), bar_style)
        text.append(" 14d", "dim")
        return text
