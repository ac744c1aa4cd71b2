"""The seeded history is deterministic and tells consistent stories."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from cockpit.integrations.pagerduty_emulator import EmulatorState, seed_history
from cockpit.integrations.pagerduty_emulator.model import LogEntry

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _seeded(seed: int, incidents: int = 300) -> EmulatorState:
    state = EmulatorState(now=NOW, rng_seed=seed)
    seed_history(state, incidents=incidents, days=30, now=NOW, seed=seed)
    return state


def _fingerprint(state: EmulatorState) -> list[tuple[str, str, float, str]]:
    return [(e.id, e.type, e.created_at, e.incident_id) for e in state.all_log_entries()]


def test_same_seed_same_history_other_seed_other_history() -> None:
    assert _fingerprint(_seeded(5)) == _fingerprint(_seeded(5))
    assert _fingerprint(_seeded(5)) != _fingerprint(_seeded(6))


def test_every_story_is_consistent() -> None:
    state = _seeded(9)
    now = NOW.timestamp()
    by_incident: dict[str, list[LogEntry]] = defaultdict(list)
    for entry in state.all_log_entries():
        by_incident[entry.incident_id].append(entry)
    statuses = {i.status for i in state.incidents.values()}
    assert statuses == {"triggered", "acknowledged", "resolved"}
    for incident in state.incidents.values():
        entries = by_incident[incident.id]
        assert entries[0].type == "trigger_log_entry"
        assert entries[0].created_at == incident.created_at
        assert all(e.created_at <= now for e in entries)
        assert any(e.type == "notify_log_entry" and e.user_id for e in entries)
        kinds = [e.type for e in entries]
        if incident.status == "resolved":
            assert kinds[-1] == "resolve_log_entry"
            assert incident.resolved_at == entries[-1].created_at > incident.created_at
            assert "acknowledge_log_entry" in kinds
        else:
            assert "resolve_log_entry" not in kinds and incident.resolved_at is None
        assert (incident.status == "acknowledged") == bool(incident.acknowledgements)
    zones = {u.time_zone for u in state.users.values()}
    assert {"America/New_York", "Europe/Berlin", "Asia/Kolkata", "Australia/Sydney"} <= zones
    titles = {i.title for i in state.incidents.values()}
    assert "High latency on product-api" in titles
    runbooks = [a.details.get("runbook_url") for i in state.incidents.values() for a in i.alerts]
    assert any(runbooks) and not all(runbooks)


def test_log_entries_per_incident_pads_towards_the_target() -> None:
    state = EmulatorState(now=NOW, rng_seed=2)
    seed_history(state, incidents=200, log_entries_per_incident=10, now=NOW, seed=2)
    assert 8 * 200 <= len(state.all_log_entries()) <= 14 * 200
