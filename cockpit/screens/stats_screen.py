"""Load and response at a glance: pages per week per person as a terminal chart, MTTA/MTTR
per service (median, p95, mean), concentration, and the flywheel beside the pages.

Every number comes from ``cockpit.metrics`` and ``cockpit.flywheel`` (the SQL that
``cockpit stats`` prints); this screen only draws them.

| Key | Action |
| :- | :- |
| + / - | Longer / shorter window (4, 8, 12, 26 weeks) |
| escape | Back |
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static
from textual.worker import get_current_worker

from cockpit.metrics.stats import format_seconds
from cockpit.screens.host import host_of, store_or_say
from cockpit.text import safe_line
from cockpit.widgets.footer import KeyFooter

if TYPE_CHECKING:
    from cockpit.screens.host import HostApp

WINDOWS = (4, 8, 12, 26)
BAR_WIDTH = 40
SPARK = "▁▂▃▄▅▆▇█"
# Theme-independent colour names for the people of the chart (rich styles, not hex).
COLOURS = (
    "cyan",
    "magenta",
    "yellow",
    "green",
    "blue",
    "red",
    "bright_cyan",
    "bright_magenta",
    "bright_yellow",
    "bright_green",
    "orange1",
    "purple",
    "turquoise2",
    "deep_pink2",
    "chartreuse2",
    "dodger_blue1",
    "gold1",
    "orchid",
    "salmon1",
    "spring_green2",
)


def person_colours(count: int) -> list[str]:
    """``count`` chart colours, no two alike: the named ones, then more of the terminal's
    256 colours, spread over its colour cube (each a number no earlier one uses)."""
    from rich.color import Color

    chosen = list(COLOURS[:count])
    used = {Color.parse(name).number for name in chosen}
    # 37 is prime to 216: this visits every colour of the cube once, far apart in turn.
    for index in [16 + (k * 37) % 216 for k in range(216)] + list(range(232, 256)):
        if len(chosen) >= count:
            break
        if index not in used:
            chosen.append(f"color({index})")
            used.add(index)
    return chosen + ["default"] * (count - len(chosen))


@dataclass
class StatsData:
    since: datetime
    weeks: list[date]
    people: list[tuple[str, str, int, int]]  # (person id, name, pages, sleep pages)
    weekly: dict[str, dict[date, int]]  # person id -> week -> pages
    concentration: float
    response: list[Any]
    flywheel: list[Any]
    over_budget: list[Any] = field(default_factory=list)  # red and amber 12-hour blocks


class Superseded(Exception):
    """A newer window was asked for while this gathering ran: it stops where it is."""


def _never_superseded() -> None:
    return None


def gather(
    store: Any, now: datetime, weeks: int, checkpoint: Callable[[], None] = _never_superseded
) -> StatsData:
    """Everything the screen shows, in one read (``metrics.report``); ``checkpoint`` is
    called between its steps and may raise :class:`Superseded` to stop it."""
    from cockpit.metrics.pageload import concentration
    from cockpit.metrics.report import stats_report

    report = stats_report(store, now - timedelta(weeks=weeks), now, checkpoint=checkpoint)
    weekly, loads = report.weekly, report.loads
    return StatsData(
        since=report.since,
        weeks=sorted({monday for per in weekly.values() for monday in per}),
        people=[
            (load.person_id, load.name, load.pages, load.split.get("sleep", 0)) for load in loads
        ],
        weekly={pid: {w: load.pages for w, load in per.items()} for pid, per in weekly.items()},
        concentration=concentration(loads),
        response=report.response,
        flywheel=report.flywheel,
        over_budget=[b for b in report.blocks if b.state != "green"],
    )


def _stop_if_superseded() -> None:
    """A checkpoint for :func:`gather` in a worker: stop once a newer request cancelled it."""
    if get_current_worker().is_cancelled:
        raise Superseded


def spark(values: list[int]) -> str:
    peak = max(values, default=0)
    if not peak:
        return SPARK[0] * len(values)
    return "".join(SPARK[min(len(SPARK) - 1, round(v / peak * (len(SPARK) - 1)))] for v in values)


def pages_chart(data: StatsData) -> Text:
    """One line per week: a bar stacked by person (one colour each), then the total."""
    text = Text("Pages per week per person", "bold")
    text.append(f"  (since {data.since:%Y-%m-%d}, drills excluded)", "dim")
    if not data.weeks:
        text.append("\nNo pages in this window.", "dim")
        return text
    order = [pid for pid, *_ in data.people]
    colour = dict(zip(order, person_colours(len(order)), strict=True))
    totals = {w: sum(data.weekly.get(pid, {}).get(w, 0) for pid in order) for w in data.weeks}
    peak = max(totals.values(), default=0) or 1
    for week in data.weeks:
        text.append(f"\n{week:%m-%d} ", "dim")
        used = running = 0
        for pid in order:
            # Cumulative rounding: the segments always add up to the week's bar, never wider.
            running += data.weekly.get(pid, {}).get(week, 0)
            cells = round(running / peak * BAR_WIDTH) - used
            text.append("█" * cells, colour[pid])
            used += cells
        text.append(" " * max(0, BAR_WIDTH - used + 1))
        text.append(f"{totals[week]:>4}", "bold")
    text.append("\n")
    for pid, name, pages, sleep in data.people:
        values = [data.weekly.get(pid, {}).get(w, 0) for w in data.weeks]
        text.append("\n■ ", colour[pid])
        text.append(f"{safe_line(name)[:20]:<20} ")
        text.append(spark(values), colour[pid])
        text.append(f"  {pages:>4} {'page ' if pages == 1 else 'pages'}")
        text.append(f"  {sleep} in sleep hours", "bold red" if sleep else "dim")
    share = data.concentration
    text.append(
        f"\n\nConcentration: the busiest person carried {share:.0%} of pages",
        "bold red" if share > 0.5 and len(data.people) > 1 else "",
    )
    return text


def _cell(summary: Any) -> str:
    return " / ".join(format_seconds(v) for v in (summary.median, summary.p95, summary.mean))


def response_table(data: StatsData) -> Table:
    table = Table(
        title="Response per service (median / p95 / mean)",
        title_justify="left",
        title_style="bold",
        box=None,
        expand=False,
        pad_edge=False,
    )
    for name, justify in (
        ("service", "left"),
        ("n", "right"),
        ("MTTA", "left"),
        ("MTTR", "left"),
        ("to rollback", "left"),
    ):
        table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for row in data.response:
        table.add_row(
            Text(safe_line(row.group)[:24], "bold" if row.group == "(all)" else ""),
            str(row.incidents),
            _cell(row.mtta),
            _cell(row.mttr),
            _cell(row.rollback),
        )
    return table


def budget_table(data: StatsData) -> Table | Text:
    """The 12-hour blocks over (red) or at (amber) the SRE budget, in each person's zone."""
    from cockpit.metrics.hours import zone

    title = "Shifts over budget (at most 2 incidents per 12 hours)"
    if not data.over_budget:
        return Text(f"{title}: none", "bold")
    table = Table(title=title, title_justify="left", title_style="bold", box=None, pad_edge=False)
    for name in ("person", "12-hour block", "incidents", "pages", "sleep", "state"):
        table.add_column(
            name,
            justify="right" if name in ("incidents", "pages", "sleep") else "left",
            no_wrap=True,
        )
    for block in data.over_budget:
        tz = zone(block.time_zone)
        lo, hi = block.start.astimezone(tz), block.end.astimezone(tz)
        table.add_row(
            Text(safe_line(block.load.name)[:20]),
            f"{lo:%a %m-%d %H:%M}–{hi:%H:%M} {lo:%Z}",
            str(block.load.incidents),
            str(block.load.pages),
            str(block.load.split["sleep"]),
            Text(block.state, "bold red" if block.state == "red" else "yellow"),
        )
    return table


