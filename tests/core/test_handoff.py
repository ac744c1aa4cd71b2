"""Handoff: drafted from a seeded store, signed, accepted (batons move), stable Markdown."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from pageseed import event, incident, notify, person, shift, utc

from cockpit.handoff import (
    HandoffError,
    accept_handoff,
    draft_handoff,
    edit_notes,
    held_by,
    post_notes,
    render_markdown,
    save_handoff,
    sign_handoff,
)
from cockpit.handoff.draft import HandoffDraft
from cockpit.store import BatonPass, Insight, Note, OutboxItem, Store
from cockpit.store.runs import append_event, start_run

ANN, BOB = "pagerduty:ANN", "pagerduty:BOB"
START, END, NOW = utc(2026, 3, 25, 8), utc(2026, 3, 25, 20), utc(2026, 3, 25, 19, 45)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "cockpit.db")
    person(s, ANN, "Ann", "Europe/Berlin")
    person(s, BOB, "Bob", "America/New_York")
    shift(s, ANN, START, END)
    shift(s, BOB, END, END + timedelta(hours=12))
    h = lambda hour, minute=0: utc(2026, 3, 25, hour, minute)  # noqa: E731
    incident(
        s,
        "pagerduty:I1",
        h(9),
        number=101,
        title="Checkout 5xx above 1%",
        service_name="checkout",
        status="acknowledged",
        acknowledged_at=h(9, 5),
        assignees=[ANN],
    )
    incident(
        s,
        "pagerduty:I2",
        h(12),
        number=102,
        title="Disk 91% on db-2",
        service_name="db",
        assignees=[ANN],
    )
    incident(
        s,
        "pagerduty:I3",
        h(13),
        number=103,
        title="Queue backlog",
        service_name="checkout",
        assignees=[BOB],
    )
    incident(
        s,
        "pagerduty:I4",
        h(10),
        number=104,
        title="Latency high on web 1",
        service_name="web",
        status="resolved",
        resolved_at=h(11),
        assignees=[ANN],
    )
    incident(
        s,
        "pagerduty:I5",
        utc(2026, 3, 20),
        number=95,
        title="Latency high on web 2",
        service_name="web",
        status="resolved",
        resolved_at=utc(2026, 3, 20, 1),
    )
    incident(
        s,
        "pagerduty:I6",
        utc(2026, 3, 21),
        number=96,
        title="Latency high on web 3",
        service_name="web",
        status="resolved",
        resolved_at=utc(2026, 3, 21, 1),
    )
    incident(
        s, "drill:D1", h(14), source="drill", is_drill=True, title="[DRILL] x", assignees=[ANN]
    )
    notify(s, "pagerduty:I1", ANN, h(9))
    notify(s, "pagerduty:I2", ANN, h(12))
    notify(s, "pagerduty:I4", ANN, h(10))
    notify(s, "pagerduty:I5", BOB, utc(2026, 3, 20))
    notify(s, "pagerduty:I6", BOB, utc(2026, 3, 21))
    for minute in (0, 20, 40):
        event(s, "pagerduty:I2", "trigger", h(12, minute))
    event(s, "pagerduty:I1", "acknowledge", h(9, 5), actor=ANN)
    with s.write() as session:
        session.add(
            Note(
                incident_id="pagerduty:I1",
                content="Rolled back the | flag",
                author="Ann",
                created_at=h(9, 30),
            )
        )
        session.add(
            OutboxItem(
                source="pagerduty",
                incident_id="pagerduty:I1",
                action="note",
                state="failed",
                last_error="HTTP 500",
            )
        )
        session.add(
            Insight(incident_id="pagerduty:I4", text="cache TTLs aligned", guardrail="timeout")
        )
        run = start_run(session, "pagerduty:I1", "checkout-5xx", at=h(9, 10))
        append_event(session, run, kind="started", at=h(9, 10), actor=ANN)
        append_event(session, run, kind="done", step_id="checks.dashboard", at=h(9, 12), actor=ANN)
    yield s
    s.close()


EXPECTED = """# Handoff #1: Ann → Bob

Shift 2026-03-25 08:00 UTC → 2026-03-25 20:00 UTC · drafted 2026-03-25 19:45 UTC · draft

## Notes from the outgoing engineer

Watch db-2 disk; cleanup cron runs at 02:00.

## Needs action

> **NOT SYNCED: 1 write(s) still in the outbox (1 failed): the paging service has NOT seen them.**
> - failed: note on #101: HTTP 500

### Open incidents (3)

**checkout** (2)
- #101 ACK high: Checkout 5xx above 1% · baton Ann
  - runbook checkout-5xx (not in the runbook library here): 1 step(s) done, last checks.dashboard
  - last note, Ann at 09:30 UTC: Rolled back the \\| flag
  - owed: note not synced: failed (HTTP 500)
- #103 TRIGGERED high: Queue backlog · baton Bob
**db** (1)
- #102 TRIGGERED high: Disk 91% on db-2 · baton Ann

### Follow-ups owed

- insight on #104 has no guardrail owner
- checkout-5xx unfinished on #101 (acknowledged)
- failed write: note on #101: HTTP 500

### Watch list

- flapping: #102 re-triggered 3 times in 24 h
- acknowledged but open: #101

## The record

### This shift

- 4 triggered, 1 acknowledged, 1 resolved, 0 escalated
- Worked by Ann (1):
  - #101 Checkout 5xx above 1% (open): acked, noted, ran checkout-5xx
