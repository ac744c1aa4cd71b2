"""The stats read as SQL aggregates (one read of the notify rows, integer times) give what the
ORM-and-datetime computation gave (``stats_reference``, the code as it was), on a store built
to hit the edges: weeks that start on a different day in Tokyo than in New York, DST switches
in Berlin and New York, drills (the incident's flag and the entry's), acknowledgement only in
the log (someone else acknowledged), never acknowledged, storms longer than a minute, a page
begun just before the window, several incidents in one page, a baton's own notification,
people missing from the roster or in an unknown zone, teams joined, runs that rolled back."""

from __future__ import annotations

import random
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import stats_reference as old
from pageseed import utc

from cockpit.flywheel import flywheel_weeks
from cockpit.metrics.hours import band, week_of
from cockpit.metrics.pagelog import (
    LocalClock,
    band_of,
    load_by_person,
    micros,
    monday_of,
    read_page_log,
    shift_loads,
    weekly_load,
)
from cockpit.metrics.report import stats_report
from cockpit.metrics.response import response_report
from cockpit.store import (
    ChangeEvent,
    Incident,
    Insight,
    OnCallShift,
    OutboxItem,
    Person,
    RunbookRun,
    StepEvent,
    Store,
    TimelineEvent,
)

NOW = utc(2026, 4, 1, 12, 0)  # a Wednesday, after both spring DST switches
PEOPLE = [
    ("pd:BER", "Berlin", "Europe/Berlin", ["Payments"]),
    ("pd:NYC", "New York", "America/New_York", ["Storefront", "Payments"]),
    ("pd:TYO", "Tokyo", "Asia/Tokyo", ["Storefront"]),
    ("pd:KOL", "Kolkata", "Asia/Kolkata", []),
    ("pd:UTC", "Utc", "UTC", ["payments"]),
    ("pd:MARS", "Mars", "Mars/Olympus", ["Storefront"]),  # unknown zone: counted as UTC
]
ROSTERLESS = "pd:GHOST"  # paged, not in the roster
SERVICES = ["web", "db", "", "queue"]
TEAMS = ["Payments", "Storefront", "Payments, Storefront", "", "Ops"]
WINDOWS = [
    (NOW - timedelta(weeks=1), NOW),
    (NOW - timedelta(weeks=8), NOW),
    (NOW - timedelta(weeks=30), NOW),  # the autumn switches of 2025 too
    (utc(2026, 3, 8, 7, 0, 30), utc(2026, 3, 30)),  # starts mid-storm, across both switches
]


