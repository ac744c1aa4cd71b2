"""The matched runbook as a checklist: the current step is obvious, ticks persist at once.

| Key | Action |
| :- | :- |
| space | Tick the highlighted step (or answer its decision); again on the last tick undoes it |
| s / f | Skip / mark failed |
| u | Undo the last tick |
| c | Copy the step's command (asks its parameters first) |
| x | Run the command (shows it, asks to confirm; never in a drill) |
| w | Start the step's timer |
| d | Answer the current decision |
| p | Pick another runbook |
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option, OptionDoesNotExist

from cockpit.runbooks.model import ROLLBACK, VALIDATION, Runbook
from cockpit.runbooks.render import format_seconds
from cockpit.runbooks.runs_store import Item, RunView
from cockpit.text import safe, safe_line

_MARK = {"done": ("✓", "green"), "skipped": ("↷", "dim"), "failed": ("✗", "red")}
_SECTION_TITLE = {"checks": "CHECKS", "actions": "ACTIONS", "decisions": "DECISION",
                  ROLLBACK: "⟲ ROLLBACK", VALIDATION: "VALIDATION"}
_PARAM = re.compile(r"\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}|<([A-Za-z0-9_.-]+)>")


def fill(command: str, values: dict[str, str]) -> str:
    """Put parameter values into ``{{name}}`` / ``<name>`` placeholders."""

    def swap(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return values.get(name, match.group(0))

    return _PARAM.sub(swap, command)


def item_prompt(view: RunView, item: Item, now: datetime, params: dict[str, str]) -> Text:
    status = view.status.get(item.id, "")
    on_plan = item.id in view.on_plan
    current = item.id == view.current
    text = Text()
    if item.kind == "decision" and item.decision is not None:
        mark = ("◆", "bold yellow") if current else (("✓", "green") if status else ("◇", "dim"))
        text.append(f"{mark[0]} ", mark[1])
        text.append(safe_line(item.decision.question), "bold" if current else "")
        if status:
            text.append(f"  → {safe_line(status)}", "bold")
        else:
            labels = " / ".join(safe_line(b.label) for b in item.decision.branches)
            text.append(f"  [{labels}]", "dim")
        return text
    step = item.step
    assert step is not None
    if status:
        mark = _MARK[status]
    elif current:
        mark = ("▶", "bold reverse")
    else:
        mark = ("○", "" if on_plan else "dim")
    text.append(f"{mark[0]} ", mark[1])
    style = "bold" if current else ("dim" if (status or not on_plan) else "")
    text.append(safe_line(step.text), style)
    if step.risky:
        text.append("  RISKY", "bold red")
    if step.timer_seconds is not None:
        started = view.timers.get(step.id)
        if started is None:
            text.append(f"  ⏱ {format_seconds(step.timer_seconds)}", "cyan")
        elif not status:
            left = step.timer_seconds - int((now - started).total_seconds())
            label = f"  ⏱ {left // 60}:{left % 60:02d} left" if left > 0 else "  ⏱ DUE"
            text.append(label, "bold cyan" if left > 0 else "bold reverse yellow")
    for command in step.commands:
        for line in safe(fill(command.text, params)).split("\n"):
            text.append("\n    $ ", "dim")
            text.append(line, "dim" if status else "bold green")
    if step.params and current:
        text.append("\n    parameters: " + ", ".join(safe_line(p) for p in step.params), "dim")
    return text


class RunbookChecklist(Vertical, can_focus=False):
    BORDER_TITLE = "Runbook"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "tick", "Tick", tooltip="Tick the highlighted step, answer a decision, "
                "or undo it if it was the last tick", id="runbook.toggle-step"),
        Binding("s", "skip", "Skip", tooltip="Skip the highlighted step", id="runbook.skip-step"),
        Binding("f", "fail", "Failed", tooltip="Mark the highlighted step as failed",
                id="runbook.fail-step"),
        Binding("u", "undo", "Undo", tooltip="Take back the last tick", id="runbook.undo"),
        Binding("c", "copy", "Copy cmd", tooltip="Copy the step's command (OSC 52, works over "
                "SSH); asks its parameters first", id="runbook.copy"),
        Binding("x", "run_command", "Run cmd", tooltip="Run the step's command after showing "
                "it and asking; output goes to the timeline (never in a drill)",
                id="runbook.run-command"),
        Binding("w", "timer", "Timer", tooltip="Start the step's timer; notifies when due",
                id="runbook.timer"),
        Binding("d", "decide", "Decide", tooltip="Answer the current decision point",
                id="runbook.decide"),
        Binding("p", "pick", "Runbook…", tooltip="Pick the runbook for this incident",
                id="runbook.pick"),
    ]

    class Requested(Message):
        """The user asked for a runbook action; the screen does it (it knows the incident)."""

        def __init__(self, checklist: RunbookChecklist, action: str, item_id: str) -> None:
            super().__init__()
            self.checklist = checklist
            self.action = action
            self.item_id = item_id

        @property
        def control(self) -> RunbookChecklist:
            return self.checklist

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.view: RunView | None = None
        self.reasons = ""
        self.params: dict[str, str] = {}
        self._prompts: dict[str, Text] = {}
        self._layout: list[str] = []

    def compose(self) -> ComposeResult:
        yield Static(id="runbook-header")
        yield OptionList(id="runbook-steps")

    @property
    def steps(self) -> OptionList:
        return self.query_one("#runbook-steps", OptionList)

    def focus_steps(self) -> None:
        self.steps.focus()

    @property
    def highlighted(self) -> str:
        steps = self.steps
        if steps.highlighted is None:
            return ""
        return steps.get_option_at_index(steps.highlighted).id or ""

    def show_empty(self, message: Text) -> None:
        self.view = None
        self._layout = []
        self._prompts = {}
        self.query_one("#runbook-header", Static).update(message)
        self.steps.clear_options()
        self.set_class(False, "-rollback")

    def show(self, view: RunView, reasons: str, now: datetime, *, follow: bool = False) -> None:
        """Render ``view``. The highlight stays on its item unless ``follow`` moves it to the
        current step (after the user's own transition)."""
        self.view = view
        self.reasons = reasons
        self.set_class(view.path == "rollback", "-rollback")
        self.query_one("#runbook-header", Static).update(_header(view, reasons))
        steps = self.steps
        layout = _layout_ids(view)
        prompts = {item.id: item_prompt(view, item, now, self.params) for item in view.items}
        keep = self.highlighted
        if layout != self._layout:
            options: list[Option | None] = []
            section = ""
            for item in view.items:
                if item.section != section:
                    section = item.section
                    options.append(Option(_section_title(section), disabled=True))
                options.append(Option(prompts[item.id], id=item.id))
            steps.set_options(options)
            self._layout = layout
        else:
            for item_id, prompt in prompts.items():
                if self._prompts.get(item_id) != prompt:
                    steps.replace_option_prompt(item_id, prompt)
        self._prompts = prompts
        target = view.current if (follow or not keep) and view.current else keep
        if target:
            try:
                steps.highlighted = steps.get_option_index(target)
            except OptionDoesNotExist:
                pass

    def tick_timers(self, now: datetime) -> list[str]:
        """Re-draw running timers; returns the step ids whose timer just became due."""
        view = self.view
        if view is None:
            return []
        due: list[str] = []
        for step_id, started in view.timers.items():
            item = view.item(step_id)
            if item is None or item.step is None or view.status.get(step_id):
                continue
            prompt = item_prompt(view, item, now, self.params)
            if prompt != self._prompts.get(step_id):
                self._prompts[step_id] = prompt
                self.steps.replace_option_prompt(step_id, prompt)
            seconds = item.step.timer_seconds or 0
            if (now - started).total_seconds() >= seconds:
                due.append(step_id)
        return due

    def _request(self, action: str) -> None:
        if self.view is None and action != "pick":
            self.app.notify("No runbook here yet: press p to pick one.", severity="warning")
            return
        self.post_message(self.Requested(self, action, self.highlighted))

    def action_tick(self) -> None:
        self._request("tick")

    def action_skip(self) -> None:
        self._request("skip")

    def action_fail(self) -> None:
        self._request("fail")

    def action_undo(self) -> None:
        self._request("undo")

    def action_copy(self) -> None:
        self._request("copy")

    def action_run_command(self) -> None:
        self._request("run")

    def action_timer(self) -> None:
        self._request("timer")

    def action_decide(self) -> None:
        self._request("decide")

    def action_pick(self) -> None:
        self._request("pick")


def _layout_ids(view: RunView) -> list[str]:
    return [view.runbook.path, *[item.id for item in view.items]]


def _section_title(section: str) -> Text:
    title = _SECTION_TITLE.get(section, section.upper())
    return Text(title, "bold red" if section == ROLLBACK else "bold")


def _header(view: RunView, reasons: str) -> Text:
    runbook: Runbook = view.runbook
    text = Text()
    text.append(safe_line(runbook.title), "bold")
    done, total = view.progress
    if view.finished:
        text.append(f"  finished: {view.outcome}", "bold green")
    elif view.run is None:
        text.append("  not started (space ticks the first step)", "dim")
    else:
        text.append(f"  {done}/{total}", "bold")
    if view.path == "rollback" and not view.finished:
        text.append("  ⟲ ROLLING BACK", "bold reverse red")
    if view.changed:
        text.append("\nthe runbook file changed since this run started; ids kept", "yellow")
    if reasons:
        text.append("\nwhy: ", "dim")
        text.append(safe_line(reasons), "dim")
    return text
