"""The PagerDuty adapter against the real emulator over HTTP on 127.0.0.1: reads, writes,
pagination past the 10,000 cap, and request counts of an incremental sync."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cockpit.integrations.base import AlreadyInState, InvalidRequest, NotFound, PagingProvider
from cockpit.integrations.pagerduty import PagerDutyProvider
from cockpit.integrations.pagerduty_emulator import EmulatorHandle, start_emulator
from cockpit.integrations.ratelimit import RequestBudget

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


async def no_wait(seconds: float) -> None:
    return None


@pytest.fixture
def emulator() -> Iterator[EmulatorHandle]:
    with start_emulator(incidents=120, days=30) as handle:
        yield handle


@pytest.fixture
async def provider(emulator: EmulatorHandle) -> AsyncIterator[PagerDutyProvider]:
    async with PagerDutyProvider(emulator.url, emulator.token, sleep=no_wait) as pd:
        yield pd


def emulator_now(emulator: EmulatorHandle) -> datetime:
    return datetime.fromtimestamp(emulator.state.now(), UTC)


def requests(emulator: EmulatorHandle) -> int:
    return int(emulator.state.stats()["request_count"])


async def test_it_is_a_paging_provider(provider: PagerDutyProvider) -> None:
    assert isinstance(provider, PagingProvider)
    me = await provider.whoami()
    assert me.email.endswith("@example.com") and me.name


async def test_list_incidents_returns_each_incident_once_oldest_first(
    emulator: EmulatorHandle, provider: PagerDutyProvider
) -> None:
    now = emulator_now(emulator)
    got = [i async for i in provider.list_incidents(now - timedelta(days=31))]
    assert len(got) == len({i.id for i in got}) == len(emulator.state.incidents)
    assert [i.created_at for i in got] == sorted(i.created_at for i in got)
    one = emulator.state.incidents[got[0].id]
    assert (got[0].title, got[0].status, got[0].number) == (one.title, one.status, one.number)


async def test_a_year_of_incidents_is_asked_in_windows_of_at_most_six_months(
    emulator: EmulatorHandle, provider: PagerDutyProvider
) -> None:
    now = emulator_now(emulator)
    emulator.state.add_incident(title="old one", created_at=now - timedelta(days=300))
    # the emulator answers 400 to windows over 6 months: no error means the range was split
    got = [i async for i in provider.list_incidents(now - timedelta(days=365), now)]
    assert "old one" in {i.title for i in got}
    assert len(got) == len(emulator.state.incidents)


async def test_incremental_change_of_ten_incidents_takes_under_five_requests(
    emulator: EmulatorHandle, provider: PagerDutyProvider
) -> None:
    open_ids = [emulator.state.trigger(f"5xx on checkout-{n}").id for n in range(5)]
    watermark = emulator_now(emulator) - timedelta(seconds=1)
    first = await provider.changes_since(watermark)
    fresh = [emulator.state.trigger(f"disk full on db-{n}").id for n in range(5)]
    for incident_id in open_ids:
        await provider.acknowledge(incident_id)
    before = requests(emulator)
    page = await provider.changes_since(first.watermark)
    spent = requests(emulator) - before
    changed = set(open_ids) | set(fresh)
    assert len(changed) == 10
    assert changed <= {i.id for i in page.incidents}
    assert spent < 5, f"{spent} requests for 10 changed incidents"
    by_id = {i.id: i for i in page.incidents}
    assert all(by_id[i].status == "acknowledged" for i in open_ids)
    assert {e.type for e in page.log_entries} >= {"trigger", "acknowledge"}
    assert page.watermark >= first.watermark and page.complete
    # nothing new: one request, and the watermark does not move backwards
    before = requests(emulator)
    again = await provider.changes_since(page.watermark)
    assert requests(emulator) - before == 1
    assert again.watermark >= page.watermark


def seed_flaps(emulator: EmulatorHandle, count: int) -> tuple[datetime, datetime]:
    """``count`` low-urgency incidents 5 s apart (two log entries each); their window."""
    start = emulator_now(emulator) - timedelta(days=60)
    for n in range(count):
        emulator.state.add_incident(
            title=f"flap {n}", created_at=start + timedelta(seconds=5 * n), urgency="low"
        )
    return start, start + timedelta(seconds=5 * count)


@pytest.mark.slow
async def test_incidents_past_the_10000_cap_continue_after_the_newest_seen(
    emulator: EmulatorHandle,
) -> None:
    start, until = seed_flaps(emulator, 10_050)  # listed oldest first
    async with PagerDutyProvider(emulator.url, emulator.token, sleep=no_wait) as pd:
        incidents = [i async for i in pd.list_incidents(start, until)]
        assert len(incidents) == len({i.id for i in incidents}) == 10_050
        assert pd.request_count <= 102  # 101 pages at least; narrowing wastes at most one


@pytest.mark.slow
async def test_log_entries_past_the_10000_cap_continue_before_the_oldest_seen(
    emulator: EmulatorHandle,
) -> None:
    start, until = seed_flaps(emulator, 6_000)  # 12,000 log entries, listed newest first
    progress: list[tuple[int, int | None, str]] = []
    async with PagerDutyProvider(emulator.url, emulator.token, sleep=no_wait) as pd:
        entries = [
            e async for e in pd.log_entries(start, until, progress=lambda *a: progress.append(a))
        ]
        assert len(entries) == len({e.id for e in entries}) == 12_000
        assert {e.type for e in entries} == {"trigger", "notify"}
        assert pd.request_count <= 122  # 120 pages at least
    assert progress[-1] == (12_000, 12_000, "log entries")


async def test_reads_of_one_incident(emulator: EmulatorHandle, provider: PagerDutyProvider) -> None:
    incident = emulator.state.trigger(
        "latency on product-api", details={"runbook_url": "https://rb.example.com/latency"}
    )
    record = await provider.get_incident(incident.id)
    assert record.status == "triggered" and record.assignees
    alerts = await provider.alerts(incident.id)
    assert alerts[0].runbook_url == "https://rb.example.com/latency"
    log = await provider.incident_log_entries(incident.id)
    assert log[-1].type == "trigger" or log[0].type == "trigger"
    notify = [e for e in log if e.type == "notify"]
    assert notify and {e.person_id for e in notify} <= set(record.assignees)
    assert "push_notification" in {e.channel for e in notify}
    with pytest.raises(NotFound):
        await provider.get_incident("PNOSUCH")


async def test_roster_and_people(provider: PagerDutyProvider) -> None:
    people = await provider.people()
    assert len(people) == 12 and all(p.time_zone and p.teams for p in people)
    oncalls = await provider.oncalls()
    assert oncalls and {o.person_id for o in oncalls} <= {p.id for p in people}
    assert all(o.escalation_level >= 1 and o.escalation_policy_id for o in oncalls)


async def test_writes_send_from_and_reach_the_emulator(
    emulator: EmulatorHandle, provider: PagerDutyProvider
) -> None:
    incident = emulator.state.trigger("queue backlog")
    assert (await provider.acknowledge(incident.id)).status == "acknowledged"
    snoozed = await provider.snooze(incident.id, 600)
    assert snoozed.status == "acknowledged"
    note = await provider.add_note(incident.id, "draining the queue [bold]now[/]")
    assert note.content == "draining the queue [bold]now[/]"
    people = await provider.people()
    other = next(p.id for p in people if p.id not in snoozed.assignees)
    assert other in (await provider.reassign(incident.id, other)).assignees
    await provider.escalate(incident.id, 2)
    assert (await provider.resolve(incident.id)).status == "resolved"
    with pytest.raises(AlreadyInState) as caught:
        await provider.resolve(incident.id)
    assert caught.value.state == "resolved" and caught.value.status == 400
    writes = emulator.state.writes
    me = await provider.whoami()
    assert len(writes) == 7
    assert all(w["headers"].get("From") == me.email for w in writes)
    assert emulator.state.path_counts["GET /users/me"] == 2  # once for From, once just now
    assert [n.content for n in emulator.state.incidents[incident.id].notes][-1] == note.content


async def test_refused_writes_are_invalid_requests(
    emulator: EmulatorHandle, provider: PagerDutyProvider
) -> None:
    incident = emulator.state.trigger("not acknowledged yet")
    with pytest.raises(InvalidRequest) as caught:
        await provider.snooze(incident.id, 60)  # only acknowledged incidents snooze
    assert caught.value.status == 400
    with pytest.raises(InvalidRequest, match="604800"):
        await provider.snooze(incident.id, 604_801)


async def test_from_email_setting_skips_users_me(emulator: EmulatorHandle) -> None:
    incident = emulator.state.trigger("cpu")
    someone = list(emulator.state.users.values())[3].email
    async with PagerDutyProvider(
        emulator.url, emulator.token, from_email=someone, sleep=no_wait
    ) as pd:
        await pd.acknowledge(incident.id)
    assert emulator.state.path_counts["GET /users/me"] == 0
    assert emulator.state.writes[0]["headers"]["From"] == someone


async def test_tls_with_the_emulators_certificate() -> None:
    with start_emulator(tls=True, incidents=5, days=2) as tls:
        assert tls.url.startswith("https://") and tls.cert_path is not None
        async with PagerDutyProvider(tls.url, tls.token, verify=str(tls.cert_path)) as pd:
            assert (await pd.whoami()).email


async def test_the_budget_counts_every_request(emulator: EmulatorHandle, tmp_path: Path) -> None:
    budget = RequestBudget.in_data_dir(tmp_path, limit=600)
    async with PagerDutyProvider(emulator.url, emulator.token, budget=budget, sleep=no_wait) as pd:
        await pd.whoami()
        await pd.people()
        await pd.oncalls()
        assert budget.used() == pd.request_count == requests(emulator) == 3


async def test_changes_since_an_old_watermark_is_asked_in_six_month_windows(
    emulator: EmulatorHandle, provider: PagerDutyProvider
) -> None:
    now = emulator_now(emulator)
    # one window of 300 days would be a 400 from the emulator, as from PagerDuty
    page = await provider.changes_since(now - timedelta(days=300))
    seen = {e.id for e in page.log_entries}
    expected = {e.id for e in emulator.state.all_log_entries() if e.created_at <= now.timestamp()}
    assert seen == expected
    assert {i.id for i in page.incidents} == {e.incident_id for e in page.log_entries}
    assert page.watermark <= now
