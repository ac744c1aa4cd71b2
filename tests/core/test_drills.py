"""Drills: the practice provider refuses writes, nothing reaches the emulator, timing and
debrief from a scripted run with a fixed clock, scenarios, drill history."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from pageseed import incident, utc

from cockpit.drills import (
    PracticeProvider,
    PracticeWriteRefused,
    analyse,
    finish_drill,
    last_drilled,
    load_scenario,
    may_execute,
    scenario_from_runbook,
    start_drill,
)
from cockpit.drills.scenario import Scenario, ScenarioError
from cockpit.drills.service import drill_history, stale_runbooks
from cockpit.integrations.base import PagingProvider
from cockpit.runbooks.model import Runbook
from cockpit.runbooks.parse import parse_runbook
from cockpit.store import Drill, Incident, OutboxItem, RunbookRun, StepEvent, Store
from cockpit.store.runs import append_event
from cockpit.sync import actions

RUNBOOK = """---
id: product-cache-stampede
title: Cache stampede on product detail
owner: storefront-oncall
services: [product-api]
---
# Cache stampede on product detail

## Trigger
p95 latency on /product above 800 ms for 5 minutes.

## Checks
- [ ] Open the latency dashboard
- [ ] Cache hit ratio dropped? `redis-cli info stats`

## Actions
1. [ ] Turn on stale-while-revalidate
   ```sh
   flagctl enable product.swr --env prod
   ```
2. [ ] Watch the error rate (wait 5m)

