"""What PagerDuty knows about an incident reaches the store: its alerts (details, runbook URLs,
links and images) for open incidents within the request budget, every team, and a snooze set
by someone else. Against the emulator over HTTP."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from cockpit.integrations.pagerduty import PagerDutyProvider
from cockpit.integrations.pagerduty_emulator import EmulatorHandle, start_emulator
from cockpit.integrations.pagerduty_emulator import actions as remote
from cockpit.integrations.pagerduty_emulator.model import Incident as RemoteIncident
from cockpit.runbooks.library import load_library
from cockpit.runbooks.match import IncidentFacts, match_runbooks
from cockpit.store import Incident, Store, queries
from cockpit.store.reads import IncidentFilter, open_refs
from cockpit.sync import actions
from cockpit.sync.pull import ALERTS_PER_PULL
from cockpit.sync.service import SyncService

RUNBOOKS = Path(__file__).resolve().parents[2] / "runbooks"
DISK_RUNBOOK = "https://git.example.com/sre/runbooks/blob/main/disk-full.md"
_ALERTS = re.compile(r"GET /incidents/[^/]+/alerts$")


@pytest.fixture
def emulator() -> Iterator[EmulatorHandle]:
    with start_emulator(incidents=60, days=10, seed=11) as handle:
        yield handle


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path)
    yield opened
    opened.close()


def _service(store: Store, handle: EmulatorHandle) -> SyncService:
    provider = PagerDutyProvider(
        handle.url, handle.token, timeout=5.0, max_retries=1, backoff_base=0.01, backoff_cap=0.02
    )
    return SyncService(store, {"pagerduty": provider})


def _alert_requests(handle: EmulatorHandle) -> int:
    counts = handle.state.stats()["paths"]
    return sum(n for path, n in counts.items() if _ALERTS.match(path))


def _service_id(handle: EmulatorHandle, name: str) -> str:
    return next(s.id for s in handle.state.services.values() if s.name == name)


def _enqueue(handle: EmulatorHandle, service: str, event: dict[str, object]) -> RemoteIncident:
    """An alert sent through the Events API, as a monitor would; the incident it opened."""
    key = next(s.routing_key for s in handle.state.services.values() if s.name == service)
    body = {"routing_key": key, "event_action": "trigger", **event}
    answer = httpx.post(f"{handle.url}/v2/enqueue", json=body, timeout=5)
    assert answer.status_code == 202, answer.text
    dedup = answer.json()["dedup_key"]
    return next(i for i in handle.state.incidents.values() if i.incident_key == dedup)


def _open_remote(handle: EmulatorHandle) -> set[str]:
    return {i.id for i in handle.state.incidents.values() if i.status != "resolved"}


def _row(store: Store, remote_id: str) -> Incident:
    with store.read() as session:
        row = session.exec(select(Incident).where(Incident.remote_id == remote_id)).one()
        session.expunge(row)
        return row


def _facts(store: Store, remote_id: str) -> IncidentFacts:
    """What the cockpit screen gives the matcher for this incident, from the store."""
    from cockpit.runbook_choice import facts_of
    from cockpit.view_model import load_incident

    view = load_incident(store, f"pagerduty:{remote_id}")
    assert view is not None
    return facts_of(view)


async def test_first_sync_reads_the_alerts_of_open_incidents_only(
    store: Store, emulator: EmulatorHandle
) -> None:
    disk = _enqueue(
        emulator,
        "payments-db",
        {
            "payload": {
                "summary": "Disk usage above 90% on payments-db-7",
                "source": "db-7",
                "severity": "critical",
                "custom_details": {"mountpoint": "/var/lib/postgresql", "used": "93%"},
            },
            "links": [
                {"href": DISK_RUNBOOK, "text": "Runbook"},
                {"href": "https://grafana.example.com/d/db", "text": "DB dashboard"},
            ],
            "images": [{"src": "https://grafana.example.com/render/db.png", "alt": "disk used"}],
        },
    )
    plain = _enqueue(
        emulator,
        "ledger",
        {
            "payload": {
                "summary": "Ledger job stuck",
                "source": "cron-1",
                "severity": "error",
                "custom_details": "job 4711 has run for 3h; last line: waiting for lock",
            },
        },
    )
    await asyncio.sleep(1.1)  # a first sync reads up to the last whole second
    service = _service(store, emulator)
    report = await service.sync_once()
    assert report.online and not report.errors, report.errors

    opened = _open_remote(emulator)
    assert 2 < len(opened) <= ALERTS_PER_PULL
    # One request per open incident, none for the resolved history.
    assert _alert_requests(emulator) == len(opened)
    rows = store.execute("SELECT incident_id, count(*) FROM alerts GROUP BY incident_id")
    assert {incident_id for incident_id, _ in rows} == {f"pagerduty:{i}" for i in opened}
    assert len(emulator.state.incidents) == 62

    with store.read() as session:
        (alert,) = queries.alerts_of(session, f"pagerduty:{disk.id}")
        (text_alert,) = queries.alerts_of(session, f"pagerduty:{plain.id}")
    assert alert.runbook_url == DISK_RUNBOOK
    assert alert.generator_url == "https://grafana.example.com/d/db"
    assert alert.annotations == {
        "mountpoint": "/var/lib/postgresql",
        "used": "93%",
        "link: DB dashboard": "https://grafana.example.com/d/db",
        "image: disk used": "https://grafana.example.com/render/db.png",
    }
    assert alert.labels == {"severity": "critical", "service": "payments-db"}
    # body.details may be a string (the spec says so): kept whole.
    assert text_alert.annotations == {
        "details": "job 4711 has run for 3h; last line: waiting for lock"
    }

    # The runbook URL picks the runbook first, as for Alertmanager.
    facts = _facts(store, disk.id)
    assert DISK_RUNBOOK in facts.runbook_urls
    best = match_runbooks(load_library([RUNBOOKS]), facts)[0]
    assert best.runbook.id == "disk-full" and best.by_url
    await service.aclose()


async def test_incremental_syncs_read_alerts_only_of_what_changed(
    store: Store, emulator: EmulatorHandle
) -> None:
    service = _service(store, emulator)
    await service.sync_once()
    first = _alert_requests(emulator)

    before = emulator.state.request_count
    report = await service.sync_once()
    assert report.online and not report.errors
    assert emulator.state.request_count - before == 1  # nothing changed: one request
    assert _alert_requests(emulator) == first

    fresh = emulator.state.trigger(
        "Disk usage above 90% on payments-db-3",
        service_id=_service_id(emulator, "payments-db"),
        details={"runbook_url": DISK_RUNBOOK},
    )
    before = emulator.state.request_count
    await service.sync_once()
    assert _alert_requests(emulator) == first + 1  # the new incident's, no other
    assert emulator.state.request_count - before == 2
    assert _facts(store, fresh.id).runbook_urls == [DISK_RUNBOOK]

    someone = next(iter(emulator.state.users))
    with emulator.state.lock:
        remote.resolve(
            emulator.state, emulator.state.incident(fresh.id), someone, emulator.state.now()
        )
    await service.sync_once()
    assert _alert_requests(emulator) == first + 1  # resolved: its alerts resolve locally
    with store.read() as session:
        assert [a.status for a in queries.alerts_of(session, f"pagerduty:{fresh.id}")] == [
            "resolved"
        ]
    await service.aclose()


async def test_alerts_that_could_not_be_read_are_read_by_the_next_sync(
    store: Store, emulator: EmulatorHandle
) -> None:
    service = _service(store, emulator)
    await service.sync_once()
    fresh = emulator.state.trigger(
        "Queue backlog on queue-workers", service_id=_service_id(emulator, "queue-workers")
    )
    emulator.state.inject({"kind": "500", "count": 10, "path": f"/incidents/{fresh.id}/alerts"})
    report = await service.sync_once()
    assert report.errors  # said, not hidden
    assert _row(store, fresh.id).title == "Queue backlog on queue-workers"  # the rest is in
    emulator.state.faults.clear()
    report = await service.sync_once()
    assert not report.errors, report.errors
    with store.read() as session:
        assert len(queries.alerts_of(session, f"pagerduty:{fresh.id}")) == 1
    await service.aclose()


async def test_every_team_of_an_incident_is_shown_and_filters_by_any(
    store: Store, emulator: EmulatorHandle
) -> None:
    both = emulator.state.trigger(
        "Checkout errors after deploy",
        service_id=_service_id(emulator, "checkout"),
        teams=["Payments", "Storefront"],
    )
    await asyncio.sleep(1.1)  # a first sync reads up to the last whole second
    service = _service(store, emulator)
    await service.sync_once()
    assert _row(store, both.id).team == "Payments, Storefront"

    def found(team: str) -> set[str]:
        with store.read() as session:
            orm = {
                i.remote_id
                for i in queries.open_incidents(session, where=IncidentFilter(team=team))
            }
        with store.rows() as conn:
            plain = {ref[1] for ref in open_refs(conn, IncidentFilter(team=team))}
        assert orm == plain
        return orm

    assert both.id in found("payments") and both.id in found("Storefront")
    assert both.id not in found("Pay") and both.id not in found("Data")
    assert both.id not in found("payments, storefront, x")
    # A single-team incident still filters as before.
    storefront_only = {
        i.id
        for i in emulator.state.incidents.values()
        if i.status != "resolved"
        and not i.team_ids
        and emulator.state.services[i.service_id].name in ("product-api", "checkout", "search")
    }
    assert storefront_only and storefront_only <= found("storefront")
    # The team condition leaves the open-incident index in use.
    with store.rows() as conn:
        where, params = IncidentFilter(team="payments").sql()
        plan = " ".join(
            str(row[-1])
            for row in conn.execute(
                "EXPLAIN QUERY PLAN SELECT id FROM incidents WHERE status IN "
                f"('triggered', 'acknowledged') AND is_drill = 0{where}",
                params,
            )
        )
    assert "ix_incidents_status" in plan
    await service.aclose()


async def test_a_snooze_made_in_pagerduty_shows_its_real_end(
    store: Store, emulator: EmulatorHandle
) -> None:
    service = _service(store, emulator)
    await service.sync_once()
    state = emulator.state
    target, other = (
        state.trigger(
            f"Replication lag on payments-db-{n}", service_id=_service_id(emulator, "payments-db")
        )
        for n in (2, 3)
    )
    someone = next(iter(state.users))
    with state.lock:
        for incident, seconds in (
            (state.incident(target.id), 7200),
            (state.incident(other.id), 900),
        ):
            remote.acknowledge(state, incident, someone, state.now())
            remote.snooze(state, incident, seconds, someone, state.now())
        until = state.incident(target.id).snoozed_until
        other_until = state.incident(other.id).snoozed_until
    assert until is not None and other_until is not None
    await service.sync_once()
    row = _row(store, target.id)
    assert row.snoozed_until == datetime.fromtimestamp(int(until), UTC)
    assert _row(store, other.id).snoozed_until == datetime.fromtimestamp(int(other_until), UTC)

    # Our own snooze, not sent yet, is not undone by a pull; once sent, PagerDuty's end wins.
    actions.snooze(store, row.id, 600)
    local = _row(store, target.id).snoozed_until
    await service.pull()
    assert _row(store, target.id).snoozed_until == local
    await service.sync_once()
    with state.lock:
        until = state.incident(target.id).snoozed_until
    assert until is not None
    assert _row(store, target.id).snoozed_until == datetime.fromtimestamp(int(until), UTC)

    # Unsnoozed there (acknowledged again): gone here too.
    with state.lock:
        remote.acknowledge(state, state.incident(target.id), someone, state.now() + 1)
    await service.sync_once()
    assert _row(store, target.id).snoozed_until is None
    await service.aclose()


async def test_incidents_changed_without_new_alerts_cost_no_alert_request(
    store: Store, emulator: EmulatorHandle
) -> None:
    """Acknowledged elsewhere: the incident changed, its alerts did not (the listing's
    ``alert_counts`` match the alerts stored), so the sync reads no alerts."""
    service = _service(store, emulator)
    await service.sync_once()
    first = _alert_requests(emulator)
    someone = next(iter(emulator.state.users))
    with emulator.state.lock:
        triggered = [i for i in emulator.state.incidents.values() if i.status == "triggered"]
        assert len(triggered) >= 2
        for incident in triggered[:2]:
            remote.acknowledge(emulator.state, incident, someone, emulator.state.now())
    before = emulator.state.request_count
    report = await service.sync_once()
    assert report.online and not report.errors
    assert _alert_requests(emulator) == first  # counts matched: nothing to read
    assert emulator.state.request_count - before == 1
    for incident in triggered[:2]:
        assert _row(store, incident.id).status == "acknowledged"
    await service.aclose()
