"""What the handoff says (issue 14 items 1-5): the outgoing engineer's words first, then what
needs action, then the record; the last note a person wrote; the runbook position in plain
words with the branch, rollback and timers; the shift's work by what the outgoing engineer
touched; signing names the incoming engineer and says what the batons do."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from pageseed import event, incident, person, shift, utc
from sqlmodel import select

from cockpit.cli.main import main
from cockpit.handoff import (
    HandoffError,
    accept_handoff,
    draft_handoff,
    post_notes,
    render_markdown,
    save_handoff,
    sign_handoff,
)
from cockpit.handoff.draft import HandoffDraft
from cockpit.handoff.markdown import cut_words, step_markdown
from cockpit.runbooks.model import Runbook
from cockpit.runbooks.parse import parse_runbook
from cockpit.runbooks.run_events import DECIDED, DONE, TIMER_STARTED
from cockpit.store import Handoff, Note, Store
from cockpit.store.run_service import RunService
from cockpit.sync import actions

ANN, BOB, CAT = "pagerduty:ANN", "pagerduty:BOB", "pagerduty:CAT"
START, END, NOW = utc(2026, 3, 25, 8), utc(2026, 3, 25, 20), utc(2026, 3, 25, 19, 45)

RUNBOOK = """\
---
id: product-cache-stampede
title: Cache stampede on product detail
---
# Cache stampede on product detail

