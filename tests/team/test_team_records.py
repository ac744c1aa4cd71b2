"""Drills and debriefs, insights and guardrails, and local notes across laptops.

The first tests capture and apply on real SQLite files, carrying events by hand; the last one
runs laptops as separate `cockpit` processes sharing a real PostgreSQL team store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import laptops
import pytest
from laptops import Laptop, add_incidents, make_laptops, team_events
from team_pg import PgServer

from cockpit.drills import finish_drill, start_drill
from cockpit.drills.scenario import scenario_from_runbook
from cockpit.flywheel import flywheel_weeks, record_insight
from cockpit.records import IncidentRecord
from cockpit.runbooks.library import samples_dir
from cockpit.runbooks.parse import load_runbook
from cockpit.store.engine import Store
from cockpit.store.upsert import upsert_incidents
from cockpit.sync import actions
from cockpit.sync.push import discard_item
from cockpit.team import exchange, local
from cockpit.team.events import Pulled

RUNBOOK = samples_dir() / "disk-full.md"


class Side(laptops.Side):
    """One laptop's store: P1 from PagerDuty, A1 from Alertmanager (each laptop pulls both
    from the services itself); a page is applied as the exchange does."""

    LIKE_THE_EXCHANGE = True

    def seed(self, db: Path) -> None:
        for source, key in (("pagerduty", "P1"), ("alertmanager", "A1")):
            add_incidents(self.store, [(key, 1)], source=source)

    def rows(self, sql: str, *params: object) -> list[tuple[object, ...]]:
        return self.conn.execute(sql, params).fetchall()


def test_a_drill_and_its_debrief_are_seen_on_b(tmp_path: Path) -> None:
    a, b = Side(tmp_path, "a"), Side(tmp_path, "b")
    tx = [0]
    runbook = load_runbook(RUNBOOK)
    drill = start_drill(a.store, runbook, scenario_from_runbook(runbook), participant="local:ann")
    assert drill.id is not None
    actions.add_note(a.store, drill.incident_id, "df says 100% on /var")
    started = a.send("alice", tx)
    # The drill's run goes up as runs do (cockpit/team/runs.py), before the drill.
    assert [e.kind for e in started][0] == "run_event"
    assert [(e.kind, e.payload.get("type")) for e in started if e.kind != "run_event"] == [
        ("drill", "start"),
        ("note", None),
    ]
    # The run waits for the drill's made-up incident, which the drill brings.
    assert b.take(started)[0] == "parked"
    assert b.rows("SELECT count(*) FROM team_parked") == [(0,)]
    assert b.rows("SELECT d.run_id = r.id FROM drills d, runbook_runs r") == [(1,)]
    assert b.rows("SELECT incident_id, runbook_id, participant, finished_at FROM drills") == [
        (drill.incident_id, runbook.id, "local:ann", None)
    ]
    assert b.rows(
        "SELECT source, is_drill, status FROM incidents WHERE id = ?", drill.incident_id
    ) == [("drill", 1, "triggered")]
    assert b.rows("SELECT content, author, state FROM notes") == [
        ("df says 100% on /var", "alice", "local")
    ]
    finish_drill(a.store, drill.id, runbook)
    debrief = [e for e in a.send("alice", tx) if e.kind != "run_event"]
    assert [(e.kind, e.payload.get("type")) for e in debrief] == [("drill", "debrief")]
    assert b.take(debrief) == ["applied"]
    report = a.rows("SELECT report_md FROM drills")[0][0]
    assert report and b.rows("SELECT report_md, finished_at IS NOT NULL FROM drills") == [
        (report, 1)
    ]
    assert b.rows("SELECT status FROM incidents WHERE id = ?", drill.incident_id) == [("resolved",)]
    # `cockpit drill report` on B keeps the debrief that came (B does not hold the run).
    pulled_id = int(str(b.rows("SELECT id FROM drills")[0][0]))
    assert finish_drill(b.store, pulled_id, runbook).report_md == report
    # Nothing twice, nothing back up.
    assert set(b.take(started + debrief)) == {"skipped"}
    assert b.send("bob", tx) == [] and a.send("alice", tx) == []


def test_only_the_laptop_that_ran_a_drill_debriefs_it_for_the_team(tmp_path: Path) -> None:
    a, b = Side(tmp_path, "a"), Side(tmp_path, "b")
    tx = [0]
    runbook = load_runbook(RUNBOOK)
    drill = start_drill(a.store, runbook, scenario_from_runbook(runbook), participant="local:ann")
    b.take(a.send("alice", tx))
    pulled_id = int(str(b.rows("SELECT id FROM drills")[0][0]))
    finish_drill(b.store, pulled_id, runbook)  # `cockpit drill report` on B, drill open on A
    assert b.send("bob", tx) == []
    forged = Pulled(
        local.uuid7(),
        "99",
        "drill",
        drill.incident_id,
        {
            "type": "debrief",
            "drill": a.rows("SELECT global_id FROM team_rows WHERE tbl = 'drills'")[0][0],
        },
        "bob",
        "b",
    )
    assert a.take([forged]) == ["skipped"]
    assert a.rows("SELECT finished_at, report_md FROM drills") == [(None, "")]


def test_a_pulled_event_never_makes_a_paging_incident(tmp_path: Path) -> None:
    b = Side(tmp_path, "b")
    forged = Pulled(
        local.uuid7(),
        "1",
        "drill",
        "pagerduty:P9",
        {
            "type": "start",
            "runbook_id": "disk-full",
            "incident": {
                "id": "pagerduty:P9",
                "source": "pagerduty",
                "title": "t",
                "status": "triggered",
                "created_at": "2026-12-01 10:00:00.000000",
                "updated_at": "2026-12-01 10:00:00.000000",
            },
        },
        "mallory",
        "laptop-m",
    )
    assert b.take([forged]) == ["parked"]
    assert b.rows("SELECT count(*) FROM incidents WHERE id = 'pagerduty:P9'") == [(0,)]


def test_an_insight_and_its_guardrail_are_seen_on_b(tmp_path: Path) -> None:
    a, b = Side(tmp_path, "a"), Side(tmp_path, "b")
    tx = [0]
    record_insight(
        a.store,
        "pagerduty:P1",
        text="Cache stampede after a deploy",
        whys=["no jitter on TTLs"],
        guardrail="backpressure",
        owner="Ann",
    )
    events = a.send("alice", tx)
    assert [e.kind for e in events] == ["insight"]
    assert b.take(events) == ["applied"]
    assert b.rows("SELECT incident_id, text, whys, guardrail, guardrail_owner FROM insights") == [
        (
            "pagerduty:P1",
            "Cache stampede after a deploy",
            '["no jitter on TTLs"]',
            "backpressure",
            "Ann",
        )
    ]
    now = datetime.now(UTC)
    week = flywheel_weeks(b.store, now - timedelta(days=7), now + timedelta(days=1))
    assert sum(w.with_insight for w in week) == 1 and sum(w.guardrails for w in week) == 1
    # The runbook draft written later on A counts on B too (its file stays on A).
    a.conn.execute("UPDATE insights SET runbook_draft = '/home/ann/runbooks/drafts/p1.md'")
    drafted = a.send("alice", tx)
    assert [(e.kind, e.payload["type"]) for e in drafted] == [("insight", "drafted")]
    assert b.take(drafted) == ["applied"]
    assert b.rows("SELECT runbook_draft FROM insights") == [("a:p1.md",)]
    assert b.take(events + drafted) == ["skipped", "skipped"]
    assert b.send("bob", tx) == [] and a.send("alice", tx) == []


def test_local_notes_are_shared_pagerduty_notes_are_not(tmp_path: Path) -> None:
    a, b = Side(tmp_path, "a"), Side(tmp_path, "b")
    tx = [0]
    actions.add_note(a.store, "alertmanager:A1", "silenced the flapping alert")
    actions.add_note(a.store, "pagerduty:P1", "goes to PagerDuty")
    kept = actions.add_note(a.store, "pagerduty:P1", "never sent after all")
    assert kept.outbox_id is not None
    events = a.send("alice", tx)
    assert [(e.kind, e.payload["content"]) for e in events] == [
        ("note", "silenced the flapping alert")
    ]
    assert b.take(events) == ["applied"]
    # A note queued for PagerDuty and discarded stays local: it is shared then.
    discard_item(a.store, kept.outbox_id)
    later = a.send("alice", tx)
    assert [e.payload["content"] for e in later] == ["never sent after all"]
    b.take(later)
    assert b.rows("SELECT incident_id, content, author, state FROM notes ORDER BY id") == [
        ("alertmanager:A1", "silenced the flapping alert", "alice", "local"),
        ("pagerduty:P1", "never sent after all", "alice", "local"),
    ]
    assert b.take(events + later) == ["skipped", "skipped"]
    assert b.send("bob", tx) == [] and a.send("alice", tx) == []


def test_a_note_whose_incident_is_not_here_waits_for_it(tmp_path: Path) -> None:
    a, b = Side(tmp_path, "a"), Side(tmp_path, "b")
    tx = [0]
    with a.store.write() as session:
        upsert_incidents(
            session,
            "alertmanager",
            [
                IncidentRecord(
                    id="A2",
                    title="only on A so far",
                    status="triggered",
                    created_at=datetime.now(UTC),
                    updated_at=datetime.now(UTC),
                )
            ],
        )
    actions.add_note(a.store, "alertmanager:A2", "looking")
    record_insight(a.store, "alertmanager:A2", text="x", guardrail="timeout")
    events = a.send("alice", tx)
    assert b.take(events) == ["parked", "parked"]
    assert exchange._retry_parked(b.conn, set()) == 0
    b.conn.execute("UPDATE incidents SET id = 'alertmanager:A2' WHERE id = 'alertmanager:A1'")
    assert exchange._retry_parked(b.conn, set()) == 2
    assert b.rows("SELECT count(*) FROM team_parked") == [(0,)]
    assert b.rows("SELECT count(*) FROM notes") == [(1,)]
    assert b.send("bob", tx) == []


# ---------------------------------------------------------------- laptops and PostgreSQL


@pytest.fixture
def laptops(tmp_path: Path, pg_server: PgServer, team_db: str) -> list[Laptop]:
    return make_laptops(tmp_path, pg_server, team_db)


@pytest.mark.postgres
def test_drill_debrief_insight_and_notes_across_laptops(
    laptops: list[Laptop], pg_server: PgServer, team_db: str
) -> None:
    a, b, _c = laptops
    started = a.run("drill", "disk-full", "--print", "--as", "ann")
    drill_incident = started.stdout.split("on incident ")[1].split()[0]
    a.run("note", drill_incident, "df says 100% on /var")
    a.run("note", "P1", "paged the storage team")  # goes to PagerDuty: not shared
    debrief = a.run("drill", "report", "1").stdout
    assert "disk-full" in debrief or "Disk" in debrief
    store = Store.open(a.folder / "data")
    try:
        record_insight(
            store, "pagerduty:P1", text="Disk filled by debug logs", guardrail="rate limit"
        )
    finally:
        store.close()
    a.run("team", "sync")
    b.run("team", "sync")
    listed = b.run("drill", "list").stdout
    assert "disk-full  finished  local:ann" in listed
    assert b.run("drill", "report", "1").stdout == debrief
    assert b.rows("SELECT content, author FROM notes") == [("df says 100% on /var", "alice")]
    stats = b.run("stats").stdout
    flywheel = stats.split("Flywheel (UTC weeks)")[1].splitlines()[2:]
    assert [line.split()[2:4] for line in flywheel if line.split()[1] != "0"] == [["1", "1"]]
    kinds = [kind for kind, _author, _origin in team_events(pg_server, team_db)]
    assert sorted(k for k in kinds if k != "run_event") == ["drill", "drill", "insight", "note"]
    assert "run_event" in kinds  # the drill's run goes up as runs do
    for laptop in (a, b, a, b):
        assert "0 up, 0 down" in laptop.run("team", "sync").stdout
    assert len(b.rows("SELECT id FROM drills")) == 1
    assert len(b.rows("SELECT id FROM insights")) == 1


def test_an_event_that_cannot_be_read_is_parked_and_the_pull_goes_on(tmp_path: Path) -> None:
    b = Side(tmp_path, "b")

    def note(created: object, content: str) -> Pulled:
        payload = {"content": content, "created_at": created}
        return Pulled(local.uuid7(), "1", "note", "alertmanager:A1", payload, "carol", "c")

    bad_insight = Pulled(
        local.uuid7(),
        "2",
        "insight",
        "alertmanager:A1",
        {"type": "insight", "text": "t", "whys": 5, "created_at": "2026-12-01 10:00:00.000000"},
        "carol",
        "c",
    )
    good = note("2026-12-01 10:00:00.000000", "fine")
    assert b.take(
        [note("yesterday", "bad time"), note({"at": 1}, "bad type"), bad_insight, good]
    ) == [
        "parked",
        "parked",
        "parked",
        "applied",
    ]
    assert b.rows("SELECT content FROM notes") == [("fine",)]
    assert b.rows("SELECT count(*) FROM insights") == [(0,)]
    assert b.rows("SELECT count(*) FROM team_parked") == [(3,)]
    assert b.send("bob", [0]) == []


def test_what_a_parked_event_wrote_before_failing_is_undone(tmp_path: Path) -> None:
    b = Side(tmp_path, "b")
    at = "2026-12-01 10:00:00.000000"
    incident = {
        "id": "drill:abc",
        "source": "drill",
        "title": "t",
        "status": "triggered",
        "created_at": at,
        "updated_at": at,
    }
    drill = Pulled(
        local.uuid7(),
        "1",
        "drill",
        "drill:abc",
        {"type": "start", "runbook_id": "disk-full", "incident": incident, "started_at": 5},
        "carol",
        "c",
    )
    assert b.take([drill]) == ["parked"]
    assert b.rows("SELECT count(*) FROM incidents WHERE id = 'drill:abc'") == [(0,)]
    assert b.rows("SELECT count(*) FROM drills") == [(0,)]
