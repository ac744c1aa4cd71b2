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


def test_a_sync_killed_between_sending_a_note_and_recording_it_never_posts_it_twice(
    tmp_path: Path,
) -> None:
    from cockpit.store import queries, reads
    from cockpit.store.engine import driver_connection
    from cockpit.sync import actions

    with start_emulator(incidents=5, days=2, seed=5) as emulator:
        env = dict(
            os.environ, COCKPIT_PAGERDUTY_URL=emulator.url, COCKPIT_PAGERDUTY_TOKEN=emulator.token
        )
        first = subprocess.run(
            _sync_cmd(tmp_path), env=env, capture_output=True, text=True, timeout=120
        )
        assert first.returncode == 0, first.stderr
        store = Store.open(tmp_path)
        with store.read() as session:
            target = queries.open_incidents(session)[0]
        actions.add_note(store, target.id, "drained the queue by hand")
        store.close()
        # The server takes the note, then holds its answer: the process is killed after the
        # note reached PagerDuty and before it could record that it had.
        emulator.state.inject({"kind": "late_success", "delay": 30, "count": 1, "method": "POST"})
        proc = subprocess.Popen(
            _sync_cmd(tmp_path), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        remote = emulator.state.incident(target.remote_id)
        deadline = time.monotonic() + 60
        while not any(n.content == "drained the queue by hand" for n in remote.notes):
            assert time.monotonic() < deadline, "the note never reached the emulator"
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        emulator.state.faults.clear()
        store = Store.open(tmp_path)
        with store.read() as session:
            assert (
                reads.outbox_counts(driver_connection(session)).get("sending", 0)
                + reads.outbox_counts(driver_connection(session)).get("pending", 0)
                == 1
            )  # not recorded as sent: the kill came first
        store.close()
        # The next sync sees that the process holding the item is gone and takes it back at
        # once (no lease to wait out); it finds the note already there and does not post it.
        again = subprocess.run(
            _sync_cmd(tmp_path), env=env, capture_output=True, text=True, timeout=120
        )
        assert again.returncode == 0, again.stderr
        assert "reached the service already" in again.stdout + again.stderr
        notes = [n.content for n in remote.notes]
    assert notes.count("drained the queue by hand") == 1
    store = Store.open(tmp_path)
    with store.read() as session:
        assert reads.outbox_counts(driver_connection(session)) == {}
    assert store.integrity_check() == ["ok"]
    store.close()
