"""The screen's writes never wait on the event loop for another writer (issue 17 item 4).

A real SQLite transaction on another connection holds the store's write lock (as a sync's
batch does): a tick, the keys after it and an ack are answered at once, and each write lands
once the lock is released, in the order it was made, exactly once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cockpit_seed import notices, store_of
from sqlmodel import select

from cockpit.app import CockpitApp
from cockpit.store.engine import store_path
from cockpit.store.models import Incident, OutboxItem, StepEvent
from cockpit.widgets.runbook_checklist import RunbookChecklist

INCIDENT = "pagerduty:PINC101"


@contextmanager
def write_lock_held(app: CockpitApp) -> Iterator[sqlite3.Connection]:
    """Another connection in a write transaction (``BEGIN IMMEDIATE``) on the app's store
    until the caller commits it; rolled back if the test fails first."""
    with lock_held_at(store_path(app.settings)) as conn:
        yield conn


@contextmanager
def lock_held_at(path: Path | str) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        conn.close()


def ticked(app: CockpitApp) -> list[str]:
    with store_of(app).read() as session:
        events = session.exec(select(StepEvent).order_by(StepEvent.seq)).all()
    return [e.step_id for e in events if e.kind == "done"]


async def until(pilot: object, check: object) -> None:
    """Let the app run until ``check()`` holds (the writer thread lands its writes)."""
    for _ in range(400):
        if check():  # type: ignore[operator]
            return
        await pilot.pause(0.025)  # type: ignore[attr-defined]
    raise AssertionError("the queued write never landed")


async def test_a_tick_while_a_sync_holds_the_store_is_answered_and_lands_once(
    app: CockpitApp,
) -> None:
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        checklist = app.screen.query_one(RunbookChecklist)
        view = checklist.view
        assert view is not None
        first, second = view.plan[0], view.plan[1]
        assert checklist.highlighted == first
        with write_lock_held(app) as held:
            await pilot.press("space")  # queued: the lock is held
            await pilot.pause()
            assert ticked(app) == []
            assert "saving…" in str(checklist.border_subtitle)
            # The app keeps answering: the highlight moves on the key after the tick.
            await pilot.press("down")
            await pilot.pause()
            assert checklist.highlighted == second
            await pilot.press("space")  # waits for the first tick, then ticks what is shown
            await pilot.pause()
            assert ticked(app) == []
            held.execute("COMMIT")
        await until(pilot, lambda: len(ticked(app)) >= 2)
        await pilot.pause()
        assert ticked(app) == [first, second]
        view = checklist.view
        assert view is not None and view.status.get(first) == "done"
        assert view.status.get(second) == "done"
        assert "saving…" not in str(checklist.border_subtitle)


async def test_an_ack_while_the_store_is_held_is_queued_then_sent_once(app: CockpitApp) -> None:
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        with write_lock_held(app) as held:
            await pilot.press("a")
            await pilot.pause()
            assert any("Saving" in message for _, message, _ in notices(app))
            await pilot.press("down")  # still answering
            await pilot.pause()
            held.execute("COMMIT")

        def acked() -> bool:
            with store_of(app).read() as session:
                return session.get(Incident, INCIDENT).status == "acknowledged"  # type: ignore[union-attr]

        await until(pilot, acked)
        await pilot.pause()
        assert any("Acknowledged" in message for _, message, _ in notices(app))
    with store_of(app).read() as session:
        items = session.exec(select(OutboxItem).where(OutboxItem.action == "acknowledge")).all()
    assert len(items) == 1


async def test_a_write_that_fails_in_the_writer_thread_says_so(
    app: CockpitApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A queued tick that cannot be recorded (the disk filled up while it waited) is
    reported, not dropped in silence."""
    from cockpit.errors import StoreError
    from cockpit.store.engine import StoreBusy
    from cockpit.store.run_service import RunService

    def apply(self: RunService, *args: object, **kwargs: object) -> object:
        if self.store._at_once:  # the event loop's try: the store is busy
            raise StoreBusy("busy")
        raise StoreError("the disk is full. This change was not saved")  # the thread's

    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        monkeypatch.setattr(RunService, "apply", apply)
        checklist = app.screen.query_one(RunbookChecklist)
        await pilot.press("space")
        await until(pilot, lambda: any("not recorded" in m for _, m, _ in notices(app)))
        assert "saving…" not in str(checklist.border_subtitle)
    assert ticked(app) == []


async def test_a_commands_output_while_a_sync_holds_the_store_lands_once(
    app: CockpitApp,
) -> None:
    """A step's command finishing while the store is held: its exit code and output are kept
    once the lock is released, and the app answered keys meanwhile."""
    from cockpit.screens.messages import CommandFinished

    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        checklist = app.screen.query_one(RunbookChecklist)
        assert checklist.view is not None
        runbook_id = checklist.view.runbook.id
        step = checklist.view.current  # the step whose command ran

        def kept() -> list[str]:
            with store_of(app).read() as session:
                rows = session.exec(select(StepEvent)).all()
            return [e.details.get("command", "") for e in rows if e.kind == "command_run"]

        with write_lock_held(app) as held:
            app.screen.post_message(
                CommandFinished(INCIDENT, step, 0, "ok\n", command="true", runbook_id=runbook_id)
            )
            await pilot.pause()
            await pilot.press("down")  # the app still answers
            await pilot.pause()
            assert kept() == []
            held.execute("COMMIT")
        await until(pilot, lambda: kept() == ["true"])
        await pilot.pause(0.2)
        assert kept() == ["true"]
        assert any("Command finished (exit 0)" in message for _, message, _ in notices(app))


