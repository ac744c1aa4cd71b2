"""The drill debrief: time per step, stalls, skipped and unclear steps, steps ticked before
their timer ran out, the branch taken against the scenario's, a replay's then and now, and
the edits the runbook could use. ``m`` saves the Markdown report (the same text ``cockpit
drill report`` prints); ``e`` turns the suggested edits into a runbook draft in the drafts
folder (as the flywheel's draft) and shows it as a diff against the runbook.

| Key | Action |
| :- | :- |
| m | Save the Markdown report (asks the path) |
| e | Draft the suggested edits into a copy of the runbook in drafts/, show the diff |
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
from cockpit.errors import CockpitError
from cockpit.metrics.stats import format_seconds
from cockpit.runbooks.links import plain
from cockpit.runbooks.model import Runbook
from cockpit.screens.host import host_of
from cockpit.store.models import Drill
from cockpit.text import safe_line
from cockpit.widgets.footer import KeyFooter


def summary_text(drill: Drill, analysis: DrillAnalysis, title: str, participant: str = "") -> Text:
    """``participant``: the participant's name (default: the stored id)."""
    scenario = drill.scenario or {}
    text = Text("Drill debrief: ", "bold")
    text.append(safe_line(title or drill.runbook_id), "bold")
    text.append(f"\nDrill #{drill.id} of {safe_line(drill.runbook_id)}", "dim")
    who = participant or drill.participant
    if who:
        text.append(f" by {safe_line(who)}", "dim")
    if scenario.get("title"):
        text.append(
            f"\nScenario: {safe_line(str(scenario['title']))} "
            f"({safe_line(str(scenario.get('difficulty', 'medium')))})"
        )
    text.append(f"\nTotal {format_seconds(analysis.total_seconds)}", "bold")
    text.append(
        f" · median gap {format_seconds(analysis.median_gap)} · stall above "
        f"{format_seconds(analysis.threshold)} · {len(analysis.hesitations)} stall(s) · "
        f"{len(analysis.skipped)} skipped · {len(analysis.unclear)} unclear"
    )
    if analysis.undos:
        text.append(f" · {analysis.undos} undone")
    if analysis.early:
        text.append(f" · {len(analysis.early)} ticked before the timer", "yellow")
    if analysis.ended_early and analysis.not_reached:
        text.append(
            f"\nEnded early: {len(analysis.not_reached)} step(s) not reached (no edit "
            "suggested for them)",
            "dim",
        )
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
    table = Table(
        title="Time per step",
        title_justify="left",
        title_style="bold",
        box=None,
        pad_edge=False,
        expand=True,
    )
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("step", ratio=1, overflow="ellipsis", no_wrap=True)
    table.add_column("result", no_wrap=True)
    table.add_column("time", justify="right", no_wrap=True)
    table.add_column("note", no_wrap=True)
    for number, step in enumerate(analysis.steps, 1):
        name = Text(safe_line(plain(step.text)) if step.text else safe_line(step.step_id))
        result = (
            Text(f"→ {safe_line(step.result)}", "bold")
            if step.kind == "decision"
            else Text(step.result, {"skipped": "yellow", "failed": "red"}.get(step.result, "green"))
        )
        notes = Text()
        if step.hesitation:
            notes.append("STALL ", "bold red")
        if step.unclear:
            notes.append("UNCLEAR ", "bold yellow")
        if step.early:
            notes.append(
                f"EARLY {format_seconds(step.waited)}/{format_seconds(step.timer_seconds)} ",
                "bold yellow",
            )
        if step.reason and not step.unclear:
            notes.append(safe_line(step.reason)[:40], "dim")
        time = Text(format_seconds(step.seconds), "bold red" if step.hesitation else "")
        table.add_row(str(number), name, result, time, notes)
    if not analysis.steps:
        table.add_row("", Text("No step was ticked.", "dim"), "", "", "")
    return table


def then_now_table(analysis: DrillAnalysis) -> Table | None:
    """A replay: the drill against what really happened."""
    compared = analysis.then_now
    if compared is None:
        return None
    clock = f" (the incident's clock; ×{compared.speed:g})" if compared.speed != 1 else ""
    table = Table(
        title=f"Then and now: {safe_line(compared.label)} {safe_line(compared.title)[:60]}{clock}",
        title_justify="left",
        title_style="bold",
        box=None,
        pad_edge=False,
        expand=True,
        caption=" ".join(safe_line(n) for n in compared.footnotes()) or None,
        caption_justify="left",
        caption_style="dim",
    )
    table.add_column("", ratio=3, overflow="ellipsis", no_wrap=True)
    table.add_column("then", ratio=2, overflow="ellipsis", no_wrap=True)
    table.add_column("now", ratio=2, overflow="ellipsis", no_wrap=True)
    for row in compared.rows():
        table.add_row(
            Text(safe_line(row.what)), Text(safe_line(row.then)), Text(safe_line(row.now), "bold")
        )
    return table


