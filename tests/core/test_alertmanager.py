"""Alertmanager as a paging source, against the real prometheus-alertmanager binary."""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alertmanager_server import (  # noqa: F401 - fixtures
    AUTH_PASSWORD,
    AUTH_USER,
    AlertmanagerServer,
    alertmanager,
    alertmanager_basic_auth,
)
from sqlmodel import select

from cockpit.integrations.alertmanager import ACK_SECONDS, AlertmanagerProvider
from cockpit.integrations.alertmanager_parse import group_id
from cockpit.integrations.base import (
    AlreadyInState,
    AuthError,
    InsecureURL,
    NotFound,
    PagingProvider,
    Unavailable,
)
from cockpit.store.engine import Store
from cockpit.store.models import Alert, Incident, Note, SyncState, TimelineEvent
from cockpit.sync.pull_alertmanager import CURSOR_KEY, RESTART_GRACE, pull_alertmanager

LATENCY_A = {
    "labels": {
        "alertname": "HighLatency",
        "service": "product-api",
        "severity": "critical",
        "instance": "a",
    },
    "annotations": {
        "summary": "p95 latency above 800 ms",
        "runbook_url": "https://runbooks.example.com/product-latency.md",
    },
    "generatorURL": "http://prometheus.example.com/graph?g0.expr=latency",
}
LATENCY_B = {
    "labels": {
        "alertname": "HighLatency",
        "service": "product-api",
        "severity": "critical",
        "instance": "b",
    },
    "annotations": {"summary": "p95 latency above 800 ms on b"},
}
DISK = {
    "labels": {"alertname": "DiskFull", "job": "node", "severity": "warning"},
    "annotations": {"description": "disk 95% full"},
}
LATENCY_GROUP = {"alertname": "HighLatency", "service": "product-api"}
LATENCY_ID = group_id("null", LATENCY_GROUP)
DISK_ID = group_id("null", {"alertname": "DiskFull"})


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "data")
    yield opened
    opened.close()


@pytest.fixture
async def provider(alertmanager: AlertmanagerServer) -> AsyncIterator[AlertmanagerProvider]:  # noqa: F811
    async with AlertmanagerProvider(alertmanager.url, creator="alice") as am:
        yield am


def incidents(store: Store) -> dict[str, Incident]:
    with store.read() as session:
        return {i.remote_id: i for i in session.exec(select(Incident))}


def events(store: Store, kind: str | None = None) -> list[TimelineEvent]:
    with store.read() as session:
        rows = list(session.exec(select(TimelineEvent)))
    return [e for e in rows if kind is None or e.kind == kind]


def our_silences(server: AlertmanagerServer, state: str = "active") -> list[dict[str, object]]:
    return [s for s in server.get("/silences") if s["status"]["state"] == state]


# ---------------------------------------------------------------- reading


