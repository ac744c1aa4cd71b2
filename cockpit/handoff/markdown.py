"""The handoff as stable Markdown: the same draft always gives the same text.

Anything not yet synced comes first and loudly. Open incidents are one line each, grouped
by service, so 50 of them fit one screen. Every remote string passes through
``safe_line`` and is cut to a width, so a title can neither break the layout nor the terminal:
control, bidi and zero-width characters show as markers (``⟦U+202E⟧``), and no line holds
more than a few hundred characters of a remote string (a 1 MB title is cut, not printed).
"""

from __future__ import annotations

from datetime import timedelta, tzinfo

from cockpit.handoff.draft import HandoffDraft, OpenItem, group_by_service
from cockpit.store.timefmt import as_utc
from cockpit.text import markdown_line, safe, safe_line

TITLE_WIDTH = 60
NOTE_WIDTH = 60
MAX_RESOLVED = 10


def _cut(text: str, width: int) -> str:
    text = safe_line(text).strip()
    text = text if len(text) <= width else text[: width - 1] + "…"
    return markdown_line(text)


def _stamp(draft: HandoffDraft, key: str, zone: tzinfo | None) -> str:
    """In the writer's time zone (the system's unless given), with UTC beside it when that
    differs: the reader may be elsewhere."""
    when = as_utc(getattr(draft, key))
    local = when.astimezone(zone) if zone is not None else when.astimezone()
    text = f"{local:%Y-%m-%d %H:%M} {local.tzname() or 'local'}"
    if local.utcoffset() != timedelta(0):
        text += f" ({when:%H:%M} UTC)"
    return text


def _line(item: OpenItem) -> str:
    status = "ACK" if item.status == "acknowledged" else "TRIGGERED"
    parts = [f"- {markdown_line(item.ref)} {status} {markdown_line(item.urgency)}: "
             f"{_cut(item.title, TITLE_WIDTH)}"]
    holder = markdown_line(item.holder_name or item.holder) or "nobody"
    if item.offered_to:
        holder += f" (offered to {markdown_line(item.offered_to)})"
    parts.append(f"baton {holder}")
    if item.step:
        parts.append(f"step {_cut(item.step, 50)}")
    if item.last_note:
        parts.append(f"note: {_cut(item.last_note, NOTE_WIDTH)}")
    return " · ".join(parts)


def render_markdown(draft: HandoffDraft, status: str = "draft", handoff_id: int | None = None,
                    zone: tzinfo | None = None) -> str:
    to = markdown_line(draft.to_name or draft.to_person) or "(incoming)"
    number = f" #{handoff_id}" if handoff_id is not None else ""
    lines = [f"# Handoff{number}: {markdown_line(draft.from_name or draft.from_person)} → {to}", ""]
    lines.append(f"Shift {_stamp(draft, 'shift_start', zone)} → "
                 f"{_stamp(draft, 'shift_end', zone)} · "
                 f"drafted {_stamp(draft, 'drafted_at', zone)} · {status}")
    lines.append("")
    if draft.outbox:
        failed = sum(1 for o in draft.outbox if o["state"] == "failed")
        lines.append(f"> **NOT SYNCED: {len(draft.outbox)} write(s) still in the outbox"
                     f"{f' ({failed} failed)' if failed else ''}: the paging service has "
                     "NOT seen them.**")
        for item in draft.outbox:
            error = f": {_cut(item['error'], 60)}" if item["error"] else ""
            lines.append(f"> - {item['state']}: {markdown_line(item['action'])} on "
                         f"{markdown_line(item['ref'])}{error}")
        lines.append("")
    lines.append(f"## Open incidents ({len(draft.open)})")
    lines.append("")
    if not draft.open:
        lines.append("None.")
    for service, items in group_by_service(draft.open).items():
        lines.append(f"**{markdown_line(service)}** ({len(items)})")
        lines += [_line(item) for item in items]
    lines += ["", "## This shift", ""]
    c = draft.counts
    lines.append(f"- {c.get('triggered', 0)} triggered, {c.get('acknowledged', 0)} acknowledged,"
                 f" {c.get('resolved', 0)} resolved, {c.get('escalated', 0)} escalated")
    if draft.resolved:
        shown = [f"{markdown_line(r['ref'])} {_cut(r['title'], 40)}"
                 for r in draft.resolved[:MAX_RESOLVED]]
        more = len(draft.resolved) - MAX_RESOLVED
        lines.append("- Resolved: " + "; ".join(shown) + (f"; +{more} more" if more > 0 else ""))
    lines += [f"- {markdown_line(n)}" for n in draft.notable]
    lines += ["", "## Page load this shift", ""]
    if draft.load:
        lines += ["| Person | Pages | Incidents | Business | Off-hours | Sleep |",
                  "|---|---|---|---|---|---|"]
        lines += [f"| {markdown_line(row['person'])} | {row['pages']} | "
                  f"{row['incidents']} | {row['business']} | {row['off_hours']} | "
                  f"{row['sleep']} |" for row in draft.load]
    else:
        lines.append("No pages.")
    for title, entries in (
        ("Watch list", [f"snoozed: {s}" for s in draft.snoozed]
         + [f"flapping: {markdown_line(s)}" for s in draft.flapping]
         + [f"acknowledged but open: {s}" for s in draft.acked_open]),
        ("Follow-ups owed", [markdown_line(f) for f in draft.followups]),
        ("Next on call", [markdown_line(n) for n in draft.next_oncall]),
        ("Repeat offenders", [markdown_line(o) for o in draft.offenders]),
    ):
        lines += ["", f"## {title}", ""]
        lines += [f"- {entry}" for entry in entries] or ["None."]
    if draft.notes.strip():
        # The engineer's own words, whole (sanitised, not cut): the signed text keeps them.
        lines += ["", "## Notes from the outgoing engineer", "",
                  safe(draft.notes, limit=None).strip()]
    return "\n".join(lines) + "\n"