async def test_a_handoff_signed_and_accepted_while_the_store_is_held_lands_once(
    app: CockpitApp,
) -> None:
    """The handoff's writes go through the same writer as a tick: signing and accepting
    while a sync holds the store answer at once, and each lands once the lock is free."""
    from cockpit.screens.handoff_screen import HandoffScreen
    from cockpit.store.models import Handoff

    def handoffs() -> list[Handoff]:
        with store_of(app).read() as session:
            return list(session.exec(select(Handoff)).all())

    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("H")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, HandoffScreen)
        with write_lock_held(app) as held:
            await pilot.press("s")
            await pilot.pause()
            await pilot.press("enter")  # who takes over: the first on call
            await pilot.pause()
            assert any("Saving" in message for _, message, _ in notices(app))
            assert handoffs() == []
            await pilot.press("s")  # again, while the first is queued: refused, said
            await pilot.pause()
            assert any("Still saving" in message for _, message, _ in notices(app))
            assert app.screen is screen  # no second chooser
            held.execute("COMMIT")
        await until(pilot, lambda: any(h.signed_at is not None for h in handoffs()))
        await pilot.pause()
        assert len(handoffs()) == 1 and screen.signed
        with write_lock_held(app) as held:
            await pilot.press("a")
            await pilot.pause()
            await pilot.press("y")
            await pilot.pause()
            assert handoffs()[0].accepted_at is None
            held.execute("COMMIT")
        await until(pilot, lambda: handoffs()[0].accepted_at is not None)
        await pilot.pause()
        assert any("accepted" in message for _, message, _ in notices(app))
    assert len(handoffs()) == 1


async def test_an_insight_recorded_while_the_store_is_held_lands_once(app: CockpitApp) -> None:
    from cockpit.screens.insight_screen import InsightScreen
    from cockpit.store.models import Insight

    def insights() -> list[Insight]:
        with store_of(app).read() as session:
            return list(session.exec(select(Insight)).all())

    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("R", "y")  # resolve: the flywheel asks for an insight
        await until(pilot, lambda: isinstance(app.screen, InsightScreen))
        dialog = app.screen
        await pilot.press(*"cache warmed too late")
        with write_lock_held(app) as held:
            await pilot.press("ctrl+s")
            await pilot.pause()
            await pilot.press("ctrl+s")  # again while it waits: saved once
            await pilot.pause()
            assert isinstance(app.screen, InsightScreen)  # kept open until it is saved
            await pilot.press("escape")  # skip, while it is being saved: refused
            await pilot.pause()
            assert isinstance(app.screen, InsightScreen)
            assert insights() == []
            held.execute("COMMIT")
        await until(pilot, lambda: app.screen is not dialog)
        await pilot.pause()  # let the dialog's removal finish before the app stops
    found = insights()
    assert len(found) == 1 and "cache warmed too late" in found[0].text