@pytest.mark.alertmanager
async def test_groups_become_incidents_with_labels_annotations_and_links(
    alertmanager: AlertmanagerServer,  # noqa: F811
    provider: AlertmanagerProvider,
    store: Store,
) -> None:
    assert isinstance(provider, PagingProvider)
    alertmanager.post_alerts(LATENCY_A, LATENCY_B, DISK)
    result = await pull_alertmanager(store, provider)
    assert (result.incidents, result.alerts, result.resolved) == (2, 3, 0)

    found = incidents(store)
    assert set(found) == {LATENCY_ID, DISK_ID}
    latency = found[LATENCY_ID]
    assert latency.id == f"alertmanager:{LATENCY_ID}"
    assert latency.source == "alertmanager"
    assert latency.status == "triggered"
    assert latency.urgency == "high"
    assert latency.service_name == "product-api"
    assert "p95 latency above 800 ms" in latency.title
    assert "service=product-api" in latency.title
    assert latency.labels["alertname"] == "HighLatency"
    assert latency.labels["severity"] == "critical"
    assert latency.runbook_url == "https://runbooks.example.com/product-latency.md"
    assert latency.annotations["generatorURL"] == LATENCY_A["generatorURL"]
    assert latency.html_url == LATENCY_A["generatorURL"]
    disk = found[DISK_ID]
    assert (disk.urgency, disk.service_name, disk.title) == (
        "low",
        "node",
        "disk 95% full (alertname=DiskFull)",
    )

    with store.read() as session:
        alerts = list(session.exec(select(Alert).where(Alert.incident_id == latency.id)))
    assert len(alerts) == 2
    assert all(len(a.fingerprint) == 16 for a in alerts)
    by_instance = {a.labels["instance"]: a for a in alerts}
    assert by_instance["a"].generator_url == LATENCY_A["generatorURL"]
    assert by_instance["a"].runbook_url.endswith("product-latency.md")
    assert by_instance["b"].summary == "p95 latency above 800 ms on b"
    triggers = events(store, "trigger")
    assert sorted(e.incident_id for e in triggers) == sorted(
        f"alertmanager:{i}" for i in (LATENCY_ID, DISK_ID)
    )
    assert (await provider.get_incident(LATENCY_ID)).title == latency.title
    with pytest.raises(NotFound):
        await provider.get_incident("000000000000")


@pytest.mark.alertmanager
async def test_second_sync_without_change_writes_nothing_new(
    alertmanager: AlertmanagerServer,  # noqa: F811
    provider: AlertmanagerProvider,
    store: Store,
) -> None:
    alertmanager.post_alerts(LATENCY_A, LATENCY_B)
    await pull_alertmanager(store, provider)
    before = incidents(store)[LATENCY_ID].synced_at
    again = await pull_alertmanager(store, provider)
    assert (again.incidents, again.alerts, again.resolved) == (0, 0, 0)
    assert incidents(store)[LATENCY_ID].synced_at == before
    assert len(events(store)) == 1
    with store.read() as session:
        cursor = session.get(SyncState, CURSOR_KEY)
    assert cursor is not None and len(cursor.cursor["alerts"]) == 2

    # Prometheus re-sending one alert moves its updatedAt: only that alert is written.
    alertmanager.post_alerts(LATENCY_B)
    third = await pull_alertmanager(store, provider)
    assert (third.incidents, third.alerts) == (1, 1)
    assert len(events(store)) == 1


# ---------------------------------------------------------------- silences


@pytest.mark.alertmanager
async def test_acknowledge_is_one_silence_of_exactly_the_group(
    alertmanager: AlertmanagerServer,  # noqa: F811
    provider: AlertmanagerProvider,
    store: Store,
) -> None:
    alertmanager.post_alerts(LATENCY_A, LATENCY_B, DISK)
    await pull_alertmanager(store, provider)
    assert provider.capabilities.writes == {"acknowledge", "resolve", "snooze"}
    assert provider.capabilities.comments and provider.capabilities.pull == "snapshot"

    before = datetime.now(UTC)
    record = await provider.acknowledge(LATENCY_ID, comment="looking at the cache")
    after = datetime.now(UTC)
    assert record.status == "acknowledged"
    silences = our_silences(alertmanager)
    assert len(silences) == 1
    silence = silences[0]
    assert silence["createdBy"] == "alice"
    assert str(silence["comment"]).startswith("looking at the cache")
    matchers = {
        (m["name"], m["value"], m["isRegex"], m.get("isEqual", True)) for m in silence["matchers"]
    }  # type: ignore[attr-defined]
    assert matchers == {
        ("alertname", "HighLatency", False, True),
        ("service", "product-api", False, True),
    }
    ends = datetime.fromisoformat(str(silence["endsAt"]).replace("Z", "+00:00"))
    span = timedelta(seconds=ACK_SECONDS)
    assert before + span - timedelta(seconds=1) <= ends <= after + span + timedelta(seconds=1)

    # An outbox retry finds the silence and makes no second one.
    await provider.acknowledge(LATENCY_ID, comment="looking at the cache")
    assert [s["id"] for s in our_silences(alertmanager)] == [silence["id"]]

    await pull_alertmanager(store, provider)
    found = incidents(store)
    assert found[LATENCY_ID].status == "acknowledged"
    assert found[LATENCY_ID].acknowledged_at is not None
    assert found[DISK_ID].status == "triggered"  # the silence matches that group only

    # Snooze moves the same silence's end, still one silence.
    await provider.snooze(LATENCY_ID, 600)
    active = our_silences(alertmanager)
    assert len(active) == 1
    ends = datetime.fromisoformat(str(active[0]["endsAt"]).replace("Z", "+00:00"))
    assert ends < datetime.now(UTC) + timedelta(seconds=601)

    # Resolve expires our silence; the alert still fires, so the group pages again.
    record = await provider.resolve(LATENCY_ID)
    assert record.status == "triggered"
    assert our_silences(alertmanager) == []
    assert len(our_silences(alertmanager, "expired")) >= 1
    await pull_alertmanager(store, provider)
    assert incidents(store)[LATENCY_ID].status == "triggered"
    assert incidents(store)[LATENCY_ID].acknowledged_at is not None  # history is kept