## Checks
- [ ] Open the [latency dashboard](https://grafana.example.com/d/p) and note when p95 rose {#dash}
- [ ] Cache hit ratio dropped? `redis-cli -h {{host}} info stats | grep keyspace` {#hits}

## Actions
1. [ ] Turn on stale-while-revalidate (serves up to 10 min stale prices) {#swr-on}
2. [ ] Watch the error rate (wait 5m) {#watch}

## Decision points
- Is the 5xx rate below 1%? {#over}
  - yes: go to [Validation](#validation)
  - no: go to [Rollback](#rollback)

## Rollback
1. [ ] Turn SWR off: `flagctl disable product.swr --env prod --region <region>` {#swr-off}
2. [ ] Watch origin QPS fall under 2x baseline (wait 10m) {#watch-back}

## Validation
- [ ] p95 below 300 ms for 10 minutes
"""


def h(hour: int, minute: int = 0) -> datetime:
    return utc(2026, 3, 25, hour, minute)


class Clock:
    def __init__(self) -> None:
        self.now = h(9)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def runbook() -> Runbook:
    return parse_runbook(RUNBOOK, "cache-stampede.md")


@pytest.fixture
def store(tmp_path: Path, runbook: Runbook) -> Iterator[Store]:
    s = Store.open(tmp_path / "cockpit.db")
    person(s, ANN, "Ann Lee")
    person(s, BOB, "Bob Stone")
    person(s, CAT, "Cat Wu")
    shift(s, ANN, START, END)
    shift(s, BOB, END, END + timedelta(hours=12))
    incident(
        s,
        "pagerduty:I1",
        h(9),
        number=101,
        title="High latency on product-api",
        service_name="product-api",
        status="acknowledged",
        acknowledged_at=h(9, 5),
        assignees=[ANN],
    )
    incident(
        s,
        "pagerduty:I2",
        h(12),
        number=102,
        title="5xx on product page",
        service_name="product-api",
        assignees=[CAT],
    )
    incident(
        s,
        "pagerduty:I3",
        h(13),
        number=103,
        title="Disk 91% on db-2",
        service_name="db",
        assignees=[CAT],
    )
    # Resolved this shift, in the order 161, 164, 162; Ann worked on 164 only.
    for number, resolved in ((161, h(10)), (164, h(11)), (162, h(12))):
        incident(
            s,
            f"pagerduty:R{number}",
            h(9, 30),
            number=number,
            title=f"Pod crash {number}",
            service_name="auth",
            status="resolved",
            resolved_at=resolved,
        )
    event(s, "pagerduty:I1", "acknowledge", h(9, 5), actor=ANN)
    event(s, "pagerduty:R164", "acknowledge", h(10, 30), actor=ANN)
    event(s, "pagerduty:R161", "acknowledge", h(9, 40), actor=BOB)  # not Ann's work
    # Notes on #101: Ann's words, then the cockpit's own (a baton pass, a handoff) later.
    with s.write() as session:
        session.add(
            Note(
                incident_id="pagerduty:I1",
                content="SWR on; origin still 4x",
                author="Ann Lee",
                created_at=h(9, 30),
            )
        )
        session.add(
            Note(
                incident_id="pagerduty:I1",
                author="Ann Lee",
                created_at=h(9, 50),
                content="[cockpit] Baton passed from Cat Wu to Ann Lee: yours",
            )
        )
    # #102: a note written in PagerDuty (a log entry), then the cockpit's echo.
    event(
        s,
        "pagerduty:I2",
        "annotate",
        h(12, 10),
        actor=CAT,
        remote_id="pagerduty:L1",
        summary="Note added",
        details={"note": "rolled the canary back", "agent_name": "Cat Wu"},
    )
    event(
        s,
        "pagerduty:I2",
        "annotate",
        h(12, 20),
        actor=CAT,
        remote_id="pagerduty:L2",
        summary="Note added",
        details={"note": "[cockpit handoff #7] Ann Lee → Bob Stone: triggered"},
    )
    # Ann's run on #101: checks and the first action done, the watch timer run out, "no" at
    # the decision (to Rollback), the rollback's watch timer started and still running.
    clock = Clock()
    runs = RunService(s, clock)
    for at, kind, step in (
        (h(19, 10), DONE, "dash"),
        (h(19, 11), DONE, "hits"),
        (h(19, 12), DONE, "swr-on"),
        (h(19, 13), TIMER_STARTED, "watch"),
    ):
        clock.now = at
        runs.apply("pagerduty:I1", runbook, kind, step_id=step, actor=ANN)
    clock.now = h(19, 30)
    runs.apply("pagerduty:I1", runbook, DECIDED, step_id="over", branch="no", actor=ANN)
    clock.now = h(19, 40)
    runs.apply("pagerduty:I1", runbook, TIMER_STARTED, step_id="watch-back", actor=ANN)
    # Cat started the same runbook on #102 and ticked nothing yet.
    clock.now = h(12, 30)
    runs.apply("pagerduty:I2", runbook, TIMER_STARTED, step_id="watch", actor=CAT)
    yield s
    s.close()


def _draft(store: Store, runbook: Runbook, to: str = BOB) -> HandoffDraft:
    return draft_handoff(store, ANN, START, END, NOW, to_person=to, runbooks={runbook.id: runbook})


# ------------------------------------------------------------------ item 1: the order


def test_human_words_first_then_what_needs_action_then_the_record(
    store: Store, runbook: Runbook
) -> None:
    draft = _draft(store, runbook)
    draft.notes = "Watch #101: rollback half done.\nCall Cat about db-2."
    lines = render_markdown(draft, "draft", 1).splitlines()
    order = [
        "# Handoff #1: Ann Lee → Bob Stone",
        "## Notes from the outgoing engineer",
        "Watch #101: rollback half done.",
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
    needs = lines[lines.index("## Needs action") : lines.index("## The record")]
    # What needs action: who holds each open incident, where its runbook stands, what is owed.
    assert "- #101 ACK high: High latency on product-api · baton Ann Lee" in needs
    assert "- #102 TRIGGERED high: 5xx on product page · baton Cat Wu" in needs
    assert any(line.startswith("  - runbook Cache stampede on product detail:") for line in needs)
    assert "- product-cache-stampede unfinished on #101 (acknowledged)" in needs
    # No notes: said plainly, still first.
    draft.notes = ""
    lines = render_markdown(draft).splitlines()
    assert lines[lines.index("## Notes from the outgoing engineer") + 2] == "None written."


def test_writes_not_synced_come_first_in_what_needs_action(store: Store, runbook: Runbook) -> None:
    actions.add_note(store, "pagerduty:I3", "cleanup cron at 02:00", user="Ann Lee")
    lines = render_markdown(_draft(store, runbook)).splitlines()
    start = lines.index("## Needs action")
    assert lines[start + 2].startswith("> **NOT SYNCED: 1 write(s) still in the outbox")
    assert "  - owed: note not synced: pending" in lines


# ------------------------------------------------------------------ item 2: the last note


def test_the_last_note_is_the_last_a_person_wrote(store: Store, runbook: Runbook) -> None:
    draft = _draft(store, runbook)
    by_ref = {item.ref: item for item in draft.open}
    # #101: Ann's note, not the later "[cockpit] Baton passed" note.
    assert (by_ref["#101"].last_note, by_ref["#101"].note_by) == (
        "SWR on; origin still 4x",
        "Ann Lee",
    )
    # #102: written in PagerDuty (a log entry), not the handoff note echoed back after it.
    assert (by_ref["#102"].last_note, by_ref["#102"].note_by) == (
        "rolled the canary back",
        "Cat Wu",
    )
    assert by_ref["#103"].last_note == ""
    text = render_markdown(draft)
    assert "  - last note, Ann Lee at 09:30 UTC: SWR on; origin still 4x" in text
    assert "  - last note, Cat Wu at 12:10 UTC: rolled the canary back" in text


def test_a_second_handoff_never_shows_the_first_ones_posted_note(
    store: Store, runbook: Runbook
) -> None:
    first = save_handoff(store, _draft(store, runbook))
    assert first.id is not None
    sign_handoff(store, first.id, ANN, clock=lambda: NOW)
    assert post_notes(store, first.id, user="Ann Lee")  # "[cockpit handoff #1] …" on each
    second = _draft(store, runbook)
    assert {item.ref: item.last_note for item in second.open} == {
        "#101": "SWR on; origin still 4x",
        "#102": "rolled the canary back",
        "#103": "",
    }
    assert "[cockpit" not in render_markdown(second)


# ------------------------------------------------------------------ item 3: the runbook


def test_the_runbook_position_in_plain_words(store: Store, runbook: Runbook) -> None:
    draft = _draft(store, runbook)
    one = next(item for item in draft.open if item.ref == "#101")
    assert one.run_phase == "rollback" and (one.run_done, one.run_total) == (0, 2)
    assert one.branch == "took “no” at “Is the 5xx rate below 1%?” → Rollback"
    text = render_markdown(draft)
    # The whole step, its command as code: no Markdown escapes, not cut mid-word.
    assert (
        "  - runbook Cache stampede on product detail: **mid-rollback**, 0 of 2 rollback "
        "steps done; took “no” at “Is the 5xx rate below 1%?” → Rollback; next: Turn "
        "SWR off: `flagctl disable product.swr --env prod --region <region>`"
    ) in text
    # The rollback's timer is still running; the main path's, run out, is no longer news.
    assert (
        "  - 10m timer running: Watch origin QPS fall under 2x baseline (wait 10m), due "
        "19:50 UTC (5 min left when drafted)"
    ) in text
    assert "Watch the error rate (wait 5m), due 19:18" not in text
    # #102's run has not ticked anything: its next step is the link, in words.
    two = next(item for item in draft.open if item.ref == "#102")
    assert step_markdown(two.next_step) == "Open the latency dashboard and note when p95 rose"
    assert (
        "next: Open the latency dashboard and note when p95 rose" in text
        and "grafana" not in text
        and "\\[" not in text
    )
    # The one-line summary (what the posted notes carry) says it in words too.
    assert one.step == (
        "product-cache-stampede: mid-rollback, 0 of 2 rollback steps done, "
        "next: Turn SWR off: flagctl disable product.swr --env prod --region "
        "<region>"
    )


def test_a_long_step_is_cut_at_a_word_and_code_keeps_its_backticks() -> None:
    assert cut_words("word " * 100, 40) == "word word word word word word word word…"
    assert step_markdown("Run ``grep -c '`' x | wc``") == "Run ``grep -c '`' x | wc``"
    assert (
        step_markdown("Check [the `x` dash](https://e.com) <now>") == "Check the `x` dash \\<now\\>"
    )


# ------------------------------------------------------------------ item 4: the shift's work


def test_the_shift_is_ordered_by_what_the_outgoing_engineer_touched(
    store: Store, runbook: Runbook
) -> None:
    draft = _draft(store, runbook)
    assert [(w["ref"], w["did"]) for w in draft.worked] == [
        ("#101", ["acked", "noted", "ran product-cache-stampede"]),
        ("#164", ["acked"]),
    ]
    assert [r["ref"] for r in draft.resolved] == ["#164", "#161", "#162"]
    text = render_markdown(draft)
    assert (
        "- Worked by Ann Lee (2):\n"
        "  - #101 High latency on product-api (open): acked, noted, ran "
        "product-cache-stampede\n"
        "  - #164 Pod crash 164 (resolved): acked\n"
        "- Resolved: #164 Pod crash 164; #161 Pod crash 161; #162 Pod crash 162\n"
    ) in text


def test_the_one_incident_worked_is_never_hidden_in_more(store: Store, runbook: Runbook) -> None:
    for n in range(30):
        incident(
            store,
            f"pagerduty:Q{n}",
            h(8, n),
            number=120 + n,
            title=f"Queue {n}",
            service_name="queue",
            status="resolved",
            resolved_at=h(8, 30 + n),
        )
    text = render_markdown(_draft(store, runbook))
    resolved = next(line for line in text.splitlines() if line.startswith("- Resolved: "))
    assert resolved.startswith("- Resolved: #164 Pod crash 164; #120 Queue 0; #121 Queue 1;")
    assert resolved.endswith("; +23 more")


# ------------------------------------------------------------------ item 5: sign and accept


def test_signing_needs_the_incoming_engineer(store: Store, runbook: Runbook) -> None:
    handoff = save_handoff(store, _draft(store, runbook, to=""))
    assert handoff.id is not None
    with pytest.raises(HandoffError, match="names no incoming engineer"):
        sign_handoff(store, handoff.id, ANN)
    with pytest.raises(HandoffError, match="cannot hand over to themselves"):
        sign_handoff(store, handoff.id, ANN, to_person=ANN)
    signed = sign_handoff(store, handoff.id, ANN, to_person=BOB, clock=lambda: NOW)
    assert signed.to_person == BOB and signed.signed_at == NOW
    assert signed.body_md.startswith("# Handoff #1: Ann Lee → Bob Stone")
    accepted, moved = accept_handoff(store, handoff.id, BOB, clock=lambda: NOW)
    assert moved == ["pagerduty:I1"]


@pytest.fixture
def home(store: Store, tmp_path: Path) -> list[str]:
    from cockpit.sync.identity import Me, set_me

    with store.write() as session:
        set_me(session, Me(CAT, "Cat Wu", "cat@example.com"))
    return ["--data-dir", str(tmp_path)]


def test_the_cli_asks_who_takes_over_and_says_when_no_baton_is_held(
    home: list[str], store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    # Cat is "me" and holds #102 and #103; Ann holds #101 only.
    assert main([*home, "handoff", "--from", "ann", "--sign"]) == 2
    err = capsys.readouterr().err
    assert "who takes over?" in err and "--to NAME --sign" in err
    with store.read() as session:
        assert session.exec(select(Handoff)).all() == []
    assert main([*home, "handoff", "--from", "ann", "--to", "bob", "--sign"]) == 0
    err = capsys.readouterr().err
    assert "handoff #1 signed for Bob Stone: Ann Lee holds 1 baton until Bob Stone accepts" in err
    assert main([*home, "handoff", "accept", "--as", "bob"]) == 0
    assert "1 baton passed to you\n  #101 High latency on product-api" in capsys.readouterr().out
    # Now Ann holds nothing: signing says so, and accepting says there was nothing to pass.
    assert main([*home, "handoff", "--from", "ann", "--to", "cat", "--sign"]) == 0
    err = capsys.readouterr().err
    assert "Ann Lee holds no baton, so none passes" in err and "holds the batons" not in err
    assert main([*home, "handoff", "accept", "--as", "cat"]) == 0
    assert "no baton to pass (Ann Lee held none" in capsys.readouterr().out


def test_a_draft_stored_before_these_fields_still_renders(store: Store, runbook: Runbook) -> None:
    old = _draft(store, runbook).to_json()
    for item in old["open"]:
        for key in (
            "note_by",
            "note_at",
            "runbook",
            "runbook_title",
            "run_phase",
            "run_outcome",
            "run_done",
            "run_total",
            "next_step",
            "next_is_decision",
            "branch",
            "timers",
            "owed",
        ):
            del item[key]
    del old["worked"], old["next_people"]
    old["open"][0]["step"] = "checkout-5xx: at Open the [latency dash…"
    text = render_markdown(HandoffDraft.from_json(old))
    assert "  - runbook checkout-5xx: at Open the \\[latency dash…" in text
    assert "- Worked by Ann Lee: none (no ack, note or runbook run this shift)" in text