async def test_a_sign_found_busy_after_the_save_saves_one_handoff(
    app: CockpitApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tried at once, the save commits and the signature finds the store taken (a sync's
    batch came between): the retry signs that row, it saves no second one."""
    from cockpit.screens import handoff_screen
    from cockpit.store.engine import StoreBusy
    from cockpit.store.models import Handoff

    real_sign = handoff_screen.sign_handoff
    calls: list[int] = []

    def sign_once_busy(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 1:
            raise StoreBusy("another writer holds the store")
        return real_sign(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(handoff_screen, "sign_handoff", sign_once_busy)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("H")
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        await pilot.press("enter")
        await until(pilot, lambda: any("signed for" in m for _, m, _ in notices(app)))
        await pilot.press("escape")  # the result is in: leaving is allowed again
        await pilot.pause()
    with store_of(app).read() as session:
        rows = list(session.exec(select(Handoff)).all())
    assert len(rows) == 1 and rows[0].signed_at is not None and len(calls) == 2


async def test_leaving_while_a_handoff_write_is_queued_is_refused(app: CockpitApp) -> None:
    from cockpit.screens.handoff_screen import HandoffScreen

    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("H")
        await pilot.pause()
        with write_lock_held(app) as held:
            await pilot.press("s")
            await pilot.pause()
            await pilot.press("enter")
            await pilot.pause()
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, HandoffScreen)  # stays to say how it went
            held.execute("COMMIT")
        await until(pilot, lambda: any("signed for" in m for _, m, _ in notices(app)))


async def test_a_write_the_store_frees_soon_lands_on_the_loop_not_in_a_thread(
    app: CockpitApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found busy, a tick is tried again on the loop (a sync's batch ends in a few
    milliseconds): it lands there, in order, with no writer thread started."""
    import threading

    from cockpit.screens import store_writes

    monkeypatch.setattr(store_writes, "RETRY_FOR", 60.0)  # however slow this machine is
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        checklist = app.screen.query_one(RunbookChecklist)
        view = checklist.view
        assert view is not None
        first, second = view.plan[0], view.plan[1]
        writers: list[str] = []
        run = app.writes.run

        def recording(call: object, landed: object) -> bool:
            def call_recorded() -> object:
                writers.append(threading.current_thread().name)
                return call()  # type: ignore[operator]

            return run(call_recorded, landed)  # type: ignore[arg-type]

        monkeypatch.setattr(app.writes, "run", recording)
        with write_lock_held(app) as held:
            await pilot.press("space")
            await pilot.press("down")
            await pilot.press("space")
            await pilot.pause(0.1)
            assert ticked(app) == [] and app.writes.queued == 1  # the second waits in the list
            held.execute("COMMIT")
        await until(pilot, lambda: len(ticked(app)) >= 2)
        assert ticked(app) == [first, second]
        assert set(writers) == {"MainThread"} and app.writes._pool is None


async def test_a_store_that_stays_busy_hands_the_write_to_the_thread(
    app: CockpitApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cockpit.screens import store_writes

    monkeypatch.setattr(store_writes, "RETRY_FOR", 0.0)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        with write_lock_held(app) as held:
            await pilot.press("space")
            await until(pilot, lambda: app.writes._pool is not None)
            assert app.writes.queued == 1 and not app.writes._waiting
            held.execute("COMMIT")
        await until(pilot, lambda: len(ticked(app)) == 1)
        await until(pilot, lambda: app.writes.queued == 0)


async def test_quitting_while_a_write_waits_on_the_loop_still_makes_it(
    app: CockpitApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app's exit hands a write still waiting on the loop to the writer thread, which
    makes it once the store is free: a tick pressed just before quitting is kept."""
    from cockpit.screens import store_writes

    monkeypatch.setattr(store_writes, "RETRY_FOR", 60.0)
    with write_lock_held(app) as held:
        async with app.run_test(size=(160, 48)) as pilot:
            await pilot.pause()
            await pilot.press("space")
            await pilot.pause()
            assert app.writes.queued == 1 and app.writes._waiting
        assert app.writes._pool is not None  # the exit moved it to the thread
        held.execute("COMMIT")
    app.writes._pool.shutdown(wait=True)
    assert len(ticked(app)) == 1


async def test_closed_writes_are_still_made_and_no_screen_is_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After close() (the app quitting) a write still waiting is made by the thread, but its
    ``landed`` is not called: the screen it would update is gone."""
    import asyncio

    from sqlalchemy import text

    from cockpit.screens import store_writes
    from cockpit.screens.store_writes import StoreWrites
    from cockpit.store.engine import Store

    monkeypatch.setattr(store_writes, "RETRY_FOR", 60.0)
    store = Store.open(tmp_path)
    writes = StoreWrites(store)
    landed: list[object] = []

    def call() -> None:
        with store.write() as session:
            session.execute(
                text(
                    "INSERT INTO sync_state (key, updated_at, last_ok_at, last_error, cursor) "
                    "VALUES ('k', 'now', NULL, '', '{}')"
                )
            )

    try:
        with lock_held_at(store.where) as held:
            assert writes.run(call, lambda result, error: landed.append(error)) is False
            writes.close()
            held.execute("COMMIT")
        pool = writes._pool
        assert pool is not None
        await asyncio.to_thread(pool.shutdown, wait=True)
        await asyncio.sleep(0.05)  # the landing callback has run
        assert store.execute("SELECT key FROM sync_state") == [("k",)]
        assert landed == [] and writes.queued == 0
    finally:
        store.close()


async def test_a_write_that_fails_on_a_retry_is_said_once_and_not_redone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A retried write that raises (a bug, not a busy store) lands with its error once, as
    in the thread; it is not tried again every millisecond."""
    import asyncio

    from cockpit.screens import store_writes
    from cockpit.screens.store_writes import StoreWrites
    from cockpit.store.engine import Store

    monkeypatch.setattr(store_writes, "RETRY_FOR", 60.0)
    store = Store.open(tmp_path)
    writes = StoreWrites(store)
    got_in: list[int] = []
    landed: list[Exception | None] = []

    def call() -> None:
        from sqlalchemy import text

        with store.write() as session:
            session.execute(text("UPDATE sync_state SET key = key WHERE 0"))  # takes the lock
            got_in.append(1)
        raise RuntimeError("a bug after the write")

    try:
        with lock_held_at(store.where) as held:
            assert writes.run(call, lambda result, error: landed.append(error)) is False
            await asyncio.sleep(0.02)
            assert got_in == [] and landed == []
            held.execute("COMMIT")
        for _ in range(400):
            if landed:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)  # long enough for ~50 more tries, were it retried
        assert got_in == [1] and len(landed) == 1 and isinstance(landed[0], RuntimeError)
        assert writes.queued == 0 and writes._pool is None
    finally:
        store.close()
