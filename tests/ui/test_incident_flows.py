"""Incident actions, baton, switching, layout and hostile text, from the keyboard."""

from __future__ import annotations

from cockpit_seed import NOW, cockpit_screen, screen_text, store_of
from sqlmodel import col, select
from textual.widgets import TextArea

from cockpit.app import CockpitApp
from cockpit.screens.baton_dialog import BatonDialog
from cockpit.screens.confirm import ConfirmDialog
from cockpit.screens.help import HelpScreen
from cockpit.screens.note_dialog import NoteDialog
from cockpit.store.models import BatonPass, Incident, Note, OutboxItem, TimelineEvent
from cockpit.widgets.incident_switcher import IncidentSwitcher
from cockpit.widgets.runbook_checklist import RunbookChecklist
from cockpit.widgets.status_bar import StatusBar

FIRST, SECOND = "pagerduty:PINC101", "pagerduty:PINC102"


async def test_switch_incidents_and_refresh_keeps_selection(app: CockpitApp) -> None:
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert cockpit_screen(app).current_id == SECOND
        # A newer, more urgent incident arrives: the list reorders, the user stays put.
        with store_of(app).write() as session:
            session.add(
                Incident(
                    id="pagerduty:PNEW",
                    source="pagerduty",
                    remote_id="PNEW",
                    number=200,
                    title="Brand new page",
                    status="triggered",
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
        cockpit_screen(app).reload()
        await pilot.pause()
        assert cockpit_screen(app).current_id == SECOND
        switcher = app.screen.query_one(IncidentSwitcher)
        assert switcher.highlighted_id == SECOND
        assert app.focused is app.screen.query_one(RunbookChecklist).steps


async def test_confirmation_names_incident_captured_at_key_press(app: CockpitApp) -> None:
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("R")
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        assert "#101" in str(dialog.body) and "High latency" in str(dialog.body)
        await pilot.press("y")
        await pilot.pause()
    with store_of(app).read() as session:
        assert session.get(Incident, FIRST).status == "resolved"  # type: ignore[union-attr]
        assert session.get(Incident, SECOND).status == "acknowledged"  # type: ignore[union-attr]


async def test_resolve_with_open_run_asks_about_the_run(app: CockpitApp) -> None:
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("space", "R")
        await pilot.pause()
        assert "still open" in str(app.screen.body)  # type: ignore[attr-defined]
        await pilot.press("down", "enter")  # resolve and mark the run abandoned
        await pilot.pause()
        await pilot.press("escape")  # skip the flywheel's insight that a resolve asks for
        view = app.screen.query_one(RunbookChecklist).view
        assert view is not None and view.finished and view.outcome == "abandoned"
    with store_of(app).read() as session:
        assert session.get(Incident, FIRST).status == "resolved"  # type: ignore[union-attr]
        lines = session.exec(
            select(TimelineEvent)
            .where(TimelineEvent.incident_id == FIRST)
            .order_by(col(TimelineEvent.id))
        ).all()
    # The run is settled first, then the incident resolved (one writer, in that order).
    order = [line.kind for line in lines if line.kind in ("runbook", "resolve")]
    finished = max(i for i, line in enumerate(lines) if "abandoned" in line.summary)
    resolved = next(i for i, line in enumerate(lines) if line.kind == "resolve")
    assert finished < resolved, order


async def test_pass_the_baton_with_a_note(app: CockpitApp) -> None:
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("b")
        dialog = app.screen
        assert isinstance(dialog, BatonDialog)
        names = [entry.name for entry in dialog.roster]
        assert names[0] == "Carol Next"  # on call now comes first; the holder is left out
        await pilot.press("enter")  # pick Carol, move to the note
        await pilot.press("enter")  # an empty note is refused
        assert isinstance(app.screen, BatonDialog)
        await pilot.press(*"db failover at step 3", "enter")
        await pilot.pause()
        assert "offered to" in str(app.screen.query_one("#baton").render())
    with store_of(app).read() as session:
        baton = session.exec(select(BatonPass)).one()
    assert (baton.to_person, baton.note, baton.state) == (
        "pagerduty:PCAR",
        "db failover at step 3",
        "offered",
    )


async def test_take_baton_and_note_queue_in_outbox(app: CockpitApp) -> None:
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("right_square_bracket", "t")
        await pilot.pause()
        await pilot.press("n")
        assert isinstance(app.screen, NoteDialog)
        app.screen.query_one(TextArea).text = "line one\nline two"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen.query_one(StatusBar).pending == 3  # reassign, its note, this note
    with store_of(app).read() as session:
        actions = sorted(i.action for i in session.exec(select(OutboxItem)))
        notes = [n.content for n in session.exec(select(Note))]
    assert actions == ["note", "note", "reassign"]
    assert "line one\nline two" in notes


async def test_narrow_terminal_stacks_panels(app: CockpitApp) -> None:
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert app.screen.has_class("-wide")
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert app.screen.has_class("-narrow")
        switcher = app.screen.query_one(IncidentSwitcher)
        checklist = app.screen.query_one(RunbookChecklist)
        assert checklist.region.x == switcher.region.x  # one column
        assert checklist.size.width >= 70  # not squeezed
        await pilot.press("space")
        await pilot.pause()
        assert checklist.view is not None and len(checklist.view.status) == 1


async def test_help_lists_every_binding_with_id(app: CockpitApp) -> None:
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        ids = {row[3] for row in help_screen.rows}
        assert {"incident.ack", "runbook.toggle-step", "baton.pass", "app.quit"} <= ids
        assert all(row[2] for row in help_screen.rows)


async def test_hostile_title_is_shown_inert(hostile_app: CockpitApp) -> None:
    async with hostile_app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("R")
        await pilot.pause()
        dialog_text = screen_text(hostile_app)
        await pilot.press("n")  # cancel
        await pilot.pause()
        main_text = screen_text(hostile_app)
    for shot in (main_text, dialog_text):
        assert "\x1b" not in shot and "\x07" not in shot
        # The title is shown literally: markup as text, ESC as a visible control picture.
        assert "[bold]x[/]" in shot
        assert "\u241b]52" in shot
