"""The demo is a fair first impression: every kind of incident the emulator seeds that a shipped
runbook is for is matched to that runbook (from its title and service alone, and first by the
alert's runbook URL), a kind no runbook is for matches none, and every shipped drill matches
the runbook it drills."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

import pytest

from cockpit.cli.demo_cmd import FRESH_TITLE
from cockpit.drills.scenario import load_scenario, scenario_from_runbook
from cockpit.integrations.pagerduty import PagerDutyProvider
from cockpit.integrations.pagerduty_emulator import start_emulator
from cockpit.integrations.pagerduty_emulator.seed import RUNBOOK_BASE, TITLES
from cockpit.runbooks.library import load_library, samples_dir
from cockpit.runbooks.match import IncidentFacts, RunbookMatch, match_runbooks
from cockpit.runbooks.model import Runbook
from cockpit.store import Store
from cockpit.sync.service import SyncService

KINDS = [pytest.param(service, title, meant, id=title) for service, title, meant in TITLES]


@pytest.fixture(scope="module")
def library() -> list[Runbook]:
    return load_library([samples_dir()])


def _file(match: RunbookMatch) -> str:
    return PurePosixPath(match.runbook.path.replace("\\", "/")).name


def _picked(library: list[Runbook], facts: IncidentFacts) -> str:
    """The file of the runbook the cockpit shows for these facts ("" for none)."""
    matches = match_runbooks(library, facts)
    return _file(matches[0]) if matches else ""


def test_every_shipped_runbook_a_kind_names_exists(library: list[Runbook]) -> None:
    files = {PurePosixPath(r.path).name for r in library}
    meant = {runbook for _, _, runbook in TITLES if runbook}
    assert meant <= files
    assert len(meant) >= 5  # the demo shows most of the samples


@pytest.mark.parametrize(("service", "title", "meant"), KINDS)
@pytest.mark.parametrize("urgency", ["high", "low"])
def test_each_seeded_kind_picks_the_runbook_meant_for_it(
    library: list[Runbook], service: str, title: str, meant: str, urgency: str
) -> None:
    severity = "critical" if urgency == "high" else "warning"
    facts = IncidentFacts(
        title=title.format(n=2),
        service=service,
        urgency=urgency,
        labels={"severity": severity, "service": service},  # what a PagerDuty alert gives
    )
    assert _picked(library, facts) == meant
    if meant:
        with_url = IncidentFacts(**{**facts.__dict__, "runbook_urls": [RUNBOOK_BASE + meant]})
        best = match_runbooks(library, with_url)[0]
        assert _file(best) == meant and best.by_url


async def test_the_demo_history_as_synced_shows_the_runbook_of_each_incident(
    tmp_path: Path, library: list[Runbook]
) -> None:
    """The demo's own emulator (seed 1, 200 incidents, 30 days) through a real sync, each
    incident as the cockpit screen gives it to the matcher (with its alerts when open)."""
    from cockpit.runbook_choice import facts_of
    from cockpit.view_model import load_incident

    kinds = [
        (re.compile(re.escape(title).replace(re.escape("{n}"), r"\d+") + "$"), runbook)
        for _, title, runbook in TITLES
    ]
    with start_emulator(seed=1, incidents=200, days=30) as emulator:
        store = Store.open(tmp_path)
        service = SyncService(store, {"pagerduty": PagerDutyProvider(emulator.url, emulator.token)})
        try:
            report = await service.sync_once()
            assert not report.errors, report.errors
            await service.aclose()
            rows = store.execute("SELECT id, title FROM incidents")
            assert len(rows) == 200
            by_url = 0
            for incident_id, title in rows:
                meant = next(runbook for pattern, runbook in kinds if pattern.match(title))
                view = load_incident(store, incident_id)
                assert view is not None
                facts = facts_of(view)
                assert _picked(library, facts) == meant, (title, facts)
                by_url += bool(facts.runbook_urls)
            assert by_url  # some open ones carry their runbook's URL
            disk = [t for _, t in rows if t.startswith("Disk usage above 90%")]
            assert disk  # the incidents the issue saw with "No runbook matches"
        finally:
            store.close()


def test_the_fresh_demo_incident_picks_its_runbook(library: list[Runbook]) -> None:
    facts = IncidentFacts(
        title=FRESH_TITLE,
        service="product-api",
        urgency="high",
        labels={"alertname": "ProductLatencyHigh", "severity": "critical"},
        alertname="ProductLatencyHigh",
    )
    assert _picked(library, facts) == "cache-stampede.md"


def test_every_shipped_drill_matches_the_runbook_it_drills(library: list[Runbook]) -> None:
    by_id = {r.id: r for r in library}
    scenarios = sorted((samples_dir() / "drills").glob("*.yaml"))
    assert scenarios
    for path in scenarios:
        scenario = load_scenario(path)
        facts = IncidentFacts(
            title=scenario.title, service=scenario.service, urgency=scenario.urgency or "high"
        )
        matches = match_runbooks(library, facts)
        assert matches and matches[0].runbook.id == scenario.runbook_id, path.name
        assert scenario.runbook_id in by_id
    for runbook in library:  # a drill built from a runbook's own Trigger
        scenario = scenario_from_runbook(runbook)
        facts = IncidentFacts(
            title=scenario.title, service=scenario.service, urgency=scenario.urgency or "high"
        )
        matches = match_runbooks(library, facts)
        assert matches and matches[0].runbook.id == runbook.id, runbook.id