## Decision points
- Is the 5xx rate below 1%?
  - yes: go to [Validation](#validation)
  - no: go to [Rollback](#rollback)

## Rollback
1. [ ] `flagctl disable product.swr --env prod`

## Validation
- [ ] p95 below 300 ms for 10 minutes

## Owner
storefront-oncall
"""
T0 = utc(2026, 3, 25, 10)
CHECK1 = "checks.open-the-latency-dashboard"
CHECK2 = "checks.cache-hit-ratio-dropped-redis-cli-info-stats"
ACT1 = "actions.turn-on-stale-while-revalidate"
ACT2 = "actions.watch-the-error-rate"
DECISION = "decision.is-the-5xx-rate-below-1"
VALID = "validation.p95-below-300-ms-for-10-minutes"


@pytest.fixture
def runbook(tmp_path: Path) -> Runbook:
    path = tmp_path / "cache-stampede.md"
    path.write_text(RUNBOOK, encoding="utf-8")
    return parse_runbook(RUNBOOK, path)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "cockpit.db")
    yield opened
    opened.close()


# ---------------------------------------------------------------- practice provider

WRITES = {
    "acknowledge": ("P1",),
    "resolve": ("P1",),
    "reassign": ("P1", "U1"),
    "escalate": ("P1", 2),
    "snooze": ("P1", 60),
    "add_note": ("P1", "hello"),
}


def test_practice_provider_is_a_read_only_paging_provider() -> None:
    provider = PracticeProvider()
    assert isinstance(provider, PagingProvider)
    assert provider.capabilities.writes == frozenset()
    assert provider.capabilities.real_people is False
    # Every write of the protocol is covered by the test below.
    protocol_writes = {"acknowledge", "resolve", "reassign", "escalate", "snooze", "add_note"}
    assert protocol_writes <= {name for name, _ in inspect.getmembers(PagingProvider)}
    assert set(WRITES) == protocol_writes


@pytest.mark.parametrize("method", sorted(WRITES))
async def test_practice_provider_refuses_every_write(method: str) -> None:
    provider = PracticeProvider()
    with pytest.raises(PracticeWriteRefused, match="practice mode: .* was not sent"):
        await getattr(provider, method)(*WRITES[method])
    assert provider.refused == [f"{method} P1"]


async def test_practice_provider_reads_are_empty() -> None:
    provider = PracticeProvider("ann")
    assert (await provider.whoami()).id == "practice:ann"
    assert [r async for r in provider.list_incidents(T0)] == []
    assert (await provider.changes_since(T0)).incidents == []
    assert await provider.oncalls() == []


# ---------------------------------------------------------------- may_execute


def test_may_execute_never_in_a_drill() -> None:
    live = RunbookRun(incident_id="pd:I1", runbook_id="rb", is_drill=False)
    drill = RunbookRun(incident_id="drill:x", runbook_id="rb", is_drill=True)
    real = Incident(
        id="pd:I1",
        source="pagerduty",
        remote_id="I1",
        title="t",
        status="triggered",
        created_at=T0,
        updated_at=T0,
    )
    fake = Incident(
        id="drill:x",
        source="drill",
        remote_id="x",
        title="t",
        status="triggered",
        created_at=T0,
        updated_at=T0,
        is_drill=True,
    )
    assert may_execute(live) is True
    assert may_execute(live, real) is True
    assert may_execute(drill) is False
    assert may_execute(drill, fake) is False
    assert may_execute(live, fake) is False  # a live-flagged run on a drill incident
    assert may_execute(None) is False


# ---------------------------------------------------------------- scenarios


def test_scenario_file(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "title: Stampede at peak\nrunbook: product-cache-stampede\ndifficulty: hard\n"
        "scenario: |\n  Campaign email went out.\nsymptoms:\n  - p95 2.4 s\n  - hits flat\n"
        "expected_branch: rollback\n",
        encoding="utf-8",
    )
    scenario = load_scenario(path)
    assert scenario == Scenario(
        title="Stampede at peak",
        text="Campaign email went out.",
        difficulty="hard",
        symptoms=("p95 2.4 s", "hits flat"),
        expected_branch="rollback",
        runbook_id="product-cache-stampede",
        source=str(path),
    )
    assert Scenario.from_json(scenario.to_json()) == scenario


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("title: [unclosed\n", r"s\.yaml:\d+: not valid YAML"),
        ("- a list\n", "a scenario is a mapping"),
        ("scenario: no title\n", "field 'title' is required"),
        ("title: x\ndifficulty: brutal\n", "field 'difficulty' must be one of"),
        ("title: x\nbogus: 1\n", r"unknown field\(s\) bogus"),
    ],
)
def test_scenario_errors_name_the_file_and_field(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ScenarioError, match=message):
        load_scenario(path)


def test_scenario_from_the_runbook_trigger(runbook: Runbook) -> None:
    scenario = scenario_from_runbook(runbook)
    assert scenario.title == "[DRILL] Cache stampede on product detail"
    assert scenario.symptoms == ("p95 latency on /product above 800 ms for 5 minutes.",)
    assert (scenario.runbook_id, scenario.service) == ("product-cache-stampede", "product-api")


# ---------------------------------------------------------------- timing and debrief


def _script(store: Store, drill: Drill) -> None:
    """A scripted run: a skip, an unclear step that stalls, a slow decision, wrong branch."""
    steps = [
        (30, "done", CHECK1, "", "", {}),
        (50, "skipped", CHECK2, "", "no redis access", {}),
        (350, "done", ACT1, "", "unclear: which env?", {"unclear": True}),
        (390, "done", ACT2, "", "", {}),
        (630, "decided", DECISION, "yes", "", {}),
        (660, "done", VALID, "", "", {}),
    ]
    with store.write() as session:
        run = session.get(RunbookRun, drill.run_id)
        assert run is not None
        for seconds, kind, step_id, branch, reason, details in steps:
            append_event(
                session,
                run,
                kind=kind,
                at=T0 + timedelta(seconds=seconds),
                step_id=step_id,
                branch=branch,
                reason=reason,
                details=details,
            )


def test_drill_timing_and_debrief(store: Store, runbook: Runbook) -> None:
    scenario = Scenario(title="Stampede at peak", difficulty="hard", expected_branch="rollback")
    drill = start_drill(store, runbook, scenario, participant="ann", clock=lambda: T0)
    with store.read() as session:
        fake = session.get(Incident, drill.incident_id)
        assert fake is not None and fake.is_drill and fake.source == "drill"
    _script(store, drill)
    assert drill.id is not None
    done = finish_drill(store, drill.id, runbook, clock=lambda: T0 + timedelta(minutes=12))
    assert done.finished_at == T0 + timedelta(minutes=12)
    report = done.report_md.splitlines()
    assert report[0] == "# Drill debrief: Cache stampede on product detail"
    # Gaps 30, 20, 300, 40, 240, 30: median 35 s, stall above max(2 x 35, 60) = 70 s.
    assert "- Total time: 12m00s; median gap 35s; stall above 1m10s" in report
    assert "- Branch: expected rollback, taken validation: WRONG BRANCH" in report
    assert (
        "| 3 | Turn on stale-while-revalidate (`actions.turn-on-stale-while-revalidate`) "
        "| done | 5m00s | stall, unclear |"
    ) in report
    assert f"| 5 | Is the 5xx rate below 1%? (`{DECISION}`) | → yes | 4m00s | stall |" in report
    assert (
        "| 2 | Cache hit ratio dropped? `redis-cli info stats` "
        f"(`{CHECK2}`) | skipped | 20s | no redis access |"
    ) in report
    edits = report[report.index("## Suggested edits for the runbook") + 2 :]
    assert edits == [
        "1. The drill expected the 'rollback' branch but took 'validation': state the "
        "threshold in the decision's question so the right answer is obvious.",
        f"2. Reword `{ACT1}`: marked unclear (unclear: which env?).",
        f"3. `{DECISION}` took 4m00s to decide: name the dashboard to read and the threshold "
        "in the question.",
        f"4. `{CHECK2}` was skipped (no redis access): make it optional, move it, or drop it.",
    ]
    with store.read() as session:
        fake = session.get(Incident, drill.incident_id)
        run = session.get(RunbookRun, drill.run_id)
        assert fake is not None and fake.status == "resolved"
        assert run is not None and run.outcome == "abandoned" and run.is_drill


def test_analysis_right_branch_and_steps_not_reached() -> None:
    def ev(seq: int, seconds: int, kind: str, step_id: str = "", branch: str = "") -> StepEvent:
        return StepEvent(
            run_id=1,
            seq=seq,
            at=T0 + timedelta(seconds=seconds),
            kind=kind,
            step_id=step_id,
            branch=branch,
        )

    events = [
        ev(1, 0, "started"),
        ev(2, 10, "done", CHECK1),
        ev(3, 20, "undone", CHECK1),
        ev(4, 25, "done", CHECK1),
        ev(5, 60, "decided", DECISION, "no"),
        ev(6, 60, "rollback_entered"),
        ev(7, 90, "done", "rollback.flag"),
    ]
    result = analyse(events, "no", main_steps=[CHECK1, ACT1])
    assert (result.wrong_branch, result.taken_branch, result.undos) == (False, "no", 1)
    assert result.not_reached == [ACT1]
    assert analyse(events, "rollback").wrong_branch is False
    assert analyse(events, "").wrong_branch is None
    # A step whose timer was started was reached, even if never ticked.
    timed = [*events, ev(8, 95, "timer_started", ACT1)]
    assert analyse(timed, "no", main_steps=[CHECK1, ACT1]).not_reached == []
    # Gaps 10, 5, 35, 30: nothing exceeds the 60 s floor.
    assert analyse(events).hesitations == []


# ---------------------------------------------------------------- history


def test_last_drilled_and_stale_runbooks(store: Store, runbook: Runbook) -> None:
    other = Runbook(id="disk-full", title="Disk full", path="disk-full.md")
    never = Runbook(id="cert-expiry", title="Cert", path="cert.md")
    old = start_drill(store, other, Scenario(title="old"), clock=lambda: utc(2025, 11, 1))
    assert old.id is not None
    finish_drill(store, old.id, clock=lambda: utc(2025, 11, 1, 1))
    recent = start_drill(store, runbook, Scenario(title="new"), clock=lambda: T0)
    assert recent.id is not None
    unfinished = start_drill(store, never, Scenario(title="x"), clock=lambda: T0)
    finish_drill(store, recent.id, runbook, clock=lambda: T0 + timedelta(minutes=5))
    last = last_drilled(store)
    assert last == {"disk-full": utc(2025, 11, 1, 1), runbook.id: T0 + timedelta(minutes=5)}
    stale = stale_runbooks([runbook, other, never], last, T0 + timedelta(days=1))
    assert [(s.runbook_id, s.never) for s in stale] == [("cert-expiry", True), ("disk-full", False)]
    assert [d.id for d in drill_history(store, "cert-expiry")] == [unfinished.id]


# ---------------------------------------------------------------- nothing reaches the emulator


async def test_the_emulator_sees_no_write_during_a_drill(store: Store, runbook: Runbook) -> None:
    from cockpit.integrations.pagerduty import PagerDutyProvider
    from cockpit.integrations.pagerduty_emulator import start_emulator
    from cockpit.sync.service import SyncService

    with start_emulator(incidents=10, days=5, seed=11) as emulator:
        provider = PagerDutyProvider(
            emulator.url,
            emulator.token,
            timeout=5.0,
            max_retries=1,
            backoff_base=0.01,
            backoff_cap=0.05,
        )
        service = SyncService(store, {"pagerduty": provider})
        await service.sync_once()
        emulator.state.reset_counters()
        drill = start_drill(store, runbook, scenario_from_runbook(runbook), participant="ann")
        actions.acknowledge(store, drill.incident_id, user="ann")
        actions.add_note(store, drill.incident_id, "trying the flag", user="ann")
        actions.resolve(store, drill.incident_id, user="ann", note="done")
        assert drill.id is not None
        finish_drill(store, drill.id, runbook)
        await service.sync_once()
        assert emulator.state.writes == []
        with store.read() as session:
            from sqlmodel import select

            assert session.exec(select(OutboxItem)).all() == []
        # The same path does reach the emulator for a real incident: the check can fail.
        real = store.execute(
            "SELECT id FROM incidents WHERE source = 'pagerduty' AND status = 'triggered' LIMIT 1"
        )[0][0]
        actions.acknowledge(store, real, user="ann")
        await service.sync_once()
        assert [w["method"] for w in emulator.state.writes] == ["PUT"]
        await service.aclose()


def test_drill_incident_rows_are_flagged(store: Store) -> None:
    incident(store, "pd:I1", T0)
    with store.read() as session:
        row = session.get(Incident, "pd:I1")
        assert row is not None and not row.is_drill


def test_a_fresh_drill_run_does_not_read_as_a_changed_runbook(tmp_path: Path) -> None:
    from sqlmodel import select

    from cockpit.drills.scenario import scenario_from_runbook
    from cockpit.drills.start import start_drill
    from cockpit.runbooks import load_runbook
    from cockpit.runbooks.library import samples_dir
    from cockpit.store import StepEvent, Store
    from cockpit.store.run_service import RunService

    runbook = load_runbook(samples_dir() / "disk-full.md")
    assert runbook.decisions  # the snapshot must hold decisions too, not only steps
    store = Store.open(tmp_path)
    drill = start_drill(store, runbook, scenario_from_runbook(runbook))
    RunService(store).load(drill.incident_id, runbook)
    with store.read() as session:
        kinds = [e.kind for e in session.exec(select(StepEvent))]
    store.close()
    assert "runbook_changed" not in kinds


async def test_a_drill_sync_never_learns_me_from_the_practice_provider(tmp_path: Path) -> None:
    from cockpit.drills.practice import PracticeProvider
    from cockpit.store import Store
    from cockpit.sync.identity import get_me
    from cockpit.sync.service import SyncService

    store = Store.open(tmp_path)
    service = SyncService(store, {"practice": PracticeProvider("ann")})
    await service.sync_once()
    with store.read() as session:
        assert get_me(session).id.startswith("local:")
    store.close()


def test_the_shipped_sample_scenario_drills_a_shipped_runbook() -> None:
    from cockpit.drills.scenario import load_scenario
    from cockpit.runbooks.library import load_library, samples_dir

    scenario = load_scenario(samples_dir() / "drills" / "disk-full.yaml")
    runbooks = {r.id: r for r in load_library([samples_dir()])}
    runbook = runbooks[scenario.runbook_id]
    labels = {b.label.lower() for d in runbook.decisions for b in d.branches}
    assert scenario.expected_branch in labels | {"rollback", "validation"}
    assert scenario.symptoms and scenario.difficulty == "hard"
