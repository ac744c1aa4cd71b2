"""The request budget is one count per user, shared through a file by every process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cockpit.integrations.ratelimit import RequestBudget


class FakeTime:
    """A wall clock that only moves when someone sleeps."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def budget(path: Path, fake: FakeTime, limit: int = 5, **kwargs: float) -> RequestBudget:
    return RequestBudget(path, limit, clock=fake.clock, sleep=fake.sleep, **kwargs)  # type: ignore[arg-type]


async def test_acquire_waits_only_when_the_window_is_full(tmp_path: Path) -> None:
    fake = FakeTime()
    one = budget(tmp_path / "rl.json", fake, limit=3)
    for _ in range(3):
        await one.acquire()
    assert fake.slept == []
    await one.acquire()
    assert fake.slept == [pytest.approx(60.0)]
    assert one.used() == 1  # the first three fell out of the window while we waited


async def test_two_budgets_on_one_file_share_the_count(tmp_path: Path) -> None:
    fake = FakeTime()
    path = tmp_path / "data" / "ratelimit.json"
    tui, headless = budget(path, fake), budget(path, fake)
    for _ in range(3):
        await tui.acquire()
    fake.now += 10
    for _ in range(2):
        await headless.acquire()
    assert tui.used() == headless.used() == 5
    assert fake.slept == []
    await tui.acquire()  # the sixth request of the minute, made by either process, must wait
    assert fake.slept == [pytest.approx(50.0)]


def test_a_real_second_process_spends_from_the_same_budget(tmp_path: Path) -> None:
    path = tmp_path / "ratelimit.json"
    code = (
        "import asyncio, sys\n"
        "from pathlib import Path\n"
        "from cockpit.integrations.ratelimit import RequestBudget\n"
        "b = RequestBudget(Path(sys.argv[1]), 600)\n"
        "async def main():\n"
        "    for _ in range(7):\n"
        "        await b.acquire()\n"
        "asyncio.run(main())\n"
    )
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, timeout=60)
    here = RequestBudget(path, 600)
    assert here.used() == 7
    assert here.try_acquire() == 0
    assert here.used() == 8


async def test_a_429_pause_holds_every_process(tmp_path: Path) -> None:
    fake = FakeTime()
    path = tmp_path / "rl.json"
    one, two = budget(path, fake, limit=100), budget(path, fake, limit=100)
    one.pause(7)
    await two.acquire()
    assert fake.slept == [pytest.approx(7.0)]


async def test_low_server_remaining_waits_for_the_servers_reset(tmp_path: Path) -> None:
    fake = FakeTime()
    path = tmp_path / "rl.json"
    one = budget(path, fake, limit=100, reserve=2)
    one.observe({"ratelimit-remaining": "4", "ratelimit-reset": "12"})
    await one.acquire()  # 4 -> 3
    await one.acquire()  # 3 -> 2
    assert fake.slept == []
    other = budget(path, fake, limit=100, reserve=2)
    await other.acquire()  # 2 left is the reserve: wait for the reset
    assert fake.slept == [pytest.approx(12.0)]
    await other.acquire()  # after the reset the server's numbers are forgotten
    assert len(fake.slept) == 1


def test_headers_without_numbers_are_ignored(tmp_path: Path) -> None:
    fake = FakeTime()
    one = budget(tmp_path / "rl.json", fake)
    one.observe({"ratelimit-remaining": "soon"})
    one.observe({})
    assert one.try_acquire() == 0


def test_a_damaged_file_starts_a_fresh_window(tmp_path: Path) -> None:
    path = tmp_path / "rl.json"
    path.write_text("{not json")
    fake = FakeTime()
    one = budget(path, fake)
    assert one.try_acquire() == 0
    assert one.used() == 1
    path.write_text('{"stamps": "x", "pause_until": "y"}')
    assert one.try_acquire() == 0


def test_a_limit_below_one_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        RequestBudget(tmp_path / "rl.json", 0)


def test_in_data_dir_and_repr(tmp_path: Path) -> None:
    shared = RequestBudget.in_data_dir(tmp_path, limit=10)
    assert shared.path == tmp_path / "ratelimit.json"
    assert "limit=10/60s" in repr(shared)
