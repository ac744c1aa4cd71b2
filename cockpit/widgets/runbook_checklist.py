"""The matched runbook as a checklist: the current step is obvious, ticks persist at once.

| Key | Action |
| :- | :- |
| space | Tick the highlighted step (or answer its decision); again on the last tick undoes it |
| s / f | Skip / mark failed (asks why) |
| u | Undo the last tick |
| c | Copy the step's command (asks its parameters first) |
| x | Run the command (shows it, asks to confirm; never in a drill) |
| w | Start the step's timer |
| d | Answer the current decision |
| p | Pick another runbook |
| o | Copy the step's link (asks which of several; OSC 52) and offer to open it |
| r | Enter Rollback by hand (asks for a reason) |
| left / right | Scroll a command too long for the pane |

The footer shows only the keys that act on the highlighted step and the run as they are
(``footer_shows``; every key still works, and says why when it cannot act): no ``c Copy``
on a step without a command, ``w Timer`` only on a step whose timer has not started, ``d
Decide`` while a decision waits, ``u Undo`` when there is a tick to take back. In Rollback
the cursor stays in Rollback (``rollback_cursor``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static
from textual.widgets.option_list import Option, OptionDoesNotExist

from cockpit.runbooks.model import ROLLBACK, VALIDATION, Runbook
from cockpit.runbooks.run_view import ChecklistKey, RunView
from cockpit.text import safe_line
from cockpit.widgets.step_list import StepList
from cockpit.widgets.step_prompt import fill, item_prompt, signature

__all__ = ["RunbookChecklist", "fill", "item_prompt"]

_SECTION_TITLE = {
    "checks": "CHECKS",
    "actions": "ACTIONS",
    "decisions": "DECISION",
    ROLLBACK: "⟲ ROLLBACK",
    VALIDATION: "VALIDATION",
}


class RunbookChecklist(Vertical, can_focus=False):
    BORDER_TITLE = "Runbook"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "space",
            "tick",
            "Tick",
            tooltip="Tick the highlighted step, answer a decision, "
            "or undo it if it was the last tick",
            id="runbook.toggle-step",
        ),
        Binding(
            "s",
            "skip",
            "Skip",
            tooltip="Skip the highlighted step (asks why)",
            id="runbook.skip-step",
        ),
        Binding(
            "f",
            "fail",
            "Failed",
            tooltip="Mark the highlighted step as failed (asks why)",
            id="runbook.fail-step",
        ),
        Binding("u", "undo", "Undo", tooltip="Take back the last tick", id="runbook.undo"),
        Binding(
            "c",
            "copy",
            "Copy",
            tooltip="Copy the step's command (OSC 52, works over SSH); asks its parameters first",
            id="runbook.copy",
        ),
        Binding(
            "x",
            "run_command",
            "Run",
            tooltip="Run the step's command after showing "
            "it and asking; output goes to the timeline (never in a drill)",
            id="runbook.run-command",
        ),
        Binding(
            "w",
            "timer",
            "Timer",
            tooltip="Start the step's timer; notifies when due",
            id="runbook.timer",
        ),
        Binding(
            "d",
            "decide",
            "Decide",
            tooltip="Answer the current decision point",
            id="runbook.decide",
        ),
        Binding(
            "p",
            "pick",
            "Runbook…",
            tooltip="Pick the runbook for this incident",
            id="runbook.pick",
            show=False,
        ),
        Binding(
            "o",
            "link",
            "Link",
            tooltip="Copy the step's link (asks which of several; "
            "OSC 52, works over SSH) and offer to open it where a browser can",
            id="runbook.open-link",
            show=False,
        ),
        Binding(
            "r",
            "rollback",
            "Roll back",
            tooltip="Leave the main path for Rollback (asks first, with a reason)",
            id="runbook.rollback",
        ),
    ]

    class Requested(Message):
        """The user asked for a runbook action; the screen does it (it knows the incident)."""

        def __init__(self, checklist: RunbookChecklist, action: ChecklistKey, item_id: str) -> None:
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
        self._signatures: dict[str, tuple[object, ...]] = {}
        self._layout: list[object] = []
        self._header: Text | None = None
        self._width = 0  # the cells a prompt's prose wraps to; 0 before the first layout
        self._now: datetime | None = None
        self._applies: frozenset[str] = frozenset()

    def compose(self) -> ComposeResult:
        yield Static(id="runbook-header")
        yield StepList(id="runbook-steps")

    @property
    def steps(self) -> StepList:
        return self.query_one("#runbook-steps", StepList)

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
        self._signatures = {}
        self._set_header(message)
        self.border_subtitle = ""
        self.steps.clear_options()
        self.set_class(False, "-rollback")
        self._update_bindings()

    def _set_header(self, header: Text) -> None:
        if header != self._header:  # an unchanged header costs no layout pass
            self._header = header
            self.query_one("#runbook-header", Static).update(header)

    def show(self, view: RunView, reasons: str, now: datetime, *, follow: bool = False) -> None:
        """Render ``view``. The highlight stays on its item unless ``follow`` moves it to the
        current step (after the user's own transition). Only lines whose state changed are
        rendered again, so a tick costs the same on a long runbook as on a short one."""
        view = rollback_cursor(view)
        self.view = view
        self.reasons = reasons
        self._now = now
        self.set_class(view.path == ROLLBACK, "-rollback")
        self._set_header(_header(view, reasons))
        # Progress lives in the border, so a tick repaints a line and lays out nothing.
        done, total = view.progress
        self.border_subtitle = f"{done}/{total}" if view.run is not None else ""
        steps = self.steps
        width = self._prompt_width()
        layout = [id(view.runbook), width, *[item.id for item in view.items]]
        params = self.params
        keep = self.highlighted
        if layout != self._layout:
            options: list[Option | None] = []
            section = ""
            signatures = {}
            for item in view.items:
                if item.section != section:
                    section = item.section
                    options.append(Option(_section_title(section), disabled=True))
                signatures[item.id] = signature(view, item, now, params)
                options.append(Option(item_prompt(view, item, now, params, width), id=item.id))
            steps.set_options(options)
            self._layout = layout
            self._signatures = signatures
        else:
            for item in view.items:
                sig = signature(view, item, now, params)
                if self._signatures.get(item.id) != sig:
                    self._signatures[item.id] = sig
                    steps.set_prompt(item.id, item_prompt(view, item, now, params, width))
        target = view.current if (follow or not keep) and view.current else keep
        if target and target != keep or (target and steps.highlighted is None):
            try:
                steps.highlighted = steps.get_option_index(target)
            except OptionDoesNotExist:
                pass
        self._update_bindings()

    def _prompt_width(self) -> int:
        """The cells a step's prose wraps to: the list's content width less an option's
        padding and a vertical scrollbar's room (counted always, so a scrollbar that comes
        or goes never re-wraps every step)."""
        steps = self.steps
        padding = steps.get_component_styles("option-list--option").padding
        width = steps.size.width - steps.styles.scrollbar_size_vertical - padding.width
        return max(0, width)

    def on_resize(self) -> None:
        self.call_after_refresh(self._rewrap)

    def _rewrap(self) -> None:
        if (
            self.view is not None
            and self._now is not None
            and self._prompt_width() != self._layout_width()
        ):
            self.show(self.view, self.reasons, self._now)

    def _layout_width(self) -> int:
        return int(self._layout[1]) if len(self._layout) > 1 else -1  # type: ignore[call-overload]

    # ------------------------------------------------------------------ keys that apply

    def on_option_list_option_highlighted(self, event: StepList.OptionHighlighted) -> None:
        self._update_bindings()
        # In a narrow terminal the screen scrolls: keep the list, and so the cursor, in view.
        self.steps.scroll_visible(animate=False, immediate=True)

    def _update_bindings(self) -> None:
        """Redraw the footer when the keys that apply changed (not on every move)."""
        applies = self.applies()
        if applies != self._applies:
            self._applies = applies
            self.refresh_bindings()

    def applies(self) -> frozenset[str]:
        """The actions that do something on the highlighted item and the run as they are."""
        view = self.view
        if view is None:
            return frozenset({"pick"})
        found = {"pick"} if view.finished or view.run is None else set()
        if view.last_tick:
            found.add("undo")
        if view.finished:
            return frozenset(found)
        if view.run is not None and view.path != ROLLBACK and view.runbook.steps_of(ROLLBACK):
            found.add("rollback")
        if pending_decision(view) and pending_decision(view) == view.current:
            found.add("decide")
        item = view.item(self.highlighted)
        if item is None:
            return frozenset(found)
        status = view.status.get(item.id, "")
        on_plan = item.id in view.on_plan
        if item.kind == "decision":
            if not status and item.id == pending_decision(view):
                found.add("tick")
            return frozenset(found)
        step = item.step
        assert step is not None
        if on_plan and status in ("", "failed"):
            found |= {"tick", "skip"} | ({"fail"} if not status else set())
            if step.timer_seconds and step.id not in view.timers:
                found.add("timer")
        elif status in ("done", "skipped") and item.id == view.last_tick:
            found.add("tick")  # space takes the last tick back
        if step.command:
            found |= {"copy", "run_command"}
        if self.step_urls():
            found.add("link")
        return frozenset(found)

    def footer_shows(self, action: str) -> bool:
        """Whether the footer shows the key of ``action`` (``cockpit.widgets.footer``)."""
        return action not in _CONTEXT_ACTIONS or action in self._applies

    def tick_timers(self, now: datetime) -> list[str]:
        """Re-draw running timers; returns the step ids whose timer is due (not ticked)."""
        view = self.view
        if view is None or view.finished:
            return []
        due: list[str] = []
        for step_id in view.timers:
            item = view.item(step_id)
            if item is None or item.step is None or view.status.get(step_id) in ("done", "skipped"):
                continue
            sig = signature(view, item, now, self.params)
            if sig != self._signatures.get(step_id):
                self._signatures[step_id] = sig
                self.steps.set_prompt(
                    step_id, item_prompt(view, item, now, self.params, self._prompt_width())
                )
            if sig[4] == 0:
                due.append(step_id)
        return due

    def redraw(self, now: datetime) -> None:
        """Show the same run again (parameters were filled in, the clock moved)."""
        if self.view is not None:
            self.show(self.view, self.reasons, now)

    def step_urls(self) -> list[str]:
        """The links of the highlighted step (its text, then its details), first seen first."""
        from cockpit.runbooks.links import urls

        view = self.view
        item = view.item(self.highlighted) if view is not None else None
        if item is None or item.step is None:
            return []
        found = urls(item.step.text)
        for detail in item.step.details:
            found += urls(detail)
        return list(dict.fromkeys(found))

    def _request(self, action: ChecklistKey) -> None:
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

    def action_rollback(self) -> None:
        self._request("rollback")

    def action_link(self) -> None:
        self._request("link")


_CONTEXT_ACTIONS = frozenset(
    {"tick", "skip", "fail", "undo", "copy", "run_command", "timer", "decide", "rollback", "link"}
)


def pending_decision(view: RunView) -> str:
    """The decision on the run's path that waits for an answer ("" when none)."""
    return next(
        (i for i in view.plan if view.by_id[i].kind == "decision" and i not in view.status), ""
    )


