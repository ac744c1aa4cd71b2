"""Working a runbook from the keyboard: to Validation, into Rollback, undo, resume."""

from __future__ import annotations

from cockpit_seed import frozen, screen_text, store_of
from sqlmodel import select

from cockpit.app import CockpitApp
from cockpit.runbooks.library import load_library
from cockpit.screens.choice_dialog import ChoiceDialog
from cockpit.screens.confirm import ConfirmDialog
from cockpit.screens.input_dialog import InputDialog
from cockpit.store.models import RunbookRun, StepEvent, TimelineEvent
from cockpit.widgets.runbook_checklist import RunbookChecklist

INCIDENT = "pagerduty:PINC101"


def checklist(app: CockpitApp) -> RunbookChecklist:
    return app.screen.query_one(RunbookChecklist)


async def work_to_decision(app: CockpitApp, pilot: object) -> None:
    p = pilot  # type: ignore[assignment]
    await p.press("space")  # open the dashboard
    await p.press("space")  # the redis check: no parameter needed to tick
    await p.press("space")  # risky: asks first
    assert isinstance(app.screen, ConfirmDialog)
    await p.press("y")
    await p.press("space")  # timer step: the first press starts the timer
    view = checklist(app).view
    assert view is not None and "actions.watch-the-error-rate" in view.timers
    await p.press("space")  # ...the second, while it runs, asks first (issue 16 item 2)
    assert isinstance(app.screen, ConfirmDialog) and "still running" in str(app.screen.body)
    await p.press("y")
    await p.pause()


async def test_work_runbook_to_validation(app: CockpitApp) -> None:
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await work_to_decision(app, pilot)
        view = checklist(app).view
        assert view is not None and view.current.startswith("decision.")
        await pilot.press("space")
        assert isinstance(app.screen, ChoiceDialog)
        await pilot.press("enter")  # first answer: yes -> Validation
        await pilot.pause()
        view = checklist(app).view
        assert view is not None and view.current == "validation.p95-below-300-ms-for-10-minutes"
        assert "rollback.flagctl-disable-product-swr-env-prod" not in view.plan
        await pilot.press("space")
        await pilot.pause()
        view = checklist(app).view
        assert view is not None and view.finished and view.outcome == "resolved"
    with store_of(app).read() as session:
        run = session.exec(select(RunbookRun)).one()
        kinds = [e.kind for e in session.exec(select(StepEvent).order_by(StepEvent.seq))]
        lines = session.exec(select(TimelineEvent).where(TimelineEvent.kind == "runbook")).all()
    assert run.outcome == "resolved" and run.finished_at is not None
    assert kinds[-2:] == ["validated", "finished"]
    assert "decided" in kinds and len(lines) == len(kinds)


async def test_rollback_branch_is_taken_and_shown(app: CockpitApp) -> None:
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await work_to_decision(app, pilot)
        await pilot.press("d", "down", "enter")  # "no" -> Rollback
        await pilot.pause()
        view = checklist(app).view
        assert view is not None and view.path == "rollback"
        assert view.current == "rollback.flagctl-disable-product-swr-env-prod"
        assert checklist(app).has_class("-rollback")
        await pilot.press("space")  # the only Rollback step: the run finishes rolled back
        await pilot.pause()
        view = checklist(app).view
        assert view is not None and view.finished and view.outcome == "rolled_back"
    with store_of(app).read() as session:
        events = list(session.exec(select(StepEvent).order_by(StepEvent.seq)))
    # The engine records the branch itself (rollback_entered is the by-hand call, `r`).
    decided = next(e for e in events if e.kind == "decided")
    assert decided.branch == "no" and decided.details["target_kind"] == "rollback"
    assert [e.kind for e in events][-1] == "finished"
    assert "validated" not in [e.kind for e in events]


async def test_rollback_by_hand_asks_why(app: CockpitApp) -> None:
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("space", "r")
        assert isinstance(app.screen, InputDialog)
        await pilot.press("enter")  # a reason is required
        assert isinstance(app.screen, InputDialog)
        await pilot.press(*"made it worse", "enter")
        await pilot.pause()
        view = checklist(app).view
        assert view is not None and view.path == "rollback"
        # The cursor goes to Rollback's first step, not the main path's next (issue 16 item 1).
        assert view.current == "rollback.flagctl-disable-product-swr-env-prod"
        assert checklist(app).highlighted == view.current
    with store_of(app).read() as session:
        event = session.exec(select(StepEvent).where(StepEvent.kind == "rollback_entered")).one()
    assert event.reason == "made it worse"


async def test_undo_last_tick(app: CockpitApp) -> None:
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("space", "space")
        await pilot.pause()
        view = checklist(app).view
        assert view is not None and len(view.status) == 2
        await pilot.press("u")
        await pilot.pause()
        view = checklist(app).view
        assert view is not None
        assert list(view.status) == ["checks.open-the-latency-dashboard"]
        assert view.current == "checks.cache-hit-ratio-dropped-redis-cli-h-host-info"


async def test_why_the_runbook_matched_stays_on_screen_once_a_run_is_open(
    app: CockpitApp,
) -> None:
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        before = checklist(app).reasons
        await pilot.press("space")
        await pilot.pause()
        app.screen.reload()  # type: ignore[attr-defined]  # what a sync does
        await pilot.pause()
        after = checklist(app).reasons
        shown = screen_text(app)
    # In words, without the match pattern (issue 16 item 3).
    assert before == "matches service product-api, its title and high urgency"
    assert after == before + "  (run open)"
    assert "why: matches service product-api, its title and high urgency" in shown
    assert "(?i)" not in shown


async def test_ticks_survive_a_restart(app: CockpitApp, seeded: tuple, tmp_path) -> None:
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("space", "space")
        await pilot.pause()
    settings, store = seeded
    again = CockpitApp(settings, store, clock=frozen, library=load_library([tmp_path / "runbooks"]))
    async with again.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        view = checklist(again).view
        assert view is not None and len(view.status) == 2
        assert view.current == "actions.turn-on-stale-while-revalidate"


async def test_copy_asks_parameters_first(app: CockpitApp) -> None:
    copied: list[str] = []
    app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("down", "c")
        assert isinstance(app.screen, InputDialog)
        await pilot.press(*"cache-1", "enter")
        await pilot.pause()
    assert copied == ["redis-cli -h cache-1 info stats"]
