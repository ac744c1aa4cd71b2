"""MTTA, MTTR, time to rollback and incidents per change against hand-computed numbers."""

from __future__ import annotations

from datetime import datetime

import pytest
from pageseed import event, incident, open_store, utc

from cockpit.metrics.response import ALL, response_report, rollback_seconds
from cockpit.metrics.stats import Summary, format_seconds, nearest_rank, summarise
from cockpit.store import ChangeEvent, RunbookRun, StepEvent, Store


def test_p95_is_nearest_rank_on_small_samples():
    assert summarise([5]) == Summary(1, 5, 5, 5)
    assert summarise([10, 20]) == Summary(2, 15, 20, 15)
    # n = 19: rank ceil(18.05) = 19, the maximum; n = 20: rank 19; n = 21: rank 20.
    assert nearest_rank(list(range(1, 20)), 95) == 19
    assert nearest_rank(list(range(1, 21)), 95) == 19
    assert nearest_rank(list(range(1, 22)), 95) == 20
    assert nearest_rank(list(range(1, 101)), 95) == 95
    assert summarise([]) == Summary()
    assert summarise([3, 1, 2]).median == 2


def test_format_seconds():
    assert [format_seconds(v) for v in (None, 42, 425, 11520)] == ["-", "42s", "7m05s", "3h12m"]


def _run(
    store: Store, iid: str, steps: list[tuple[str, datetime, str, dict]], drill: bool = False
) -> None:  # type: ignore[type-arg]
    with store.write() as session:
        run = RunbookRun(incident_id=iid, runbook_id="rb", started_at=steps[0][1], is_drill=drill)
        session.add(run)
        session.flush()
        assert run.id is not None
        for seq, (kind, at, step_id, details) in enumerate(steps, 1):
            session.add(
                StepEvent(
                    run_id=run.id,
                    seq=seq,
                    at=at,
                    kind=kind,
                    step_id=step_id,
                    branch=details.pop("branch", ""),
                    details=details,
                )
            )


@pytest.fixture
def seeded(tmp_path):  # type: ignore[no-untyped-def]
    store = open_store(tmp_path)
    h = lambda hour, minute=0, second=0: utc(2026, 3, 25, hour, minute, second)  # noqa: E731
    incident(
        store,
        "pd:I1",
        h(10),
        service_name="web",
        team="A",
        status="resolved",
        acknowledged_at=h(10, 2),
        resolved_at=h(10, 30),
    )
    incident(
        store,
        "pd:I2",
        h(11),
        service_name="web",
        team="A",
        status="resolved",
        acknowledged_at=h(11, 10),
        resolved_at=h(12),
    )
    incident(store, "pd:I3", h(12), service_name="web", team="A", status="triggered")
    event(store, "pd:I3", "acknowledge", h(12, 1))  # only the log knows the ack
    event(store, "pd:I3", "acknowledge", h(12, 7))
    incident(
        store,
        "pd:I4",
        h(13),
        service_name="db",
        team="B",
        status="resolved",
        acknowledged_at=h(13, 5),
        resolved_at=h(14),
    )
    incident(
        store,
        "drill:D1",
        h(10),
        service_name="web",
        team="A",
        source="drill",
        is_drill=True,
        status="resolved",
        acknowledged_at=h(10, 0, 1),
        resolved_at=h(10, 0, 2),
    )
    incident(
        store,
        "pd:OLD",
        utc(2026, 3, 20),
        service_name="web",
        status="resolved",
        acknowledged_at=utc(2026, 3, 20, 5),
        resolved_at=utc(2026, 3, 21),
    )
    _run(
        store,
        "pd:I1",
        [
            ("started", h(10, 5), "", {}),
            ("done", h(10, 6), "actions.swr", {}),
            ("decided", h(10, 10), "decisions.error-rate", {"branch": "no"}),
            ("rollback_entered", h(10, 10, 1), "", {}),
            ("done", h(10, 12), "rollback.disable", {}),
            ("done", h(10, 15), "rollback.restart", {}),
            ("validated", h(10, 18), "", {}),
            ("done", h(10, 20), "validation.p95", {}),
            ("finished", h(10, 21), "", {"branch": "rolled_back"}),
        ],
    )
    _run(
        store,
        "pd:I2",
        [
            ("started", h(11, 15), "", {}),
            ("decided", h(11, 20), "decisions.x", {"branch": "no", "target": "#rollback"}),
            ("done", h(11, 21), "cleanup", {"section": "rollback"}),
        ],
    )
    _run(
        store,
        "drill:D1",
        [
            ("decided", h(10, 0, 5), "d", {"branch": "no"}),
            ("rollback_entered", h(10, 0, 5), "", {}),
            ("done", h(10, 0, 6), "rollback.disable", {}),
        ],
        drill=True,
    )
    with store.write() as session:
        session.add(ChangeEvent(id="c1", source="pd", service_name="web", at=h(9)))
        session.add(ChangeEvent(id="c2", source="pd", service_name="web", at=h(11, 30)))
        session.add(ChangeEvent(id="c3", source="pd", service_name="web", at=utc(2026, 3, 1)))
    yield store
    store.close()


