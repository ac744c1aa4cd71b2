"""From markdown-it's flat token stream to steps and decisions of one section.

Ids are not given here (see ``cockpit.runbooks.resolve``): they depend on the whole file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from markdown_it.token import Token

from cockpit.runbooks import syntax
from cockpit.runbooks.model import (
    DECISIONS,
    STEP_KINDS,
    WARNING,
    Branch,
    Command,
    Decision,
    Finding,
    Step,
)

_LISTS = ("bullet_list_open", "ordered_list_open")
_CODE = ("fence", "code_block")


@dataclass
class Node:
    token: Token
    line: int
    children: list[Node] = field(default_factory=list)


def tree(tokens: list[Token]) -> list[Node]:
    """Nest the flat stream: each ``*_open`` token holds what comes before its ``*_close``."""
    root = Node(Token("root", "", 1), 1)
    stack = [root]
    for token in tokens:
        parent = stack[-1]
        line = token.map[0] + 1 if token.map else parent.line
        if token.nesting == 1:
            node = Node(token, line)
            parent.children.append(node)
            stack.append(node)
        elif token.nesting == -1:
            if len(stack) > 1:
                stack.pop()
        else:
            parent.children.append(Node(token, line))
    return root.children


def _inline(node: Node) -> str:
    return next((c.token.content for c in node.children if c.token.type == "inline"), "")


def _command(node: Node) -> Command | None:
    info = (node.token.info or "").strip().split()
    lang = info[0].lower() if info else ""
    code = node.token.content
    text = syntax.strip_prompts(code, lang) if syntax.is_shell(lang) else code.rstrip("\n")
    if not text.strip():
        return None
    return Command(text, lang, node.line + 1)


def _make_step(
    kind: str, text: str, line: int, commands: list[Command], details: list[str]
) -> Step:
    text, explicit = syntax.split_explicit_id(text.strip())
    if not commands:
        commands = [Command(c, "", line) for c in syntax.inline_commands(text)]
    return Step(
        id=explicit,
        section=kind,
        text=text,
        line=line,
        commands=tuple(commands),
        timer_seconds=syntax.timer_seconds(text),
        risky=syntax.is_risky(text),
        params=syntax.params_of([c.text for c in commands]),
        explicit_id=bool(explicit),
        details=tuple(details),
    )


def _fence_step_text(paragraph: str, command: Command) -> str:
    text = " ".join(paragraph.split())
    if len(text) > 160:
        sentences = [s for s in text.rstrip(".").split(". ") if s.strip()]
        text = sentences[-1] if sentences else text
    if len(text) > 160:
        text = text[:157].rsplit(" ", 1)[0] + "..."
    if not text:
        first = command.text.strip().splitlines()[0] if command.text.strip() else "command"
        text = f"Run `{first[:80]}`"
    return text


@dataclass
class _Builder:
    kind: str
    path: str
    findings: list[Finding]
    steps: list[Step] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)

    def item(self, item: Node) -> None:
        text: str | None = None
        commands: list[Command] = []
        details: list[str] = []
        nested: list[Node] = []
        for child in item.children:
            kind = child.token.type
            if kind == "paragraph_open":
                content = _inline(child)
                if text is None:
                    text = content
                else:
                    details.append(content)
            elif kind in _CODE:
                command = _command(child)
                if command:
                    commands.append(command)
            elif kind in _LISTS:
                nested.extend(c for c in child.children if c.token.type == "list_item_open")
        text, ticked = syntax.split_checkbox(text or "")
        if self._decision(item, text, nested):
            return
        own_steps: list[Node] = []
        for sub in nested:
            sub_text = _inline(sub.children[0]) if sub.children else ""
            if syntax.split_checkbox(sub_text)[1] is not None:
                own_steps.append(sub)
                continue
            details.append(sub_text)
            for node in _walk(sub):
                if node.token.type in _CODE:
                    command = _command(node)
                    if command:
                        commands.append(command)
        if text.strip() or commands:
            if not text.strip():
                text = _fence_step_text("", commands[0])
            self.steps.append(_make_step(self.kind, text, item.line, commands, details))
        for sub in own_steps:
            self.item(sub)

    def _decision(self, item: Node, text: str, nested: list[Node]) -> bool:
        question = syntax.split_explicit_id(text.strip())[0].rstrip("*_ ")
        if not nested:
            if self.kind == DECISIONS and question:
                self.findings.append(
                    Finding(
                        self.path,
                        item.line,
                        WARNING,
                        f"decision {question[:60]!r} has no branches (nested `yes: ...` items)",
                    )
                )
            return False
        branches = []
        for sub in nested:
            sub_text = _inline(sub.children[0]) if sub.children else ""
            split = syntax.split_branch(sub_text)
            if split is not None:
                branches.append(Branch(split[0], split[1], _target(split[1]), sub.line))
        if self.kind == DECISIONS:
            wanted = bool(branches)
        else:
            wanted = question.endswith("?") and len(branches) >= 2 and len(branches) == len(nested)
        if not wanted:
            return False
        text, explicit = syntax.split_explicit_id(text.strip())
        self.decisions.append(Decision(explicit, text, item.line, -1, tuple(branches)))
        return True


def _walk(node: Node) -> list[Node]:
    found = [node]
    for child in node.children:
        found.extend(_walk(child))
    return found


def _target(text: str) -> str:
    """What a branch points at: a link's href, else its words without "go to"."""
    link = re.search(r"\[[^\]]*\]\(\s*<?([^)\s>]*)>?[^)]*\)", text)
    if link:
        return link.group(1)
    words = re.sub(
        r"^(go\s+to|goto|continue\s+(with|to|at)|jump\s+to|see|->|\u2192)\s*",
        "",
        text.strip(),
        flags=re.IGNORECASE,
    )
    return words.strip(" `*_.")


