"""The write path under faults, against the emulator over real HTTP. Every test ends on what
the paging service holds: did PagerDuty get it, once, in order?"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from cockpit.integrations.pagerduty import PagerDutyProvider
from cockpit.integrations.pagerduty_emulator import EmulatorHandle, start_emulator
from cockpit.integrations.pagerduty_emulator import actions as emulator_actions
from cockpit.metrics import pageload
from cockpit.store import Incident, OutboxItem, Store, queries, reads
from cockpit.store.timefmt import to_db_text, utcnow
from cockpit.sync import actions, holder
from cockpit.sync.identity import get_me
from cockpit.sync.service import SyncService


@pytest.fixture
def emulator() -> Iterator[EmulatorHandle]:
    with start_emulator(incidents=30, days=5, seed=11) as handle:
        yield handle


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path)
    yield opened
    opened.close()


def _service(
    store: Store,
    handle: EmulatorHandle,
    *,
    token: str = "",
    timeout: float = 5.0,
    deadline: float = 5.0,
) -> SyncService:
    provider = PagerDutyProvider(
        handle.url,
        token or handle.token,
        timeout=timeout,
        max_retries=1,
        backoff_base=0.01,
        backoff_cap=0.02,
        deadline=deadline,
    )
    return SyncService(store, {"pagerduty": provider})


async def _first_sync(store: Store, handle: EmulatorHandle) -> list[Incident]:
    service = _service(store, handle)
    report = await service.sync_once()
    await service.aclose()
    assert report.online, report.errors
    with store.read() as session:
        return queries.open_incidents(session)


def _triggered(incidents: list[Incident]) -> Incident:
    return next(i for i in incidents if i.status == "triggered")


def _acknowledged(incidents: list[Incident]) -> Incident:
    return next(i for i in incidents if i.status == "acknowledged")


def _sql(store: Store, sql: str, params: tuple[object, ...] = ()) -> None:
    with sqlite3.connect(store.path) as conn:
        conn.execute(sql, params)


def _paused(store: Store) -> list[str]:
    """What every screen and command reads to say that writes are paused."""
    with store.rows() as conn:
        return reads.writes_paused(conn)


def _outbox(store: Store) -> list[OutboxItem]:
    with store.read() as session:
        return list(session.exec(select(OutboxItem).order_by(col(OutboxItem.id))))


async def test_a_refused_token_pauses_writes_and_a_working_one_sends_them_once(
    store: Store, emulator: EmulatorHandle
) -> None:
    target = _triggered(await _first_sync(store, emulator))
    actions.acknowledge(store, target.id, note="on it")

    wrong = _service(store, emulator, token="not-the-token")
    report = await wrong.sync_once()
    await wrong.aclose()
    assert report.sent == 0 and report.failed == 0
    assert report.paused and "token was refused" in report.paused[0]
    assert "cockpit auth login pagerduty" in report.paused[0]
    assert [item.state for item in _outbox(store)] == ["pending", "pending"]
    assert _paused(store) == [report.paused[0]]
    with store.rows() as conn:
        assert [w.state for w in reads.unsent_writes(conn, target.id)] == ["pending", "pending"]
    assert emulator.state.incident(target.remote_id).status == "triggered"

    # Every command says so while it lasts.
    listed = subprocess.run(
        [sys.executable, "-m", "cockpit", "--data-dir", str(Path(store.path).parent), "incidents"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "writes paused: the token was refused" in listed.stderr

    right = _service(store, emulator)
    report = await right.sync_once()
    await right.aclose()
    assert report.sent == 2 and not report.paused, report
    assert _paused(store) == []
    remote = emulator.state.incident(target.remote_id)
    assert remote.status == "acknowledged"
    assert [n.content for n in remote.notes].count("on it") == 1
    # The wrong token never got as far as a write (From needs /users/me first): one note.
    assert len(emulator.state.writes.matching(action="note", incident_id=target.remote_id)) == 1
    delivered = [
        w
        for w in emulator.state.writes.matching(incident_id=target.remote_id)
        if w["status"] and w["status"] < 300
    ]
    assert [w["actions"] for w in delivered] == [["note"], ["acknowledge"]]


async def test_writes_to_one_incident_arrive_in_the_order_they_were_made(
    store: Store, emulator: EmulatorHandle
) -> None:
    target = _triggered(await _first_sync(store, emulator))
    actions.acknowledge(store, target.id)
    actions.add_note(store, target.id, "note 1")
    actions.add_note(store, target.id, "note 2")
    # The first delivery fails on the network: the rest of the incident's writes must wait
    # for it, not overtake it.
    emulator.state.inject({"kind": "500", "count": 2, "method": "GET"})
    service = _service(store, emulator)
    first = await service.push()
    assert not first.online
    second = await service.push()
    await service.aclose()
    assert second.online and second.pending == 0
    remote = emulator.state.incident(target.remote_id)
    assert [n.content for n in remote.notes][-2:] == ["note 1", "note 2"]
    kinds = [
        w["actions"][0]
        for w in emulator.state.writes.matching(incident_id=target.remote_id)
        if w["status"] and w["status"] < 300
    ]
    assert kinds == ["acknowledge", "note", "note"]


async def test_an_item_held_by_a_live_sender_holds_back_its_incident_only(
    store: Store, emulator: EmulatorHandle
) -> None:
    incidents = await _first_sync(store, emulator)
    held, other = incidents[0], incidents[1]
    actions.add_note(store, held.id, "first, being sent elsewhere")
    actions.add_note(store, held.id, "second, must wait")
    actions.add_note(store, other.id, "another incident")
    parent = os.getppid()  # alive for the whole test
    with open(f"/proc/{parent}/stat", "rb") as stat:
        raw = stat.read()
    started = raw[raw.rfind(b")") + 2 :].split()[19].decode()
    host = holder.me().rsplit(":", 2)[0]
    first_item = _outbox(store)[0]
    _sql(
        store,
        "UPDATE outbox SET state = 'sending', holder = ?, attempts = 1 WHERE id = ?",
        (f"{host}:{parent}:{started}", first_item.id),
    )
    service = _service(store, emulator)
    report = await service.push()
    await service.aclose()
    assert report.sent == 1
    assert "another incident" in [n.content for n in emulator.state.incident(other.remote_id).notes]
    held_notes = [n.content for n in emulator.state.incident(held.remote_id).notes]
    assert "second, must wait" not in held_notes


async def test_a_dead_senders_item_is_taken_back_at_once_and_checked_first(
    store: Store, emulator: EmulatorHandle
) -> None:
    target = _triggered(await _first_sync(store, emulator))
    actions.add_note(store, target.id, "sent by a process that then died")
    # A process that sent the note and died before recording it.
    dead = subprocess.run(
        [sys.executable, "-c", "from cockpit.sync import holder; print(holder.me())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    with emulator.state.lock:
        emulator_actions.add_note(
            emulator.state,
            emulator.state.incident(target.remote_id),
            next(iter(emulator.state.users)),
            "sent by a process that then died",
            emulator.state.now(),
        )
    item = _outbox(store)[0]
    _sql(
        store,
        "UPDATE outbox SET state = 'sending', holder = ?, attempts = 1, "
        "last_attempt_at = '2000-01-01 00:00:00.000000' WHERE id = ?",
        (dead, item.id),
    )
    service = _service(store, emulator)
    report = await service.push()
    await service.aclose()
    assert report.sent == 1
    assert any("reached the service already" in line for line in report.reconciled)
    notes = [n.content for n in emulator.state.incident(target.remote_id).notes]
    assert notes.count("sent by a process that then died") == 1


async def test_one_bad_item_fails_alone_and_the_sync_goes_on(
    store: Store, emulator: EmulatorHandle
) -> None:
    incidents = await _first_sync(store, emulator)
    acked = _acknowledged(incidents)
    actions.snooze(store, acked.id, 600)
    actions.add_note(store, incidents[-1].id, "after the broken one")
    # A payload no service could take (written by an older cockpit, say).
    _sql(store, "UPDATE outbox SET payload = '{\"seconds\": \"soon\"}' WHERE action = 'snooze'")
    service = _service(store, emulator)
    report = await service.sync_once()
    await service.aclose()
    assert report.online
    assert report.failed == 1 and report.sent == 1
    assert any("snooze" in e and "ValueError" in e for e in report.errors), report.errors
    assert "after the broken one" in [
        n.content for n in emulator.state.incident(incidents[-1].remote_id).notes
    ]
    assert emulator.state.writes.matching(action="snooze") == []
    with store.rows() as conn:
        marks = reads.unsent_writes(conn, acked.id)
    assert [(m.action, m.state) for m in marks] == [("snooze", "failed")]
    # The store holds what the service has again: no snooze there, so none here.
    with store.read() as session:
        stored = session.get(Incident, acked.id)
        assert stored is not None and stored.snoozed_until is None
        assert stored.status == emulator.state.incident(acked.remote_id).status
    # Every way of looking at the incident says the service does not have it.
    data_dir = str(Path(store.path).parent)
    shown = subprocess.run(
        [
            sys.executable,
            "-m",
            "cockpit",
            "--data-dir",
            data_dir,
            "show",
            acked.remote_id,
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    data = json.loads(shown.stdout)
    assert data["not_at_service"] and data["not_at_service"][0].startswith(
        "NOT snoozed at PagerDuty"
    )
    listed = subprocess.run(
        [sys.executable, "-m", "cockpit", "--data-dir", data_dir, "incidents"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "! NOT snoozed at PagerDuty" in listed.stdout


async def test_per_incident_note_ids_are_recorded_without_a_clash(tmp_path: Path) -> None:
    with start_emulator(incidents=30, days=5, seed=11, note_ids="per_incident") as emulator:
        store = Store.open(tmp_path)
        incidents = await _first_sync(store, emulator)
        for incident in incidents[:3]:
            actions.add_note(store, incident.id, f"note on {incident.remote_id}")
        service = _service(store, emulator)
        report = await service.sync_once()
        await service.aclose()
        assert report.sent == 3 and not report.errors, report
        for incident in incidents[:3]:
            contents = [n.content for n in emulator.state.incident(incident.remote_id).notes]
            assert contents.count(f"note on {incident.remote_id}") == 1
        rows = store.execute("SELECT remote_id FROM notes WHERE remote_id IS NOT NULL")
        assert len({r[0] for r in rows}) == 3
        store.close()


async def test_an_unknown_status_is_kept_and_reported_once(
    store: Store, emulator: EmulatorHandle
) -> None:
    incidents = await _first_sync(store, emulator)
    target = incidents[0]
    emulator.state.set_status(target.remote_id, "investigating")
    with emulator.state.lock:  # a change the next incremental pull reads
        emulator_actions.add_note(
            emulator.state,
            emulator.state.incident(target.remote_id),
            next(iter(emulator.state.users)),
            "looking",
            emulator.state.now(),
        )
    service = _service(store, emulator)
    report = await service.sync_once()
    again = await service.sync_once()
    await service.aclose()
    assert report.online and not report.errors, report.errors
    assert sum("'investigating'" in line for line in report.reconciled) == 1
    assert not any("'investigating'" in line for line in again.reconciled)
    with store.read() as session:
        stored = session.get(Incident, target.id)
        assert stored is not None and stored.status == "investigating"


async def test_an_escalation_whose_answer_was_lost_is_not_sent_again(
    store: Store, emulator: EmulatorHandle
) -> None:
    target = _triggered(await _first_sync(store, emulator))
    actions.escalate(store, target.id, 2)
    # The server escalates (and pages level 2), then answers after the client gave up.
    emulator.state.inject({"kind": "late_success", "delay": 1.5, "method": "PUT"})
    first = _service(store, emulator, timeout=0.4, deadline=0.5)
    report = await first.push()
    await first.aclose()
    assert not report.online
    second = _service(store, emulator)
    report = await second.push()
    await second.aclose()
    assert report.sent == 1
    assert any("reached the service already" in line for line in report.reconciled)
    assert len(emulator.state.writes.matching(action="escalate")) == 1


async def test_a_snooze_the_server_applies_after_the_client_gave_up_is_sent_once(
    store: Store, emulator: EmulatorHandle
) -> None:
    acked = _acknowledged(await _first_sync(store, emulator))
    actions.snooze(store, acked.id, 900)
    # Slower than the client: the server sleeps, then applies the snooze.
    emulator.state.inject({"kind": "slow", "delay": 1.0, "method": "POST"})
    first = _service(store, emulator, timeout=0.3, deadline=0.4)
    report = await first.push()
    await first.aclose()
    assert not report.online
    # Straight after, the snooze is not there yet: the sender must wait out the first
    # request's deadline, look again, find it, and not send a second one.
    second = _service(store, emulator, deadline=1.5)
    report = await second.push()
    await second.aclose()
    assert report.sent == 1 and report.pending == 0
    assert len(emulator.state.writes.matching(action="snooze")) == 1
    assert emulator.state.incident(acked.remote_id).snoozed_until is not None


async def test_an_acknowledgement_that_reopened_a_resolved_incident_is_reported(
    store: Store, emulator: EmulatorHandle
) -> None:
    target = _triggered(await _first_sync(store, emulator))
    actions.acknowledge(store, target.id)
    # The race PagerDuty allows: someone resolves it after our check, before our PUT lands.
    emulator.state.inject({"kind": "slow", "delay": 0.8, "method": "PUT"})
    service = _service(store, emulator)

    import asyncio

    async def resolve_meanwhile() -> None:
        await asyncio.sleep(0.3)
        with emulator.state.lock:
            someone = next(iter(emulator.state.users))
            emulator_actions.resolve(
                emulator.state,
                emulator.state.incident(target.remote_id),
                someone,
                emulator.state.now(),
            )

    report, _ = await asyncio.gather(service.push(), resolve_meanwhile())
    await service.aclose()
    assert report.sent == 1
    assert emulator.state.incident(target.remote_id).status == "acknowledged"  # reopened
    assert report.alerts and "REOPENED" in report.alerts[0]
    assert f"cockpit resolve {target.remote_id}" in report.alerts[0]
    with store.rows() as conn:
        assert reads.write_warnings(conn, target.id) == report.alerts


async def test_an_impossible_escalation_level_is_refused_when_asked(
    store: Store, emulator: EmulatorHandle
) -> None:
    target = _triggered(await _first_sync(store, emulator))
    with pytest.raises(actions.ActionError, match="levels 1 to"):
        actions.escalate(store, target.id, 99)
    assert _outbox(store) == []


async def test_taking_the_baton_of_an_acknowledged_incident_keeps_it_acknowledged(
    store: Store, emulator: EmulatorHandle
) -> None:
    acked = _acknowledged(await _first_sync(store, emulator))
    with store.read() as session:
        me = get_me(session)
    assert me.id.startswith("pagerduty:")
    actions.take_baton(store, acked.id)
    item = next(i for i in _outbox(store) if i.action == "reassign")
    assert item.payload.get("acknowledge") is True
    service = _service(store, emulator)
    report = await service.sync_once()
    await service.aclose()
    assert report.online and not report.failed, report.errors
    remote = emulator.state.incident(acked.remote_id)
    assert remote.status == "acknowledged"
    assert [uid for uid, _ in remote.assignments] == [me.id.split(":", 1)[1]]
    writes = emulator.state.writes.matching(action="reassign", incident_id=acked.remote_id)
    assert len(writes) == 1 and writes[0]["actions"] == ["reassign", "acknowledge"]
    # PagerDuty notified the new holder of the reassignment; it is in the timeline, but a
    # baton they took themselves is not a page on their meter.
    since = item.created_at - timedelta(seconds=1)
    notified = store.execute(
        "SELECT count(*) FROM timeline_events WHERE kind = 'notify' AND incident_id = :i "
        "AND person_id = :p AND at >= :since",
        i=acked.id,
        p=me.id,
        since=to_db_text(since),
    )[0][0]
    assert notified >= 1
    found = pageload.pages(store, since, utcnow() + timedelta(minutes=1), me.id)
    assert not any(acked.id in page.incidents for page in found)
