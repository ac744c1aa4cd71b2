"""The stats screen: pages per week per person as a terminal chart, response per service,
the flywheel beside the pages; + and - change the window."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cockpit_seed import NOW
from textual.widgets import Static

from cockpit.app import CockpitApp
from cockpit.flywheel import record_insight
from cockpit.screens.stats_screen import StatsScreen, gather, pages_chart, spark


def test_spark_scales_to_the_peak() -> None:
    assert spark([0, 1, 2, 4]) == "▁▃▅█"  # 7 steps: 1/4 of the peak rounds to step 2
    assert spark([0, 0]) == "▁▁"


async def test_stats_screen_shows_load_response_and_flywheel(app: CockpitApp) -> None:
    record_insight(
        app.store,
        "pagerduty:PINC099",
        text="Index lag after deploy",  # type: ignore[arg-type]
        guardrail="canary",
        owner="search",
        clock=lambda: NOW - timedelta(hours=1),
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("S")
        await app.workers.wait_for_complete()  # gathered in a thread
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, StatsScreen) and screen.data is not None
        chart = str(screen.query_one("#stats-pages", Static).content)
        # Alex was paged for #101, #102 (this week) and #99 (three days ago): 3 pages.
        assert "Alex Night" in chart and "   3 pages" in chart
        assert "carried 100% of pages" in chart
        data = screen.data
        assert [row.group for row in data.response][:1] == ["(all)"]
        assert sum(week.with_insight for week in data.flywheel) == 1
        assert sum(week.guardrails for week in data.flywheel) == 1
        assert sum(week.pages for week in data.flywheel) == 3
        assert screen.weeks == 8
        await pilot.press("plus")
        assert screen.weeks == 12
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.data.since == NOW - timedelta(weeks=12)
        await pilot.press("minus", "minus", "minus")
        assert screen.weeks == 4
        await pilot.press("escape")
        assert not isinstance(app.screen, StatsScreen)


def test_chart_bars_are_stacked_per_person(app: CockpitApp) -> None:
    data = gather(app.store, NOW, 8)
    text = pages_chart(data)
    week_lines = [line for line in text.plain.splitlines() if line[:2].isdigit()]
    assert [line.split()[0] for line in week_lines] == ["03-02", "03-09"]
    assert [line.split()[-1] for line in week_lines] == ["1", "2"]
    # The busiest week fills the bar; the other is scaled to it.
    assert [line.count("█") for line in week_lines] == [20, 40]


def test_the_stats_screen_table_lists_the_red_block(tmp_path: Path) -> None:
    from rich.console import Console

    from cockpit.screens.stats_screen import budget_table
    from cockpit.store import Incident, OnCallShift, Person, Store, TimelineEvent
    from cockpit.store.timefmt import utcnow

    store = Store.open(tmp_path / "data")
    now = utcnow().replace(microsecond=0)
    with store.write() as session:
        session.add(Person(id="pagerduty:ANN", source="pagerduty", name="Ann"))
        session.add(
            OnCallShift(
                source="pagerduty",
                person_id="pagerduty:ANN",
                start=now - timedelta(hours=10),
                end=now + timedelta(days=6),
            )
        )
        for n in range(3):  # three incidents in the current 12-hour block: red against 2
            at = now - timedelta(hours=5 - n)
            session.add(
                Incident(
                    id=f"pagerduty:S{n}",
                    source="pagerduty",
                    remote_id=f"S{n}",
                    title="disk",
                    status="resolved",
                    created_at=at,
                    updated_at=at,
                )
            )
    with store.write() as session:
        for n in range(3):
            session.add(
                TimelineEvent(
                    incident_id=f"pagerduty:S{n}",
                    kind="notify",
                    at=now - timedelta(hours=5 - n),
                    person_id="pagerduty:ANN",
                    remote_id=f"pagerduty:L{n}",
                )
            )
    data = gather(store, now, 2)
    store.close()
    console = Console(width=120, record=True)
    console.print(budget_table(data))
    shown = console.export_text()
    assert "Shifts over budget" in shown
    assert [line.split()[-1] for line in shown.splitlines() if "Ann" in line] == ["red"]


def test_every_person_in_the_chart_has_a_colour_of_their_own() -> None:
    """Issue 16 item 9: twelve people on call used to share ten colours."""
    from datetime import UTC, date, datetime

    from rich.color import Color

    from cockpit.screens.stats_screen import StatsData, pages_chart, person_colours

    for count in (1, 10, 12, 20, 25, 60):
        numbers = [Color.parse(style).number for style in person_colours(count)]
        assert len(set(numbers)) == count
    week = date(2026, 3, 2)
    people = [(f"p{n}", f"Person {n:02d}", 1, 0) for n in range(12)]
    data = StatsData(
        since=datetime(2026, 3, 1, tzinfo=UTC),
        weeks=[week],
        people=people,
        weekly={pid: {week: 1} for pid, *_ in people},
        concentration=0.1,
        response=[],
        flywheel=[],
    )
    chart = pages_chart(data)
    squares = {
        str(span.style) for span in chart.spans if chart.plain[span.start : span.end].strip() == "■"
    }
    assert len(squares) == 12


async def test_a_newer_window_stops_the_older_gathering(
    app: CockpitApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 17 item 6: + pressed three times quickly ran three gatherings to the end, one
    after the other. Now the newer request cancels the older and the older stops at its
    next checkpoint: one window's worth of reading, and the screen shows the last window.
    The gatherings are held at a gate until all three keys are in, so nothing here depends
    on how fast the thread is."""
    from cockpit.metrics import report

    gate = threading.Event()
    read: list[object] = []
    # The report reads a window's rows through ``read_weeks`` (whole weeks kept or folded).
    real_read, real_report = report.read_weeks, report.stats_report

    def counted_read(conn: Any, since: Any, until: Any, *rest: Any) -> Any:
        read.append(since)
        return real_read(conn, since, until, *rest)

    def held(*args: Any, **kwargs: Any) -> Any:
        gate.wait(30)
        return real_report(*args, **kwargs)

    monkeypatch.setattr(report, "read_weeks", counted_read)
    monkeypatch.setattr(report, "stats_report", held)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("S")  # the first gathering (8 weeks) waits at the gate
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, StatsScreen)
        await pilot.press("plus", "plus", "plus")  # 12, 26, and 26 is the longest
        assert screen.weeks == 26
        gate.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert read == [NOW - timedelta(weeks=26)]  # the 8- and 12-week ones read nothing
        assert screen.gathered == 1
        assert screen.data is not None and screen.data.since == NOW - timedelta(weeks=26)
        title = str(screen.query_one("#stats").border_title)
        assert "last 26 weeks" in title and "loading" not in title