def build_steps(
    body: list[Node], kind: str, path: str, findings: list[Finding]
) -> tuple[list[Step], list[Decision], str]:
    """Steps, decisions and prose of one section's top-level nodes.

    List items are steps. A code block right after a list attaches to the list's last
    step when it has no command; any other code block is a step of its own, named by the
    paragraph before it, so real-world runbooks without lists still show steps.
    """
    builder = _Builder(kind, path, findings)
    prose: list[str] = []
    paragraph = ""
    paragraph_used = False
    previous = ""
    for node in body:
        token_type = node.token.type
        if token_type == "paragraph_open":
            paragraph = _inline(node)
            paragraph_used = False
            prose.append(paragraph)
        elif token_type in _LISTS:
            for item in node.children:
                if item.token.type == "list_item_open":
                    builder.item(item)
        elif token_type in _CODE:
            command = _command(node)
            if command is not None:
                last = builder.steps[-1] if builder.steps else None
                if previous in _LISTS and last is not None and not last.commands:
                    builder.steps[-1] = _make_step(
                        kind,
                        last.text + (f" {{#{last.id}}}" if last.id else ""),
                        last.line,
                        [command],
                        list(last.details),
                    )
                else:
                    text = _fence_step_text("" if paragraph_used else paragraph, command)
                    paragraph_used = True
                    builder.steps.append(_make_step(kind, text, node.line, [command], []))
        elif token_type == "blockquote_open":
            prose.extend(_inline(n) for n in _walk(node) if n.token.type == "paragraph_open")
        previous = token_type
    if not builder.steps and not builder.decisions and kind in STEP_KINDS:
        # Prose-only step sections (common in the wild): each instruction paragraph is a step.
        for node in body:
            if node.token.type == "paragraph_open":
                text = " ".join(_inline(node).split())
                if len(text) >= 8 and not text.upper().startswith("TODO"):
                    builder.steps.append(_make_step(kind, text, node.line, [], []))
    return builder.steps, builder.decisions, "\n\n".join(prose)
