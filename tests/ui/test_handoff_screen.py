"""The handoff screen: draft from a seeded store, notes, sign, accept as someone else (the
batons move), Markdown export; fifty open incidents stay one line each."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from cockpit_seed import NOW, incident, store_of
from sqlmodel import select
from textual.widgets import Input, Static, TextArea

from cockpit.app import CockpitApp
from cockpit.handoff import draft_handoff
from cockpit.screens.choice_dialog import ChoiceDialog
from cockpit.screens.confirm import ConfirmDialog
from cockpit.screens.handoff_screen import HandoffScreen, open_text
from cockpit.screens.input_dialog import InputDialog
from cockpit.store.engine import Store
from cockpit.store.models import BatonPass, Handoff
from cockpit.store.upsert import upsert_incidents


def plain(screen: HandoffScreen, widget_id: str) -> str:
    return str(screen.query_one(widget_id, Static).content)


async def test_draft_sign_accept_export(app: CockpitApp, tmp_path: Path) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("H")
        screen = app.screen
        assert isinstance(screen, HandoffScreen)
        shown = plain(screen, "#handoff-open-text")
        assert "#101" in shown and "product-api (1)" in shown and "checkout (1)" in shown
        assert "Alex Night" in shown  # who holds #101's baton
        assert "Outbox empty" in plain(screen, "#handoff-outbox")
        assert "Next on call" in plain(screen, "#handoff-side-text")
        await pilot.press("e")
        notes = screen.query_one("#handoff-notes", TextArea)
        assert screen.focused is notes
        await pilot.press(*"watch db-1")  # letters go to the notes, not to the keys
        assert isinstance(app.screen, HandoffScreen) and notes.text == "watch db-1"
        await pilot.press("escape", "s")
        await pilot.pause()
        chooser = app.screen
        assert isinstance(chooser, ChoiceDialog)  # who takes over: asked before signing
        assert chooser.choices[0][0] == "pagerduty:PCAR"  # on call, not the outgoing
        await pilot.press("enter")
        await pilot.pause()
        with store_of(app).read() as session:
            row = session.exec(select(Handoff)).one()
        assert row.signed_at is not None and "watch db-1" in row.body_md
        assert row.to_person == "pagerduty:PCAR"
        assert "SIGNED" in plain(screen, "#handoff-title")
        await pilot.press("a")  # signed for Carol: straight to what she takes
        confirm = app.screen
        assert isinstance(confirm, ConfirmDialog)
        assert "Carol Next takes 1 baton from Alex Night:" in confirm.body.plain
        assert "#101" in confirm.body.plain
        assert confirm.confirm == "Take 1 baton"
        await pilot.press("y")
        await pilot.pause()
        with store_of(app).read() as session:
            passes = session.exec(select(BatonPass).order_by(BatonPass.id)).all()
            row = session.exec(select(Handoff)).one()
        # The offer is accepted in place: one pass, from the outgoing to the incoming.
        assert [(p.incident_id, p.to_person, p.state, p.handoff_id) for p in passes] == [
            ("pagerduty:PINC101", "pagerduty:PCAR", "accepted", row.id)
        ]
        assert row.accepted_at is not None and row.to_person == "pagerduty:PCAR"
        await pilot.press("m")
        dialog = app.screen
        assert isinstance(dialog, InputDialog)
        target = tmp_path / "out" / "handoff.md"
        target.parent.mkdir()
        dialog.query_one(Input).value = str(target)
        await pilot.press("enter")
        await pilot.pause()
    text = target.read_text(encoding="utf-8")
    assert text.startswith("# Handoff #1: Alex Night → Carol Next")
    assert "accepted" in text.splitlines()[2] and "watch db-1" in text


async def test_accept_needs_a_signature(app: CockpitApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("H", "a")
        await pilot.pause()
        assert isinstance(app.screen, HandoffScreen)  # no chooser: sign first
        with store_of(app).read() as session:
            assert session.exec(select(BatonPass)).all() == []


async def test_fifty_open_incidents_one_line_each(seeded: tuple[object, Store]) -> None:
    _, store = seeded
    services = ("api", "db", "cache", "queue", "web")
    with store.write() as session:
        upsert_incidents(
            session,
            "pagerduty",
            [
                incident(
                    200 + n,
                    f"Alert {n} [bold]x[/]",
                    "triggered",
                    5 + n,
                    service_name=services[n % 5],
                    assignees=("PME",),
                )
                for n in range(47)
            ],
        )
    draft = draft_handoff(store, "pagerduty:PME", NOW - timedelta(hours=12), NOW, NOW)
    assert len(draft.open) == 50
    text = open_text(draft)
    services_shown = {item.service for item in draft.open}
    assert len(text.plain.splitlines()) == 1 + 50 + len(services_shown)
    assert "[bold]x[/]" in text.plain and not text.spans[0].style == "bold x"