@pytest.mark.alertmanager
async def test_someone_elses_silence_is_left_alone(
    alertmanager: AlertmanagerServer,  # noqa: F811
    provider: AlertmanagerProvider,
    store: Store,
) -> None:
    alertmanager.post_alerts(LATENCY_A)
    async with AlertmanagerProvider(alertmanager.url, creator="bob") as bob:
        await bob.acknowledge(LATENCY_ID)
    await pull_alertmanager(store, provider)
    assert incidents(store)[LATENCY_ID].status == "triggered"  # not acknowledged by us
    await provider.acknowledge(LATENCY_ID)
    assert sorted(s["createdBy"] for s in our_silences(alertmanager)) == ["alice", "bob"]
    await provider.resolve(LATENCY_ID)
    assert [s["createdBy"] for s in our_silences(alertmanager)] == ["bob"]


@pytest.mark.alertmanager
async def test_local_actions_reach_alertmanager_through_the_outbox_once(
    alertmanager: AlertmanagerServer,  # noqa: F811
    provider: AlertmanagerProvider,
    store: Store,
) -> None:
    from cockpit.sync import actions
    from cockpit.sync.service import SyncService

    service = SyncService(store, {"alertmanager": provider})
    alertmanager.post_alerts(LATENCY_A, DISK)
    first = await service.sync_once()
    assert first.errors == [] and first.pulled_incidents == 2

    actions.acknowledge(
        store, f"alertmanager:{LATENCY_ID}", user="alice", note="warming the cache, back in 20m"
    )
    report = await service.sync_once()
    assert (report.sent, report.failed, report.errors) == (1, 0, [])
    (silence,) = our_silences(alertmanager)
    assert str(silence["comment"]).startswith("warming the cache, back in 20m")  # the note
    assert incidents(store)[LATENCY_ID].status == "acknowledged"
    # A second acknowledge (another terminal, a retry) finds the silence: still one.
    actions.acknowledge(store, f"alertmanager:{LATENCY_ID}", user="alice")
    report = await service.sync_once()
    assert report.failed == 0 and len(our_silences(alertmanager)) == 1

    actions.resolve(store, f"alertmanager:{LATENCY_ID}", user="alice", note="cache warmed")
    report = await service.sync_once()
    assert report.failed == 0 and our_silences(alertmanager) == []
    with store.read() as session:
        notes = list(session.exec(select(Note)))
    assert [(n.content, n.state) for n in notes] == [
        ("warming the cache, back in 20m", "local"),
        ("cache warmed", "local"),
    ]

    # An acknowledge of a group that cleared meanwhile is moot, not a failure.
    alertmanager.clear_alerts(DISK)
    actions.acknowledge(store, f"alertmanager:{DISK_ID}", user="alice")
    report = await service.sync_once()
    assert (report.failed, report.superseded) == (0, 1)
    with pytest.raises(NotFound):
        await provider.get_incident(DISK_ID)


