"""Replaying a real incident as a drill, on the emulator's seeded history synced into a store:
events arrive in order at the scaled times (a fake clock, no sleeps), the debrief's then and
now figures come from the stored incident, no write reaches the emulator, and a replay never
counts in page load or MTTx."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from cockpit.drills.replay import (
    ROLLBACK_WORDS,
    Replay,
    load_history,
    past_incidents,
    pick_runbook,
    replay_of,
    start_replay,
)
from cockpit.drills.service import analyse_drill, finish_drill
from cockpit.drills.start import DrillError
from cockpit.integrations.pagerduty import PagerDutyProvider
from cockpit.integrations.pagerduty_emulator import EmulatorHandle, start_emulator
from cockpit.metrics.pageload import pages
from cockpit.metrics.response import response_report
from cockpit.runbooks.library import load_library, samples_dir
from cockpit.runbooks.model import ROLLBACK, Runbook
from cockpit.store import Incident, OutboxItem, RunbookRun, Store, TimelineEvent
from cockpit.store.runs import append_event, start_run
from cockpit.store.timefmt import as_utc
from cockpit.sync import actions
from cockpit.sync.service import SyncReport, SyncService

T0 = datetime(2031, 1, 6, 9, 0, tzinfo=UTC)  # the drill's start on the fake clock
STAMPEDE = "product-cache-stampede"


class FakeClock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@dataclass
class Synced:
    store: Store
    emulator: EmulatorHandle
    library: list[Runbook]

    def sync(self) -> SyncReport:
        async def once() -> SyncReport:
            provider = PagerDutyProvider(self.emulator.url, self.emulator.token, max_retries=0)
            service = SyncService(self.store, {"pagerduty": provider}, window_days=6)
            try:
                return await service.sync_once()
            finally:
                await service.aclose()

        return asyncio.run(once())


@pytest.fixture
def synced(tmp_path: Path) -> Iterator[Synced]:
    """The emulator's seeded history (40 incidents over 5 days), synced into a fresh store."""
    with start_emulator(seed=3, incidents=40, days=5) as emulator:
        store = Store.open(tmp_path / "data")
        found = Synced(store, emulator, load_library([samples_dir()]))
        assert found.sync().pulled_incidents == 40
        emulator.state.writes.clear()
        yield found
        store.close()


def _stampede(synced: Synced, *, rolled_back: bool) -> Incident:
    """A resolved incident the stampede runbook matches, with (or without) a note saying it
    was rolled back."""
    for incident in past_incidents(synced.store):
        history = load_history(synced.store, incident.id)
        try:
            runbook = pick_runbook(history, synced.library)
        except DrillError:
            continue
        if runbook.id == STAMPEDE and (history.rollback_note is not None) == rolled_back:
            return incident
    raise AssertionError("the seeded history has no such incident")


def _remote_rows(store: Store, incident_id: str) -> list[TimelineEvent]:
    with store.read() as session:
        return list(
            session.exec(
                select(TimelineEvent)
                .where(
                    TimelineEvent.incident_id == incident_id,
                    col(TimelineEvent.remote_id).is_not(None),
                )
                .order_by(col(TimelineEvent.at), col(TimelineEvent.id))
            )
        )


def _replayed(store: Store, incident_id: str) -> list[TimelineEvent]:
    with store.read() as session:
        rows = session.exec(
            select(TimelineEvent).where(TimelineEvent.incident_id == incident_id)
        ).all()
    mine = [r for r in rows if "replay" in (r.details or {})]
    return sorted(mine, key=lambda r: (as_utc(r.at), r.details["replay"]))


# ---------------------------------------------------------------- the history


