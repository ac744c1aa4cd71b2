"""The whole handoff path from the keyboard (issue 14 item 6): work an incident, then H,
notes, sign (asks who takes over), accept (says what is taken), export, with the screen
saying which key comes next at each step, and the exported Markdown read back in order.
Also the accept step when nothing is held, and that nothing is signed for nobody (item 5)."""

from __future__ import annotations

from pathlib import Path

from cockpit_seed import notices, store_of
from sqlmodel import select
from textual.widgets import Input, Static, TextArea

from cockpit.app import CockpitApp
from cockpit.screens.choice_dialog import ChoiceDialog
from cockpit.screens.confirm import ConfirmDialog
from cockpit.screens.handoff_screen import HandoffScreen
from cockpit.screens.input_dialog import InputDialog
from cockpit.store.models import BatonPass, Handoff
from cockpit.sync import actions

INCIDENT = "pagerduty:PINC101"


def next_line(screen: HandoffScreen) -> str:
    return str(screen.query_one("#handoff-next", Static).content)


def footer_keys(screen: HandoffScreen) -> dict[str, str]:
    """Key -> label of the keys the footer shows now."""
    return {
        key: active.binding.description
        for key, active in screen.active_bindings.items()
        if active.binding.show and active.enabled
    }


def work_the_incident(app: CockpitApp) -> None:
    """What the outgoing engineer did on #101 before the handoff (through the same actions
    the cockpit's keys call): ack, a note, the runbook to its decision, "no", so the run is
    rolling back."""
    from cockpit_seed import frozen

    from cockpit.runbooks.run_events import DECIDED, DONE, TIMER_STARTED
    from cockpit.store.run_service import RunService

    store = app.store
    assert store is not None
    actions.acknowledge(store, INCIDENT)
    actions.add_note(store, INCIDENT, "SWR on, origin still 4x")
    runbook = next(rb for rb in app.library if rb.id == "product-cache-stampede")
    runs = RunService(store, frozen)
    me = "pagerduty:PME"
    for step in runbook.steps_of("checks", "actions"):
        if step.timer_seconds:
            runs.apply(INCIDENT, runbook, TIMER_STARTED, step_id=step.id, actor=me)
        runs.apply(INCIDENT, runbook, DONE, step_id=step.id, actor=me)
    runs.apply(INCIDENT, runbook, DECIDED, step_id=runbook.decisions[0].id, branch="no", actor=me)


async def test_from_h_to_an_accepted_handoff_and_its_markdown(
    app: CockpitApp, tmp_path: Path
) -> None:
    keys = 0

    async def press(*pressed: str) -> None:
        nonlocal keys
        keys += len(pressed)
        await pilot.press(*pressed)
        await pilot.pause()

    async with app.run_test(size=(120, 40)) as pilot:
        work_the_incident(app)
        await pilot.pause()
        await press("H")
        screen = app.screen
        assert isinstance(screen, HandoffScreen)
        # Step 1: the notes are next, and the screen says so with the key.
        assert "1 Notes e" in next_line(screen) and "e: write what the next engineer" in next_line(
            screen
        )
        assert {"e", "s", "a", "m", "escape"} <= set(footer_keys(screen))
        assert footer_keys(screen)["escape"] == "Back"
        await press("e")
        assert screen.focused is screen.query_one("#handoff-notes", TextArea)
        assert "escape when done, then s signs" in next_line(screen)
        assert footer_keys(screen)["escape"] == "Notes done"
        await pilot.press(*"watch db-1", "enter", *"rollback half done")  # the notes: not keys
        await press("escape")
        assert "✓ Notes" in next_line(screen) and "s: sign; it asks who takes over" in next_line(
            screen
        )
        # Step 2: sign, which asks who takes over first.
        await press("s")
        chooser = app.screen
        assert isinstance(chooser, ChoiceDialog)
        assert chooser.title_text.plain == "Who takes over from you?"
        assert "You hold 1 baton: they pass on accepting." in chooser.body.plain
        assert chooser.choices[0][0] == "pagerduty:PCAR"
        await press("enter")
        assert isinstance(app.screen, HandoffScreen)
        assert any(
            "signed for Carol Next. You hold 1 baton until Carol Next accepts (a)." in m
            for _, m, _ in notices(app)
        )
        # Step 3: the incoming engineer accepts; notes and sign are no longer offered.
        assert "Carol Next presses a to accept (takes 1 baton)" in next_line(screen)
        assert not {"e", "s"} & set(footer_keys(screen)) and "a" in footer_keys(screen)
        await press("a")
        confirm = app.screen
        assert isinstance(confirm, ConfirmDialog)
        body = confirm.body.plain
        assert body.startswith(
            "Carol Next takes 1 baton from Alex Night:\n  #101 “High "
            "latency on product-api /product” acknowledged"
        )
        assert "▶ product-cache-stampede: mid-rollback, 0 of 1 rollback steps done" in body
        assert "The other open incidents stay with whoever holds them: #102 Bob Day" in body
        assert confirm.confirm == "Take 1 baton"
        await press("y")
        accepted_after = keys
        with store_of(app).read() as session:
            row = session.exec(select(Handoff)).one()
            passes = session.exec(select(BatonPass)).all()
        assert row.accepted_at is not None and row.to_person == "pagerduty:PCAR"
        assert [(p.incident_id, p.to_person, p.state) for p in passes] == [
            (INCIDENT, "pagerduty:PCAR", "accepted")
        ]
        # Step 4: export.
        assert "accepted by Carol Next; m exports the Markdown" in next_line(screen)
        await press("m")
        dialog = app.screen
        assert isinstance(dialog, InputDialog)
        target = tmp_path / "handoff.md"
        dialog.query_one(Input).value = str(target)
        await press("enter")
        assert "✓ Export" in next_line(screen) and "done: written to" in next_line(screen)
    # H, e, escape, s, enter, a, y: seven keys and the notes to an accepted handoff.
    assert accepted_after == 7 and keys == 9
    text = target.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0] == "# Handoff #1: Alex Night → Carol Next"
    assert lines[2].endswith("· accepted")
    order = [
        "## Notes from the outgoing engineer",
        "watch db-1",
        "rollback half done",
        "## Needs action",
        "### Open incidents (3)",
        "### Follow-ups owed",
        "### Watch list",
        "## The record",
        "### This shift",
        "### Page load this shift",
        "### Next on call",
        "### Repeat offenders",
    ]
    assert [line for line in lines if line in order] == order
    assert lines[4:8] == [
        "## Notes from the outgoing engineer",
        "",
        "watch db-1",
        "rollback half done",
    ]
    needs = lines[lines.index("## Needs action") : lines.index("## The record")]
    one = needs.index("- #101 ACK high: High latency on product-api /product · baton Alex Night")
    assert needs[one + 1] == (
        "  - runbook Cache stampede on product detail: **mid-rollback**, 0 of 1 rollback steps "
        "done; took “no” at “Is the 5xx rate below 1%?” → Rollback; next: "
        "`flagctl disable product.swr --env prod`"
    )
    assert needs[one + 2].startswith("  - last note, Alex Night at ")
    assert needs[one + 2].endswith(": SWR on, origin still 4x")
    assert "- #102 ACK high: Checkout 5xx above 1% · baton Bob Day" in needs
    assert "- #103 TRIGGERED low: Disk 80% on logs-2 · baton nobody" in needs
    record = lines[lines.index("## The record") :]
    assert "- Worked by Alex Night (1):" in record
    assert (
        "  - #101 High latency on product-api /product (open): acked, noted, ran "
        "product-cache-stampede"
    ) in record


