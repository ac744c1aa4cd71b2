"""One checklist line as rich Text: mark, step text with its links, timer, commands.

Step text is the runbook's Markdown: links show as their text, with the URL under the step
on a line of its own (dimmed, so it can be read and copied over SSH), inline code that is
the step's command is not repeated (the command is on its own ``$`` line, parameters filled
in and shell-quoted, exactly as it is copied and run). Every piece goes through
``safe_line``/``safe`` and into ``Text`` objects: runbook text is never markup.

Given a width, the prose is wrapped here, under a hanging indent, and every command and URL
line is left whole: the step list never wraps (``StepList`` scrolls sideways instead), so a
command is never broken mid-token.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from rich._wrap import divide_line
from rich.text import Text

from cockpit.runbooks.links import CODE, LINK, pieces
from cockpit.runbooks.model import Step
from cockpit.runbooks.params import fill_params
from cockpit.runbooks.render import format_seconds
from cockpit.runbooks.run_view import Item, RunView, timer_left
from cockpit.text import safe, safe_line

_MARK = {"done": ("✓", "green"), "skipped": ("↷", "dim"), "failed": ("✗", "bold red")}


def fill(command: str, values: Mapping[str, str]) -> str:
    """Put parameter values into ``{{name}}`` / ``<region name>`` placeholders, each quoted
    for where it stands in the shell command (``cockpit.runbooks.params``): what is shown,
    copied and run is the same text."""
    return fill_params(command, values)


def step_text(step: Step, style: str = "") -> tuple[Text, bool, list[str]]:
    """The step's prose as Text, whether inline code that is its command was left out, and
    the URLs of its links (shown on lines of their own, never inside the prose)."""
    commands = {command.text.strip() for command in step.commands}
    text = Text()
    dropped = False
    links: list[str] = []
    for piece in pieces(step.text):
        if piece.kind == CODE and piece.text.strip() in commands:
            dropped = True
            continue
        words = safe_line(piece.text)
        if piece.kind == CODE:
            text.append(words, f"{style} green".strip())
        elif piece.kind == LINK:
            if piece.url == piece.text:  # a bare URL: its own line says it whole
                text.append("‹link›", f"{style} underline".strip())
            else:
                text.append(words, f"{style} underline".strip())
            links.append(piece.url)
        else:
            text.append(words, f"{style} bold".strip() if piece.strong else style)
    text.rstrip()
    return text, dropped, list(dict.fromkeys(links))


def wrap(text: Text, width: int, indent: str = "  ") -> Text:
    """``text`` word-wrapped to ``width`` cells, every line after the first under ``indent``;
    a word longer than a line is folded (prose only: commands and URLs never come here)."""
    if width <= len(indent) + 8:
        return text
    lines: list[Text] = []
    for source in text.split(allow_blank=True):
        rest: Text | None = source
        while rest is not None:
            room = width if not lines else width - len(indent)
            offsets = divide_line(rest.plain, room, fold=True)
            if offsets:
                part, rest = rest.divide(offsets[:1])
            else:
                part, rest = rest, None
            part.rstrip()
            lines.append(part if not lines else Text(indent) + part)
    return Text("\n").join(lines)


def item_prompt(
    view: RunView, item: Item, now: datetime, params: Mapping[str, str], width: int = 0
) -> Text:
    """The item's line(s). ``width``: the cells the prose may take (0: no wrapping here)."""
    status = view.status.get(item.id, "")
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
            text.append(f"  ({labels})", "dim")
        _by(text, view, item)
        conflict = view.conflicts.get(item.id)
        if conflict:
            text.append(f"\n  ⚠ {safe_line(conflict)}", "bold yellow")
        return wrap(text, width)
    step = item.step
    assert step is not None
    on_plan = item.id in view.on_plan
    if status:
        mark = _MARK.get(status, ("?", ""))
    elif current:
        mark = ("▶", "bold reverse")
    else:
        mark = ("○", "" if on_plan else "dim")
    text.append(f"{mark[0]} ", mark[1])
    style = "bold" if current else ("dim" if (status in ("done", "skipped") or not on_plan) else "")
    prose, _, links = step_text(step, style)
    lines = [safe(fill(c.text, params)).split("\n") for c in step.commands]
    flat = [line for command in lines for line in command]
    command_style = "dim" if status else "bold green"
    if prose.plain.strip():
        text.append_text(prose)
    elif flat:  # the step is only its command: show it on the step's own line
        text.append("$ ", "dim")
        text.append(flat.pop(0), command_style)
    if step.risky:
        text.append("  RISKY", "bold red")
    if status:
        _by(text, view, item)
    _timer(text, view, step, status, now)
    if width and prose.plain.strip():  # a step that is only its command stays whole
        text = wrap(text, width)
    for line in flat:
        text.append("\n    $ ", "dim")
        text.append(line, command_style)
    for url in links:
        text.append("\n    ‹", "dim")
        text.append(safe_line(url), "dim underline")
        text.append("›", "dim")
    if step.params and current:
        # The values typed for this incident (never another's); "?" is asked on c / x.
        known = ", ".join(f"{safe_line(p)}={safe_line(params.get(p) or '?')}" for p in step.params)
        text.append(f"\n    parameters: {known}", "dim")
    return text


def _by(text: Text, view: RunView, item: Item) -> None:
    """Who did it, when another laptop's team member did (``✓ restart the pods  — bob``)."""
    author = view.by.get(item.id)
    if author:
        text.append(f"  — {safe_line(author)}", "italic")


def _timer(text: Text, view: RunView, step: Step, status: str, now: datetime) -> None:
    if step.timer_seconds is None:
        return
    started = view.timers.get(step.id)
    if started is None:
        text.append(f"  ⏱ {format_seconds(step.timer_seconds)}", "cyan")
    elif status not in ("done", "skipped"):
        left = timer_left(view, step, now)
        label = f"  ⏱ {left // 60}:{left % 60:02d} left" if left > 0 else "  ⏱ DUE"
        text.append(label, "bold cyan" if left > 0 else "bold reverse yellow")


def signature(view: RunView, item: Item, now: datetime, params: Mapping[str, str]) -> tuple:
    """What a prompt depends on: equal signatures give equal prompts, so only the lines
    whose signature changed are rendered again."""
    step = item.step
    timer: object = None
    if (
        step is not None
        and step.id in view.timers
        and view.status.get(step.id) not in ("done", "skipped")
    ):
        timer = max(0, timer_left(view, step, now))
    wanted = tuple(params.get(p, "") for p in step.params) if step is not None else ()
    return (
        view.status.get(item.id, ""),
        item.id == view.current,
        item.id in view.on_plan,
        view.timers.get(item.id),
        timer,
        wanted,
        view.by.get(item.id, ""),
        view.conflicts.get(item.id, ""),
    )
