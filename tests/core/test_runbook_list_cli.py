"""`cockpit runbook list`: which runbooks were never drilled or not in 90 days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cockpit.cli.main import main
from cockpit.drills.scenario import scenario_from_runbook
from cockpit.drills.service import finish_drill
from cockpit.drills.start import start_drill
from cockpit.runbooks import load_runbook
from cockpit.store import Store

RUNBOOK = """---
id: {id}
title: {title}
owner: team
services: [svc]
---
# {title}

## Trigger
Something broke.

## Checks
- [ ] Look at the dashboard

## Actions
1. [ ] Restart it

## Decision points
- Is it fixed?
  - yes: go to [Validation](#validation)
  - no: go to [Rollback](#rollback)

## Rollback
1. [ ] Undo the restart

## Validation
- [ ] Errors back to normal

## Owner
team
"""


def test_list_flags_never_and_long_ago_drilled_runbooks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    books = tmp_path / "runbooks"
    books.mkdir()
    for rid in ("fresh", "stale", "never"):
        (books / f"{rid}.md").write_text(RUNBOOK.format(id=rid, title=f"{rid} runbook"))
    data = tmp_path / "data"
    store = Store.open(data)
    now = datetime.now(UTC)
    for rid, when in (("fresh", now - timedelta(days=3)), ("stale", now - timedelta(days=120))):
        runbook = load_runbook(books / f"{rid}.md")
        drill = start_drill(store, runbook, scenario_from_runbook(runbook), clock=lambda w=when: w)
        assert drill.id is not None
        finish_drill(store, drill.id, runbook, clock=lambda w=when: w + timedelta(minutes=5))
    store.close()

    code = main(["--data-dir", str(data), "--runbooks", str(books), "runbook", "list", "--stale"])
    out = capsys.readouterr().out
    assert code == 0
    lines = {line.split()[0]: line for line in out.splitlines() if line and line[0] != " "}
    assert "never" in lines and "never drilled" in lines["never"]
    assert "stale" in lines
    assert "fresh" not in lines