def _seed(store: Store) -> None:
    rng = random.Random(17)
    rows: list[Any] = [
        Person(id=pid, source="pagerduty", name=name, time_zone=tz, teams=teams)
        for pid, name, tz, teams in PEOPLE
    ]
    paged = [pid for pid, *_ in PEOPLE] + [ROSTERLESS]
    start = NOW - timedelta(weeks=32)
    events: list[TimelineEvent] = []
    for n in range(420):
        created = start + timedelta(seconds=rng.randrange(32 * 7 * 86400))
        if n % 20 == 0:  # around the DST switches and the week's edges, to the second
            created = rng.choice(
                [
                    utc(2026, 3, 29, 0, 59, 50),
                    utc(2026, 3, 29, 6, 0),  # Berlin: 08:00 after the switch, 07:00 before
                    utc(2026, 3, 8, 6, 59, 45),
                    utc(2026, 3, 8, 12, 30),  # New York: 08:30 after the switch
                    utc(2025, 10, 26, 0, 59),
                    utc(2025, 10, 26, 6, 30),
                ]
            ) + timedelta(seconds=rng.randrange(30))
        iid = f"pd:I{n}"
        drill = n % 23 == 0
        ack = created + timedelta(seconds=rng.randrange(1, 3600), microseconds=rng.randrange(10**6))
        kind = n % 5
        rows.append(
            Incident(
                id=iid,
                source="drill" if drill else "pagerduty",
                remote_id=f"I{n}",
                title="t",
                status="resolved" if kind != 4 else "triggered",
                service_name=SERVICES[n % len(SERVICES)],
                team=TEAMS[n % len(TEAMS)],
                created_at=created,
                updated_at=created,
                # 0: own ack; 1: only the log knows (someone else acknowledged); 2: never;
                # 3: own ack and an earlier log entry (the incident's own wins); 4: open
                acknowledged_at=ack if kind in (0, 3) else None,
                resolved_at=ack + timedelta(minutes=rng.randrange(1, 600)) if kind < 4 else None,
                is_drill=drill,
            )
        )
        if kind in (1, 3):
            for later in (0, 90):
                events.append(
                    TimelineEvent(
                        incident_id=iid,
                        kind="acknowledge",
                        at=ack + timedelta(seconds=later - (30 if kind == 3 else 0)),
                    )
                )
        # Pages: a round (push and SMS at once), sometimes a storm every 25-40 s for minutes.
        for _ in range(rng.randrange(1, 4)):
            who = rng.choice(paged)
            at = created + timedelta(seconds=rng.randrange(120))
            length = rng.choice([1, 2, 2, 3, 12])
            for _ in range(length):
                events.append(
                    TimelineEvent(
                        incident_id=iid,
                        kind="notify",
                        at=at,
                        person_id=who,
                        channel=rng.choice(["push", "sms", "phone"]),
                        is_drill=n % 31 == 0,  # a drill entry on a real incident
                    )
                )
                at += timedelta(seconds=rng.choice([0, 0, 25, 40, 59, 60, 61]))
    # Two incidents paging the same person within a minute: one page, two incidents.
    for n, second in ((1000, 0), (1001, 30)):
        at = utc(2026, 3, 31, 23, 0, second)
        rows.append(
            Incident(
                id=f"pd:I{n}",
                source="pagerduty",
                remote_id=f"I{n}",
                title="t",
                status="resolved",
                service_name="web",
                team="Payments",
                created_at=at,
                updated_at=at,
            )
        )
        events.append(
            TimelineEvent(incident_id=f"pd:I{n}", kind="notify", at=at, person_id="pd:TYO")
        )
    # A baton accepted in the cockpit: PagerDuty's notification of the receiver is no page.
    handed = utc(2026, 3, 31, 10, 0)
    rows.append(
        OutboxItem(
            source="pagerduty",
            incident_id="pd:I1000",
            action="reassign",
            payload={"person_id": "BER"},
            state="sent",
            last_attempt_at=handed,
            sent_at=handed + timedelta(seconds=2),
        )
    )
    events.append(
        TimelineEvent(
            incident_id="pd:I1000",
            kind="notify",
            at=handed + timedelta(seconds=5),
            person_id="pd:BER",
        )
    )
    # Shifts: 8 h, a week (14 blocks), overlapping levels, open-ended.
    for pid, begin, hours in (
        ("pd:BER", utc(2026, 3, 25, 8), 8),
        ("pd:NYC", utc(2026, 3, 23, 13), 7 * 24),
        ("pd:NYC", utc(2026, 3, 24), 12),
        ("pd:TYO", utc(2026, 3, 2), 5 * 7 * 24),
        ("pd:UTC", utc(2026, 3, 30), None),
    ):
        rows.append(
            OnCallShift(
                source="pagerduty",
                person_id=pid,
                start=begin,
                end=begin + timedelta(hours=hours) if hours else None,
                escalation_level=1,
                escalation_policy_id="EP1",
            )
        )
    for n in range(0, 420, 7):  # insights, some on drills, a few with a runbook draft
        rows.append(
            Insight(
                incident_id=f"pd:I{n}",
                text="why",
                guardrail="timeout" if n % 14 else "",
                runbook_draft="drafts/x.md" if n % 21 == 0 else "",
                created_at=NOW - timedelta(days=n % 200, hours=n % 24),
            )
        )
    for n in range(60):
        rows.append(
            ChangeEvent(
                id=f"c{n}",
                source="deploys",
                service_name=SERVICES[n % 3],
                at=NOW - timedelta(days=n * 3),
            )
        )
    with store.write() as session:
        for row in rows:
            session.add(row)
        session.flush()
        for event in events:
            session.add(event)
        for n in range(0, 400, 9):  # runs, one in three rolled back, drill runs too
            begin = NOW - timedelta(days=n % 210)
            run = RunbookRun(
                incident_id=f"pd:I{n}", runbook_id="rb", started_at=begin, is_drill=n % 27 == 0
            )
            session.add(run)
            session.flush()
            assert run.id is not None
            steps = [("started", "", {}), ("decided", "decisions.x", {"branch": "no"})]
            if n % 3 == 0:
                steps += [("rollback_entered", "", {}), ("done", "rollback.undo", {})]
            elif n % 3 == 1:
                steps += [("done", "cleanup", {"section": "rollback"})]
            for seq, (kind, step_id, details) in enumerate(steps, 1):
                session.add(
                    StepEvent(
                        run_id=run.id,
                        seq=seq,
                        at=begin + timedelta(seconds=seq * 77, microseconds=seq * 1234),
                        kind=kind,
                        step_id=step_id,
                        branch=details.pop("branch", ""),
                        details=details,
                    )
                )


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path: Path = tmp_path_factory.mktemp("stats") / "cockpit.db"
    opened = Store.open(path)
    _seed(opened)
    yield opened
    opened.close()


