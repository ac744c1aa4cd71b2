"""The handoff as stable Markdown: the same draft always gives the same text.

It reads in the order the incoming engineer needs it: the outgoing engineer's own words
first, then what needs action (anything not yet synced, loudly; the open incidents with who
holds each, where their runbook stands and what is owed; follow-ups; the watch list), then
the record of the shift (what the outgoing engineer worked on, what was resolved, the page
load, who is on next, repeat offenders).

Open incidents are one line each, grouped by service, so 50 of them fit one screen; an
incident with a runbook run, a note or something owed gets short indented lines under its
own. Every remote string passes through ``safe_line`` and is cut at a word to a width, so a
title can neither break the layout nor the terminal: control, bidi and zero-width characters
show as markers (``⟦U+202E⟧``), and no line holds more than a few hundred characters of a
remote string (a 1 MB title is cut, not printed). A runbook step is shown in its words, its
commands as code, never with Markdown's escapes around them.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Any

from cockpit.durations import compact
from cockpit.handoff.draft import HandoffDraft, OpenItem, group_by_service
from cockpit.store.timefmt import as_utc
from cockpit.text import markdown_line, safe, safe_line

TITLE_WIDTH = 60
NOTE_WIDTH = 200
STEP_WIDTH = 240
MAX_RESOLVED = 10
MAX_WORKED = 15


def cut_words(text: str, width: int) -> str:
    """``text`` on one line, sanitised, at most ``width`` characters: cut at the last space
    before the width (a word is never split unless it is longer than half the width)."""
    text = safe_line(text).strip()
    if len(text) <= width:
        return text
    head = text[: width - 1]
    space = head.rfind(" ")
    if text[width - 1] != " " and space > width // 2:
        head = head[:space]
    return head.rstrip(" ,;:·-") + "…"


def _cut(text: str, width: int) -> str:
    return markdown_line(cut_words(text, width))


def _code(text: str) -> str:
    """An inline code span holding ``text`` as it is (no escapes inside code)."""
    text = safe_line(text).strip()
    run = longest = 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def step_markdown(raw: str, width: int = STEP_WIDTH) -> str:
    """A runbook step in its own words: link text kept (URLs dropped), commands as inline
    code, nothing escaped that a reader would see. Too long: plain words cut at a word."""
    from cockpit.runbooks.links import CODE, pieces, plain

    if len(plain(raw)) > width:
        return _cut(plain(raw), width)
    out = []
    for piece in pieces(raw):
        out.append(_code(piece.text) if piece.kind == CODE else markdown_line(piece.text))
    return "".join(out).strip()


def _local(when: datetime, zone: tzinfo | None) -> datetime:
    return when.astimezone(zone) if zone is not None else when.astimezone()


def _stamp(draft: HandoffDraft, key: str, zone: tzinfo | None) -> str:
    """In the writer's time zone (the system's unless given), with UTC beside it when that
    differs: the reader may be elsewhere."""
    when = as_utc(getattr(draft, key))
    local = _local(when, zone)
    text = f"{local:%Y-%m-%d %H:%M} {local.tzname() or 'local'}"
    if local.utcoffset() != timedelta(0):
        text += f" ({when:%H:%M} UTC)"
    return text


def clock(iso: str, draft: HandoffDraft, zone: tzinfo | None) -> str:
    """A time of the shift, short: ``17:08 UTC``, with the weekday when not the day the
    handoff was drafted."""
    try:
        when = _local(as_utc(datetime.fromisoformat(iso)), zone)
    except ValueError:
        return ""
    day = (
        "" if when.date() == _local(as_utc(draft.drafted_at), zone).date() else f"{when:%a %d %b} "
    )
    return f"{day}{when:%H:%M} {when.tzname() or 'local'}"


def timer_words(timer: dict[str, Any], draft: HandoffDraft) -> tuple[str, str]:
    """(what, how long) of a runbook timer: ``running, 4 min left`` or ``ran out``."""
    seconds = int(timer.get("seconds") or 0)
    try:
        due = as_utc(datetime.fromisoformat(str(timer.get("due_at"))))
    except ValueError:
        return f"{compact(seconds)} timer", ""
    left = (due - as_utc(draft.drafted_at)).total_seconds()
    if left > 0:
        minutes = max(1, round(left / 60))
        return f"{compact(seconds)} timer running", f"{minutes} min left when drafted"
    return f"{compact(seconds)} timer ran out", "the step is not ticked yet"


def run_words(item: OpenItem) -> str:
    """Where the run stands, in words: ``mid-rollback``, ``3 of 9 done``, ``finished``."""
    if item.run_phase == "finished":
        return f"finished ({item.run_outcome or 'done'})"
    if item.run_phase == "rollback":
        done = (
            f", {item.run_done} of {item.run_total} rollback steps done" if item.run_total else ""
        )
        return f"mid-rollback{done}"
    if item.run_phase == "validation":
        word = "validating"
    else:
        word = ""
    done = f"{item.run_done} of {item.run_total} done" if item.run_total else ""
    return ", ".join(w for w in (word, done) if w) or "started"


def _detail_lines(item: OpenItem, draft: HandoffDraft, zone: tzinfo | None) -> list[str]:
    lines = []
    if item.runbook and (item.run_phase or item.run_total):
        name = markdown_line(item.runbook_title or item.runbook)
        where = run_words(item)
        if item.run_phase == "rollback":
            where = "**mid-rollback**" + where.removeprefix("mid-rollback")
        text = f"runbook {name}: {where}"
        if item.branch:
            text += f"; {_cut(item.branch, 160)}"
        if item.next_step:
            verb = "next, decide" if item.next_is_decision else "next"
            text += f"; {verb}: {step_markdown(item.next_step)}"
        lines.append(text)
    elif item.step:  # a draft from before these fields, or a runbook not loaded here
        lines.append(f"runbook {_cut(item.step, STEP_WIDTH)}")
    for timer in item.timers:
        what, left = timer_words(timer, draft)
        due = clock(str(timer.get("due_at", "")), draft, zone)
        lines.append(
            f"{what}: {step_markdown(str(timer.get('step', '')), 120)}, due {due}"
            + (f" ({left})" if left else "")
        )
    if item.last_note:
        by = markdown_line(cut_words(item.note_by, 40)) or "someone"
        when = clock(item.note_at, draft, zone) if item.note_at else ""
        lines.append(
            f"last note, {by}{f' at {when}' if when else ''}: {_cut(item.last_note, NOTE_WIDTH)}"
        )
    if item.owed:
        lines.append("owed: " + "; ".join(_cut(o, 120) for o in item.owed))
    return [f"  - {line}" for line in lines]


def _line(item: OpenItem) -> str:
    status = "ACK" if item.status == "acknowledged" else "TRIGGERED"
    holder = markdown_line(item.holder_name or item.holder) or "nobody"
    if item.offered_to:
        holder += f" (offered to {markdown_line(item.offered_to)}, not accepted yet)"
    return (
        f"- {markdown_line(item.ref)} {status} {markdown_line(item.urgency)}: "
        f"{_cut(item.title, TITLE_WIDTH)} · baton {holder}"
    )


def _outbox(draft: HandoffDraft) -> list[str]:
    if not draft.outbox:
        return []
    failed = sum(1 for o in draft.outbox if o["state"] == "failed")
    lines = [
        f"> **NOT SYNCED: {len(draft.outbox)} write(s) still in the outbox"
        f"{f' ({failed} failed)' if failed else ''}: the paging service has "
        "NOT seen them.**"
    ]
    for item in draft.outbox:
        error = f": {_cut(item['error'], 60)}" if item["error"] else ""
        lines.append(
            f"> - {item['state']}: {markdown_line(item['action'])} on "
            f"{markdown_line(item['ref'])}{error}"
        )
    return lines + [""]


def _section(title: str, entries: list[str]) -> list[str]:
    return ["", title, "", *([f"- {entry}" for entry in entries] or ["None."])]


def _shift(draft: HandoffDraft) -> list[str]:
    c = draft.counts
    lines = [
        f"- {c.get('triggered', 0)} triggered, {c.get('acknowledged', 0)} acknowledged,"
        f" {c.get('resolved', 0)} resolved, {c.get('escalated', 0)} escalated"
    ]
    who = markdown_line(draft.from_name or draft.from_person)
    if draft.worked:
        lines.append(f"- Worked by {who} ({len(draft.worked)}):")
        for row in draft.worked[:MAX_WORKED]:
            state = (
                "open"
                if row.get("status") in ("triggered", "acknowledged")
                else markdown_line(str(row.get("status", "")))
            )
            lines.append(
                f"  - {markdown_line(row['ref'])} {_cut(row['title'], 50)} ({state}):"
                f" {markdown_line(', '.join(row.get('did', [])))}"
            )
        if len(draft.worked) > MAX_WORKED:
            lines.append(f"  - +{len(draft.worked) - MAX_WORKED} more")
    else:
        lines.append(f"- Worked by {who}: none (no ack, note or runbook run this shift)")
    if draft.resolved:
        shown = [
            f"{markdown_line(r['ref'])} {_cut(r['title'], 40)}"
            for r in draft.resolved[:MAX_RESOLVED]
        ]
        more = len(draft.resolved) - MAX_RESOLVED
        lines.append("- Resolved: " + "; ".join(shown) + (f"; +{more} more" if more > 0 else ""))
    lines += [f"- {markdown_line(n)}" for n in draft.notable]
    return lines


def render_markdown(
    draft: HandoffDraft,
    status: str = "draft",
    handoff_id: int | None = None,
    zone: tzinfo | None = None,
) -> str:
    to = markdown_line(draft.to_name or draft.to_person) or "(incoming)"
    number = f" #{handoff_id}" if handoff_id is not None else ""
    lines = [f"# Handoff{number}: {markdown_line(draft.from_name or draft.from_person)} → {to}", ""]
    lines.append(
        f"Shift {_stamp(draft, 'shift_start', zone)} → "
        f"{_stamp(draft, 'shift_end', zone)} · "
        f"drafted {_stamp(draft, 'drafted_at', zone)} · {status}"
    )
    # 1. The outgoing engineer's own words, whole (sanitised, not cut): the signed text
    # keeps them.
    lines += ["", "## Notes from the outgoing engineer", ""]
    lines.append(safe(draft.notes, limit=None).strip() or "None written.")
    # 2. What needs action.
    lines += ["", "## Needs action", ""]
    lines += _outbox(draft)
    lines += [f"### Open incidents ({len(draft.open)})", ""]
    if not draft.open:
        lines.append("None.")
    for service, items in group_by_service(draft.open).items():
        lines.append(f"**{markdown_line(service)}** ({len(items)})")
        for item in items:
            lines.append(_line(item))
            lines += _detail_lines(item, draft, zone)
    lines += _section("### Follow-ups owed", [markdown_line(f) for f in draft.followups])
    lines += _section(
        "### Watch list",
        [f"snoozed: {s}" for s in draft.snoozed]
        + [f"flapping: {markdown_line(s)}" for s in draft.flapping]
        + [f"acknowledged but open: {s}" for s in draft.acked_open],
    )
    # 3. The record.
    lines += ["", "## The record", "", "### This shift", ""]
    lines += _shift(draft)
    lines += ["", "### Page load this shift", ""]
    if draft.load:
        lines += [
            "| Person | Pages | Incidents | Business | Off-hours | Sleep |",
            "|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {markdown_line(row['person'])} | {row['pages']} | "
            f"{row['incidents']} | {row['business']} | {row['off_hours']} | "
            f"{row['sleep']} |"
            for row in draft.load
        ]
    else:
        lines.append("No pages.")
    lines += _section("### Next on call", [markdown_line(n) for n in draft.next_oncall])
    lines += _section("### Repeat offenders", [markdown_line(o) for o in draft.offenders])
    return "\n".join(lines) + "\n"