def rollback_cursor(view: RunView) -> RunView:
    """In Rollback the step to do next is Rollback's own: its first step not done yet (the
    last one once all are), never a main-path step left behind when the run turned back.
    The run keeps every step; only where the cursor and the ▶ mark go changes."""
    if view.path != ROLLBACK or view.finished:
        return view
    steps = [item.id for item in view.items if item.section == ROLLBACK and item.kind == "step"]
    if not steps:
        return view
    current = next((i for i in steps if view.status.get(i, "") in ("", "failed")), steps[-1])
    return view if current == view.current else replace(view, current=current)


def _section_title(section: str) -> Text:
    title = _SECTION_TITLE.get(section, section.upper())
    return Text(title, "bold red" if section == ROLLBACK else "bold")


def _header(view: RunView, reasons: str) -> Text:
    runbook: Runbook = view.runbook
    text = Text()
    text.append(safe_line(runbook.title), "bold")
    if view.finished:
        text.append(f"  finished: {view.outcome}", "bold green")
    elif view.run is None:
        text.append("  not started (space ticks the first step)", "dim")
    if view.path == "rollback" and not view.finished:
        text.append("  ⟲ ROLLING BACK", "bold reverse red")
    for conflict in view.conflicts.values():
        text.append("\n⚠ ", "bold yellow")
        text.append(safe_line(conflict), "bold yellow")
    if view.changes:
        text.append("\nrunbook changed: " + ", ".join(view.changes), "yellow")
        text.append("  (progress kept by step id)", "dim")
    if reasons:
        text.append("\nwhy: ", "dim")
        text.append(safe_line(reasons), "dim")
    return text