- Resolved: #104 Latency high on web 1

### Page load this shift

| Person | Pages | Incidents | Business | Off-hours | Sleep |
|---|---|---|---|---|---|
| Ann | 3 | 3 | 3 | 0 | 0 |

### Next on call

- Bob (level 1) until Thu 26 Mar 08:00 UTC

### Repeat offenders

- 'Latency high on web 1' paged 3 times in 7 days
"""


def _draft(store: Store) -> HandoffDraft:
    return draft_handoff(store, ANN, START, END, NOW, to_person=BOB)


def test_draft_and_markdown_export_is_stable(store: Store) -> None:
    draft = _draft(store)
    handoff = save_handoff(store, draft, notes="Watch db-2 disk; cleanup cron runs at 02:00.")
    assert handoff.body_md == EXPECTED
    # Through JSON and back: the same text, so an export later says what was signed.
    again = HandoffDraft.from_json(handoff.draft)
    assert render_markdown(again, "draft", handoff.id) == EXPECTED
    assert [item.id for item in draft.open] == ["pagerduty:I1", "pagerduty:I3", "pagerduty:I2"]


def test_shift_times_are_in_the_writers_zone_with_utc_beside(store: Store) -> None:
    from zoneinfo import ZoneInfo

    text = render_markdown(_draft(store), "draft", zone=ZoneInfo("Europe/Berlin"))
    assert "Shift 2026-03-25 09:00 CET (08:00 UTC) → 2026-03-25 21:00 CET (20:00 UTC)" in text
    assert "drafted 2026-03-25 20:45 CET (19:45 UTC)" in text


def test_fifty_incidents_fit_one_screen(store: Store) -> None:
    for n in range(50):
        incident(
            store,
            f"pagerduty:X{n}",
            NOW - timedelta(minutes=n),
            number=1000 + n,
            title="A very long title that goes on " * 5,
            service_name=f"svc{n % 4}",
        )
    body = render_markdown(_draft(store))
    lines = body.splitlines()
    section = lines[
        lines.index("### Open incidents (53)") + 2 : lines.index("### Follow-ups owed") - 1
    ]
    # One line per incident plus one heading per service: 53 + 6 lines, no wrapping; only
    # #101 (a runbook run, a note, a write not synced) has indented lines under its own.
    top = [line for line in section if not line.startswith("  ")]
    assert len(top) == 59
    assert len(section) - len(top) == 3
    open_lines = [line for line in section if "A very long title" in line]
    assert len(open_lines) == 50
    assert max(len(line) for line in open_lines) <= 120


def test_sign_then_accept_moves_every_baton_the_outgoing_holds(store: Store) -> None:
    handoff = save_handoff(store, _draft(store))
    assert handoff.id is not None
    with pytest.raises(HandoffError, match="not signed yet"):
        accept_handoff(store, handoff.id, BOB)
    with pytest.raises(HandoffError, match="is pagerduty:ANN's to sign"):
        sign_handoff(store, handoff.id, BOB)
    sign_handoff(store, handoff.id, ANN, clock=lambda: NOW)
    # Signed but not accepted: Ann still holds hers.
    assert held_by(store, ANN) == ["pagerduty:I1", "pagerduty:I2"]
    with pytest.raises(HandoffError, match="is for pagerduty:BOB, not pagerduty:CAT"):
        accept_handoff(store, handoff.id, "pagerduty:CAT")
    accepted, moved = accept_handoff(store, None, BOB, clock=lambda: NOW + timedelta(minutes=5))
    assert moved == ["pagerduty:I1", "pagerduty:I2"]
    assert held_by(store, ANN) == []
    assert held_by(store, BOB) == ["pagerduty:I1", "pagerduty:I2", "pagerduty:I3"]
    assert accepted.accepted_at == NOW + timedelta(minutes=5)
    assert "· accepted" in accepted.body_md.splitlines()[2]
    assert accepted.body_md.splitlines()[0] == "# Handoff #1: Ann → Bob"  # names, not ids
    with store.read() as session:
        from sqlmodel import select

        passes = session.exec(select(BatonPass).where(BatonPass.state == "accepted")).all()
        assert {(p.incident_id, p.from_person, p.to_person, p.handoff_id) for p in passes} == {
            ("pagerduty:I1", ANN, BOB, handoff.id),
            ("pagerduty:I2", ANN, BOB, handoff.id),
        }
    with pytest.raises(HandoffError, match="already accepted"):
        accept_handoff(store, handoff.id, BOB)


def test_notes_are_editable_until_signed_and_can_be_posted(store: Store) -> None:
    handoff = save_handoff(store, _draft(store))
    assert handoff.id is not None
    edited = edit_notes(store, handoff.id, "all quiet")
    assert "## Notes from the outgoing engineer\n\nall quiet\n\n## Needs action" in edited.body_md
    sign_handoff(store, handoff.id, ANN)
    with pytest.raises(HandoffError, match="signed: its text is final"):
        edit_notes(store, handoff.id, "changed my mind")
    posted = post_notes(store, handoff.id, user="Ann")
    assert posted == ["pagerduty:I1", "pagerduty:I3", "pagerduty:I2"]
    with store.read() as session:
        from sqlmodel import select

        notes = session.exec(select(Note).where(Note.content.startswith("[cockpit handoff"))).all()
        assert len(notes) == 3
        assert all(n.state == "pending" for n in notes)  # queued for PagerDuty
