"""The kill loop: `cockpit sync` SIGKILLed at random while notes, acknowledgements, snoozes
and escalations are queued against a slow server. At the end PagerDuty (the emulator) holds
each write once: none lost, none twice, and the first sync after the last kill delivers
everything that was left, itself (no lease to wait out)."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from cockpit.integrations.pagerduty_emulator import start_emulator
from cockpit.store import Store, queries, reads
from cockpit.store.engine import driver_connection
from cockpit.sync import actions

KILLS = 12
DEADLINE = 3  # the client's request deadline, so an in-doubt write settles quickly


def _sync(data_dir: Path) -> list[str]:
    return [sys.executable, "-m", "cockpit", "--data-dir", str(data_dir), "sync"]


def _delivered(writes: list[dict[str, object]], action: str) -> Counter[str]:
    """How many times the service applied ``action`` per incident (2xx answers)."""
    found: Counter[str] = Counter()
    for write in writes:
        status = write.get("status")
        actions_of = write.get("actions") or []
        ids = write.get("incident_ids") or []
        if isinstance(status, int) and 200 <= status < 300 and action in actions_of:  # type: ignore[operator]
            for incident_id in ids:  # type: ignore[union-attr]
                found[str(incident_id)] += 1
    return found


def test_random_kills_lose_nothing_and_send_nothing_twice(tmp_path: Path) -> None:
    rng = random.Random(20261206)
    with start_emulator(incidents=100, days=1, seed=5) as emulator:
        env = dict(
            os.environ,
            COCKPIT_PAGERDUTY_URL=emulator.url,
            COCKPIT_PAGERDUTY_TOKEN=emulator.token,
            COCKPIT_REQUEST_DEADLINE=str(DEADLINE),
        )
        first = subprocess.run(
            _sync(tmp_path), env=env, capture_output=True, text=True, timeout=120
        )
        assert first.returncode == 0, first.stderr

        store = Store.open(tmp_path)
        with store.read() as session:
            open_now = queries.open_incidents(session)
        triggered = [i for i in open_now if i.status == "triggered"]
        acked = [i for i in open_now if i.status == "acknowledged"]
        assert len(triggered) >= 4 and len(acked) >= 2, (len(triggered), len(acked))
        expected: dict[str, set[str]] = {"acknowledge": set(), "snooze": set(), "escalate": set()}
        notes: dict[str, list[str]] = {}
        for incident in triggered[:2]:
            actions.acknowledge(store, incident.id)
            expected["acknowledge"].add(incident.remote_id)
        for incident in acked[:2]:
            actions.snooze(store, incident.id, 1800)
            expected["snooze"].add(incident.remote_id)
        for incident in triggered[2:4]:
            actions.escalate(store, incident.id, 2)
            expected["escalate"].add(incident.remote_id)
        for n, incident in enumerate([*triggered[:4], *acked[:2]]):
            for k in range(3):
                text = f"kill-loop note {n}.{k} on {incident.remote_id}"
                actions.add_note(store, incident.id, text)
                notes.setdefault(incident.remote_id, []).append(text)
        store.close()

        in_flight_kills = 0
        for _ in range(KILLS):
            # A slow server stretches every write, so kills land between send and record.
            emulator.state.inject({"kind": "slow", "delay": 0.3, "count": 400, "method": "PUT"})
            emulator.state.inject({"kind": "slow", "delay": 0.3, "count": 400, "method": "POST"})
            before = len(emulator.state.writes)
            proc = subprocess.Popen(
                _sync(tmp_path), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            # Kill once a write has reached the server: mid-request, or just after its answer.
            until = time.monotonic() + 8
            while (
                len(emulator.state.writes) == before
                and proc.poll() is None
                and time.monotonic() < until
            ):
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.35))
            in_flight_kills += any(w.get("status") is None for w in emulator.state.writes)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            emulator.state.faults.clear()
        time.sleep(0.5)  # the server finishes what the last killed process had sent
        with sqlite3.connect(tmp_path / "cockpit.db") as conn:
            left = conn.execute(
                "SELECT count(*) FROM outbox WHERE state IN ('pending', 'sending')"
            ).fetchone()[0]
        assert left > 0, "the kills came too late to test recovery"

        started = time.monotonic()
        last = subprocess.run(_sync(tmp_path), env=env, capture_output=True, text=True, timeout=120)
        took = time.monotonic() - started
        assert last.returncode == 0, last.stdout + last.stderr
        assert "0 pending" in last.stdout, last.stdout
        # That one sync delivered what was left, waiting at most for one request deadline
        # per in-doubt write to settle, never a lease of minutes.
        assert took < 60, took
        writes = list(emulator.state.writes)
        state = emulator.state
        # The figures the closing note quotes (pytest -s shows them).
        sent = Counter(a for w in writes for a in (w.get("actions") or []))  # type: ignore[union-attr]
        print(
            f"\nkill loop: {KILLS} kills ({in_flight_kills} with a write in the server's "
            f"hands), {left} items left for the last sync; requests per kind at the "
            f"server {dict(sent)}; "
            f"last sync {took:.1f} s: {last.stdout.strip()}"
        )

        for remote_id, texts in notes.items():
            held = [n.content for n in state.incident(remote_id).notes]
            for text in texts:
                assert held.count(text) == 1, (text, held.count(text))
            # ...and in the order they were made.
            positions = [held.index(text) for text in texts]
            assert positions == sorted(positions)
        for action, remote_ids in expected.items():
            counted = _delivered(writes, action)
            for remote_id in remote_ids:
                assert counted[remote_id] == 1, (action, remote_id, counted[remote_id])
        for remote_id in expected["acknowledge"]:
            assert state.incident(remote_id).status == "acknowledged"
        for remote_id in expected["snooze"]:
            assert state.incident(remote_id).snoozed_until is not None
        for remote_id in expected["escalate"]:
            assert state.incident(remote_id).escalation_level == 2

    store = Store.open(tmp_path)
    assert store.integrity_check() == ["ok"]
    with store.read() as session:
        assert reads.outbox_counts(driver_connection(session)) == {}
    store.close()
