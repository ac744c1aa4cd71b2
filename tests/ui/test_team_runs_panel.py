"""The runbook panel of a run shared with the team: who did a step on another laptop, and a
decision answered differently on two laptops, as the terminal shows them."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from cockpit_seed import screen_text

from cockpit.app import CockpitApp
from cockpit.runbooks.library import load_library
from cockpit.store.engine import Store
from cockpit.store.run_service import RunService
from cockpit.team import apply, local, runs

INCIDENT = "pagerduty:PINC101"


def _pulled(run: str, seq: int, kind: str, step_id: str, branch: str = "") -> apply.Pulled:
    """An event bob made on his laptop, as it comes down from the team store."""
    return apply.Pulled(
        local.uuid7(),
        str(seq),
        "run_event",
        INCIDENT,
        {
            "type": "step",
            "run": run,
            "seq": seq,
            "at": datetime.now(UTC).isoformat(),
            "kind": kind,
            "step_id": step_id,
            "branch": branch,
            "reason": "",
            "actor": "local:bob",
            "details": {},
        },
        "bob\x1b[31m",  # a login is text like any other: never a control sequence
        "laptop-b",
    )


async def test_the_panel_says_who_did_it_and_shows_a_decision_conflict(
    app: CockpitApp, seeded: tuple[object, Store], tmp_path: Path
) -> None:
    _settings, store = seeded
    runbook = load_library([tmp_path / "runbooks"])[0]
    service = RunService(store)
    view = service.apply(INCIDENT, runbook, "done", step_id=runbook.steps[0].id, actor="local:me")
    steps = [s for s in view.plan if view.by_id[s].kind == "step"]
    for step in steps[2:]:
        view = service.apply(INCIDENT, runbook, "done", step_id=step, actor="local:me")
    decision = next(i for i in view.plan if view.by_id[i].kind == "decision")
    service.apply(INCIDENT, runbook, "decided", step_id=decision, branch="yes", actor="local:me")
    conn = sqlite3.connect(store.path, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        local.ensure(conn)
        apply.capture(conn)
        assert view.run is not None and view.run.id is not None
        shared = runs.team_id(conn, view.run.id)
        for event in (
            _pulled(shared, 90, "done", steps[1]),
            _pulled(shared, 91, "decided", decision, "no"),
        ):
            assert apply.apply(conn, event, set()) == "applied"
        conn.execute("COMMIT")
    finally:
        conn.close()
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        text = screen_text(app)
    assert "— bob␛[31m" in text and "\x1b" not in text
    assert "decision conflict at" in text and "me chose yes, bob␛[31m chose no" in text
    assert "choose again" in text
