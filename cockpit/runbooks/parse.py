"""Markdown + YAML front matter -> :class:`Runbook`, never an exception for bad input.

The Markdown is parsed by markdown-it-py; line numbers come from ``token.map``. Front
matter lines are blanked (not cut) before parsing, so token lines are file lines. Every
problem met while parsing becomes a :class:`Finding` on the runbook; the semantic checks
live in ``cockpit.runbooks.lint``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt

from cockpit.errors import CockpitError
from cockpit.runbooks import syntax
from cockpit.runbooks.model import (
    CONTEXT,
    DECISIONS,
    ERROR,
    OTHER,
    STEP_KINDS,
    TRIGGER,
    WARNING,
    Finding,
    Runbook,
    Section,
)
from cockpit.runbooks.resolve import assign_ids, resolve_branches
from cockpit.runbooks.tree import Node, build_steps, tree
from cockpit.runbooks.yaml_safe import YamlError, load_yaml


class RunbookError(CockpitError):
    """A runbook file cannot be read at all (missing, unreadable)."""


_FENCE_END = re.compile(r"^(---|\.\.\.)\s*$")


def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


@dataclass
class _FrontMatter:
    meta: dict[str, Any] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    present: bool = False
    body: str = ""


def _front_matter(text: str, path: str, findings: list[Finding]) -> _FrontMatter:
    lines = text.split("\n")
    result = _FrontMatter(body=text)
    if not lines or lines[0].strip() != "---":
        return result
    end = next((i for i in range(1, len(lines)) if _FENCE_END.match(lines[i])), None)
    if end is None:
        # A lone `---` on line 1 is a thematic break to Markdown; say so, do not guess.
        findings.append(Finding(path, 1, WARNING, "front matter starts with --- but never ends"))
        return result
    result.present = True
    raw = "\n".join(lines[1:end])
    result.body = "\n" * (end + 1) + "\n".join(lines[end + 1 :])
    try:
        # Line 1 is the opening ---: the YAML's first line is the file's line 2.
        data = load_yaml(raw, path, first_line=2) if raw.strip() else {}
    except YamlError as error:
        # The runbook still opens as a checklist, without its front matter; lint says why.
        what = "front matter refused" if error.refused else "front matter is not valid YAML"
        findings.append(Finding(path, error.line, ERROR, f"{what}: {error.problem}"))
        return result
    if data is None:
        data = {}
    if not isinstance(data, dict):
        findings.append(Finding(path, 1, ERROR, "front matter must be a mapping of key: value"))
        return result
    result.meta = {str(key): value for key, value in data.items()}
    for number, line in enumerate(lines[1:end], start=2):
        key = re.match(r"^([A-Za-z_][\w-]*)\s*:", line)
        if key and key.group(1) not in result.lines:
            result.lines[key.group(1)] = number
    # Nested `match:` keys are looked up as `match.title` etc.
    in_match = False
    for number, line in enumerate(lines[1:end], start=2):
        if re.match(r"^match\s*:", line):
            in_match = True
            continue
        if in_match:
            nested = re.match(r"^\s+([A-Za-z_][\w-]*)\s*:", line)
            if nested:
                result.lines.setdefault(f"match.{nested.group(1)}", number)
            elif line.strip() and not line[0].isspace():
                in_match = False
    return result


@dataclass
class _Heading:
    title: str
    level: int
    line: int
    kind: str


def _classify(headings: list[tuple[str, int, int]]) -> list[_Heading]:
    """Kinds for each heading: known name, else the parent's kind, else a keyword, else other."""
    stack: list[tuple[int, str]] = []
    result: list[_Heading] = []
    for title, level, line in headings:
        while stack and stack[-1][0] >= level:
            stack.pop()
        kind = syntax.section_kind(title)
        if kind is None and stack and stack[-1][1] not in (OTHER,):
            kind = stack[-1][1]
        if kind is None:
            kind = syntax.section_kind_by_keyword(title) or OTHER
        stack.append((level, kind))
        result.append(_Heading(title, level, line, kind))
    return result


