"""The request budget spends from memory and still holds the shared limit: several budgets
on one file (as several cockpit processes) never spend more than the limit in a window, the
file is written every SYNC_EVERY requests rather than on each, stamps not yet written reach
the file when a budget goes away or its process exits, and the server's own limit replaces
the default less a margin for the user's other tools."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cockpit.integrations.ratelimit import (
    DEFAULT_LIMIT,
    HEADROOM,
    MARGIN,
    SYNC_EVERY,
    RequestBudget,
)


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def stamps_on_disk(path: Path) -> int:
    return len(json.loads(path.read_text())["stamps"])


@pytest.mark.parametrize("processes", [1, 2, 3, 8])
def test_budgets_sharing_a_file_never_spend_more_than_the_limit(
    tmp_path: Path, processes: int
) -> None:
    clock = Clock()
    path = tmp_path / "ratelimit.json"
    budgets = [RequestBudget(path, limit=200, clock=clock) for _ in range(processes)]
    spent = 0
    spent_in_window = 0
    for step in range(2_000):
        clock.now += 0.01  # 100 attempts a second: far more than 200 a minute allows
        budget = budgets[step % processes]
        if budget.try_acquire() == 0:
            spent += 1
            spent_in_window += 1
    # 20 s of attempts: the window (60 s) never rolled, so everything spent is in it.
    assert spent_in_window <= 200
    # And the budget is not wasteful: it spends all but the headroom it keeps for requests
    # it has not seen yet.
    assert spent >= 200 - HEADROOM - SYNC_EVERY * processes


def test_the_file_is_written_every_sync_every_requests_not_on_each(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "ratelimit.json"
    budget = RequestBudget(path, clock=clock)
    assert budget.try_acquire() == 0  # the first request reads (and writes) the file
    assert stamps_on_disk(path) == 1
    for _ in range(SYNC_EVERY):
        clock.now += 0.001
        assert budget.try_acquire() == 0
    assert stamps_on_disk(path) == 1  # spent from memory: the file was not touched
    other = RequestBudget(path, clock=clock)
    assert other.used() == 1  # another process sees them late: that is what HEADROOM is for
    clock.now += 0.001
    assert budget.try_acquire() == 0  # SYNC_EVERY pending: this one goes through the file
    assert stamps_on_disk(path) == SYNC_EVERY + 2
    clock.now += 0.001
    budget.try_acquire()
    budget.flush()
    assert other.used() == SYNC_EVERY + 3


def test_stamps_not_yet_written_reach_the_file_when_the_budget_goes_away(
    tmp_path: Path,
) -> None:
    clock = Clock()
    path = tmp_path / "ratelimit.json"
    budget = RequestBudget(path, clock=clock)
    for _ in range(5):
        budget.try_acquire()
    assert stamps_on_disk(path) == 1
    del budget
    gc.collect()
    assert stamps_on_disk(path) == 5


def test_a_process_that_exits_leaves_its_requests_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "ratelimit.json"
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from cockpit.integrations.ratelimit import RequestBudget\n"
        f"budget = RequestBudget(Path({str(path)!r}))\n"
        "assert all(budget.try_acquire() == 0 for _ in range(7))\n"
        "sys.exit(0)  # no flush: the exit writes them\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert stamps_on_disk(path) == 7


def test_the_server_limit_replaces_the_default_less_a_margin_and_a_cap_stays(
    tmp_path: Path,
) -> None:
    budget = RequestBudget(tmp_path / "a.json")
    assert budget.limit == DEFAULT_LIMIT
    budget.observe({"ratelimit-limit": "960"})
    assert budget.limit == int(960 * (1 - MARGIN))
    capped = RequestBudget(tmp_path / "b.json", limit=500)
    capped.observe({"ratelimit-limit": "960"})
    assert capped.limit == 500


def test_a_low_server_count_holds_back_every_process_sharing_the_file(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "ratelimit.json"
    mine, theirs = RequestBudget(path, clock=clock), RequestBudget(path, clock=clock)
    assert mine.try_acquire() == 0 and theirs.try_acquire() == 0
    mine.observe({"ratelimit-remaining": "5", "ratelimit-reset": "30"})
    assert mine.try_acquire() == pytest.approx(30, abs=0.01)
    # The other process sees the file changed (a stat) and reads it before spending.
    assert theirs.try_acquire() == pytest.approx(30, abs=0.01)
    clock.now += 31
    assert theirs.try_acquire() == 0


def test_a_new_budget_follows_the_limit_another_process_heard(tmp_path: Path) -> None:
    """The next `cockpit sync`, or the TUI opened right after a first sync, shares the file
    but has not heard the server yet: it follows the limit the first process heard, not the
    default, which that first sync's stamps may fill for a minute."""
    clock = Clock()
    path = tmp_path / "ratelimit.json"
    first = RequestBudget(path, clock=clock)
    first.observe({"ratelimit-limit": "2000"})
    for _ in range(DEFAULT_LIMIT + 100):  # more than the default allows in a window
        clock.now += 0.005
        assert first.try_acquire() == 0
    first.flush()
    assert json.loads(path.read_text())["server_limit"] == 2000
    clock.now += 1
    later = RequestBudget(path, clock=clock)
    assert later.try_acquire() == 0  # no wait: 700 of 1,800 spent, not 700 of 600
    assert later.limit == int(2000 * (1 - MARGIN))
    unknown = RequestBudget(tmp_path / "other.json", clock=clock)
    assert unknown.limit == DEFAULT_LIMIT  # a file with no server limit: the default


def test_a_damaged_server_limit_in_the_file_is_ignored(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "ratelimit.json"
    path.write_text(json.dumps({"stamps": [], "server_limit": "lots"}))
    budget = RequestBudget(path, clock=clock)
    assert budget.try_acquire() == 0
    assert budget.limit == DEFAULT_LIMIT