def test_the_history_is_the_stored_incident_in_order(synced: Synced) -> None:
    incident = _stampede(synced, rolled_back=True)
    history = load_history(synced.store, f"#{incident.number}")
    created = as_utc(incident.created_at)
    rows = _remote_rows(synced.store, incident.id)
    offsets = [e.offset for e in history.events]
    assert offsets == sorted(offsets) and offsets[0] == 0
    # Every note the responder wrote arrives, in order, at its time after the page.
    notes = [
        (round((as_utc(r.at) - created).total_seconds()), r.details["note"])
        for r in rows
        if r.kind == "annotate"
    ]
    assert [(round(e.offset), e.summary) for e in history.events if e.kind == "note"] == notes
    assert len(notes) >= 2
    # Status changes: the acknowledgement and the resolve, when they were.
    ack = next(r for r in rows if r.kind == "acknowledge")
    assert history.acknowledged == (as_utc(ack.at) - created).total_seconds()
    assert history.resolved == (as_utc(incident.resolved_at) - created).total_seconds()  # type: ignore[arg-type]
    kinds = [e.kind for e in history.events]
    assert kinds[:2] == ["trigger", "alert"] and kinds[-1] == "resolve"
    assert kinds.count("notify") == len({r.person_id for r in rows if r.kind == "notify"})
    # The note that says it was rolled back is the rollback then.
    first = next(n for n in notes if ROLLBACK_WORDS.search(n[1]))
    assert history.rollback_note is not None and round(history.rollback_note[0]) == first[0]
    assert pick_runbook(history, synced.library).id == STAMPEDE  # the one that matches
    assert pick_runbook(history, synced.library, "disk-full").id == "disk-full"  # or picked


def test_a_drill_or_an_unknown_incident_is_not_replayed(synced: Synced) -> None:
    with pytest.raises(DrillError, match="no incident 'nope'"):
        load_history(synced.store, "nope")
    incident = _stampede(synced, rolled_back=True)
    history = load_history(synced.store, incident.id)
    runbook = pick_runbook(history, synced.library)
    drill = start_replay(synced.store, history, runbook, speed=10, clock=FakeClock())
    with pytest.raises(DrillError, match="is a drill itself"):
        load_history(synced.store, drill.incident_id)
    with pytest.raises(DrillError, match="speed must be above 0"):
        start_replay(synced.store, history, runbook, speed=0)
    with pytest.raises(DrillError, match="no runbook 'nope'"):
        pick_runbook(history, synced.library, "nope")


# ---------------------------------------------------------------- on the clock


def test_events_arrive_in_order_at_the_scaled_times(synced: Synced) -> None:
    store = synced.store
    incident = _stampede(synced, rolled_back=True)
    history = load_history(store, incident.id)
    runbook = pick_runbook(history, synced.library)
    clock = FakeClock()
    drill = start_replay(store, history, runbook, speed=10, participant="ann", clock=clock)
    at_start = [e for e in history.events if e.offset == 0]
    assert [r.details["replay"] for r in _replayed(store, drill.incident_id)] == list(
        range(len(at_start))
    )  # the page and its alert are there from the start
    replay = Replay(store, drill, history)  # picked up where it is
    assert replay.delivered == len(at_start) and replay.speed == 10
    arrivals = []
    step = 7.0
    while not replay.finished:
        now = clock.advance(step)
        arrived = replay.advance(now)
        for event in arrived:
            due = T0 + timedelta(seconds=event.offset / 10)
            assert due <= now < due + timedelta(seconds=step)  # not before, not late
        arrivals += arrived
        assert replay.advance(now) == []  # each event once
    assert arrivals == list(history.events[len(at_start) :])  # in order, all of them
    rows = _replayed(store, drill.incident_id)
    assert [r.details["replay"] for r in rows] == list(range(len(history.events)))
    # Stamped with the scaled time itself, not the moment the clock was read.
    assert [as_utc(r.at) for r in rows] == [
        T0 + timedelta(seconds=e.offset / 10) for e in history.events
    ]
    note = next(e for e in history.events if e.kind == "note")
    assert any(
        r.kind == "note" and note.summary in r.summary and note.actor in r.summary for r in rows
    )
    # The whole incident (trigger to resolve) took a tenth of its time.
    assert as_utc(rows[-1].at) - T0 == timedelta(seconds=history.resolved / 10)  # type: ignore[operator]
    # Nothing replayed touches the drill incident's status: that is the participant's.
    with store.read() as session:
        fake = session.get(Incident, drill.incident_id)
        assert fake is not None and fake.status == "triggered" and fake.is_drill
        assert fake.service_name == incident.service_name
    # A replay opened again (the app restarted) resumes, it does not repeat.
    again = replay_of(store, drill)
    assert again is not None and again.finished
    assert again.advance(clock.advance(3600)) == []


# ---------------------------------------------------------------- then and now


