"""The drill debrief as Markdown: time per step, stalls, skipped/unclear, steps ticked before
their timer ran out, a replay's then and now, suggested edits.

Every remote or runbook string passes through ``safe_line`` and table cells escape ``|``,
so the report is stable text that renders the same on GitHub and in the TUI.
"""

from __future__ import annotations

from cockpit.drills.analysis import DrillAnalysis, StepTiming, suggested_edits
from cockpit.metrics.stats import format_seconds
from cockpit.store.models import Drill
from cockpit.text import safe_line


def _cell(text: str) -> str:
    return safe_line(text).replace("|", "\\|")


def _step_name(step: StepTiming) -> str:
    if step.text:
        return f"{_cell(step.text)} (`{_cell(step.step_id)}`)"
    return f"`{_cell(step.step_id)}`"


def _stamp(drill: Drill) -> str:
    return drill.started_at.strftime("%Y-%m-%d %H:%M UTC")


def then_now_lines(analysis: DrillAnalysis) -> list[str]:
    """A replay: the drill against what really happened, as a Markdown table."""
    compared = analysis.then_now
    if compared is None:
        return []
    stamp = compared.created_at.strftime("%Y-%m-%d %H:%M UTC")
    clock = (
        f"; the drill ran at ×{compared.speed:g}, so its times are on the incident's "
        "clock (wall time in brackets)"
        if compared.speed != 1
        else ""
    )
    lines = [
        "## Then and now",
        "",
        f"Replay of {_cell(compared.label)} {_cell(compared.title)} ({stamp}): times "
        f"from the page{clock}."
        + (f" Then it ran `{_cell(compared.then_runbook)}`." if compared.then_runbook else ""),
        "",
        "| | Then | Now |",
        "|---|---|---|",
    ]
    lines += [
        f"| {_cell(row.what)} | {_cell(row.then)} | {_cell(row.now)} |" for row in compared.rows()
    ]
    notes = compared.footnotes()
    if notes:
        lines += ["", *[safe_line(note) for note in notes]]
    return lines


def render_debrief(
    drill: Drill, analysis: DrillAnalysis, runbook_title: str = "", participant: str = ""
) -> str:
    """``participant``: the participant's name (default: the stored id)."""
    scenario = drill.scenario or {}
    title = runbook_title or drill.runbook_id
    who = participant or drill.participant
    lines = [f"# Drill debrief: {safe_line(title)}", ""]
    lines.append(
        f"- Drill #{drill.id} of `{safe_line(drill.runbook_id)}`, {_stamp(drill)}"
        + (f", by {safe_line(who)}" if who else "")
    )
    if scenario.get("title"):
        lines.append(
            f"- Scenario: {safe_line(str(scenario['title']))} "
            f"({safe_line(str(scenario.get('difficulty', 'medium')))})"
        )
    lines.append(
        f"- Total time: {format_seconds(analysis.total_seconds)}; "
        f"median gap {format_seconds(analysis.median_gap)}; "
        f"stall above {format_seconds(analysis.threshold)}"
    )
    if analysis.expected_branch:
        verdict = "WRONG BRANCH" if analysis.wrong_branch else "as expected"
        lines.append(
            f"- Branch: expected {safe_line(analysis.expected_branch)}, taken "
            f"{safe_line(analysis.taken_branch) or 'none'}: {verdict}"
        )
    if analysis.undos:
        lines.append(f"- Undone ticks: {analysis.undos}")
    lines += ["", "## Time per step", ""]
    if analysis.steps:
        lines += ["| # | Step | Result | Time | Note |", "|---|---|---|---|---|"]
        for number, step in enumerate(analysis.steps, 1):
            notes = []
            if step.hesitation:
                notes.append("stall")
            if step.unclear:
                notes.append("unclear")
            if step.early:
                notes.append(
                    f"early: {format_seconds(step.waited)} of its "
                    f"{format_seconds(step.timer_seconds)} timer"
                )
            if step.reason and not step.unclear:
                notes.append(_cell(step.reason))
            result = f"→ {_cell(step.result)}" if step.kind == "decision" else step.result
            lines.append(
                f"| {number} | {_step_name(step)} | {result} | "
                f"{format_seconds(step.seconds)} | {', '.join(notes)} |"
            )
    else:
        lines.append("No step was ticked.")
    lines += ["", "## Stalls", ""]
    lines += [f"- {_step_name(s)}: {format_seconds(s.seconds)}" for s in analysis.hesitations] or [
        "None."
    ]
    lines += ["", "## Skipped or unclear", ""]
    flagged = [("skipped", s) for s in analysis.skipped] + [
        ("unclear", s) for s in analysis.unclear
    ]
    lines += [
        f"- {what}: {_step_name(s)}" + (f": {safe_line(s.reason)}" if s.reason else "")
        for what, s in flagged
    ] or ["None."]
    if analysis.early:
        lines += ["", "## Ticked before the timer ran out", ""]
        lines += [
            f"- {_step_name(s)}: after {format_seconds(s.waited)} of "
            f"{format_seconds(s.timer_seconds)}"
            for s in analysis.early
        ]
    if analysis.ended_early and analysis.not_reached:
        lines += ["", "## Not reached (the drill ended early)", ""]
        lines += [f"- `{_cell(step_id)}`" for step_id in analysis.not_reached]
    if analysis.then_now is not None:
        lines += ["", *then_now_lines(analysis)]
    lines += ["", "## Suggested edits for the runbook", ""]
    edits = suggested_edits(analysis)
    lines += [f"{n}. {safe_line(edit)}" for n, edit in enumerate(edits, 1)] or ["None."]
    return "\n".join(lines) + "\n"