def test_response_report_overall_and_per_service(seeded: Store) -> None:
    report = response_report(seeded, utc(2026, 3, 25), utc(2026, 3, 26))
    overall, db, web = report
    assert (overall.group, db.group, web.group) == (ALL, "db", "web")
    assert overall.incidents == 4
    # MTTA: 60, 120, 300, 600 -> median 210, p95 rank 4 = 600, mean 270.
    assert overall.mtta == Summary(4, 210, 600, 270)
    # MTTR: 1800, 3600, 3600.
    assert overall.mttr == Summary(3, 3600, 3600, 3000)
    # Rollback: I1 10:10:00 (the decision) -> 10:15; I2 11:20 -> 11:21. The drill is out.
    assert overall.rollback == Summary(2, 180, 300, 180)
    assert web.mtta == Summary(3, 120, 600, 260)
    assert (web.changes, web.incidents_per_change) == (2, 1.5)
    assert (db.changes, db.incidents_per_change) == (None, None)
    assert (overall.changes, overall.incidents_per_change) == (2, 2.0)


def test_response_report_per_team_and_filtered(seeded: Store) -> None:
    report = response_report(seeded, utc(2026, 3, 25), utc(2026, 3, 26), by="team")
    assert [(r.group, r.incidents) for r in report] == [(ALL, 4), ("A", 3), ("B", 1)]
    only_b = response_report(seeded, utc(2026, 3, 25), utc(2026, 3, 26), team="B")
    assert [(r.group, r.mttr.median) for r in only_b] == [(ALL, 3600), ("db", 3600)]


def test_rollback_needs_a_done_rollback_step():
    at = utc(2026, 3, 25, 10)
    entered = StepEvent(run_id=1, seq=1, at=at, kind="rollback_entered")
    assert rollback_seconds([entered]) is None
    assert rollback_seconds([StepEvent(run_id=1, seq=1, at=at, kind="done", step_id="a")]) is None


def test_rollback_starts_at_the_last_decision_when_unmarked():
    events = [
        StepEvent(run_id=1, seq=1, at=utc(2026, 3, 25, 10), kind="decided", branch="yes"),
        StepEvent(run_id=1, seq=2, at=utc(2026, 3, 25, 10, 5), kind="decided", branch="no"),
        StepEvent(
            run_id=1, seq=3, at=utc(2026, 3, 25, 10, 6), kind="done", step_id="rollback.flag"
        ),
        StepEvent(
            run_id=1, seq=4, at=utc(2026, 3, 25, 10, 9), kind="done", step_id="rollback.restart"
        ),
    ]
    assert rollback_seconds(events) == 240


def test_an_incident_of_several_teams_counts_for_each_of_them(seeded: Store) -> None:
    # PagerDuty incidents may belong to several teams; the store joins them ("A, B").
    incident(
        seeded,
        "pd:I5",
        utc(2026, 3, 25, 15),
        service_name="api",
        team="A, B",
        status="resolved",
        acknowledged_at=utc(2026, 3, 25, 15, 1),
        resolved_at=utc(2026, 3, 25, 16),
    )
    report = response_report(seeded, utc(2026, 3, 25), utc(2026, 3, 26), by="team")
    assert [(r.group, r.incidents) for r in report] == [(ALL, 5), ("A", 4), ("B", 2)]
    only_b = response_report(seeded, utc(2026, 3, 25), utc(2026, 3, 26), team="b")
    assert only_b[0].incidents == 2  # whole name, any case, any of the incident's teams
    assert response_report(seeded, utc(2026, 3, 25), utc(2026, 3, 26), team="a")[0].incidents == 4