def diff_text(diff: str, limit: int = 200) -> Text:
    """A unified diff, additions green and removals red; cut at ``limit`` lines."""
    text = Text()
    lines = diff.splitlines()
    for line in lines[:limit]:
        style = (
            "bold"
            if line.startswith(("+++", "---"))
            else "green"
            if line.startswith("+")
            else "red"
            if line.startswith("-")
            else "cyan"
            if line.startswith("@@")
            else "dim"
        )
        text.append(safe_line(line, limit=400) + "\n", style)
    if len(lines) > limit:
        text.append(f"… {len(lines) - limit} more line(s) in the draft file\n", "dim")
    return text


def edits_text(analysis: DrillAnalysis) -> Text:
    text = Text("Suggested edits for the runbook", "bold")
    edits = suggested_edits(analysis)
    if not edits and analysis.ended_early:
        text.append("\nNone from the steps reached (the drill ended early).", "dim")
    elif not edits:
        text.append("\nNone: the runbook read clearly in this drill.", "green")
    for number, edit in enumerate(edits, 1):
        text.append(f"\n{number}. {safe_line(edit)}")
    if edits:
        text.append("\ne: draft these edits into a copy of the runbook (drafts/)", "dim")
    return text


class DebriefScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close", tooltip="Close the debrief", id="debrief.close"),
        Binding(
            "m",
            "save",
            "Save report…",
            tooltip="Save the debrief as Markdown (asks the path)",
            id="debrief.save",
        ),
        Binding(
            "e",
            "draft",
            "Draft edits",
            tooltip="Write the suggested edits into a copy "
            "of the runbook in the drafts folder and show the diff",
            id="debrief.draft",
        ),
    ]

    def __init__(
        self,
        drill: Drill,
        analysis: DrillAnalysis,
        runbook_title: str = "",
        *,
        participant: str = "",
        runbook: Runbook | None = None,
    ) -> None:
        super().__init__()
        self.drill = drill
        self.analysis = analysis
        self.runbook_title = runbook_title
        self.participant = participant
        self.runbook = runbook
        self.saved_to: Path | None = None
        self.draft_path: Path | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="debrief", can_focus=True):
            yield Static(
                summary_text(self.drill, self.analysis, self.runbook_title, self.participant),
                id="debrief-summary",
            )
            yield Static(steps_table(self.analysis), id="debrief-steps")
            compared = then_now_table(self.analysis)
            if compared is not None:
                yield Static(compared, id="debrief-then-now")
            yield Static(edits_text(self.analysis), id="debrief-edits")
            yield Static(id="debrief-draft")
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

        self.app.push_screen(
            InputDialog(
                "Save the debrief",
                Text("Write the report to:"),
                value=default,
                check=check_not_empty,
            ),
            chosen,
        )

    def action_draft(self) -> None:
        from cockpit.drills.draft import draft_from_debrief
        from cockpit.flywheel.draft import drafts_folder

        app = host_of(self)
        if self.runbook is None:
            self.notify(
                "The runbook of this drill is not loaded: `cockpit drill draft "
                f"{self.drill.id}` drafts it from the shell.",
                severity="warning",
            )
            return
        try:
            draft = draft_from_debrief(
                self.runbook,
                self.drill,
                self.analysis,
                drafts_folder(app.settings),
                participant=self.participant,
                clock=app.clock,
            )
        except CockpitError as error:
            self.notify(str(error), title="No runbook draft", severity="warning")
            return
        self.draft_path = draft.path
        head = Text("Runbook draft ", "bold")
        head.append(safe_line(str(draft.path)), "bold")
        head.append(f"\n{draft.edits} edit(s) marked; lint: ")
        if draft.clean:
            head.append("clean", "green")
        else:
            head.append("; ".join(safe_line(str(f)) for f in draft.findings[:3]), "red")
        head.append("\nThe diff against the runbook:\n", "dim")
        head.append_text(diff_text(draft.diff))
        pane = self.query_one("#debrief-draft", Static)
        pane.update(head)
        self.call_after_refresh(pane.scroll_visible, animate=False, top=True)
        self.notify(
            f"Runbook draft written: {safe_line(str(draft.path))}", title="Draft", timeout=8
        )

    def action_close(self) -> None:
        self.dismiss(None)