def test_then_and_now_from_the_stored_run(synced: Synced) -> None:
    store = synced.store
    incident = _stampede(synced, rolled_back=False)
    history = load_history(store, incident.id)
    runbook = pick_runbook(history, synced.library)
    decision = runbook.decisions[0]
    rollback_step = runbook.steps_of(ROLLBACK)[0].id
    created = as_utc(incident.created_at)
    # Then, the responder ran the runbook in the cockpit: "no" at +14 min, a rollback step
    # done at +16 min, resolved by the rollback.
    with store.write() as session:
        run = start_run(
            session,
            incident.id,
            runbook.id,
            runbook_path=runbook.path,
            at=created + timedelta(minutes=1),
        )
        append_event(session, run, kind="started", at=created + timedelta(minutes=1))
        append_event(
            session,
            run,
            kind="decided",
            step_id=decision.id,
            branch="no",
            at=created + timedelta(minutes=14),
            details={"target_kind": "rollback", "target_section": "Rollback"},
        )
        append_event(
            session, run, kind="done", step_id=rollback_step, at=created + timedelta(minutes=16)
        )
    history = load_history(store, incident.id)
    assert history.runbook_id == runbook.id
    assert pick_runbook(history, synced.library).id == runbook.id  # the one that ran then
    clock = FakeClock()
    drill = start_replay(store, history, runbook, speed=10, participant="ann", clock=clock)
    # Now: "yes" after 54 s of drill (9 min on the incident's clock), to Validation.
    with store.write() as session:
        own = session.get(RunbookRun, drill.run_id)
        assert own is not None
        append_event(
            session,
            own,
            kind="decided",
            step_id=decision.id,
            branch="yes",
            at=T0 + timedelta(seconds=54),
            details={"target_kind": "validation", "target_section": "Validation"},
        )
    assert drill.id is not None
    done = finish_drill(store, drill.id, runbook, clock=lambda: T0 + timedelta(seconds=70))
    compared = analyse_drill(store, done, runbook).then_now
    assert compared is not None and compared.speed == 10
    assert compared.decisions == ((decision.id, decision.question, 840.0, "no", 540.0, "yes"),)
    assert compared.branch == ("rollback", "validation")
    assert compared.branch_source == "its runbook run"
    assert compared.rollback == (840.0, None)  # started by the decision that sent it there
    assert compared.rolled_back_in == (120.0, None)  # MTTx's: the decision to the last step
    rows = _remote_rows(store, incident.id)
    ack = next(r for r in rows if r.kind == "acknowledge")
    assert compared.acknowledged == ((as_utc(ack.at) - created).total_seconds(), None)
    assert compared.resolved[0] == (as_utc(incident.resolved_at) - created).total_seconds()  # type: ignore[arg-type]
    report = done.report_md
    assert "## Then and now" in report
    assert f"| Decision: {decision.question} | 14m00s → no | 9m00s (54s at ×10) → yes |" in report
    assert "| Branch | rollback (its runbook run) | validation |" in report
    assert "| Rollback started | 14m00s | never |" in report
    assert "| Time to roll back (decision to last step) | 2m00s | - |" in report


def test_then_and_now_from_a_note_when_no_runbook_ran(synced: Synced) -> None:
    store = synced.store
    incident = _stampede(synced, rolled_back=True)
    history = load_history(store, incident.id)
    runbook = pick_runbook(history, synced.library)
    created = as_utc(incident.created_at)
    note = next(
        r
        for r in _remote_rows(store, incident.id)
        if r.kind == "annotate" and ROLLBACK_WORDS.search(r.details["note"])
    )
    clock = FakeClock()
    drill = start_replay(store, history, runbook, speed=5, participant="ann", clock=clock)
    rollback_step = runbook.steps_of(ROLLBACK)[0].id
    with store.write() as session:
        own = session.get(RunbookRun, drill.run_id)
        assert own is not None
        append_event(
            session,
            own,
            kind="rollback_entered",
            at=T0 + timedelta(seconds=30),
            reason="error rate still up",
        )
        append_event(
            session, own, kind="done", step_id=rollback_step, at=T0 + timedelta(seconds=42)
        )
    assert drill.id is not None
    done = finish_drill(store, drill.id, runbook, clock=lambda: T0 + timedelta(minutes=1))
    compared = analyse_drill(store, done, runbook).then_now
    assert compared is not None
    assert compared.branch == ("rollback", "rollback") and compared.branch_source == "a note"
    assert compared.rollback == ((as_utc(note.at) - created).total_seconds(), 150.0)
    assert compared.decisions == ()  # no decision then, none now
    assert note.details["note"] in compared.rollback_source
    assert "Rollback then: a note by" in done.report_md