async def test_accepting_when_nothing_is_held_says_so(app: CockpitApp) -> None:
    store = app.store
    assert store is not None
    actions.offer_baton(store, INCIDENT, "pagerduty:PBOB", "yours", user="Alex Night")
    actions.accept_baton(store, INCIDENT, by="pagerduty:PBOB")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("H", "s")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceDialog)
        assert "You hold no baton" in app.screen.body.plain
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, HandoffScreen)
        said = " ".join(m for _, m, _ in notices(app))
        assert "You hold no baton, so none passes; Carol Next accepts (a)" in said
        assert "You hold the batons" not in said and "until the incoming" not in said
        assert "(no baton to take)" in next_line(screen)
        await pilot.press("a")
        await pilot.pause()
        confirm = app.screen
        assert isinstance(confirm, ConfirmDialog)
        assert confirm.body.plain.startswith(
            "Nothing to take: Alex Night holds no baton, so none passes to Carol Next.\n"
            "Accepting records that Carol Next has read this handoff."
        )
        assert "0 incident" not in confirm.body.plain
        assert confirm.confirm == "Accept, nothing to take"
        await pilot.press("y")
        await pilot.pause()
        said = " ".join(m for _, m, _ in notices(app))
        assert "Handoff #1 accepted by Carol Next: no baton to pass." in said
    with store.read() as session:
        row = session.exec(select(Handoff)).one()
    assert row.accepted_at is not None


async def test_nothing_is_signed_until_the_incoming_engineer_is_named(app: CockpitApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("H", "a")  # accept before signing: sign first
        await pilot.pause()
        assert isinstance(app.screen, HandoffScreen)
        assert any("signs first (s): it asks who takes over" in m for _, m, _ in notices(app))
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceDialog)
        await pilot.press("escape")  # nobody named: nothing signed
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, HandoffScreen)
        assert "(not named yet)" in str(screen.query_one("#handoff-title", Static).content)
        assert "DRAFT" in str(screen.query_one("#handoff-title", Static).content)
    with store_of(app).read() as session:
        assert [h.signed_at for h in session.exec(select(Handoff))] in ([], [None])


async def test_the_steps_fit_at_80_columns(app: CockpitApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("H")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, HandoffScreen)
        notes = screen.query_one("#handoff-notes", TextArea)
        assert notes.region.height == 5  # a short terminal keeps room for the incidents
        assert screen.query_one("#handoff-open").region.height >= 8
        assert "1 Notes e" in next_line(screen)