def _same_response(new: list[Any], ref: list[Any]) -> None:
    # The mean is a sum of floats: summed in another order it may differ in the last bits.
    assert [r.group for r in new] == [r.group for r in ref]
    for got, want in zip(new, ref, strict=True):
        got_fields, want_fields = asdict(got), asdict(want)
        for name in ("mtta", "mttr", "rollback"):
            got_mean = got_fields[name].pop("mean")
            want_mean = want_fields[name].pop("mean")
            assert got_mean == pytest.approx(want_mean, rel=1e-12, abs=1e-9)
        assert got_fields == want_fields


@pytest.mark.parametrize("window", WINDOWS, ids=["1w", "8w", "30w", "dst"])
@pytest.mark.parametrize("team", [None, "payments", "Storefront", "Ops", "nobody"])
def test_the_figures_match_the_old_computation(store: Store, window: Any, team: str | None):
    since, until = window
    assert weekly_load(store, since, until, team) == old.weekly_load(store, since, until, team)
    assert load_by_person(store, since, until, team) == old.load_by_person(
        store, since, until, team
    )
    assert shift_loads(store, since, until, team) == old.shift_loads(store, since, until, team)
    for by in ("service", "team"):
        _same_response(
            response_report(store, since, until, by=by, team=team),  # type: ignore[arg-type]
            old.response_report(store, since, until, by=by, team=team),  # type: ignore[arg-type]
        )


@pytest.mark.parametrize("window", WINDOWS, ids=["1w", "8w", "30w", "dst"])
def test_the_flywheel_matches_the_old_computation(store: Store, window: Any):
    assert flywheel_weeks(store, *window) == old.flywheel_weeks(store, *window)


def test_one_report_holds_every_figure(store: Store):
    since, until = WINDOWS[2]
    report = stats_report(store, since, until, by="team", team="payments")
    assert report.weekly == old.weekly_load(store, since, until, "payments")
    assert report.loads == old.load_by_person(store, since, until, "payments")
    assert report.blocks == old.shift_loads(store, since, until, "payments")
    assert report.flywheel == old.flywheel_weeks(store, since, until)
    _same_response(
        report.response, old.response_report(store, since, until, by="team", team="payments")
    )


def test_the_store_has_the_edges_it_claims(store: Store):
    """The comparison above only means something if the store has the awkward cases."""
    since, until = WINDOWS[2]
    with store.rows() as conn:
        log = read_page_log(conn, since, until)
    pages = [
        (pid, start, incidents)
        for pid, own in log.by_person.items()
        for start, incidents in own.pages
    ]
    assert any(len(incidents) > 1 for *_, incidents in pages)  # a page of several incidents
    assert ROSTERLESS in log.by_person
    loads = {load.person_id: load for load in old.load_by_person(store, since, until)}
    assert all(loads[pid].split["sleep"] for pid in ("pd:BER", "pd:NYC", "pd:TYO"))
    report = old.response_report(store, since, until)
    assert report[0].mtta.count < report[0].incidents  # some never acknowledged
    assert report[0].rollback.count > 0
    assert any(block.state != "green" for block in old.shift_loads(store, since, until))
    # The baton's own notification is in the log but is no page.
    baton = micros(utc(2026, 3, 31, 10, 0, 5))
    assert (baton, ["pd:I1000"]) not in log.by_person["pd:BER"].pages


@pytest.mark.parametrize("tz", ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "UTC"])
def test_local_clock_agrees_with_zoneinfo_across_dst(tz: str):
    clock = LocalClock(tz)
    rng = random.Random(tz)
    moments = [utc(2026, 3, 29, 0, 59, 59), utc(2026, 3, 29, 1, 0), utc(2026, 3, 8, 7, 0)]
    moments += [utc(2026, 4, 5, 15, 30), utc(2025, 11, 2, 6, 0), utc(2025, 10, 26, 1)]
    moments += [utc(2025, 9, 1) + timedelta(seconds=rng.randrange(300 * 86400)) for _ in range(500)]
    for day in (utc(2026, 3, 29), utc(2026, 3, 8), utc(2025, 10, 26), utc(2025, 11, 2)):
        moments += [day + timedelta(minutes=15 * k) for k in range(4 * 24)]  # switch days
    for at in moments:
        for nudge in (timedelta(0), timedelta(microseconds=-1), timedelta(seconds=1)):
            moment = at + nudge
            local = clock.seconds(micros(moment))
            assert band_of(local) == band(moment, tz), moment
            assert monday_of(local) == week_of(moment, tz), moment