def flywheel_table(data: StatsData) -> Table:
    table = Table(
        title="Flywheel beside the pages (UTC weeks)",
        title_justify="left",
        title_style="bold",
        box=None,
        pad_edge=False,
    )
    for name in ("week", "incidents", "with insight", "guardrails", "runbooks", "pages", ""):
        table.add_column(name, justify="left" if name in ("week", "") else "right", no_wrap=True)
    peak = max((w.pages for w in data.flywheel), default=0) or 1
    for week in data.flywheel:
        bar = Text("█" * round(week.pages / peak * 20), "red")
        bar.append("◆" * week.guardrails, "green")
        table.add_row(
            f"{week.monday:%m-%d}",
            str(week.incidents),
            str(week.with_insight),
            str(week.guardrails),
            str(week.runbooks),
            str(week.pages),
            bar,
        )
    return table


class StatsScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "back", "Back", tooltip="Back to the cockpit", id="stats.back"),
        Binding(
            "plus,equals_sign",
            "window(1)",
            "Longer",
            tooltip="A longer window (4, 8, 12, 26 weeks)",
            id="stats.longer",
        ),
        Binding("minus", "window(-1)", "Shorter", tooltip="A shorter window", id="stats.shorter"),
    ]

    def __init__(self, weeks: int = 8) -> None:
        super().__init__()
        self.weeks = weeks if weeks in WINDOWS else 8
        self.data: StatsData | None = None
        self.gathered = 0  # gatherings that ran to the end (superseded ones stop early)

    @property
    def cockpit(self) -> HostApp:
        return host_of(self)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="stats", can_focus=True):
            yield Static(id="stats-pages")
            yield Static(id="stats-budget")
            yield Static(id="stats-response")
            yield Static(id="stats-flywheel")
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        self.query_one("#stats").focus()
        self.load()

    def load(self) -> None:
        """Gather in a thread (weeks of a big store take a moment), then show. A newer
        window's gathering cancels an older one still running (an exclusive worker), and the
        older one stops at its next checkpoint instead of reading on: pressing + three times
        costs one gathering, not three."""
        self.query_one("#stats").border_title = f"Stats: last {self.weeks} weeks (+/-)  loading…"
        self._gather(self.weeks)

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="stats",
        description="gather the stats",
    )
    def _gather(self, weeks: int) -> None:
        store = self.cockpit.store
        assert store is not None
        try:
            data = gather(store, self.cockpit.clock(), weeks, _stop_if_superseded)
        except Superseded:
            return
        if not get_current_worker().is_cancelled:
            self.gathered += 1
            self.app.call_from_thread(self._show, data, weeks)

    def _show(self, data: StatsData, weeks: int) -> None:
        if weeks != self.weeks:
            return  # the user moved on to another window meanwhile
        self.data = data
        self.query_one("#stats").border_title = f"Stats: last {self.weeks} weeks (+/-)"
        self.query_one("#stats-pages", Static).update(pages_chart(self.data))
        self.query_one("#stats-budget", Static).update(budget_table(self.data))
        self.query_one("#stats-response", Static).update(response_table(self.data))
        self.query_one("#stats-flywheel", Static).update(flywheel_table(self.data))

    def action_window(self, step: int) -> None:
        index = WINDOWS.index(self.weeks) + step
        weeks = WINDOWS[max(0, min(len(WINDOWS) - 1, index))]
        if weeks == self.weeks:
            return  # already the longest (or shortest): the gathering under way stands
        self.weeks = weeks
        self.load()

    def action_back(self) -> None:
        self.dismiss(None)


def open_stats(app: HostApp) -> None:
    if store_or_say(app, "Stats") is None:
        return
    from textual.screen import ModalScreen

    if not isinstance(app.screen, StatsScreen | ModalScreen):
        app.push_screen(StatsScreen())