# ---------------------------------------------------------------- clearing and restarts


@pytest.mark.alertmanager
async def test_cleared_group_resolves_only_once_the_server_is_settled(
    alertmanager: AlertmanagerServer,  # noqa: F811
    provider: AlertmanagerProvider,
    store: Store,
) -> None:
    alertmanager.post_alerts(LATENCY_A, DISK)
    await pull_alertmanager(store, provider)
    await provider.acknowledge(LATENCY_ID)
    alertmanager.clear_alerts(LATENCY_A)

    young = await pull_alertmanager(store, provider)
    assert young.resolved == 0
    assert any("held off" in note for note in young.reconciled)
    assert incidents(store)[LATENCY_ID].status != "resolved"

    later = datetime.now(UTC) + RESTART_GRACE + timedelta(minutes=1)
    settled = await pull_alertmanager(store, provider, now=later)
    assert settled.resolved == 1
    found = incidents(store)
    assert found[LATENCY_ID].status == "resolved"
    assert found[DISK_ID].status == "triggered"
    assert [e.incident_id for e in events(store, "resolve")] == [f"alertmanager:{LATENCY_ID}"]
    with store.read() as session:
        alerts = list(session.exec(select(Alert).where(Alert.incident_id.endswith(LATENCY_ID))))
    assert [a.status for a in alerts] == ["resolved"]
    # The alert cleared, so our silence is expired and a recurrence will page.
    assert our_silences(alertmanager) == []
    with pytest.raises(AlreadyInState):
        await provider.resolve(LATENCY_ID)

    # It fires again: the same incident reopens, with a second trigger event.
    alertmanager.post_alerts(LATENCY_A)
    await pull_alertmanager(store, provider, now=later + timedelta(minutes=1))
    assert incidents(store)[LATENCY_ID].status == "triggered"
    assert len([e for e in events(store, "trigger") if e.incident_id.endswith(LATENCY_ID)]) == 2


@pytest.mark.alertmanager
async def test_restarted_alertmanager_does_not_resolve_or_delete_history(
    alertmanager: AlertmanagerServer,  # noqa: F811
    provider: AlertmanagerProvider,
    store: Store,
) -> None:
    alertmanager.post_alerts(LATENCY_A, LATENCY_B, DISK)
    await pull_alertmanager(store, provider)
    await provider.acknowledge(LATENCY_ID)
    await pull_alertmanager(store, provider)
    history = len(events(store))

    alertmanager.restart()  # fresh storage: no alerts, no silences
    assert alertmanager.get("/alerts/groups") == []
    result = await pull_alertmanager(store, provider)
    assert result.resolved == 0
    assert any("restarted" in note for note in result.reconciled)
    assert any("held off resolving 2 group(s)" in note for note in result.reconciled)
    found = incidents(store)
    assert set(found) == {LATENCY_ID, DISK_ID}
    assert found[LATENCY_ID].status == "acknowledged"
    assert found[DISK_ID].status == "triggered"
    assert len(events(store)) == history
    with store.read() as session:
        assert len(list(session.exec(select(Alert)))) == 3
        assert all(a.status == "triggered" for a in session.exec(select(Alert)))

    # Prometheus re-sends: same incidents, no second trigger; the lost silence shows.
    alertmanager.post_alerts(LATENCY_A, LATENCY_B, DISK)
    await pull_alertmanager(store, provider)
    found = incidents(store)
    assert set(found) == {LATENCY_ID, DISK_ID}
    assert found[LATENCY_ID].status == "triggered"
    assert found[LATENCY_ID].acknowledged_at is not None
    assert len(events(store, "trigger")) == 2


# ---------------------------------------------------------------- errors (no binary needed)


