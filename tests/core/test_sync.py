"""Sync against the real emulator over HTTP: pull, the outbox, offline and back, reconciliation."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from cockpit.integrations.pagerduty import PagerDutyProvider
from cockpit.integrations.pagerduty_emulator import EmulatorHandle, start_emulator
from cockpit.integrations.pagerduty_emulator import actions as emulator_actions
from cockpit.store import Incident, Note, OutboxItem, Store, queries, reads
from cockpit.store.engine import driver_connection
from cockpit.sync import actions
from cockpit.sync.identity import get_me
from cockpit.sync.service import SyncService


@pytest.fixture
def emulator() -> Iterator[EmulatorHandle]:
    with start_emulator(incidents=120, days=20, seed=7) as handle:
        yield handle


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path)
    yield opened
    opened.close()


def _provider(url: str, token: str, timeout: float = 5.0) -> PagerDutyProvider:
    return PagerDutyProvider(
        url, token, timeout=timeout, max_retries=2, backoff_base=0.01, backoff_cap=0.05
    )


def _service(store: Store, handle: EmulatorHandle, **kw: float) -> SyncService:
    return SyncService(store, {"pagerduty": _provider(handle.url, handle.token, **kw)})


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


async def test_first_sync_stores_the_window_and_a_second_adds_nothing(
    store: Store, emulator: EmulatorHandle
) -> None:
    service = _service(store, emulator)
    report = await service.sync_once()
    assert report.online and not report.errors
    incidents = store.execute("SELECT count(*) FROM incidents")[0][0]
    entries = store.execute("SELECT count(*) FROM timeline_events")[0][0]
    assert incidents == len(emulator.state.incidents)
    assert entries == len(emulator.state.all_log_entries())
    assert store.execute("SELECT count(*) FROM people")[0][0] > 5
    assert store.execute("SELECT count(*) FROM oncall_shifts")[0][0] > 0
    with store.read() as session:  # "me" is learned from /users/me, for pages and the baton
        assert get_me(session).id == f"pagerduty:{emulator.state.me_id}"
    before = emulator.state.request_count
    await service.sync_once()
    assert store.execute("SELECT count(*) FROM incidents")[0][0] == incidents
    assert store.execute("SELECT count(*) FROM timeline_events")[0][0] == entries
    assert emulator.state.request_count - before < 5
    await service.aclose()


async def test_incremental_sync_picks_up_a_new_incident_with_its_pages(
    store: Store, emulator: EmulatorHandle
) -> None:
    service = _service(store, emulator)
    await service.sync_once()
    created = emulator.state.trigger("Disk usage above 90% on payments-db-2")
    before = emulator.state.request_count
    await service.sync_once()
    assert emulator.state.request_count - before < 5
    with store.read() as session:
        incident = session.get(Incident, f"pagerduty:{created.id}")
        assert incident is not None and incident.status == "triggered"
        assert reads.paged_people(driver_connection(session), incident.id)  # notify entries arrived
    await service.aclose()


async def test_offline_ack_and_note_are_kept_and_delivered_once_when_back(
    store: Store, emulator: EmulatorHandle
) -> None:
    online = _service(store, emulator)
    await online.sync_once()
    await online.aclose()
    with store.read() as session:
        target = queries.open_incidents(session)[0]

    offline = SyncService(store, {"pagerduty": _provider(_closed_port_url(), emulator.token)})
    actions.acknowledge(store, target.id)
    note = actions.add_note(store, target.id, "checked the [red]dashboards[/], \x1b[2J all green")
    report = await offline.sync_once()
    assert not report.online and report.errors
    with store.read() as session:
        assert reads.outbox_counts(driver_connection(session)).get("pending") == 2
        assert session.get(Note, note.id).state == "pending"  # type: ignore[union-attr]
        assert session.get(Incident, target.id).status == "acknowledged"  # type: ignore[union-attr]
    await offline.aclose()
    assert emulator.state.writes == []

    back = _service(store, emulator)
    report = await back.sync_once()
    assert report.online and report.sent == 2
    await back.sync_once()
    posts = [w for w in emulator.state.writes if w["path"].endswith("/notes")]
    assert len(posts) == 1
    assert posts[0]["body"]["note"]["content"] == note.content
    acks = [w for w in emulator.state.writes if w["method"] == "PUT"]
    assert len(acks) == 1
    assert emulator.state.incident(target.remote_id).status == "acknowledged"
    with store.read() as session:
        assert session.get(Note, note.id).state == "sent"  # type: ignore[union-attr]
        assert reads.outbox_counts(driver_connection(session)) == {}
    await back.aclose()


async def test_a_note_whose_response_was_lost_is_not_posted_twice(
    store: Store, emulator: EmulatorHandle
) -> None:
    service = _service(store, emulator, timeout=0.5)
    await service.sync_once()
    with store.read() as session:
        target = queries.open_incidents(session)[0]
    actions.add_note(store, target.id, "rolled back the deploy")
    # The server applies the note, then answers after the client has given up.
    emulator.state.inject({"kind": "late_success", "delay": 1.5, "count": 3, "method": "POST"})
    first = await service.push()
    assert not first.online
    with store.read() as session:
        assert reads.outbox_counts(driver_connection(session)).get("pending") == 1
    emulator.state.faults.clear()
    second_service = _service(store, emulator)
    second = await second_service.push()
    assert second.sent == 1
    assert any("reached the service already" in line for line in second.reconciled)
    remote = emulator.state.incident(target.remote_id)
    assert [n.content for n in remote.notes].count("rolled back the deploy") == 1
    await service.aclose()
    await second_service.aclose()


async def test_an_ack_for_an_incident_resolved_elsewhere_is_reconciled_not_sent(
    store: Store, emulator: EmulatorHandle
) -> None:
    service = _service(store, emulator)
    await service.sync_once()
    with store.read() as session:
        target = next(i for i in queries.open_incidents(session) if i.status == "triggered")
    actions.acknowledge(store, target.id)
    # Someone else resolves it in PagerDuty before our acknowledgement is delivered.
    state = emulator.state
    with state.lock:
        someone = next(iter(state.users))
        emulator_actions.resolve(state, state.incident(target.remote_id), someone, state.now())
    report = await service.sync_once()
    assert report.superseded == 1
    assert any("already resolved" in line for line in report.reconciled)
    assert [w for w in emulator.state.writes if w["method"] == "PUT"] == []
    with store.read() as session:
        rows = list(session.exec(select(OutboxItem)))
        assert [r.state for r in rows] == ["superseded"]
        assert session.get(Incident, target.id).status == "resolved"  # type: ignore[union-attr]
    await service.aclose()


async def test_first_acknowledgement_time_comes_from_the_log(
    store: Store, emulator: EmulatorHandle
) -> None:
    # PagerDuty lists no acknowledgements on a resolved incident: MTTA needs the log's.
    service = _service(store, emulator)
    await service.sync_once()
    await service.aclose()
    first_ack: dict[str, float] = {}
    for entry in emulator.state.all_log_entries():
        if entry.type == "acknowledge_log_entry":
            first_ack[entry.incident_id] = min(
                entry.created_at, first_ack.get(entry.incident_id, 1e18)
            )
    assert first_ack
    with store.read() as session:
        for remote_id, at in first_ack.items():
            incident = session.get(Incident, f"pagerduty:{remote_id}")
            assert incident is not None and incident.acknowledged_at is not None
            assert abs(incident.acknowledged_at.timestamp() - at) < 1


async def test_notes_written_in_pagerduty_show_in_the_timeline_once(
    store: Store, emulator: EmulatorHandle
) -> None:
    service = _service(store, emulator)
    await service.sync_once()
    with store.read() as session:
        target = queries.open_incidents(session)[0]
    state = emulator.state
    with state.lock:
        someone = next(iter(state.users))
        incident = state.incident(target.remote_id)
        emulator_actions.add_note(
            state, incident, someone, "ssh'd in, disk is the WAL", state.now()
        )
    actions.add_note(store, target.id, "our own note")
    await service.sync_once()
    await service.sync_once()
    with store.read() as session:
        notes = [
            t.summary
            for t in reads.timeline(driver_connection(session), target.id)
            if t.kind == "note"
        ]
    assert notes.count("ssh'd in, disk is the WAL") == 1
    assert notes.count("our own note") == 1
    await service.aclose()


async def test_two_senders_at_once_deliver_a_note_once(
    store: Store, emulator: EmulatorHandle
) -> None:
    # The TUI's sync worker and `cockpit sync` in a second terminal push at the same time.
    first = _service(store, emulator)
    await first.sync_once()
    with store.read() as session:
        target = queries.open_incidents(session)[0]
    actions.add_note(store, target.id, "still investigating")
    emulator.state.inject({"kind": "slow", "delay": 0.8, "count": 1, "method": "POST"})
    second = _service(store, emulator)
    results = await asyncio.gather(first.push(), second.push())
    assert sum(r.sent for r in results) == 1
    posts = [w for w in emulator.state.writes if w["path"].endswith("/notes")]
    assert len(posts) == 1
    await first.aclose()
    await second.aclose()


async def test_the_same_words_twice_are_two_notes(store: Store, emulator: EmulatorHandle) -> None:
    service = _service(store, emulator, timeout=0.5)
    await service.sync_once()
    with store.read() as session:
        target = queries.open_incidents(session)[0]
    actions.add_note(store, target.id, "still investigating")
    assert (await service.push()).sent == 1
    actions.add_note(store, target.id, "still investigating")
    # The second one's answer is lost, so its retry must look at the remote notes first.
    emulator.state.inject({"kind": "drop", "count": 1, "method": "POST"})
    await service.push()
    await _service(store, emulator).push()
    remote = emulator.state.incident(target.remote_id)
    assert [n.content for n in remote.notes].count("still investigating") == 2
    await service.aclose()


async def test_the_roster_holds_who_is_on_next_and_keeps_past_shifts(
    store: Store, emulator: EmulatorHandle
) -> None:
    from datetime import timedelta

    from cockpit.store import OnCallShift, utcnow

    service = _service(store, emulator)
    await service.sync_once()
    now = utcnow()
    with store.read() as session:
        shifts = list(session.exec(select(OnCallShift)))
    assert any(s.start is not None and s.start > now for s in shifts)  # the next rotation
    old = OnCallShift(
        source="pagerduty",
        person_id="pagerduty:POLD",
        escalation_level=1,
        start=now - timedelta(days=60),
        end=now - timedelta(days=53),
    )
    with store.write() as session:
        session.add(old)
    from cockpit.sync.pull import refresh_roster

    await refresh_roster(store, service.providers["pagerduty"])
    with store.read() as session:
        people = {s.person_id for s in session.exec(select(OnCallShift))}
        again = list(session.exec(select(OnCallShift)))
    assert "pagerduty:POLD" in people  # history older than the window stays
    assert len(again) == len(shifts) + 1  # the window itself was replaced, not duplicated
    await service.aclose()


async def test_a_sync_with_nothing_new_says_nothing_is_new(
    store: Store, emulator: EmulatorHandle
) -> None:
    service = _service(store, emulator)
    first = await service.sync_once()
    stored = store.execute("SELECT count(*) FROM timeline_events")[0][0]
    assert first.new_entries == stored > 0
    again = await service.sync_once()  # re-reads a short overlap; none of it is new
    assert again.new_entries == 0
    assert store.execute("SELECT count(*) FROM timeline_events")[0][0] == stored
    await service.aclose()
