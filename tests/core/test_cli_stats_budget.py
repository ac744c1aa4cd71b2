"""`cockpit stats` lists the 12-hour blocks over the SRE budget, end to end on a real store."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from pageseed import incident, notify, person, shift

from cockpit.cli.main import main
from cockpit.store import Store
from cockpit.store.timefmt import utcnow


def test_stats_lists_the_red_block_of_a_weekly_shift(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = Store.open(tmp_path / "data")
    now = utcnow().replace(microsecond=0)
    start = now - timedelta(hours=50)  # blocks start at -50, -38, -26, -14, -2 h
    person(store, "pagerduty:ANN", "Ann")
    person(store, "pagerduty:BOB", "Bob")
    shift(store, "pagerduty:ANN", start, start + timedelta(days=7))
    shift(store, "pagerduty:BOB", now - timedelta(hours=6), now + timedelta(hours=2))
    # Three incidents in Ann's third block (-26 h to -14 h): red against 2.
    for n, hours in enumerate((25, 24, 23)):
        at = now - timedelta(hours=hours)
        incident(store, f"pagerduty:N{n}", at)
        notify(store, f"pagerduty:N{n}", "pagerduty:ANN", at)
    # One in the block before: it does not add to the red one.
    incident(store, "pagerduty:E", now - timedelta(hours=30))
    notify(store, "pagerduty:E", "pagerduty:ANN", now - timedelta(hours=30))
    store.close()
    assert main(["--data-dir", str(tmp_path / "data"), "stats", "--since", "2w"]) == 0
    out = capsys.readouterr().out
    section = out.split("Shifts over budget", 1)[1].split("\n\n", 1)[0]
    rows = [line.split() for line in section.splitlines() if line.endswith(("red", "amber"))]
    red = [row for row in rows if row[-1] == "red"]
    assert len(red) == 1
    lo = start + timedelta(hours=24)
    hi = lo + timedelta(hours=12)
    assert red[0][0] == "Ann"
    assert red[0][1:5] == [f"{lo:%a}", f"{lo:%Y-%m-%d}", f"{lo:%H:%M}–{hi:%a}", f"{hi:%H:%M}"]
    assert red[0][5:8] == ["UTC", "3", "3"]
    # Bob's 8 h shift had no page; Ann's block with one page is never red.
    assert all(row[0] == "Ann" for row in rows)
    assert sum(1 for row in rows if row[-1] == "red") == 1


def test_stats_says_none_over_budget(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = Store.open(tmp_path / "data")
    person(store, "pagerduty:ANN", "Ann")
    shift(store, "pagerduty:ANN", utcnow() - timedelta(hours=6), utcnow() + timedelta(hours=6))
    store.close()
    assert main(["--data-dir", str(tmp_path / "data"), "stats"]) == 0
    out = capsys.readouterr().out
    assert "Shifts over budget" in out and "none over budget" in out