# ---------------------------------------------------------------- nothing leaves, nothing counts


def test_a_replay_writes_nothing_to_the_emulator(synced: Synced) -> None:
    store = synced.store
    incident = _stampede(synced, rolled_back=True)
    history = load_history(store, incident.id)
    runbook = pick_runbook(history, synced.library)
    clock = FakeClock()
    drill = start_replay(store, history, runbook, speed=60, participant="ann", clock=clock)
    replay = Replay(store, drill, history)
    replay.advance(clock.advance(3 * 3600))
    assert replay.finished
    # The participant acts on the drill incident as on a real one.
    actions.acknowledge(store, drill.incident_id, user="ann")
    actions.add_note(store, drill.incident_id, "rolling back like they did", user="ann")
    actions.resolve(store, drill.incident_id, user="ann")
    assert drill.id is not None
    finish_drill(store, drill.id, runbook, clock=clock)
    report = synced.sync()
    assert report.online and report.errors == [] and report.sent == 0
    assert synced.emulator.state.writes == []
    with store.read() as session:
        assert session.exec(select(OutboxItem)).all() == []


def test_a_replay_never_counts_in_page_load_or_mttx(synced: Synced) -> None:
    store = synced.store
    since, until = T0 - timedelta(days=3650), T0 + timedelta(days=3650)
    before_pages = pages(store, since, until)
    before = response_report(store, since, until)
    incident = _stampede(synced, rolled_back=True)
    history = load_history(store, incident.id)
    runbook = pick_runbook(history, synced.library)
    clock = FakeClock()
    drill = start_replay(store, history, runbook, speed=60, participant="ann", clock=clock)
    Replay(store, drill, history).advance(clock.advance(3 * 3600))
    actions.acknowledge(store, drill.incident_id, user="ann")
    assert drill.id is not None
    finish_drill(store, drill.id, runbook, clock=clock)
    with store.read() as session:
        replayed = session.exec(
            select(TimelineEvent).where(
                TimelineEvent.incident_id == drill.incident_id, TimelineEvent.kind == "notify"
            )
        ).all()
    assert replayed and all(r.is_drill and r.person_id == "" for r in replayed)
    assert pages(store, since, until) == before_pages
    assert response_report(store, since, until) == before


# ---------------------------------------------------------------- the command


def test_cockpit_drill_replay_prints_what_arrives_when(
    synced: Synced, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cockpit.cli.main import main

    incident = _stampede(synced, rolled_back=True)
    history = load_history(synced.store, incident.id)
    base = ["--data-dir", str(tmp_path / "data"), "--runbooks", str(samples_dir()), "drill"]
    assert main([*base, "replay", f"#{incident.number}", "--speed", "10", "--print"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("*** PRACTICE MODE")
    assert f"replay of #{incident.number}" in out[1] and f"runbook {STAMPEDE}" in out[1]
    lines = [line for line in out if "  then " in line and line.startswith("  ")]
    assert len(lines) == len(history.events)
    note = next(e for e in history.events if e.kind == "note")
    from cockpit.metrics.stats import format_seconds

    now, then = f"+{format_seconds(note.offset / 10)}", f"+{format_seconds(note.offset)}"
    assert any(f"{now:>8}  then {then:>8}  note" in line and note.summary in line for line in lines)
    # Another runbook, picked.
    assert main([*base, "replay", incident.id, "--runbook", "disk-full", "--print"]) == 0
    assert "runbook disk-full" in capsys.readouterr().out
    # What cannot be replayed says why, in one line.
    assert main([*base, "replay", "nope", "--print"]) != 0
    assert "no incident 'nope'" in capsys.readouterr().err
    assert main([*base, "replay", incident.id, "--speed", "-1", "--print"]) != 0
    assert "speed must be above 0" in capsys.readouterr().err
    assert synced.emulator.state.writes == []
