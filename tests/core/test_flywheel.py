"""Flywheel: insight and guardrail, the runbook draft from the timeline (lint-clean), stats."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from pageseed import event, incident, notify, person, utc

from cockpit.flywheel import (
    FlywheelError,
    FlywheelWeek,
    draft_runbook,
    flywheel_weeks,
    needs_draft,
    record_insight,
)
from cockpit.runbooks.lint import lint_paths
from cockpit.runbooks.model import ERROR
from cockpit.runbooks.parse import load_runbook
from cockpit.store import Insight, Note, Store
from cockpit.store.runs import append_event, start_run

T0 = utc(2026, 3, 25, 10)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "cockpit.db")
    incident(
        s,
        "pagerduty:I1",
        T0,
        number=42,
        title="Checkout 5xx above 1% on pod 7",
        service_name="checkout",
        team="payments",
        status="resolved",
        resolved_at=T0,
    )
    yield s
    s.close()


def test_record_insight_validates_the_guardrail_and_text(store: Store) -> None:
    insight = record_insight(
        store,
        "pagerduty:I1",
        text="Retries without jitter",
        guardrail="rate LIMIT",
        owner="ann",
        clock=lambda: T0,
    )
    assert (insight.guardrail, insight.guardrail_owner, insight.created_at) == (
        "rate limit",
        "ann",
        T0,
    )
    whys = record_insight(store, "pagerduty:I1", whys=["a", " ", "b"], guardrail="canary")
    assert whys.whys == ["a", "b"]
    with pytest.raises(FlywheelError, match="guardrail must be one of: timeout, backpressure"):
        record_insight(store, "pagerduty:I1", text="x", guardrail="prayer")
    with pytest.raises(FlywheelError, match="one sentence"):
        record_insight(store, "pagerduty:I1", guardrail="timeout")
    with pytest.raises(FlywheelError, match="five whys at most"):
        record_insight(store, "pagerduty:I1", whys=list("abcdef"), guardrail="timeout")
    incident(store, "drill:D1", T0, source="drill", is_drill=True)
    with pytest.raises(FlywheelError, match="is a drill"):
        record_insight(store, "drill:D1", text="x", guardrail="timeout")


def test_draft_from_the_timeline_passes_lint(store: Store, tmp_path: Path) -> None:
    with store.write() as session:
        session.add(
            Note(
                incident_id="pagerduty:I1",
                content="Error rate 4% on /pay dashboard",
                created_at=utc(2026, 3, 25, 10, 5),
            )
        )
        session.add(
            Note(
                incident_id="pagerduty:I1",
                content="[cockpit] Baton passed",
                created_at=utc(2026, 3, 25, 10, 6),
            )
        )
        run = start_run(session, "pagerduty:I1", "checkout-5xx", at=utc(2026, 3, 25, 10, 7))
        append_event(
            session,
            run,
            kind="skipped",
            step_id="checks.grafana",
            at=utc(2026, 3, 25, 10, 8),
            reason="down",
        )
        append_event(
            session, run, kind="done", step_id="rollback.disable-flag", at=utc(2026, 3, 25, 10, 20)
        )
    event(
        store,
        "pagerduty:I1",
        "command",
        utc(2026, 3, 25, 10, 10),
        summary="Restart the payment pods",
        details={"command": "kubectl rollout restart deploy/pay -n prod"},
    )
    assert (
        needs_draft(store, "pagerduty:I1") == "the run went off-script (1 step(s) skipped "
        "or failed)"
    )
    record_insight(store, "pagerduty:I1", text="No jitter", guardrail="timeout")
    drafts = tmp_path / "runbooks" / "drafts"
    path = draft_runbook(store, "pagerduty:I1", drafts, clock=lambda: T0)
    assert path == drafts / "pagerduty-i1.md"
    findings = lint_paths([path])
    assert [f for f in findings if f.severity == ERROR] == []
    assert findings == []  # not even a warning
    runbook = load_runbook(path)
    assert runbook.id == "draft-checkout-5xx-above-1-on-pod-7"
    assert runbook.services == ("checkout",)
    texts = [step.text for step in runbook.steps]
    assert not any("Error rate" in t for t in texts)  # a note is context, not a step
    assert "Error rate 4% on /pay dashboard" in path.read_text(encoding="utf-8")
    assert "Restart the payment pods" in texts
    assert "rollback.disable-flag" in texts  # its runbook file is unknown: the id stays
    assert not any("Baton" in t for t in texts)
    (restart,) = [s for s in runbook.steps if s.text == "Restart the payment pods"]
    assert restart.command == "kubectl rollout restart deploy/pay -n prod"
    import re

    assert re.search(runbook.meta["match"]["title"], "checkout 5XX above 1% on pod 12")
    with store.read() as session:
        from sqlmodel import select

        (insight,) = session.exec(select(Insight)).all()
        assert insight.runbook_draft == str(path)


def test_needs_draft_when_no_runbook_ran_and_not_after_a_clean_run(store: Store) -> None:
    assert needs_draft(store, "pagerduty:I1") == "no runbook ran"
    with store.write() as session:
        run = start_run(session, "pagerduty:I1", "rb", at=T0)
        append_event(session, run, kind="done", step_id="checks.a", at=T0)
        append_event(session, run, kind="finished", branch="resolved", at=T0)
    assert needs_draft(store, "pagerduty:I1") == ""


def test_empty_timeline_still_drafts_a_lint_clean_template(store: Store, tmp_path: Path) -> None:
    path = draft_runbook(store, "pagerduty:I1", tmp_path / "d")
    assert [f for f in lint_paths([path]) if f.severity == ERROR] == []
    assert "(fill in the command)" in path.read_text(encoding="utf-8")


def test_flywheel_weeks(store: Store) -> None:
    person(store, "pagerduty:A", "Ann")
    incident(store, "pagerduty:I2", utc(2026, 3, 17), status="resolved")
    incident(store, "drill:D", utc(2026, 3, 17), source="drill", is_drill=True)
    notify(store, "pagerduty:I2", "pagerduty:A", utc(2026, 3, 17))
    notify(store, "pagerduty:I1", "pagerduty:A", T0)
    notify(store, "pagerduty:I1", "pagerduty:A", utc(2026, 3, 25, 12))
    record_insight(store, "pagerduty:I1", text="x", guardrail="canary", clock=lambda: T0)
    weeks = flywheel_weeks(store, utc(2026, 3, 16), utc(2026, 3, 30))
    assert weeks == [
        FlywheelWeek(date(2026, 3, 16), 1, 0, 0, 0, 1),
        FlywheelWeek(date(2026, 3, 23), 1, 1, 1, 0, 2),
    ]