def test_plain_http_with_a_secret_only_to_loopback() -> None:
    with pytest.raises(InsecureURL, match="alertmanager_url") as caught:
        AlertmanagerProvider("http://alertmanager.example.com:9093", token="t0ken-x")
    assert "alertmanager_token" in str(caught.value) and "t0ken-x" not in str(caught.value)
    with pytest.raises(InsecureURL, match="alertmanager_url"):
        AlertmanagerProvider("http://alertmanager.example.com:9093", user="ops", token="pw")
    with pytest.raises(InsecureURL, match="not an https:// URL"):
        AlertmanagerProvider("ftp://alertmanager.example.com")
    AlertmanagerProvider("https://alertmanager.example.com", token="t")
    AlertmanagerProvider("http://localhost:9093", token="t")


def test_plain_http_without_a_secret_to_any_host() -> None:
    # Alertmanager's default: plain http on :9093, no login.
    am = AlertmanagerProvider("http://alertmanager.monitoring.svc:9093/")
    assert am.base_url == "http://alertmanager.monitoring.svc:9093"


async def test_unreachable_server_is_unavailable_without_the_secret(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again below: nothing listens there

    async def no_wait(_: float) -> None:
        return None

    secret = "s3cret-token-value"
    async with AlertmanagerProvider(
        f"http://127.0.0.1:{port}", user="ops", token=secret, sleep=no_wait
    ) as am:
        with pytest.raises(Unavailable) as caught:
            await am.get_incident(LATENCY_ID)
    assert secret not in str(caught.value)
    assert secret not in repr(am)


@pytest.mark.alertmanager
async def test_basic_auth_and_a_wrong_password(
    alertmanager_basic_auth: AlertmanagerServer,  # noqa: F811
    store: Store,
) -> None:
    server = alertmanager_basic_auth
    server.post_alerts(LATENCY_A)
    wrong = "wrong-password-123"
    async with AlertmanagerProvider(server.url, user=AUTH_USER, token=wrong) as am:
        with pytest.raises(AuthError) as caught:
            await pull_alertmanager(store, am)
    assert "401" in str(caught.value) and wrong not in str(caught.value)
    async with AlertmanagerProvider(server.url, user=AUTH_USER, token=AUTH_PASSWORD) as am:
        result = await pull_alertmanager(store, am)
        await am.acknowledge(LATENCY_ID)
    assert result.incidents == 1
    assert [s["createdBy"] for s in server.get("/silences")] == ["cockpit"]


# ---------------------------------------------------------------- runbook matching


@pytest.mark.alertmanager
async def test_runbook_url_from_alertmanager_wins_the_match(
    alertmanager: AlertmanagerServer,  # noqa: F811
    provider: AlertmanagerProvider,
    store: Store,
) -> None:
    if importlib.util.find_spec("cockpit.runbooks.match") is None:
        pytest.skip("runbook matcher not present")
    from cockpit.runbooks.match import IncidentFacts, match_runbooks
    from cockpit.runbooks.parse import parse_runbook

    alertmanager.post_alerts(LATENCY_A)
    await pull_alertmanager(store, provider)
    incident = incidents(store)[LATENCY_ID]
    by_url = parse_runbook(
        "---\nid: latency\ntitle: Latency\nrunbook_urls:\n"
        "  - https://runbooks.example.com/product-latency.md\n---\n# Latency\n",
        "latency.md",
    )
    by_service = parse_runbook(
        "---\nid: product\ntitle: Product\nservices: [product-api]\nalerts: [HighLatency]\n"
        "match:\n  title: (?i)latency\n---\n# Product\n",
        "product.md",
    )
    facts = IncidentFacts(
        title=incident.title,
        service=incident.service_name,
        urgency=incident.urgency,
        labels=dict(incident.labels),
        runbook_urls=[incident.runbook_url],
        alertname=incident.labels.get("alertname", ""),
    )
    found = match_runbooks([by_service, by_url], facts)
    assert [m.runbook.id for m in found] == ["latency", "product"]
    assert found[0].by_url
    assert "alert HighLatency is listed in alerts" in found[1].reasons
