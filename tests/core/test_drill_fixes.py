"""Issue 14 items 7 and 9, the core side: a tick before its timer ran out is flagged (on the
replay's clock), ending early suggests no edit for the steps never reached, the symptom is the
trigger's whole first paragraph and the whole scenario is in the timeline, the debrief names
people; and a debrief's suggested edits become a runbook draft (drafts/, lint clean, a diff
against the runbook)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from cockpit.drills import finish_drill, scenario_from_runbook, start_drill
from cockpit.drills.analysis import analyse, suggested_edits
from cockpit.drills.draft import DraftError, draft_from_debrief, render_draft
from cockpit.drills.scenario import Scenario
from cockpit.drills.service import analyse_drill
from cockpit.runbooks.library import load_library, samples_dir
from cockpit.runbooks.lint import lint_runbook
from cockpit.runbooks.model import Runbook
from cockpit.runbooks.parse import load_runbook, parse_runbook
from cockpit.store import Drill, Person, RunbookRun, StepEvent, Store, TimelineEvent
from cockpit.store.runs import append_event

T0 = datetime(2031, 1, 6, 9, 0, tzinfo=UTC)
RUNBOOK = """---
id: api-latency
title: API latency
owner: api-oncall
services: [api]
---
# API latency

## Trigger
p95 latency on `/api` above 800 ms for 5 minutes, or 5xx above 1%, usually right after a
deploy that changed the connection pool size.

Second paragraph, not a symptom.

## Checks
- [ ] Open the latency dashboard
- [ ] Pool saturated? `poolctl stats --service api`

