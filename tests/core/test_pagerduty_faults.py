"""Retries against the emulator's injected faults: 429 storms, 5xx, drops, slowness and the
write that succeeded although its answer never came back."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from cockpit.integrations.base import AlreadyInState, RateLimited, Unavailable
from cockpit.integrations.pagerduty import PagerDutyProvider
from cockpit.integrations.pagerduty_emulator import EmulatorHandle, start_emulator
from cockpit.integrations.ratelimit import RequestBudget


class Sleeps(list[float]):
    """Records every wait instead of waiting."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def emulator() -> Iterator[EmulatorHandle]:
    with start_emulator(incidents=20, days=5) as handle:
        yield handle


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def provider(emulator: EmulatorHandle, sleeps: Sleeps) -> AsyncIterator[PagerDutyProvider]:
    async with PagerDutyProvider(
        emulator.url, emulator.token, sleep=sleeps, max_retries=3, timeout=0.5
    ) as pd:
        yield pd


def attempts(emulator: EmulatorHandle, key: str) -> int:
    return int(emulator.state.path_counts[key])


async def test_a_429_storm_waits_ratelimit_reset_each_time(
    emulator: EmulatorHandle, provider: PagerDutyProvider, sleeps: Sleeps
) -> None:
    emulator.state.inject({"kind": "429", "count": 3, "reset": 7})
    me = await provider.whoami()
    assert me.email
    assert sleeps == [7.0, 7.0, 7.0]
    assert attempts(emulator, "GET /users/me") == 4


async def test_a_429_that_outlasts_the_retries_is_rate_limited(
    emulator: EmulatorHandle, provider: PagerDutyProvider, sleeps: Sleeps
) -> None:
    emulator.state.inject({"kind": "429", "count": 10, "reset": 3})
    with pytest.raises(RateLimited) as caught:
        await provider.people()
    assert caught.value.reset_after == 3.0 and caught.value.status == 429
    assert attempts(emulator, "GET /users") == 4  # one try and max_retries=3 retries
    assert sleeps == [3.0, 3.0, 3.0]


async def test_a_429_pauses_the_shared_budget(emulator: EmulatorHandle, tmp_path: Path) -> None:
    clock = [1_000.0]
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock[0] += seconds

    budget = RequestBudget.in_data_dir(tmp_path, clock=lambda: clock[0], sleep=sleep)
    # a second process on the same file, looking before the provider slept
    other = RequestBudget.in_data_dir(tmp_path, clock=lambda: 1_000.0)
    emulator.state.inject({"kind": "429", "count": 1, "reset": 9})
    async with PagerDutyProvider(emulator.url, emulator.token, budget=budget, sleep=sleep) as pd:
        await pd.whoami()
    assert waits == [9.0]  # the provider's wait; by then the shared pause was over
    assert other.try_acquire() == pytest.approx(9.0)  # others were held off meanwhile


async def test_500s_are_retried_with_bounded_jittered_backoff(
    emulator: EmulatorHandle, provider: PagerDutyProvider, sleeps: Sleeps
) -> None:
    emulator.state.inject({"kind": "500", "count": 2})
    incidents = [i async for i in provider.list_incidents(_days_ago(emulator, 6))]
    assert len(incidents) == len(emulator.state.incidents)
    assert len(sleeps) == 2
    assert 0 <= sleeps[0] <= 0.5 and 0 <= sleeps[1] <= 1.0  # full jitter under base * 2^n


async def test_500s_that_outlast_the_retries_are_unavailable(
    emulator: EmulatorHandle, provider: PagerDutyProvider
) -> None:
    emulator.state.inject({"kind": "500", "count": 10})
    with pytest.raises(Unavailable) as caught:
        await provider.oncalls()
    assert caught.value.status == 500 and "after 4 tries" in str(caught.value)
    assert attempts(emulator, "GET /oncalls") == 4


async def test_a_dropped_connection_is_retried(
    emulator: EmulatorHandle, provider: PagerDutyProvider, sleeps: Sleeps
) -> None:
    emulator.state.inject({"kind": "drop", "count": 2})
    assert await provider.people()
    assert len(sleeps) == 2


