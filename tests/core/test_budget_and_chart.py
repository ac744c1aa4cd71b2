"""Issue 16 item 9: amber is at the budget of 2 (a 12-hour block with one incident is green,
in sleep hours too), and every person in the stats chart has a colour of their own."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from pageseed import incident, notify, open_store, person, shift, utc

from cockpit.cli.stats_cmd import person_colours, svg_chart
from cockpit.metrics import pagelog
from cockpit.metrics.pageload import budget_state


@pytest.mark.parametrize(
    ("incidents", "sleep", "state"),
    [
        (0, 0, "green"),
        (1, 0, "green"),
        (1, 1, "green"),
        (2, 0, "amber"),
        (2, 2, "amber"),
        (3, 0, "red"),
        (3, 3, "red"),
    ],
)
def test_amber_is_at_the_budget_of_two(incidents: int, sleep: int, state: str) -> None:
    got, reasons = budget_state(incidents, 2, sleep, 0, 0)
    assert got == state
    assert (got == "green") == (reasons == ())
    # Sleep pages are named, but only beside a colour the count earned.
    assert any("sleep hours" in r for r in reasons) == (bool(sleep) and got != "green")


def test_stats_lists_no_block_with_one_incident_in_the_night(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = open_store(tmp_path)
    person(store, "pd:A", "Ann")
    shift(store, "pd:A", utc(2026, 3, 30, 20), utc(2026, 3, 31, 8))  # a night shift, UTC
    incident(store, "pd:N1", utc(2026, 3, 31, 2))
    notify(store, "pd:N1", "pd:A", utc(2026, 3, 31, 2))  # 02:00: sleep hours
    (block,) = pagelog.shift_loads(store, utc(2026, 3, 30), utc(2026, 4, 1))
    assert (block.load.incidents, block.load.split["sleep"], block.state) == (1, 1, "green")
    incident(store, "pd:N2", utc(2026, 3, 31, 3))
    notify(store, "pd:N2", "pd:A", utc(2026, 3, 31, 3))
    (block,) = pagelog.shift_loads(store, utc(2026, 3, 30), utc(2026, 4, 1))
    assert block.state == "amber"
    assert block.reasons == (
        "at the shift budget (2 incidents)",
        "2 page(s) in sleep hours this shift",
    )
    store.close()


@pytest.mark.parametrize("count", [1, 10, 11, 12, 25, 60])
def test_every_person_gets_a_distinct_colour(count: int) -> None:
    colours = person_colours(count)
    assert len(colours) == count == len(set(colours))


def test_chart_of_twelve_people_uses_twelve_colours() -> None:
    weeks = [date(2026, 3, 2) + timedelta(weeks=n) for n in range(4)]
    series = {f"Person {n:02d}": {week: 1 + n % 3 for week in weeks} for n in range(12)}
    svg = svg_chart(weeks, series, "Pages per week per person")
    legend = re.findall(r'<rect x="570" y="\d+" width="10" height="10" fill="([^"]+)"/>', svg)
    assert len(legend) == 12 and len(set(legend)) == 12
    # Each person's bars are drawn in their legend colour.
    for n, colour in enumerate(legend):
        bars = re.findall(rf'fill="{re.escape(colour)}"><title>([^:]+):', svg)
        assert set(bars) == {f"Person {n:02d}"}
