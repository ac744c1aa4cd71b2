"""The checklist as plain text lines, as ``cockpit runbook show`` prints it.

All runbook text goes through :func:`cockpit.text.safe_line` here: the model keeps it raw.
"""

from __future__ import annotations

from cockpit.durations import compact as format_seconds
from cockpit.runbooks.model import Runbook, Section, Step
from cockpit.text import count, safe, safe_line

_INDENT = " " * 8


def _step_lines(number: int, step: Step) -> list[str]:
    marks = []
    if step.risky:
        marks.append("RISKY: confirm first")
    if step.timer_seconds is not None:
        marks.append(f"timer {format_seconds(step.timer_seconds)}")
    suffix = f"  ({'; '.join(marks)})" if marks else ""
    lines = [f"  {number}. [ ] {safe_line(step.text)}{suffix}"]
    lines.append(f"{_INDENT}id: {safe_line(step.id)}")
    for detail in step.details:
        if detail.strip():
            lines.append(f"{_INDENT}- {safe_line(detail)}")
    if step.params:
        lines.append(f"{_INDENT}parameters: {', '.join(safe_line(p) for p in step.params)}")
    for command in step.commands:
        for line in safe(command.text).split("\n"):
            lines.append(f"{_INDENT}  {line}")
    return lines


def _section_lines(runbook: Runbook, section: Section) -> list[str]:
    lines = [f"## {safe_line(section.title)}  [{section.kind}]"]
    for number, step in enumerate(section.steps, start=1):
        lines += _step_lines(number, step)
    for decision in section.decisions:
        lines.append(f"  ? {safe_line(decision.question)}")
        lines.append(f"{_INDENT}id: {safe_line(decision.id)}")
        for branch in decision.branches:
            if branch.target_section is None:
                where = f"NOWHERE ({safe_line(branch.target) or 'no target'})"
            else:
                target = runbook.sections[branch.target_section]
                where = safe_line(target.title)
                if branch.target_step:
                    where += f", step {safe_line(branch.target_step)}"
            lines.append(f"{_INDENT}{safe_line(branch.label)} -> {where}")
    if not section.steps and not section.decisions and section.text.strip():
        for paragraph in section.text.strip().split("\n\n")[:3]:
            lines.append(f"    {safe_line(paragraph)[:300]}")
    return lines


def render_checklist(runbook: Runbook) -> list[str]:
    """Header, then every section with its numbered steps, commands and decisions."""
    lines = [f"{safe_line(runbook.title)}  (id: {safe_line(runbook.id)})"]
    details = [f"file: {safe_line(runbook.path)}"]
    if runbook.owner:
        details.append(f"owner: {safe_line(runbook.owner)}")
    if runbook.services:
        details.append("services: " + ", ".join(safe_line(s) for s in runbook.services))
    lines.append("   ".join(details))
    total = len(runbook.steps)
    risky = sum(1 for step in runbook.steps if step.risky)
    lines.append(
        f"{count(total, 'step')}, {count(len(runbook.decisions), 'decision')}, {risky} risky"
    )
    for section in runbook.sections:
        lines.append("")
        lines += _section_lines(runbook, section)
    if not runbook.steps:
        lines += ["", "(no steps: nothing to tick in this runbook)"]
    return lines