def parse_runbook(text: str, path: str | Path = "<runbook>") -> Runbook:
    """Parse a runbook; problems become findings on the result, never exceptions."""
    path = str(path)
    findings: list[Finding] = []
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    front = _front_matter(text, path, findings)
    try:
        tokens = _markdown().parse(front.body)
    except Exception as error:  # noqa: BLE001 - a parser bug must not stop the on-call
        findings.append(Finding(path, 1, ERROR, f"cannot parse Markdown: {error}"))
        tokens = []
    nodes = tree(tokens)

    # Split the top level at headings. The first h1 before any other heading is the title.
    title = ""
    chunks: list[tuple[tuple[str, int, int] | None, list[Node]]] = [(None, [])]
    for node in nodes:
        if node.token.type == "heading_open":
            level = int(node.token.tag[1:]) if node.token.tag[1:].isdigit() else 2
            heading_text = node.children[0].token.content if node.children else ""
            line = node.line
            if level == 1 and not title and len(chunks) == 1:
                title = heading_text.strip()
                chunks[0] = ((heading_text, 1, line), chunks[0][1])
                continue
            chunks.append(((heading_text, level, line), []))
        else:
            chunks[-1][1].append(node)

    heads = [chunk[0] for chunk in chunks[1:] if chunk[0] is not None]
    kinds = _classify(heads)
    drafts: list[tuple[_Heading, list[Node]]] = []
    preamble_nodes = chunks[0][1]
    if preamble_nodes:
        preamble = _Heading(title or "Summary", 1, preamble_nodes[0].line, CONTEXT)
        drafts.append((preamble, preamble_nodes))
    for heading, (_, body) in zip(kinds, chunks[1:], strict=True):
        drafts.append((heading, body))

    built = []
    for heading, body in drafts:
        steps, decisions, prose = build_steps(body, heading.kind, path, findings)
        built.append((heading, steps, decisions, prose))

    has_steps = any(steps for h, steps, _, _ in built if h.kind in STEP_KINDS)
    sections: list[Section] = []
    for heading, steps, decisions, prose in built:
        keep_steps = heading.kind in STEP_KINDS or (heading.kind == OTHER and not has_steps)
        kind = heading.kind
        if heading.kind == OTHER and not has_steps and steps:
            kind = "checks"  # a runbook with no known step section still gets a checklist
        sections.append(
            Section(
                kind=kind,
                title=heading.title.strip(),
                anchor=syntax.anchor(heading.title),
                line=heading.line,
                level=heading.level,
                steps=tuple(steps) if keep_steps else (),
                decisions=tuple(decisions) if heading.kind != CONTEXT else (),
                text=prose,
            )
        )
    sections = assign_ids(sections, path, findings)
    sections = resolve_branches(sections)

    meta_title = front.meta.get("title")
    if not title and isinstance(meta_title, str):
        title = meta_title.strip()
    stem = Path(path).stem if path and not path.startswith("<") else ""
    meta_id = front.meta.get("id")
    runbook_id = str(meta_id).strip() if isinstance(meta_id, str | int) and str(meta_id) else ""
    runbook_id = runbook_id or syntax.slugify(stem) or syntax.slugify(title) or "runbook"
    return Runbook(
        id=runbook_id,
        title=title or stem or runbook_id,
        path=path,
        meta=front.meta,
        sections=tuple(sections),
        findings=tuple(findings),
        front_matter_lines=front.lines,
        has_front_matter=front.present,
    )


def load_runbook(path: str | Path) -> Runbook:
    """Read and parse one file. Bytes that are not UTF-8 are replaced and reported.

    Raises:
        RunbookError: the file cannot be read.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise RunbookError(f"{path}: cannot read runbook: {error.strerror or error}") from None
    try:
        text = data.decode("utf-8")
        bad = False
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="replace")
        bad = True
    runbook = parse_runbook(text, path)
    if bad:
        finding = Finding(str(path), 1, WARNING, "file is not valid UTF-8; bad bytes replaced")
        runbook = _with_findings(runbook, [finding])
    return runbook


def _with_findings(runbook: Runbook, extra: list[Finding]) -> Runbook:
    from dataclasses import replace

    return replace(runbook, findings=tuple(extra) + runbook.findings)


__all__ = ["RunbookError", "load_runbook", "parse_runbook", "TRIGGER", "DECISIONS"]
