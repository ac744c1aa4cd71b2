"""A debrief's suggested edits as a runbook draft: the runbook file with each edit marked where
it applies, written to the drafts folder as the flywheel's draft is, linted, and shown as a
diff against the runbook.

The draft is the runbook's own text with two kinds of additions and nothing else changed
(step texts, and so their ids, stay as they are; a run survives the edit):

- a ``## Notes`` section (read-only context) before the first section, listing every
  suggested edit of the debrief, the wrong branch and slow decisions included;
- under each step an edit is about, a nested item ``Drill #N: ...`` (a detail of the step,
  never a step of its own), so the owner sees it where they will change the text.

A step that is not a list item (a paragraph or a code block, in a real-world layout) and the
decisions (whose nested items must all be branches) get the Notes entry only. The draft
passes lint whenever the runbook did: :func:`draft_from_debrief` reports any finding the
draft has and the runbook has not.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from cockpit.drills.analysis import DrillAnalysis, Edit, edit_list
from cockpit.errors import CockpitError
from cockpit.flywheel.draft import draft_diff, slug, write_draft
from cockpit.metrics.stats import format_seconds
from cockpit.runbooks.lint import lint_runbook
from cockpit.runbooks.model import Finding, Runbook
from cockpit.runbooks.parse import parse_runbook
from cockpit.store.models import Drill
from cockpit.store.timefmt import as_utc, utcnow
from cockpit.text import safe_line

_ITEM = re.compile(r"^( *)([-*+]|\d{1,9}[.)])( +|$)")
_BLOCK_START = re.compile(r"^ {0,3}(#{1,6}(\s|$)|```|~~~|>|[-*+] |\d{1,9}[.)] )")


class DraftError(CockpitError):
    """The draft cannot be made or written; the message says why."""


@dataclass(frozen=True)
class DebriefDraft:
    path: Path
    text: str
    diff: str  # unified diff, runbook -> draft
    findings: tuple[Finding, ...]  # lint findings the draft has and the runbook has not
    edits: int

    @property
    def clean(self) -> bool:
        return not self.findings


def _mark(edit: Edit, number: int, analysis: DrillAnalysis) -> str:
    """The line put under the step: what happened in the drill and what to change."""
    step = next((s for s in analysis.steps if s.step_id == edit.step_id), None)
    reason = step.reason.strip() if step is not None else ""
    why = f" ({safe_line(reason)})" if reason.lower() not in ("", "unclear") else ""
    said = {
        "unclear": f"marked unclear{why}: reword it.",
        "stall": (
            f"stalled for {format_seconds(step.seconds) if step else '?'}: add the "
            "command, link or expected value it needs, or split it."
        ),
        "skipped": f"skipped{why}: make it optional, move it, or drop it.",
        "failed": "failed: check its command and preconditions.",
        "not-reached": "never reached: is it still needed on this path?",
    }
    return f"Drill #{number}: {said.get(edit.kind, safe_line(edit.text))}"


def _item_end(lines: list[str], start: int) -> tuple[int, int] | None:
    """(index after the last line of the list item starting at ``start``, its content
    column), or None when the line is not a list item."""
    item = _ITEM.match(lines[start])
    if item is None:
        return None
    indent = len(item.group(1))
    column = indent + len(item.group(2)) + max(1, len(item.group(3)))
    end = start + 1
    fenced = False
    previous_blank = False
    while end < len(lines):
        line = lines[end]
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")) and len(line) - len(line.lstrip()) >= column:
            fenced = not fenced
        if fenced or not stripped:
            previous_blank = previous_blank or not stripped
            end += 1
            continue
        shift = len(line) - len(line.lstrip(" "))
        if shift < column and (previous_blank or _BLOCK_START.match(line)):
            break  # the next item, a heading, a paragraph after a blank line
        previous_blank = False
        end += 1
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1  # trailing blank lines belong between the items
    return end, column


def render_draft(
    runbook: Runbook,
    source: str,
    drill: Drill,
    analysis: DrillAnalysis,
    today: date,
    participant: str = "",
) -> tuple[str, int]:
    """The draft's text and how many edits it holds (0: nothing to draft)."""
    edits = edit_list(analysis)
    if not edits:
        return source, 0
    number = drill.id or 0
    text = source.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    inserts: dict[int, list[str]] = {}  # insert before this line index
    by_step: dict[str, list[Edit]] = {}
    for edit in edits:
        if edit.step_id and runbook.step(edit.step_id) is not None:
            by_step.setdefault(edit.step_id, []).append(edit)
    for step_id, own in by_step.items():
        step = runbook.step(step_id)
        assert step is not None
        index = step.line - 1
        if not 0 <= index < len(lines):
            continue
        found = _item_end(lines, index)
        if found is None:
            continue  # a paragraph or code-block step: the Notes section says it
        end, column = found
        marks = [" " * column + f"- {_mark(edit, number, analysis)}" for edit in own]
        inserts.setdefault(end, []).extend(marks)
    who = f", {safe_line(participant)}" if participant else ""
    notes = [
        f"Suggested by drill #{number} ({as_utc(drill.started_at).date().isoformat()}"
        f"{who}), drafted {today.isoformat()}; the steps concerned are marked "
        f'"Drill #{number}" below. Edit them, then remove these notes and the marks.',
        "",
    ]
    notes += [f"{n}. {safe_line(edit.text)}" for n, edit in enumerate(edits, 1)]
    sections = [s for s in runbook.sections if s.level > 1]
    level = min((s.level for s in sections), default=2)
    first = next((s for s in sections if s.level == level), None)
    block = ["#" * level + " Notes", "", *notes, ""]
    at = first.line - 1 if first is not None and 0 < first.line <= len(lines) else len(lines)
    if at == len(lines) and lines and lines[-1].strip():
        block.insert(0, "")
    inserts.setdefault(at, [])
    inserts[at] = block + inserts[at]
    out: list[str] = []
    for index, line in enumerate(lines):
        out.extend(inserts.get(index, ()))
        out.append(line)
    out.extend(inserts.get(len(lines), ()))
    return "\n".join(out), len(edits)


