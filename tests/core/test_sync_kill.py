"""A sync process killed with SIGKILL at random points, then a fresh sync: no duplicates,
no gaps, and SQLite's integrity check passes."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from cockpit.integrations.pagerduty_emulator import start_emulator
from cockpit.store import Store


def _sync_cmd(data_dir: Path) -> list[str]:
    return [sys.executable, "-m", "cockpit", "--data-dir", str(data_dir), "sync"]


def test_killed_syncs_then_a_full_sync_leave_a_complete_sound_store(tmp_path: Path) -> None:
    rng = random.Random(1234)
    with start_emulator(incidents=400, days=30, seed=3) as emulator:
        env = dict(
            os.environ,
            COCKPIT_PAGERDUTY_URL=emulator.url,
            COCKPIT_PAGERDUTY_TOKEN=emulator.token,
        )
        for _ in range(4):
            # Slow responses stretch the sync so the kill lands in the middle of it.
            emulator.state.inject({"kind": "slow", "delay": 0.05, "count": 40})
            proc = subprocess.Popen(
                _sync_cmd(tmp_path), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            time.sleep(rng.uniform(0.3, 1.6))
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            emulator.state.faults.clear()
        done = subprocess.run(
            _sync_cmd(tmp_path), env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        expected_incidents = {i.id for i in emulator.state.incidents.values()}
        expected_entries = {e.id for e in emulator.state.all_log_entries()}

    store = Store.open(tmp_path)
    assert store.integrity_check() == ["ok"]
    incidents = {row[0] for row in store.execute("SELECT remote_id FROM incidents")}
    entries = [row[0] for row in store.execute("SELECT remote_id FROM timeline_events")]
    assert incidents == expected_incidents
    assert len(entries) == len(set(entries))  # no duplicates
    assert {e.split(":", 1)[1] for e in entries} == expected_entries  # no gaps
    store.close()
