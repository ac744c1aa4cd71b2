"""An Alertmanager alert group in the incident panel: its source, the labels its alerts share,
and the labels that tell its alerts apart, cut to fit a small terminal."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from cockpit_seed import NOW, cockpit_screen, frozen, screen_text, seed

from cockpit.app import CockpitApp
from cockpit.runbooks.library import load_library
from cockpit.screens.link_actions import incident_links
from cockpit.store.models import Alert, Incident

GROUP_ID = "alertmanager:3f2a9c1d0b7e"
GENERATOR = "http://prometheus.example.com/graph?g0.expr=pg_replication_lag"
RUNBOOK = "https://runbooks.example.com/db-replication.md"


def seed_alertmanager_group(store: object) -> None:
    """One firing group of three alerts that differ only by ``instance``, newest of all."""
    created = NOW - timedelta(minutes=3)
    common = {"alertname": "ReplicationLag", "service": "orders-db", "severity": "critical"}
    with store.write() as session:  # type: ignore[attr-defined]
        session.add(
            Incident(
                id=GROUP_ID,
                source="alertmanager",
                remote_id="3f2a9c1d0b7e",
                title="Replica lag above 30 s (alertname=ReplicationLag, service=orders-db)",
                status="triggered",
                urgency="high",
                service_name="orders-db",
                labels={"alertname": "ReplicationLag", "service": "orders-db"},
                annotations={"generatorURL": GENERATOR},
                html_url=GENERATOR,
                runbook_url=RUNBOOK,
                created_at=created,
                updated_at=created,
            )
        )
        session.flush()  # the alerts' foreign key needs the incident first
        for n in (1, 2, 3):
            session.add(
                Alert(
                    id=f"alertmanager:fp{n}",
                    incident_id=GROUP_ID,
                    summary="Replica lag above 30 s",
                    status="triggered",
                    severity="critical",
                    fingerprint=f"{n:016x}",
                    labels={**common, "instance": f"db-{n}:9187"},
                    annotations={
                        "summary": "Replica lag above 30 s [bold]x[/]",
                        "description": f"lag on db-{n} is {30 + n} s",
                    },
                    generator_url=GENERATOR,
                    runbook_url=RUNBOOK,
                    created_at=created,
                )
            )


@pytest.fixture
def am_app(tmp_path: Path) -> Iterator[CockpitApp]:
    settings, store = seed(tmp_path)
    seed_alertmanager_group(store)
    yield CockpitApp(settings, store, clock=frozen, library=load_library([tmp_path / "runbooks"]))
    store.close()


async def _show_group(app: CockpitApp, pilot: object) -> None:
    await pilot.pause()  # type: ignore[attr-defined]
    for _ in range(6):
        if cockpit_screen(app).current_id == GROUP_ID:
            return
        await pilot.press("right_square_bracket")  # type: ignore[attr-defined]
        await pilot.pause()  # type: ignore[attr-defined]
    raise AssertionError("the Alertmanager group is not in the switcher")


@pytest.mark.parametrize("size", [(160, 48), (80, 24)])
async def test_panel_shows_source_and_the_labels_that_tell_alerts_apart(
    am_app: CockpitApp, size: tuple[int, int]
) -> None:
    async with am_app.run_test(size=size) as pilot:
        await _show_group(am_app, pilot)
        panel = am_app.screen.query_one("#incident")
        text = screen_text(am_app)
        assert "TRIGGERED  high urgency  age 3m  alertmanager" in text
        for n in (1, 2, 3):
            assert f"• instance=db-{n}:9187" in text
        assert "alerts 3 (3 firing)  alertname=ReplicationLag" in text
        assert "links runbook, graph" in text
        # Markup in an annotation is shown as typed, not applied.
        assert "[bold]x[/]" in text
        # Cut, not wrapped: a head of 4-5 lines, then the count and labels, 3 alerts, links.
        assert panel.size.height <= 10
        assert "…" in text or size[0] > 120

        links = dict(
            (url, what) for what, url in incident_links(cockpit_screen(am_app).incident_view)
        )
        assert GENERATOR in links and RUNBOOK in links


async def test_a_pagerduty_incident_says_where_it_came_from(am_app: CockpitApp) -> None:
    async with am_app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        for _ in range(6):
            if cockpit_screen(am_app).current_id == "pagerduty:PINC101":
                break
            await pilot.press("right_square_bracket")
            await pilot.pause()
        assert "age 14m  pagerduty" in screen_text(am_app)