def _key(finding: Finding) -> tuple[str, str]:
    return finding.severity, re.sub(r"\bline \d+\b", "line N", finding.message)


def draft_from_debrief(
    runbook: Runbook,
    drill: Drill,
    analysis: DrillAnalysis,
    drafts_dir: Path,
    *,
    participant: str = "",
    clock: Callable[[], datetime] = utcnow,
) -> DebriefDraft:
    """Write the draft of ``runbook`` with the debrief's edits to ``drafts_dir`` (pick it
    with :func:`cockpit.flywheel.draft.drafts_folder`: never the shipped samples).

    Raises:
        DraftError: no suggested edit, the runbook file cannot be read, or the draft
            cannot be written.
    """
    try:
        source = Path(runbook.path).read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        raise DraftError(f"{runbook.path}: cannot read the runbook: {error.strerror}") from None
    text, count = render_draft(
        runbook, source, drill, analysis, as_utc(clock()).date(), participant
    )
    if not count:
        raise DraftError("the debrief suggests no edit: nothing to draft")
    name = f"{slug(runbook.id)}-drill-{drill.id}.md"
    try:
        path = write_draft(drafts_dir, name, text)
    except OSError as error:
        raise DraftError(
            f"{drafts_dir}: cannot write the runbook draft: {error.strerror}"
        ) from None
    before = {_key(f) for f in lint_runbook(parse_runbook(source, runbook.path))}
    after = lint_runbook(parse_runbook(text, str(path)))
    new = tuple(f for f in after if _key(f) not in before)
    diff = draft_diff(source, text, runbook.path, str(path))
    return DebriefDraft(path, text, diff, new, count)
