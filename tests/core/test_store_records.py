"""The plain-sqlite3 records and reads agree with the ORM tables they mirror."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path

from cockpit.store import Alert, BatonPass, Incident, Note, Store, TimelineEvent, models, reads
from cockpit.store.records import TABLES

MODELS = {
    "incidents": models.Incident,
    "alerts": models.Alert,
    "people": models.Person,
    "oncall_shifts": models.OnCallShift,
    "baton_passes": models.BatonPass,
    "runbook_runs": models.RunbookRun,
    "step_events": models.StepEvent,
}


def test_every_record_has_exactly_the_columns_of_its_table() -> None:
    for table in TABLES:
        model = MODELS[table.name]
        assert [f.name for f in fields(table.record)] == list(model.__table__.columns.keys())  # type: ignore[attr-defined, arg-type]


def _seeded(tmp_path: Path) -> Store:
    store = Store.open(tmp_path)
    at = datetime(2026, 11, 20, 3, 4, 5, 600_000, tzinfo=UTC)
    with store.write() as session:
        session.add(
            Incident(
                id="pagerduty:P1",
                source="pagerduty",
                remote_id="P1",
                number=7,
                title="db down",
                status="acknowledged",
                assignees=["pagerduty:UA", "pagerduty:UB"],
                labels={"alertname": "DBDown"},
                created_at=at,
                updated_at=at,
                acknowledged_at=at,
            )
        )
    with store.write() as session:  # (the ORM does not order inserts across tables)
        session.add(
            Alert(
                id="pagerduty:A1",
                incident_id="pagerduty:P1",
                summary="disk",
                status="triggered",
                labels={"severity": "page"},
                created_at=at,
            )
        )
        session.add(
            BatonPass(
                incident_id="pagerduty:P1", to_person="pagerduty:UC", note="yours", offered_at=at
            )
        )
        session.add(
            TimelineEvent(
                incident_id="pagerduty:P1",
                at=at,
                kind="notify",
                person_id="pagerduty:UA",
                remote_id="pagerduty:L1",
            )
        )
        session.add(
            TimelineEvent(
                incident_id="pagerduty:P1",
                at=at,
                kind="annotate",
                remote_id="pagerduty:L2",
                details={"note": "from PD"},
            )
        )
        session.add(
            Note(incident_id="pagerduty:P1", content="ours", created_at=at, state="pending")
        )
    return store


def test_an_incident_reads_the_same_through_sqlite3_and_the_orm(tmp_path: Path) -> None:
    store = _seeded(tmp_path)
    with store.read() as session:
        orm = session.get(Incident, "pagerduty:P1")
        orm_alert = session.get(Alert, "pagerduty:A1")
    with store.rows() as conn:
        row = reads.incident(conn, "pagerduty:P1")
        (alert,) = reads.alerts(conn, "pagerduty:P1")
        offer = reads.pending_offer(conn, "pagerduty:P1")
        holder = reads.holder(conn, row)
        paged = reads.paged_people(conn, "pagerduty:P1")
        items = reads.timeline(conn, "pagerduty:P1")
    assert row is not None and orm is not None and orm_alert is not None
    for f in fields(row):
        assert getattr(row, f.name) == getattr(orm, f.name), f.name
    for f in fields(alert):
        assert getattr(alert, f.name) == getattr(orm_alert, f.name), f.name
    assert row.acknowledged_at is not None and row.acknowledged_at.tzinfo is not None
    assert offer is not None and offer.to_person == "pagerduty:UC" and offer.state == "offered"
    assert holder == ("pagerduty:UA", row.acknowledged_at)
    assert paged == ["pagerduty:UA"]
    assert {(i.kind, i.summary, i.state) for i in items} >= {
        ("note", "from PD", ""),
        ("note", "ours", "pending"),
        ("notify", "", ""),
    }
    store.close()


def test_the_filters_mean_the_same_in_sql_and_on_the_orm(tmp_path: Path) -> None:
    store = _seeded(tmp_path)
    mine = reads.IncidentFilter(assignee="pagerduty:UB")
    nobody = reads.IncidentFilter(assignee="pagerduty:U")  # a prefix is not a match
    with store.rows() as conn:
        assert [r[0] for r in reads.open_refs(conn, mine)] == ["pagerduty:P1"]
        assert reads.open_refs(conn, nobody) == []
    from cockpit.store.queries import open_incidents

    with store.read() as session:
        assert [i.id for i in open_incidents(session, where=mine)] == ["pagerduty:P1"]
        assert open_incidents(session, where=nobody) == []
    store.close()


def test_the_first_frame_modules_do_not_import_the_orm() -> None:
    code = (
        "import sys\n"
        "import cockpit.app, cockpit.screens.cockpit_screen\n"
        "from cockpit.store.engine import Store\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'sqlmodel'))\n"
        "print(' '.join(bad[:5]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"imported before the first frame: {out.stdout}"


def test_a_sent_write_is_shown_once_when_the_service_logs_it_back(tmp_path: Path) -> None:
    from datetime import timedelta

    store = _seeded(tmp_path)
    at = datetime(2026, 11, 20, 3, 30, tzinfo=UTC)
    with store.write() as session:
        session.add(
            TimelineEvent(
                incident_id="pagerduty:P1",
                at=at,
                kind="acknowledge",
                summary="Acknowledged by Ada",
                details={"state": "sent"},
            )
        )
        session.add(
            TimelineEvent(
                incident_id="pagerduty:P1",
                at=at + timedelta(seconds=40),
                kind="acknowledge",
                summary="Acknowledged by Ada Okafor.",
                remote_id="pagerduty:L9",
            )
        )
        session.add(
            TimelineEvent(
                incident_id="pagerduty:P1",
                at=at,
                kind="snooze",
                summary="Snoozed 1h by Ada",
                details={"state": "pending"},
            )
        )
    with store.rows() as conn:
        items = reads.timeline(conn, "pagerduty:P1")
    acks = [i.summary for i in items if i.kind == "acknowledge"]
    assert acks == ["Acknowledged by Ada Okafor."]
    assert [i.state for i in items if i.kind == "snooze"] == ["pending"]  # not yet sent: kept
    store.close()
