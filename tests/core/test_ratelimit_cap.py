"""No header and no state file can make a wait longer than MAX_WAIT, and a wait says why."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest

from cockpit.integrations.pagerduty import PagerDutyProvider
from cockpit.integrations.pagerduty_emulator import EmulatorHandle, start_emulator
from cockpit.integrations.ratelimit import MAX_WAIT, RequestBudget, Wait, header_wait

FIFTY_SIX_YEARS = 56 * 365 * 86400.0


class FakeTime:
    """A wall clock near the real one (so epochs mean what they say) that moves on sleep."""

    def __init__(self) -> None:
        self.now = time.time()
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def on_disk(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


@pytest.fixture
def emulator() -> Iterator[EmulatorHandle]:
    with start_emulator(incidents=2, days=1) as handle:
        yield handle


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7", 7.0),
        ("0", 0.0),
        ("-3", 0.0),
        ("100000", MAX_WAIT),  # plain seconds, but too many
        ("+30", 30.0),  # an epoch 30 s ahead, written below as "+30"
        ("+3600", MAX_WAIT),  # the tracker's case: an epoch an hour ahead
        ("-60", 0.0),  # an epoch already past
        ("date+45", 45.0),  # Retry-After's HTTP-date form
        ("inf", None),
        ("nan", None),
        ("soon", None),
        ("", None),
    ],
)
def test_header_wait_is_capped_and_reads_epochs_as_times(
    value: str, expected: float | None
) -> None:
    now = 1_750_000_000.0
    if value.startswith("date+"):
        value = formatdate(now + float(value[5:]), usegmt=True)
    elif value.startswith(("+", "-")) and value != "-3":
        value = str(int(now + float(value)))
    got = header_wait(value, now)
    assert got == (None if expected is None else pytest.approx(expected, abs=1.0))


async def test_an_epoch_reset_from_the_server_waits_at_most_the_cap(
    emulator: EmulatorHandle, tmp_path: Path
) -> None:
    """The bug: ratelimit-reset = now + 3600 as an epoch was stored as ~56 years."""
    fake = FakeTime()
    budget = RequestBudget.in_data_dir(tmp_path, clock=fake.clock, sleep=fake.sleep)
    emulator.state.inject({"kind": "429", "count": 1, "reset": int(time.time()) + 3600})
    async with PagerDutyProvider(
        emulator.url, emulator.token, budget=budget, sleep=fake.sleep
    ) as pd:
        me = await pd.whoami()
    assert me.email
    assert fake.slept and all(0 < s <= MAX_WAIT for s in fake.slept)
    assert sum(fake.slept) <= MAX_WAIT + 1
    state = on_disk(budget.path)
    assert state["pause_until"] <= fake.now + MAX_WAIT
    assert state["server_reset_at"] <= fake.now + MAX_WAIT


async def test_observe_never_stores_a_reset_beyond_the_cap(tmp_path: Path) -> None:
    fake = FakeTime()
    budget = RequestBudget(tmp_path / "ratelimit.json", clock=fake.clock, sleep=fake.sleep)
    # An epoch an hour away, and plain seconds that are three years.
    for reset in (str(int(fake.now) + 3600), "100000000"):
        budget.observe({"ratelimit-remaining": "0", "ratelimit-reset": reset})
        assert on_disk(budget.path)["server_reset_at"] <= fake.now + MAX_WAIT
    await budget.acquire()
    assert fake.slept == [pytest.approx(MAX_WAIT)]


async def test_a_far_future_file_is_clamped_on_load_and_written_back(tmp_path: Path) -> None:
    """A file left by the old code: every later sync waited ~56 years until it was deleted."""
    fake = FakeTime()
    path = tmp_path / "ratelimit.json"
    path.write_text(
        json.dumps(
            {
                "stamps": [fake.now + FIFTY_SIX_YEARS] * 3,
                "pause_until": fake.now + FIFTY_SIX_YEARS,
                "server_remaining": 0,
                "server_reset_at": fake.now + FIFTY_SIX_YEARS,
            }
        )
    )
    budget = RequestBudget(path, limit=3, clock=fake.clock, sleep=fake.sleep)
    assert budget.used() == 3  # reading alone repairs the file
    state = on_disk(path)
    assert state["pause_until"] <= fake.now + MAX_WAIT
    assert state["server_reset_at"] <= fake.now + MAX_WAIT
    assert max(state["stamps"]) <= fake.now  # a stamp "from the future" is now
    await budget.acquire()
    assert sum(fake.slept) <= MAX_WAIT + budget.window


async def test_a_paused_budget_says_what_it_waits_for(tmp_path: Path) -> None:
    fake = FakeTime()
    told: list[Wait] = []
    seen_while_waiting: list[Wait | None] = []

    async def sleep(seconds: float) -> None:
        seen_while_waiting.append(budget.waiting)
        await fake.sleep(seconds)

    budget = RequestBudget(
        tmp_path / "ratelimit.json", clock=fake.clock, sleep=sleep, on_wait=told.append
    )
    budget.pause(float("inf"))  # capped like every other wait
    await budget.acquire()
    assert fake.slept == [pytest.approx(MAX_WAIT)]
    assert len(told) == 1 and seen_while_waiting == told
    assert str(told[0]) == (
        "PagerDuty rate limit: waiting 120 s for PagerDuty's rate limit to reset after it "
        "refused a request (429)"
    )
    assert budget.waiting is None  # over once the wait is


async def test_a_full_window_names_the_shared_budget(tmp_path: Path) -> None:
    fake = FakeTime()
    told: list[Wait] = []
    budget = RequestBudget(
        tmp_path / "ratelimit.json", 2, clock=fake.clock, sleep=fake.sleep, on_wait=told.append
    )
    await budget.acquire()
    await budget.acquire()
    await budget.acquire()
    assert [str(w) for w in told] == [
        "PagerDuty rate limit: waiting 60 s for the budget to refill (2 requests in 60 s, "
        "shared by this user's cockpit processes)"
    ]


async def test_acquire_with_max_wait_does_not_start_a_longer_wait(tmp_path: Path) -> None:
    fake = FakeTime()
    budget = RequestBudget(tmp_path / "ratelimit.json", clock=fake.clock, sleep=fake.sleep)
    budget.pause(12)
    assert await budget.acquire(max_wait=5) is False
    assert fake.slept == [] and budget.used() == 0  # nothing waited, nothing spent
    assert await budget.acquire(max_wait=15) is True
    assert fake.slept == [pytest.approx(12.0)] and budget.used() == 1
