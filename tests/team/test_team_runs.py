"""Runbook runs shared by laptops (separate data folders, `cockpit` run as a subprocess for
`team sync` and `show`) through a real PostgreSQL team store. The steps are ticked through
the run service the cockpit's runbook panel uses, on each laptop's own store."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
from laptops import Laptop, make_laptops, team_events
from team_pg import PgServer
from test_team_runs_merge import RUNBOOK

from cockpit.runbooks.parse import load_runbook
from cockpit.runbooks.run_view import RunView
from cockpit.store.engine import Store
from cockpit.store.run_service import RunService

pytestmark = pytest.mark.postgres

P1 = "pagerduty:P1"


@pytest.fixture
def laptops(tmp_path: Path, pg_server: PgServer, team_db: str) -> list[Laptop]:
    found = make_laptops(tmp_path, pg_server, team_db)
    for laptop in found:
        folder = laptop.folder / "data" / "runbooks"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "stampede.md").write_text(RUNBOOK, encoding="utf-8")
    return found


def _do(laptop: Laptop, kind: str, **fields: str) -> RunView:
    """What a press in the runbook panel does on that laptop."""
    store = Store.open(laptop.folder / "data")
    try:
        runbook = load_runbook(laptop.folder / "data" / "runbooks" / "stampede.md")
        return RunService(store).apply(P1, runbook, kind, actor=f"local:{laptop.member}", **fields)
    finally:
        store.close()


def _view(laptop: Laptop) -> RunView:
    store = Store.open(laptop.folder / "data")
    try:
        runbook = load_runbook(laptop.folder / "data" / "runbooks" / "stampede.md")
        return RunService(store).load(P1, runbook)
    finally:
        store.close()


def _state(laptop: Laptop) -> tuple[object, ...]:
    view = _view(laptop)
    return (view.status, view.decided, view.conflicts, view.current, view.path, view.progress)


def _run_events(pg_server: PgServer, team_db: str) -> list[tuple[str, str, str]]:
    with psycopg.connect(pg_server.url("owner", team_db)) as conn:
        return [
            (str(r[0]), str(r[1]), str(r[2]))
            for r in conn.execute(
                "SELECT payload ->> 'type', coalesce(payload ->> 'kind', ''), author"
                " FROM events WHERE kind = 'run_event' ORDER BY tx, id"
            )
        ]


def test_ticks_on_a_appear_on_b_saying_who(
    laptops: list[Laptop], pg_server: PgServer, team_db: str
) -> None:
    a, b, _c = laptops
    _do(a, "done", step_id="look")
    _do(a, "done", step_id="ratio")
    a.run("team", "sync")
    b.run("team", "sync")
    shown = b.run("show", "P1").stdout
    assert "run      Cache stampede: main, 2/4 steps done; next: Restart the pods" in shown
    assert "✓ Look at the dashboard — alice" in shown
    assert "✓ Check the hit ratio — alice" in shown
    assert _view(b).by == {"look": "alice", "ratio": "alice"}
    assert _state(a) == _state(b)
    assert team_events(pg_server, team_db) == [("run_event", "alice", "laptop-a")] * 4
    # B goes on; A sees it, and who did it.
    _do(b, "done", step_id="restart")
    b.run("team", "sync")
    a.run("team", "sync")
    assert "✓ Restart the pods — bob" in a.run("show", "P1").stdout
    assert _view(a).by == {"restart": "bob"}
    assert _state(a) == _state(b)
    # Nothing pulled goes back up.
    assert "0 up, 0 down" in a.run("team", "sync").stdout
    assert "0 up, 0 down" in b.run("team", "sync").stdout


def test_offline_ticks_go_up_once_when_back(
    laptops: list[Laptop], pg_server: PgServer, team_db: str
) -> None:
    a, b, _c = laptops
    pg_server.stop()
    try:
        for step in ("look", "ratio", "restart"):
            _do(a, "done", step_id=step)
        down = a.run("team", "sync", check=False)
        assert down.returncode == 1
        assert "cannot be reached" in down.stderr
    finally:
        pg_server.start()
    assert "5 up" in a.run("team", "sync").stdout  # the start, `started` and three ticks
    assert "0 up" in a.run("team", "sync").stdout
    assert _run_events(pg_server, team_db) == [
        ("start", "", "alice"),
        ("step", "started", "alice"),
        ("step", "done", "alice"),
        ("step", "done", "alice"),
        ("step", "done", "alice"),
    ]
    b.run("team", "sync")
    b.run("team", "sync")
    assert b.rows("SELECT kind, step_id FROM step_events ORDER BY seq") == [
        ("started", ""),
        ("done", "look"),
        ("done", "ratio"),
        ("done", "restart"),
    ]
    assert _state(a) == _state(b)


def test_both_offline_one_tick_two_events_and_a_decision_conflict(
    laptops: list[Laptop], pg_server: PgServer, team_db: str
) -> None:
    a, b, _c = laptops
    _do(a, "done", step_id="look")
    a.run("team", "sync")
    b.run("team", "sync")
    # Neither syncs: both tick the same steps and answer the decision differently.
    for laptop in (a, b):
        _do(laptop, "done", step_id="ratio")
        _do(laptop, "done", step_id="restart")
    _do(a, "decided", step_id="fixed", branch="yes")
    _do(b, "decided", step_id="fixed", branch="no")
    a.run("team", "sync")
    b.run("team", "sync")
    a.run("team", "sync")
    conflict = "decision conflict at Is it fixed?: alice chose yes, bob chose no — choose again"
    for laptop in (a, b):
        assert laptop.rows(
            "SELECT count(*) FROM step_events WHERE kind = 'done' AND step_id = 'ratio'"
        ) == [(2,)]
        view = _view(laptop)
        assert view.status["ratio"] == "done" and view.current == "fixed"
        assert conflict in laptop.run("show", "P1").stdout
        shown = json.loads(laptop.run("show", "P1", "--json").stdout)
        assert shown["run"]["conflicts"] == [conflict]
    # History lists both ticks of the step, each with who did it where it was not here.
    history = a.run("show", "P1").stdout
    assert "✓ Check the hit ratio — bob" in history
    assert history.count("✓ Check the hit ratio") == 2
    ticks = [e for e in _run_events(pg_server, team_db) if e[:2] == ("step", "done")]
    assert len(ticks) == 5  # look once, ratio and restart on each laptop
    assert _state(a) == _state(b)
    # B answers again: settled there at once, and on A after the sync.
    _do(b, "decided", step_id="fixed", branch="yes")
    assert conflict not in b.run("show", "P1").stdout
    b.run("team", "sync")
    a.run("team", "sync")
    for laptop in (a, b):
        assert conflict not in laptop.run("show", "P1").stdout
        view = _view(laptop)
        assert view.conflicts == {} and view.decided == {"fixed": "yes"}
        assert view.path == "validation"
    assert _state(a) == _state(b)


def test_interleaved_offline_work_gives_the_same_state_on_both(
    laptops: list[Laptop], pg_server: PgServer, team_db: str
) -> None:
    a, b, c = laptops
    # Both start the run offline, neither knowing the other's: one run once merged.
    _do(a, "done", step_id="look")
    _do(b, "skipped", step_id="ratio", reason="the hit ratio graph is down")
    _do(a, "done", step_id="ratio")
    _do(b, "done", step_id="restart")
    _do(a, "undone")  # takes back A's own tick of `ratio`
    b.run("team", "sync")
    a.run("team", "sync")
    b.run("team", "sync")
    c.run("team", "sync")
    for laptop in (a, b, c):
        assert laptop.rows("SELECT count(*) FROM runbook_runs") == [(1,)]
    assert _state(a) == _state(b) == _state(c)
    assert _view(a).status == {"look": "done", "ratio": "skipped", "restart": "done"}
    order = "SELECT kind, step_id FROM step_events ORDER BY seq"
    assert a.rows(order) == b.rows(order) == c.rows(order)
    started = "SELECT started_at FROM runbook_runs"
    assert a.rows(started) == b.rows(started) == c.rows(started)
