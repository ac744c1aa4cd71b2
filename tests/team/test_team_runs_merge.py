"""Runs shared between laptops, without PostgreSQL: each laptop is a real SQLite store driven
by the real run service; the team store is a list the test pushes to and pulls from in
order, through the same capture and apply the exchange uses."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from laptops import add_incidents

from cockpit.runbooks.parse import load_runbook
from cockpit.runbooks.run import RunState
from cockpit.runbooks.run_view import RunView
from cockpit.store.engine import Store
from cockpit.store.run_service import RunService
from cockpit.team import apply, exchange, local

RUNBOOK = """\
---
id: stampede
title: Cache stampede
---
## Checks
- [ ] Look at the [dashboard](https://grafana.example.com/d/x) {#look}
- [ ] Check the hit ratio {#ratio}

## Actions
1. [ ] Restart the pods {#restart}

## Decision points
- Is it fixed? {#fixed}
  - yes: go to [Validation](#validation)
  - no: go to [Rollback](#rollback)

## Rollback
1. [ ] Turn it off again {#off}

## Validation
- [ ] Latency normal {#normal}
"""
P1 = "pagerduty:P1"


class Clock:
    """One clock for every laptop, a minute a reading: events get distinct times."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


class Team:
    """The team store: events in the order they were pushed, each with its author."""

    def __init__(self) -> None:
        self.events: list[apply.Pulled] = []


class Laptop:
    def __init__(self, root: Path, name: str, clock: Clock, incidents: tuple[int, ...] = (1,)):
        self.name = name
        self.folder = root / name
        self.store = Store.open(self.folder)
        self.add_incidents(*incidents)
        runbook_file = root / "stampede.md"
        runbook_file.write_text(RUNBOOK, encoding="utf-8")
        self.runbook = load_runbook(runbook_file)
        self.runs = RunService(self.store, clock=clock)
        self.read = 0  # how many team events were pulled

    def add_incidents(self, *numbers: int) -> None:
        now = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
        add_incidents(self.store, [(f"P{n}", n) for n in numbers], now=now)

    def do(self, kind: str, incident: str = P1, **fields: str) -> RunView:
        return self.runs.apply(incident, self.runbook, kind, actor=f"local:{self.name}", **fields)

    def view(self, incident: str = P1) -> RunView:
        return RunService(self.store).load(incident, self.runbook)

    def conn(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.folder / "cockpit.db", isolation_level=None)
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("BEGIN IMMEDIATE")
        local.ensure(conn)
        return conn

    def push(self, team: Team) -> int:
        conn = self.conn()
        captured = apply.capture(conn)
        for event_id, kind, incident, payload in conn.execute(
            "SELECT id, kind, incident_key, payload FROM team_outbox WHERE state = 'pending'"
            " ORDER BY seq"
        ).fetchall():
            team.events.append(
                apply.Pulled(
                    event_id,
                    str(len(team.events) + 1),
                    kind,
                    incident,
                    json.loads(payload),
                    self.name,
                    f"laptop-{self.name}",
                )
            )
        conn.execute("UPDATE team_outbox SET state = 'sent'")
        conn.execute("COMMIT")
        conn.close()
        return captured

    def pull(self, team: Team) -> list[str]:
        conn = self.conn()
        own = {row[0] for row in conn.execute("SELECT id FROM team_outbox")}
        outcomes = [apply.apply(conn, event, own) for event in team.events[self.read :]]
        exchange._retry_parked(conn, own)
        conn.execute("COMMIT")
        conn.close()
        self.read = len(team.events)
        return outcomes

    def sync(self, team: Team) -> None:
        self.push(team)
        self.pull(team)

    def rows(self, sql: str, *params: object) -> list[tuple[object, ...]]:
        with sqlite3.connect(self.folder / "cockpit.db") as conn:
            return conn.execute(sql, params).fetchall()

    def history(self, incident: str = P1) -> list[tuple[object, ...]]:
        """(kind, step, branch) of every event of the incident's runs, in replay order."""
        return self.rows(
            "SELECT e.kind, e.step_id, e.branch FROM step_events e"
            " JOIN runbook_runs r ON r.id = e.run_id WHERE r.incident_id = ? ORDER BY r.id, e.seq",
            incident,
        )


@pytest.fixture
def team_of_two(tmp_path: Path) -> tuple[Laptop, Laptop, Team]:
    clock = Clock()
    return Laptop(tmp_path, "alice", clock), Laptop(tmp_path, "bob", clock), Team()


def _state(view: RunView) -> tuple[object, ...]:
    """What the cockpit shows of a run, to compare two laptops."""
    return (
        view.status,
        view.decided,
        view.conflicts,
        view.current,
        view.path,
        view.outcome,
        view.progress,
    )


def test_ticks_go_across_once_and_say_who(team_of_two: tuple[Laptop, Laptop, Team]) -> None:
    a, b, team = team_of_two
    a.do("done", step_id="look")
    a.do("done", step_id="ratio")
    a.sync(team)
    b.sync(team)
    view = b.view()
    assert view.status == {"look": "done", "ratio": "done"}
    assert view.current == "restart"
    assert view.by == {"look": "alice", "ratio": "alice"}
    assert a.view().by == {}  # on the laptop that ticked them, nobody else did
    assert b.rows("SELECT actor FROM step_events WHERE kind = 'done'") == [("alice",), ("alice",)]
    timeline = [r[0] for r in b.rows("SELECT summary FROM timeline_events ORDER BY at")]
    assert "✓ Look at the dashboard {#look} — alice" not in timeline  # ids are not words
    assert "✓ Look at the dashboard — alice" in timeline
    # One start and three step events (started, two ticks) went up, once each.
    assert [e.payload["type"] for e in team.events] == ["start", "step", "step", "step"]
    assert a.push(team) == 0 and b.push(team) == 0  # nothing pulled goes back up
    assert len(team.events) == 4
    # Applying the same events again changes nothing.
    conn = b.conn()
    assert {apply.apply(conn, event, set()) for event in team.events} == {"skipped"}
    conn.execute("COMMIT")
    conn.close()
    assert len(b.history()) == 3
    # B goes on from where A was.
    b.do("done", step_id="restart")
    b.sync(team)
    a.sync(team)
    assert a.view().by == {"restart": "bob"}
    assert _state(a.view()) == _state(b.view())


def test_the_same_step_ticked_on_both_is_one_tick_and_two_events(
    team_of_two: tuple[Laptop, Laptop, Team],
) -> None:
    a, b, team = team_of_two
    a.do("done", step_id="look")
    a.sync(team)
    b.sync(team)
    # Both offline: both tick the same step.
    a.do("done", step_id="ratio")
    b.do("done", step_id="ratio")
    a.sync(team)
    b.sync(team)
    a.sync(team)
    for laptop in (a, b):
        assert laptop.view().status == {"look": "done", "ratio": "done"}
        assert [h for h in laptop.history() if h[:2] == ("done", "ratio")] == [
            ("done", "ratio", ""),
            ("done", "ratio", ""),
        ]
    assert _state(a.view()) == _state(b.view())
    # Undo takes the tick back (the repeat never counted), on both after sync.
    a.do("undone")
    a.sync(team)
    b.sync(team)
    assert a.view().status == b.view().status == {"look": "done"}


def test_a_decision_answered_differently_is_a_conflict_until_answered_again(
    team_of_two: tuple[Laptop, Laptop, Team],
) -> None:
    a, b, team = team_of_two
    for step in ("look", "ratio", "restart"):
        a.do("done", step_id=step)
    a.sync(team)
    b.sync(team)
    a.do("decided", step_id="fixed", branch="yes")
    b.do("decided", step_id="fixed", branch="no")
    a.sync(team)
    b.sync(team)
    a.sync(team)
    words = "decision conflict at Is it fixed?: alice chose yes, bob chose no — choose again"
    for laptop in (a, b):
        view = laptop.view()
        assert view.conflicts == {"fixed": words}
        assert "fixed" not in view.decided
        assert view.current == "fixed"  # the run waits at the decision again
        assert not view.finished
    assert _state(a.view()) == _state(b.view())
    # The runbook panel shows it on the decision's line.
    from cockpit.widgets.step_prompt import item_prompt

    view = a.view()
    now = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
    assert f"⚠ {words}" in item_prompt(view, view.by_id["fixed"], now, {}).plain
    # Answering it again (on B) settles it, and that answer is shared too.
    b.do("decided", step_id="fixed", branch="yes")
    assert b.view().conflicts == {}
    b.sync(team)
    a.sync(team)
    for laptop in (a, b):
        view = laptop.view()
        assert view.conflicts == {}
        assert view.decided == {"fixed": "yes"}
        assert view.current == "normal"
    assert a.view().by["fixed"] == "bob"
    assert _state(a.view()) == _state(b.view())


def test_interleaved_offline_work_replays_the_same_on_both(
    team_of_two: tuple[Laptop, Laptop, Team],
) -> None:
    a, b, team = team_of_two
    a.do("done", step_id="look")
    a.sync(team)
    b.sync(team)
    # Offline, interleaved in time: A ticks, B skips, A ticks and undoes, B starts a timer.
    a.do("done", step_id="ratio")
    b.do("skipped", step_id="restart", reason="already restarted by the deploy")
    a.do("done", step_id="restart")
    a.do("undone")
    b.do("done", step_id="ratio")
    b.sync(team)
    a.sync(team)
    b.sync(team)
    assert a.history() == b.history()
    assert _state(a.view()) == _state(b.view())
    view = a.view()
    assert view.status == {"look": "done", "ratio": "done", "restart": "skipped"}
    # The seq of each run is 1..n-like and unique after the merge (UNIQUE(run_id, seq)).
    seqs = a.rows("SELECT seq FROM step_events ORDER BY seq")
    assert len(set(seqs)) == len(seqs)
    # A third round moves nothing and changes nothing.
    assert a.push(team) == 0 and b.push(team) == 0
    assert _state(a.view()) == _state(b.view())


def test_two_runs_started_offline_are_one_run_started_by_the_first(
    team_of_two: tuple[Laptop, Laptop, Team],
) -> None:
    a, b, team = team_of_two
    a.do("done", step_id="look")  # starts A's run first
    b.do("done", step_id="ratio")  # starts B's, not knowing A's
    b.sync(team)
    a.sync(team)
    b.sync(team)
    for laptop in (a, b):
        runs = laptop.rows("SELECT started_at FROM runbook_runs WHERE incident_id = ?", P1)
        assert len(runs) == 1
        assert laptop.view().status == {"look": "done", "ratio": "done"}
    assert a.rows("SELECT started_at FROM runbook_runs") == b.rows(
        "SELECT started_at FROM runbook_runs"
    )
    assert _state(a.view()) == _state(b.view())
    # Finished on one laptop, a run started afterwards is a new run everywhere.
    for step in ("restart",):
        a.do("done", step_id=step)
    a.do("decided", step_id="fixed", branch="yes")
    a.do("done", step_id="normal")
    assert a.view().finished
    a.sync(team)
    b.sync(team)
    assert b.view().finished and b.view().outcome == "resolved"
    b.do("done", step_id="look")  # a new run: the last one is over
    b.sync(team)
    a.sync(team)
    assert len(a.rows("SELECT id FROM runbook_runs")) == 2
    assert a.view().status == {"look": "done"}


def test_an_event_for_an_incident_not_pulled_here_yet_waits(tmp_path: Path) -> None:
    clock = Clock()
    a = Laptop(tmp_path, "alice", clock, incidents=(1, 2))
    b = Laptop(tmp_path, "bob", clock, incidents=(1,))
    team = Team()
    a.do("done", incident="pagerduty:P2", step_id="look")
    a.sync(team)
    assert set(b.pull(team)) == {"parked"}
    assert b.rows("SELECT count(*) FROM runbook_runs") == [(0,)]
    b.add_incidents(2)  # B's next pull from PagerDuty brings it
    b.pull(team)
    assert b.rows("SELECT count(*) FROM team_parked") == [(0,)]
    assert b.view("pagerduty:P2").status == {"look": "done"}


def test_replay_keeps_one_tick_and_holds_a_conflict(tmp_path: Path) -> None:
    """The replay's own rules, on events as two laptops made them."""
    from cockpit.runbooks.run_events import RunEvent

    runbook_file = tmp_path / "stampede.md"
    runbook_file.write_text(RUNBOOK, encoding="utf-8")
    runbook = load_runbook(runbook_file)
    t = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)

    def event(seq: int, kind: str, step: str = "", branch: str = "", **details: str) -> RunEvent:
        return RunEvent(seq, t + timedelta(minutes=seq), kind, step, branch, details=details)

    base = [event(1, "started")] + [event(n, "done", s) for n, s in ((2, "look"), (3, "ratio"))]
    twice = RunState.replay(runbook, [*base, event(4, "done", "look", team_author="bob")])
    assert twice.status == {"look": "done", "ratio": "done"}
    assert [e.seq for e in twice.duplicates] == [4]
    assert len(twice.undo_stack) == 2
    decided = [
        *base,
        event(4, "done", "restart"),
        event(5, "decided", "fixed", "yes"),
        event(6, "decided", "fixed", "no", team_author="bob"),
    ]
    state = RunState.replay(runbook, decided)
    assert set(state.conflicts) == {"fixed"} and state.decided == {}
    assert state.current_decision == "fixed"
    settled = RunState.replay(runbook, [*decided, event(7, "decided", "fixed", "no")])
    assert settled.conflicts == {} and settled.decided == {"fixed": "no"}
    # An undo takes back the event it names, not whatever is last in the merged order.
    undo = RunEvent(8, t + timedelta(minutes=8), "undone", "ratio", details={"undid_kind": "done"})
    late = RunState.replay(runbook, [*base, event(4, "done", "restart"), undo])
    assert late.status == {"look": "done", "restart": "done"}


def test_the_checklist_says_who_did_a_step_and_shows_a_conflict(
    team_of_two: tuple[Laptop, Laptop, Team],
) -> None:
    from cockpit.widgets.step_prompt import item_prompt

    a, b, team = team_of_two
    for step in ("look", "ratio", "restart"):
        a.do("done", step_id=step)
    a.do("decided", step_id="fixed", branch="yes")
    b.sync(team)  # B starts from nothing: its first pull is A's run
    a.sync(team)
    b.sync(team)
    b.do("undone")
    b.do("decided", step_id="fixed", branch="no")
    now = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
    view = b.view()
    lines = {item.id: item_prompt(view, item, now, {}).plain for item in view.items}
    assert lines["look"].startswith("✓ Look at the dashboard") and "— alice" in lines["look"]
    assert "—" not in lines["fixed"]  # B's own answer
    # A pulled name is text, never markup or a control sequence.
    conn = b.conn()
    conn.execute(
        "UPDATE step_events SET details = json_set(details, '$.team_author', ?)"
        " WHERE step_id = 'ratio'",
        ("[red]mallory\x1b[2J",),
    )
    conn.execute("COMMIT")
    conn.close()
    view = b.view()
    ratio = item_prompt(view, view.by_id["ratio"], now, {})
    assert "\x1b" not in ratio.plain and "[red]mallory" in ratio.plain


def test_a_command_output_stays_on_the_laptop_that_ran_it(
    team_of_two: tuple[Laptop, Laptop, Team],
) -> None:
    a, b, team = team_of_two
    a.do("done", step_id="look")
    a.runs.apply(
        P1,
        a.runbook,
        "command_run",
        step_id="restart",
        actor="local:alice",
        details={"command": "kubectl rollout restart", "exit_code": 0, "output": "token=s3cret"},
    )
    a.sync(team)
    b.sync(team)
    sent = [e.payload for e in team.events if e.payload.get("kind") == "command_run"]
    assert sent and sent[0]["details"] == {"command": "kubectl rollout restart", "exit_code": 0}
    assert "s3cret" not in json.dumps([e.payload for e in team.events])
    assert b.rows("SELECT count(*) FROM step_events WHERE kind = 'command_run'") == [(1,)]


def test_an_event_this_cockpit_cannot_read_is_kept_and_stops_nothing(
    team_of_two: tuple[Laptop, Laptop, Team],
) -> None:
    a, b, team = team_of_two
    a.do("done", step_id="look")
    a.push(team)
    start = next(e for e in team.events if e.payload["type"] == "start")
    bad = apply.Pulled(
        local.uuid7(),
        "0",
        "run_event",
        P1,
        {"type": "step", "run": start.id, "at": "yesterday", "kind": "done", "step_id": "ratio"},
        "mallory",
        "laptop-m",
    )
    team.events.insert(1, bad)
    outcomes = b.pull(team)
    assert outcomes.count("parked") == 1 and outcomes.count("applied") == 3
    assert b.view().status == {"look": "done"}
    assert b.rows("SELECT count(*) FROM step_events WHERE actor = 'mallory'") == [(0,)]
    assert b.rows("SELECT id FROM team_parked") == [(bad.id,)]


def test_a_laptop_whose_clock_is_behind_keeps_the_order_it_saw(tmp_path: Path) -> None:
    ahead, behind = Clock(), Clock()
    behind.now -= timedelta(hours=1)
    a = Laptop(tmp_path, "alice", ahead)
    b = Laptop(tmp_path, "bob", behind)
    team = Team()
    a.do("done", step_id="look")
    a.do("done", step_id="ratio")
    a.sync(team)
    b.sync(team)
    # B, an hour behind by its clock, takes back the tick it sees last (A's `ratio`), then
    # ticks another step: after A's ticks in every laptop's replay, as B saw them.
    b.do("undone")
    b.do("done", step_id="restart")
    b.sync(team)
    a.sync(team)
    for laptop in (a, b):
        assert laptop.view().status == {"look": "done", "restart": "done"}
    assert a.history() == b.history()
    assert _state(a.view()) == _state(b.view())


def test_who_did_it_is_the_team_author_never_what_the_event_claims(
    team_of_two: tuple[Laptop, Laptop, Team],
) -> None:
    a, b, team = team_of_two
    a.do("done", step_id="look")
    a.push(team)
    start = next(e for e in team.events if e.payload["type"] == "start")
    claimed = apply.Pulled(
        local.uuid7(),
        "9",
        "run_event",
        P1,
        {
            "type": "step",
            "run": start.id,
            "seq": 9,
            "at": "2026-12-01T05:00:00+00:00",
            "kind": "done",
            "step_id": "ratio",
            "actor": "local:carol",
            "details": {"team_author": "carol"},
        },
        "bob",
        "laptop-b",
    )
    team.events.append(claimed)
    b.pull(team)
    assert b.view().by == {"look": "alice", "ratio": "bob"}
    assert b.rows("SELECT actor FROM step_events WHERE step_id = 'ratio'") == [("bob",)]


def test_a_drill_run_is_shared_as_a_drill(team_of_two: tuple[Laptop, Laptop, Team]) -> None:
    from cockpit.store.models import Incident

    a, b, team = team_of_two
    drill = "drill:abc123"
    now = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    for laptop in (a, b):  # the drill's made-up incident (shared by the drills' own kind)
        with laptop.store.write() as session:
            session.add(
                Incident(
                    id=drill,
                    source="drill",
                    remote_id="abc123",
                    title="practice",
                    status="triggered",
                    urgency="high",
                    created_at=now,
                    updated_at=now,
                    is_drill=True,
                )
            )
    a.runs.apply(drill, a.runbook, "done", step_id="look", actor="local:alice", is_drill=True)
    a.sync(team)
    b.sync(team)
    assert b.rows("SELECT is_drill FROM runbook_runs WHERE incident_id = ?", drill) == [(1,)]
    assert b.rows("SELECT DISTINCT is_drill FROM timeline_events WHERE incident_id = ?", drill) == [
        (1,)
    ]
    assert b.view(drill).status == {"look": "done"}
