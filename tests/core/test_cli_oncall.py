"""The headless stats, handoff and drill commands, end to end on a real store."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from pageseed import incident, notify, person, shift

from cockpit.cli.main import main
from cockpit.store import Store
from cockpit.store.timefmt import utcnow

RUNBOOK = """---
id: disk-full
title: Disk full
owner: infra
---
# Disk full

## Trigger
Disk above 90%.

## Checks
- [ ] Which mount? `df -h`

## Actions
1. [ ] Clean the logs

## Decision points
- Below 80%?
  - yes: go to [Validation](#validation)
  - no: go to [Rollback](#rollback)

## Rollback
1. [ ] Restore the volume

## Validation
- [ ] Disk below 80% for 10 minutes

## Owner
infra
"""


@pytest.fixture
def home(tmp_path: Path) -> list[str]:
    runbooks = tmp_path / "runbooks"
    runbooks.mkdir()
    (runbooks / "disk-full.md").write_text(RUNBOOK, encoding="utf-8")
    store = Store.open(tmp_path / "data")
    now = utcnow()
    person(store, "pagerduty:ANN", "Ann")
    person(store, "pagerduty:BOB", "Bob")
    shift(store, "pagerduty:ANN", now - timedelta(hours=6), now + timedelta(hours=6))
    incident(
        store,
        "pagerduty:I1",
        now - timedelta(hours=2),
        number=7,
        title="Disk 95% on db",
        service_name="db",
        assignees=["pagerduty:ANN"],
    )
    notify(store, "pagerduty:I1", "pagerduty:ANN", now - timedelta(hours=2))
    store.close()
    return ["--data-dir", str(tmp_path / "data"), "--runbooks", str(runbooks)]


def test_stats_prints_tables_and_writes_an_svg(
    home: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chart = tmp_path / "pages.svg"
    assert main([*home, "stats", "--since", "2w", "--chart", str(chart)]) == 0
    out = capsys.readouterr().out
    assert "Pages per person per week" in out
    assert "concentration: the busiest person carried 100% of pages" in out
    assert "(all)" in out and "Flywheel (UTC weeks)" in out
    svg = chart.read_text(encoding="utf-8")
    assert svg.startswith("<svg") and "<title>Ann: 1</title>" in svg
    assert main([*home, "stats", "--since", "soon"]) == 2


def test_handoff_sign_and_accept(
    home: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "handoff.md"
    assert (
        main(
            [
                *home,
                "handoff",
                "--from",
                "Ann",
                "--to",
                "Bob",
                "--sign",
                "--markdown",
                str(out_file),
            ]
        )
        == 0
    )
    text = out_file.read_text(encoding="utf-8")
    assert text.startswith("# Handoff #1: Ann → Bob")
    assert "- #7 TRIGGERED high: Disk 95% on db · baton Ann" in text
    assert main([*home, "handoff", "accept", "1", "--as", "bob"]) == 0
    assert "1 baton passed to you" in capsys.readouterr().out
    assert main([*home, "handoff", "accept", "1", "--as", "Bob"]) == 2


def test_drill_start_and_report(home: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*home, "drill", "disk-full", "--as", "Ann"]) == 0
    out = capsys.readouterr().out
    assert "PRACTICE MODE" in out and "drill #1 of disk-full" in out
    assert main([*home, "drill", "report", "1"]) == 0
    assert capsys.readouterr().out.startswith("# Drill debrief: Disk full")
    assert main([*home, "drill", "list"]) == 0
    assert "disk-full  finished" in capsys.readouterr().out
    assert main([*home, "drill", "nope"]) == 2
