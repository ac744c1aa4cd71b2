"""Pages for me this shift and this week against the budget, with a 14-day sparkline.

The budget is the Google SRE one: at most 2 incidents per 12-hour shift. Green under it,
amber at it, red above it. Drill incidents never count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rich.text import Text
from sqlmodel import col, select
from textual.widget import Widget

from cockpit.store.engine import Store
from cockpit.store.models import Person, TimelineEvent
from cockpit.store.types import as_utc

BUDGET_PER_SHIFT = 2
SHIFT = timedelta(hours=12)
_BARS = " ▁▂▃▄▅▆▇█"


@dataclass(frozen=True)
class PageLoad:
    shift: int = 0  # incidents that paged me in the last 12 h
    week: int = 0  # incidents that paged me in the last 7 days
    business: int = 0  # pages this week by the hour they came, in my time zone
    off_hours: int = 0
    sleep: int = 0
    daily: list[int] = field(default_factory=lambda: [0] * 14)  # oldest first, today last

    @property
    def level(self) -> str:
        if self.shift > BUDGET_PER_SHIFT:
            return "red"
        if self.shift == BUDGET_PER_SHIFT:
            return "amber"
        return "green"


def bucket(local: datetime) -> str:
    """business 08-18 Mon-Fri, off-hours 18-22 Mon-Fri and weekends, sleep 22-08."""
    hour = local.hour
    if hour >= 22 or hour < 8:
        return "sleep"
    if local.weekday() < 5 and 8 <= hour < 18:
        return "business"
    return "off_hours"


def load_page_load(store: Store, me_id: str, now: datetime) -> PageLoad:
    """The meter's numbers from the notify log entries.

    TODO: switch to ``cockpit.metrics`` page load once it lands; this is the same SQL, kept
    small so that the swap is one call.
    """
    start = now - timedelta(days=14)
    with store.read() as session:
        rows = session.exec(
            select(TimelineEvent.incident_id, TimelineEvent.at)
            .where(
                TimelineEvent.kind == "notify",
                TimelineEvent.person_id == me_id,
                col(TimelineEvent.is_drill).is_(False),
                TimelineEvent.at >= start,
            )
            .order_by(col(TimelineEvent.at))
        ).all()
        person = session.get(Person, me_id)
    zone = _zone(person.time_zone if person else "UTC")
    first: dict[str, datetime] = {}
    for incident_id, at in rows:
        first.setdefault(incident_id, as_utc(at))  # one page per incident: its first notify
    daily = [0] * 14
    shift = week = 0
    split = {"business": 0, "off_hours": 0, "sleep": 0}
    for at in first.values():
        days_ago = (now.date() - at.date()).days
        if 0 <= days_ago < 14:
            daily[13 - days_ago] += 1
        if at > now - SHIFT:
            shift += 1
        if at > now - timedelta(days=7):
            week += 1
            split[bucket(at.astimezone(zone))] += 1
    return PageLoad(shift, week, split["business"], split["off_hours"], split["sleep"], daily)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def sparkline(values: list[int]) -> str:
    top = max(values, default=0)
    if top == 0:
        return _BARS[1] * len(values)
    return "".join(_BARS[max(1, round(v / top * (len(_BARS) - 1)))] if v else _BARS[0]
                   for v in values)


class PageLoadMeter(Widget):
    """Two lines: the shift against the budget, then the week's split and the sparkline."""

    DEFAULT_CSS = """
    PageLoadMeter {
        height: 2;
    }
    """

    COMPONENT_CLASSES = {"page-load-meter--bar", "page-load-meter--label"}

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.load = PageLoad()

    def show(self, load: PageLoad) -> None:
        self.load = load
        for level in ("green", "amber", "red"):
            self.set_class(load.level == level, f"-{level}")
        self.refresh()

    def render(self) -> Text:
        load = self.load
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("page load ", "bold")
        filled = min(load.shift, BUDGET_PER_SHIFT + 1)
        bar = "■" * filled + "□" * max(0, BUDGET_PER_SHIFT - filled)
        text.append(bar, self.get_component_rich_style("page-load-meter--bar"))
        text.append(f" {load.shift}/{BUDGET_PER_SHIFT} this shift", "")
        text.append(f"  {load.week} this week", "dim")
        text.append("\n")
        text.append(
            f"biz {load.business} · off {load.off_hours} · sleep {load.sleep}  ",
            self.get_component_rich_style("page-load-meter--label"),
        )
        text.append(sparkline(load.daily), self.get_component_rich_style("page-load-meter--bar"))
        text.append(" 14d", "dim")
        return text