## Actions
1. [ ] Shrink the batch size {#shrink}
   ```sh
   batchctl set --size 50
   ```
2. [ ] Watch the error rate (wait 1m) {#watch}
3. [ ] Restart the workers

## Decision points
- Is the 5xx rate below 1%? {#better}
  - yes: go to [Validation](#validation)
  - no: go to [Rollback](#rollback)

## Rollback
1. [ ] `batchctl set --size 500`

## Validation
- [ ] p95 below 300 ms (timer 30m) {#calm}

## Owner
api-oncall
"""
CHECK1 = "checks.open-the-latency-dashboard"
CHECK2 = "checks.pool-saturated-poolctl-stats-service-api"
RESTART = "actions.restart-the-workers"


@pytest.fixture
def runbook(tmp_path: Path) -> Runbook:
    path = tmp_path / "runbooks" / "api-latency.md"
    path.parent.mkdir()
    path.write_text(RUNBOOK, encoding="utf-8")
    return load_runbook(path)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "data")
    yield opened
    opened.close()


def _events(store: Store, drill: Drill, steps: list[tuple[float, str, str, str]]) -> None:
    with store.write() as session:
        run = session.get(RunbookRun, drill.run_id)
        assert run is not None
        for seconds, kind, step_id, branch in steps:
            details = {
                "decided": {"target_kind": "validation"},
                "finished": {"outcome": "resolved"},
            }.get(kind, {})
            append_event(
                session,
                run,
                kind=kind,
                step_id=step_id,
                branch=branch,
                at=T0 + timedelta(seconds=seconds),
                details=details,
            )


# ---------------------------------------------------------------- ticked before the timer


def test_ticks_before_their_timer_ran_out_are_flagged(store: Store, runbook: Runbook) -> None:
    drill = start_drill(store, runbook, Scenario(title="t"), participant="ann", clock=lambda: T0)
    _events(
        store,
        drill,
        [
            (10, "done", CHECK1, ""),
            (20, "done", CHECK2, ""),
            (30, "done", "shrink", ""),
            (40, "timer_started", "watch", ""),
            (40, "done", "watch", ""),  # 1m wait after 0 s
            (50, "done", RESTART, ""),
            (60, "decided", "better", "yes"),
            (70, "timer_started", "calm", ""),
            (71, "done", "calm", ""),  # 30m timer after 1 s
            (72, "finished", "", ""),
        ],
    )
    assert drill.id is not None
    done = finish_drill(store, drill.id, runbook, clock=lambda: T0 + timedelta(seconds=80))
    analysis = analyse_drill(store, done, runbook)
    assert [(s.step_id, s.waited, s.timer_seconds) for s in analysis.early] == [
        ("watch", 0.0, 60),
        ("calm", 1.0, 1800),
    ]
    assert not analysis.ended_early
    report = done.report_md
    assert "## Ticked before the timer ran out" in report
    assert "- Watch the error rate (wait 1m) (`watch`): after 0s of 1m00s" in report
    assert "| early: 1s of its 30m00s timer |" in report


def test_a_tick_after_its_timer_or_on_a_replays_clock_is_not_early() -> None:
    def ev(seq: int, seconds: float, kind: str, step_id: str) -> StepEvent:
        return StepEvent(
            run_id=1, seq=seq, at=T0 + timedelta(seconds=seconds), kind=kind, step_id=step_id
        )

    events = [
        ev(1, 0, "started", ""),
        ev(2, 10, "timer_started", "watch"),
        ev(3, 310, "done", "watch"),
    ]
    assert analyse(events, timers={"watch": 300}).early == []
    fast = [
        ev(1, 0, "started", ""),
        ev(2, 10, "timer_started", "watch"),
        ev(3, 40, "done", "watch"),
    ]
    assert [s.step_id for s in analyse(fast, timers={"watch": 300}).early] == ["watch"]
    # A replay at x10: 30 s of drill are 5 minutes on the incident's clock.
    assert analyse(fast, timers={"watch": 300}, speed=10).early == []


# ---------------------------------------------------------------- ending early


def test_ending_early_suggests_no_edit_for_steps_never_reached(
    store: Store, runbook: Runbook
) -> None:
    drill = start_drill(store, runbook, Scenario(title="t"), clock=lambda: T0)
    _events(store, drill, [(10, "done", CHECK1, "")])
    assert drill.id is not None
    done = finish_drill(store, drill.id, runbook, clock=lambda: T0 + timedelta(seconds=20))
    analysis = analyse_drill(store, done, runbook)
    assert analysis.ended_early
    assert analysis.not_reached == [CHECK2, "shrink", "watch", RESTART]
    assert not [e for e in suggested_edits(analysis) if "never reached" in e]
    report = done.report_md
    assert "## Not reached (the drill ended early)" in report
    assert f"- `{CHECK2}`" in report
    assert report.rstrip().endswith("## Suggested edits for the runbook\n\nNone.")


def test_a_finished_run_still_asks_about_steps_it_never_reached() -> None:
    def ev(seq: int, kind: str, step_id: str = "", **details: str) -> StepEvent:
        return StepEvent(
            run_id=1,
            seq=seq,
            at=T0 + timedelta(seconds=seq),
            kind=kind,
            step_id=step_id,
            details=details,
        )

    events = [ev(1, "started"), ev(2, "done", CHECK1), ev(3, "finished", outcome="resolved")]
    analysis = analyse(events, main_steps=[CHECK1, CHECK2])
    assert not analysis.ended_early
    assert suggested_edits(analysis) == [
        f"`{CHECK2}` was never reached: is it still needed on this path?"
    ]


# ---------------------------------------------------------------- symptoms and names


def test_the_symptom_is_the_whole_first_paragraph(store: Store, runbook: Runbook) -> None:
    scenario = scenario_from_runbook(runbook)
    assert scenario.symptoms == (
        "p95 latency on /api above 800 ms for 5 minutes, or 5xx above 1%, usually right "
        "after a deploy that changed the connection pool size.",
    )
    # Every shipped runbook's symptom ends a sentence: none is cut at a line end.
    for shipped in load_library([samples_dir()]):
        symptoms = scenario_from_runbook(shipped).symptoms
        assert symptoms and symptoms[0].endswith((".", ")")), shipped.id
    drill = start_drill(store, runbook, scenario, clock=lambda: T0)
    with store.read() as session:
        lines = [
            e.summary
            for e in session.exec(
                select(TimelineEvent).where(
                    TimelineEvent.incident_id == drill.incident_id, TimelineEvent.kind == "drill"
                )
            )
        ]
    story = next(line for line in lines if line.startswith("Scenario: "))
    assert "Second paragraph, not a symptom." in story  # the banner is short; this is whole
    assert f"symptom: {scenario.symptoms[0]}" in story


def test_the_debrief_names_the_participant(store: Store, runbook: Runbook) -> None:
    from cockpit.drills.service import participant_name

    with store.write() as session:
        session.add(Person(id="pagerduty:PANN", source="pagerduty", name="Ann Lee"))
    drill = start_drill(
        store, runbook, Scenario(title="t"), participant="pagerduty:PANN", clock=lambda: T0
    )
    assert participant_name(store, drill) == "Ann Lee"
    assert drill.id is not None
    done = finish_drill(store, drill.id, runbook, clock=lambda: T0)
    assert ", by Ann Lee" in done.report_md and "PANN" not in done.report_md
    local = start_drill(store, runbook, Scenario(title="t"), participant="local:me")
    assert participant_name(store, local) == "me"


# ---------------------------------------------------------------- item 9: a runbook draft


def _debriefed(store: Store, runbook: Runbook) -> tuple[Drill, object]:
    """A drill with an unclear step, a skip and the wrong branch (the wait for a timer is
    no stall)."""
    drill = start_drill(
        store,
        runbook,
        Scenario(title="t", expected_branch="rollback"),
        participant="ann",
        clock=lambda: T0,
    )
    _events(store, drill, [(10, "done", CHECK1, ""), (20, "skipped", CHECK2, "")])
    with store.write() as session:
        run = session.get(RunbookRun, drill.run_id)
        assert run is not None
        append_event(
            session,
            run,
            kind="done",
            step_id="shrink",
            reason="unclear: which size?",
            details={"unclear": True},
            at=T0 + timedelta(seconds=320),
        )
    _events(
        store,
        drill,
        [
            (330, "timer_started", "watch", ""),
            (400, "done", "watch", ""),
            (410, "done", RESTART, ""),
            (420, "decided", "better", "yes"),
        ],
    )
    assert drill.id is not None
    done = finish_drill(store, drill.id, runbook, clock=lambda: T0 + timedelta(seconds=430))
    return done, analyse_drill(store, done, runbook)


def test_the_debrief_becomes_a_runbook_draft(
    store: Store, runbook: Runbook, tmp_path: Path
) -> None:
    drill, analysis = _debriefed(store, runbook)
    edits = suggested_edits(analysis)  # type: ignore[arg-type]
    assert len(edits) == 3
    drafts = tmp_path / "runbooks" / "drafts"
    draft = draft_from_debrief(
        runbook,
        drill,
        analysis,
        drafts,
        participant="Ann Lee",  # type: ignore[arg-type]
        clock=lambda: T0,
    )
    assert draft.path == drafts / f"api-latency-drill-{drill.id}.md"
    assert draft.path.read_text(encoding="utf-8") == draft.text
    assert draft.clean and draft.findings == () and draft.edits == 3
    # Lint clean, the same steps under the same ids: a run survives the edit.
    parsed = parse_runbook(draft.text, draft.path)
    assert [f for f in lint_runbook(parsed) if f.severity == "error"] == []
    assert [s.id for s in parsed.steps] == [s.id for s in runbook.steps]
    assert [d.id for d in parsed.decisions] == [d.id for d in runbook.decisions]
    marks = {s.id: s.details for s in parsed.steps if s.details}
    n = drill.id
    assert marks == {
        CHECK2: (f"Drill #{n}: skipped: make it optional, move it, or drop it.",),
        "shrink": (f"Drill #{n}: marked unclear (unclear: which size?): reword it.",),
    }
    # Every edit, the wrong branch included, is in a Notes section (context, not steps).
    notes = next(s for s in parsed.sections if s.title == "Notes")
    assert notes.kind == "context" and "Ann Lee" in notes.text
    block = draft.text[draft.text.index("## Notes") : draft.text.index("## Trigger")]
    assert [line for line in block.splitlines() if line[:3] in ("1. ", "2. ", "3. ")] == [
        f"{n}. {edit}" for n, edit in enumerate(edits, 1)
    ]
    assert "expected the 'rollback' branch" in block and "which size?" in block
    # Nothing of the runbook is removed: the diff only adds lines.
    removed = [
        line
        for line in draft.diff.splitlines()
        if line.startswith("-") and not line.startswith("---")
    ]
    assert removed == []
    assert draft.diff.startswith(f"--- {runbook.path}\n+++ {draft.path}\n")
    assert f"+  - Drill #{n}: skipped: make it optional, move it, or drop it." in draft.diff
    assert f"+   - Drill #{n}: marked unclear (unclear: which size?): reword it." in draft.diff
    # The library skips drafts/: the draft does not shadow the runbook.
    assert [r.id for r in load_library([tmp_path / "runbooks"])] == ["api-latency"]


def test_no_edit_no_draft_and_an_unwritable_folder_says_so(
    store: Store, runbook: Runbook, tmp_path: Path
) -> None:
    drill = start_drill(store, runbook, Scenario(title="t"), clock=lambda: T0)
    assert drill.id is not None
    done = finish_drill(store, drill.id, runbook, clock=lambda: T0)
    with pytest.raises(DraftError, match="suggests no edit"):
        draft_from_debrief(runbook, done, analyse_drill(store, done, runbook), tmp_path)
    debriefed, analysis = _debriefed(store, runbook)
    blocked = tmp_path / "file"
    blocked.write_text("")
    with pytest.raises(DraftError, match="cannot write the runbook draft"):
        draft_from_debrief(runbook, debriefed, analysis, blocked / "drafts")  # type: ignore[arg-type]


def test_every_shipped_runbook_drafts_lint_clean(store: Store, tmp_path: Path) -> None:
    """Each step of each sample marked (as if all were unclear): never a new finding."""
    from cockpit.drills.analysis import DrillAnalysis, StepTiming

    for shipped in load_library([samples_dir()]):
        drill = start_drill(store, shipped, Scenario(title="t"), clock=lambda: T0)
        analysis = DrillAnalysis(
            steps=[
                StepTiming(s.id, "step", "done", 1.0, unclear=True, reason="unclear: ?")
                for s in shipped.steps
            ]
        )
        source = Path(shipped.path).read_text(encoding="utf-8")
        text, count = render_draft(shipped, source, drill, analysis, T0.date())
        assert count == len(shipped.steps)
        parsed = parse_runbook(text, tmp_path / "drafts" / "x.md")
        assert [s.id for s in parsed.steps] == [s.id for s in shipped.steps], shipped.id
        assert all(
            s.details[-1].startswith(f"Drill #{drill.id}: marked unclear") for s in parsed.steps
        ), shipped.id
        before = {(f.severity, f.message) for f in lint_runbook(shipped)}
        assert {(f.severity, f.message) for f in lint_runbook(parsed)} <= before, shipped.id


def test_cockpit_drill_draft_prints_the_diff(
    store: Store, runbook: Runbook, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cockpit.cli.main import main

    drill, _ = _debriefed(store, runbook)
    base = ["--data-dir", str(tmp_path / "data"), "--runbooks", str(tmp_path / "runbooks")]
    assert main([*base, "drill", "draft", str(drill.id)]) == 0
    out = capsys.readouterr().out
    path = tmp_path / "runbooks" / "drafts" / f"api-latency-drill-{drill.id}.md"
    assert out.startswith(f"runbook draft: {path} (3 edit(s) marked)\nlint: clean\n")
    assert f"+++ {path}" in out and "+## Notes" in out
    assert path.is_file()
    assert main([*base, "drill", "draft", "999"]) != 0
    assert "no drill #999" in capsys.readouterr().err


def test_the_flywheel_drafts_reason_is_one_safe_line() -> None:
    from cockpit.flywheel.draft import Drafted
    from cockpit.flywheel.draft import render_draft as render_flywheel
    from cockpit.store import Incident

    incident = Incident(
        id="pagerduty:P1",
        source="pagerduty",
        remote_id="P1",
        title="Disk",
        status="resolved",
        created_at=T0,
        updated_at=T0,
    )
    text = render_flywheel(incident, Drafted(), "went\noff \x1b[2Jscript", T0.date())
    trigger = text.split("## Trigger\n", 1)[1].split("\n", 1)[0]
    assert "\x1b" not in text and trigger.endswith("went off ␛[2Jscript.")
