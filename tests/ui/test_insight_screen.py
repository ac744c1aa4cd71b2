"""After a resolve in the TUI: the insight, a guardrail with an owner, and a runbook draft
when no runbook ran; escape skips and the incident stays resolved."""

from __future__ import annotations

from pathlib import Path

from cockpit_seed import cockpit_screen, store_of
from sqlmodel import select
from textual.widgets import Input, OptionList, TextArea

from cockpit.app import CockpitApp
from cockpit.runbooks.lint import has_errors, lint_paths
from cockpit.screens.confirm import ConfirmDialog
from cockpit.screens.insight_screen import InsightScreen
from cockpit.store.models import Incident, Insight


async def resolve(app: CockpitApp, pilot: object, incident_id: str) -> None:
    p = pilot  # type: ignore[assignment]
    cockpit_screen(app).go_to_incident(incident_id)
    await p.pause()
    await p.press("R")
    assert isinstance(app.screen, ConfirmDialog)
    await p.press("y")
    await p.pause()


async def test_insight_guardrail_and_draft(app: CockpitApp, tmp_path: Path) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await resolve(app, pilot, "pagerduty:PINC103")
        dialog = app.screen
        assert isinstance(dialog, InsightScreen)
        assert dialog.reason == "no runbook ran"
        await pilot.press(*"Log rotation stopped")
        dialog.query_one("#insight-whys", TextArea).text = "Why full?\nNo rotation\n"
        dialog.query_one(OptionList).highlighted = 5  # SLO burn alert
        dialog.query_one("#insight-owner", Input).value = "logging-team"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, InsightScreen)
    with store_of(app).read() as session:
        insight = session.exec(select(Insight)).one()
    assert insight.incident_id == "pagerduty:PINC103"
    assert insight.text == "Log rotation stopped" and insight.whys == ["Why full?", "No rotation"]
    assert (insight.guardrail, insight.guardrail_owner) == ("SLO burn alert", "logging-team")
    drafts = sorted((tmp_path / "runbooks" / "drafts").glob("*.md"))
    assert [str(p) for p in drafts] == [insight.runbook_draft]
    assert "Disk 80% on logs-2" in drafts[0].read_text(encoding="utf-8")
    assert not has_errors(lint_paths([drafts[0]]))


async def test_escape_skips_and_empty_insight_is_refused(app: CockpitApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await resolve(app, pilot, "pagerduty:PINC102")
        assert isinstance(app.screen, InsightScreen)
        await pilot.press("ctrl+s")  # nothing written: refused, the dialog stays
        assert isinstance(app.screen, InsightScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, InsightScreen)
    with store_of(app).read() as session:
        assert session.exec(select(Insight)).all() == []
        assert session.get(Incident, "pagerduty:PINC102").status == "resolved"  # type: ignore[union-attr]


async def test_draft_never_goes_into_the_shipped_samples(app: CockpitApp) -> None:
    """Runbooks set to the samples (as the demo does): the draft goes to the user's data
    folder, and the notification names that path."""
    from cockpit import paths
    from cockpit.runbooks.library import samples_dir

    app.settings = app.settings.replace(runbooks=samples_dir())  # type: ignore[attr-defined]
    before = set(samples_dir().rglob("*.md"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await resolve(app, pilot, "pagerduty:PINC103")
        assert isinstance(app.screen, InsightScreen)
        await pilot.press(*"Log rotation stopped")
        await pilot.press("ctrl+s")
        await pilot.pause()
        messages = [n.message for n in app.notices]
    (draft,) = (paths.default_data_dir() / "runbook-drafts").glob("*.md")
    assert set(samples_dir().rglob("*.md")) == before
    assert any(str(draft) in m for m in messages)
    assert not has_errors(lint_paths([draft]))
