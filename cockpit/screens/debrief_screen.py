"""The drill debrief: time per step, stalls, skipped and unclear steps, the branch taken
against the scenario's, and the edits the runbook could use. ``m`` saves the Markdown report
(the same text ``cockpit drill report`` prints).

| Key | Action |
| :- | :- |
| m | Save the Markdown report (asks the path) |
| escape | Close |
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from cockpit.drills.analysis import DrillAnalysis, suggested_edits
from cockpit.metrics.stats import format_seconds
from cockpit.store.models import Drill
from cockpit.text import safe_line
from cockpit.widgets.footer import KeyFooter


def summary_text(drill: Drill, analysis: DrillAnalysis, title: str) -> Text:
    scenario = drill.scenario or {}
    text = Text("Drill debrief: ", "bold")
    text.append(safe_line(title or drill.runbook_id), "bold")
    text.append(f"\nDrill #{drill.id} of {safe_line(drill.runbook_id)}", "dim")
    if drill.participant:
        text.append(f" by {safe_line(drill.participant)}", "dim")
    if scenario.get("title"):
        text.append(f"\nScenario: {safe_line(str(scenario['title']))} "
                    f"({safe_line(str(scenario.get('difficulty', 'medium')))})")
    text.append(f"\nTotal {format_seconds(analysis.total_seconds)}", "bold")
    text.append(f" · median gap {format_seconds(analysis.median_gap)} · stall above "
                f"{format_seconds(analysis.threshold)} · {len(analysis.hesitations)} stall(s) · "
                f"{len(analysis.skipped)} skipped · {len(analysis.unclear)} unclear")
    if analysis.undos:
        text.append(f" · {analysis.undos} undone")
    if analysis.expected_branch:
        text.append("\nBranch: expected ")
        text.append(safe_line(analysis.expected_branch), "bold")
        text.append(", taken ")
        text.append(safe_line(analysis.taken_branch) or "none", "bold")
        if analysis.wrong_branch:
            text.append("  WRONG BRANCH", "bold reverse red")
        else:
            text.append("  as expected", "green")
    return text


def steps_table(analysis: DrillAnalysis) -> Table:
    table = Table(title="Time per step", title_justify="left", title_style="bold",
                  box=None, pad_edge=False, expand=True)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("step", ratio=1, overflow="ellipsis", no_wrap=True)
    table.add_column("result", no_wrap=True)
    table.add_column("time", justify="right", no_wrap=True)
    table.add_column("note", no_wrap=True)
    for number, step in enumerate(analysis.steps, 1):
        name = Text(safe_line(step.text) if step.text else safe_line(step.step_id))
        result = (Text(f"→ {safe_line(step.result)}", "bold") if step.kind == "decision"
                  else Text(step.result, {"skipped": "yellow", "failed": "red"}.get(
                      step.result, "green")))
        notes = Text()
        if step.hesitation:
            notes.append("STALL ", "bold red")
        if step.unclear:
            notes.append("UNCLEAR ", "bold yellow")
        if step.reason and not step.unclear:
            notes.append(safe_line(step.reason)[:40], "dim")
        time = Text(format_seconds(step.seconds), "bold red" if step.hesitation else "")
        table.add_row(str(number), name, result, time, notes)
    if not analysis.steps:
        table.add_row("", Text("No step was ticked.", "dim"), "", "", "")
    return table


def edits_text(analysis: DrillAnalysis) -> Text:
    text = Text("Suggested edits for the runbook", "bold")
    edits = suggested_edits(analysis)
    if not edits:
        text.append("\nNone: the runbook read clearly in this drill.", "green")
    for number, edit in enumerate(edits, 1):
        text.append(f"\n{number}. {safe_line(edit)}")
    return text


class DebriefScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close", tooltip="Close the debrief", id="debrief.close"),
        Binding("m", "save", "Save report…", tooltip="Save the debrief as Markdown (asks the "
                "path)", id="debrief.save"),
    ]

    def __init__(self, drill: Drill, analysis: DrillAnalysis, runbook_title: str = "") -> None:
        super().__init__()
        self.drill = drill
        self.analysis = analysis
        self.runbook_title = runbook_title
        self.saved_to: Path | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="debrief", can_focus=True):
            yield Static(summary_text(self.drill, self.analysis, self.runbook_title),
                         id="debrief-summary")
            yield Static(steps_table(self.analysis), id="debrief-steps")
            yield Static(edits_text(self.analysis), id="debrief-edits")
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        pane = self.query_one("#debrief")
        pane.border_title = f"Drill #{self.drill.id} debrief (m: save the report)"
        pane.focus()

    def action_save(self) -> None:
        from cockpit.screens.input_dialog import InputDialog, check_not_empty

        default = str(Path.cwd() / f"drill-{self.drill.id}-{self.drill.runbook_id}.md")

        def chosen(path: str | None) -> None:
            if not path:
                return
            target = Path(path.strip()).expanduser()
            try:
                target.write_text(self.drill.report_md, encoding="utf-8")
            except OSError as error:
                self.notify(f"{target}: cannot write: {error.strerror}", severity="error")
                return
            self.saved_to = target
            self.notify(f"Debrief written to {safe_line(str(target))}", timeout=6)

        self.app.push_screen(InputDialog("Save the debrief", Text("Write the report to:"),
                                         value=default, check=check_not_empty), chosen)

    def action_close(self) -> None:
        self.dismiss(None)