async def test_drops_and_timeouts_that_outlast_the_retries_are_unavailable(
    emulator: EmulatorHandle, provider: PagerDutyProvider
) -> None:
    emulator.state.inject({"kind": "drop", "count": 10})
    with pytest.raises(Unavailable, match="after 4 tries"):
        await provider.whoami()
    emulator.state.faults.clear()
    emulator.state.inject({"kind": "slow", "delay": 0.8, "count": 2})
    async with PagerDutyProvider(
        emulator.url, emulator.token, sleep=Sleeps(), max_retries=1, timeout=0.3
    ) as impatient:
        with pytest.raises(Unavailable, match="ReadTimeout after 2 tries"):
            await impatient.people()


async def test_a_slow_answer_is_retried_after_the_timeout(
    emulator: EmulatorHandle, provider: PagerDutyProvider, sleeps: Sleeps
) -> None:
    emulator.state.inject({"kind": "slow", "delay": 0.8, "count": 1})
    assert await provider.whoami()
    assert len(sleeps) == 1 and attempts(emulator, "GET /users/me") == 2


async def test_late_success_on_an_acknowledge_is_in_doubt_and_a_resolve_is_retried(
    emulator: EmulatorHandle, provider: PagerDutyProvider
) -> None:
    incident = emulator.state.trigger("late ack")
    await provider.whoami()  # learn From first, so only the PUT meets the fault
    emulator.state.inject({"kind": "late_success", "delay": 0.8, "count": 1, "method": "PUT"})
    # Sent again blind, an acknowledgement would reopen an incident resolved meanwhile:
    # the outbox checks the incident first (cockpit.sync.push, rule 4).
    with pytest.raises(Unavailable, match="not retried because the write may have arrived"):
        await provider.acknowledge(incident.id)
    puts = [w for w in emulator.state.writes if w["method"] == "PUT"]
    assert len(puts) == 1
    assert emulator.state.incidents[incident.id].status == "acknowledged"  # it did land
    # Resolving twice changes nothing, so a resolve is retried; its answer lost, the retry
    # comes back as "already resolved": delivered.
    emulator.state.inject({"kind": "late_success", "delay": 0.8, "count": 1, "method": "PUT"})
    with pytest.raises(AlreadyInState) as caught:
        await provider.resolve(incident.id)
    assert caught.value.state == "resolved"
    assert emulator.state.incidents[incident.id].status == "resolved"


async def test_late_success_on_a_note_is_not_retried(
    emulator: EmulatorHandle, provider: PagerDutyProvider, sleeps: Sleeps
) -> None:
    incident = emulator.state.trigger("late note")
    await provider.whoami()
    emulator.state.inject({"kind": "late_success", "delay": 0.8, "count": 1, "method": "POST"})
    with pytest.raises(Unavailable, match="not retried because the write may have arrived"):
        await provider.add_note(incident.id, "checked the dashboards")
    posts = [w for w in emulator.state.writes if w["method"] == "POST"]
    assert len(posts) == 1 and sleeps == []
    contents = [n.content for n in emulator.state.incidents[incident.id].notes]
    assert contents.count("checked the dashboards") == 1  # it did land, exactly once


async def test_a_500_on_a_note_is_not_retried_but_a_429_is(
    emulator: EmulatorHandle, provider: PagerDutyProvider
) -> None:
    incident = emulator.state.trigger("notes")
    await provider.whoami()
    emulator.state.inject({"kind": "500", "count": 1, "method": "POST"})
    with pytest.raises(Unavailable, match="not retried"):
        await provider.add_note(incident.id, "one")
    emulator.state.inject({"kind": "429", "count": 1, "reset": 1, "method": "POST"})
    note = await provider.add_note(incident.id, "two")
    assert note.content == "two"


async def test_a_refused_connection_is_unavailable(sleeps: Sleeps) -> None:
    with start_emulator(incidents=1, days=1) as gone:
        url = gone.url
    async with PagerDutyProvider(url, "t0ken", sleep=sleeps, max_retries=2) as pd:
        with pytest.raises(Unavailable, match="ConnectError after 3 tries"):
            await pd.whoami()
    assert len(sleeps) == 2


def _days_ago(emulator: EmulatorHandle, days: int):  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime, timedelta

    return datetime.fromtimestamp(emulator.state.now(), UTC) - timedelta(days=days)
