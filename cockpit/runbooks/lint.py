"""Lint: every problem as ``file:line: severity: message``, never an exception.

Severities, precisely:

- error: the cockpit cannot run the runbook as written: bad front matter YAML (or YAML the
  loader refuses: an alias, too deep, too long), a decision branch that points nowhere, a
  duplicate explicit step id, a ``match`` regex that is invalid or needs what RE2 lacks
  (lookaround, backreference), and (cockpit layout only, i.e. front matter with an ``id``) a
  missing template section.
- warning: it runs, but something is off: a missing section in a real-world layout (one
  finding listing them all), unknown front-matter keys, no steps at all, a decision without
  branches, a ``match`` regex with nested quantifiers, and unreachable parts. A Rollback or
  Validation section is *unreachable* when the runbook has decision points and no branch
  leads to it or to one of its steps; a decision is unreachable when an earlier decision
  sends every branch to Rollback or Validation and no branch names it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path

from cockpit.runbooks import patterns
from cockpit.runbooks.model import (
    ACTIONS,
    CHECKS,
    ERROR,
    OWNER,
    ROLLBACK,
    TRIGGER,
    VALIDATION,
    WARNING,
    Finding,
    Runbook,
)
from cockpit.text import UNSAFE

KNOWN_KEYS = frozenset(
    {
        "id",
        "title",
        "owner",
        "services",
        "service",
        "match",
        "reviewed",
        "alerts",
        "runbook_urls",
        "urls",
        "tags",
        "severity",
        "description",
        "escalation",
        "version",
        "summary",
        "team",
        "labels",
        # Keys that static-site generators put in real-world runbooks.
        "weight",
        "bookhidden",
        "aliases",
        "draft",
        "date",
        "layout",
        "slug",
        "toc",
    }
)
MATCH_KEYS = frozenset(
    {"title", "service", "services", "urgency", "priority", "labels", "alertname", "alerts"}
)
REQUIRED = (
    (TRIGGER, "Trigger"),
    (CHECKS, "Checks"),
    (ACTIONS, "Actions"),
    (ROLLBACK, "Rollback"),
    (VALIDATION, "Validation"),
    (OWNER, "Owner"),
)


def is_cockpit_layout(runbook: Runbook) -> bool:
    return runbook.has_front_matter and "id" in runbook.meta


def _front_matter(runbook: Runbook) -> list[Finding]:
    found = []
    lines = runbook.front_matter_lines
    for key in runbook.meta:
        if key.lower() not in KNOWN_KEYS:
            found.append(
                Finding(
                    runbook.path, lines.get(key, 1), WARNING, f"unknown front-matter key {key!r}"
                )
            )
    match = runbook.meta.get("match")
    if match is None:
        return found
    if not isinstance(match, dict):
        return found + [
            Finding(
                runbook.path,
                lines.get("match", 1),
                ERROR,
                "match must be a mapping (title:, service:, labels: ...)",
            )
        ]
    for key, value in match.items():
        line = lines.get(f"match.{key}", lines.get("match", 1))
        if str(key) not in MATCH_KEYS:
            found.append(Finding(runbook.path, line, WARNING, f"unknown match key {key!r}"))
        patterns: list[tuple[str, object]] = []
        if key == "title":
            patterns.append(("match.title", value))
        elif key == "labels":
            if not isinstance(value, dict):
                found.append(
                    Finding(
                        runbook.path, line, ERROR, "match.labels must map label names to regexes"
                    )
                )
                continue
            patterns.extend((f"match.labels.{k}", v) for k, v in value.items())
        for name, pattern in patterns:
            found += _match_pattern(runbook.path, line, name, pattern)
    return found


def _match_pattern(path: str, line: int, name: str, pattern: object) -> list[Finding]:
    """A ``match`` regex: an error when the matcher (RE2, linear time) cannot use it; a
    warning when it nests quantifiers, which backtracks catastrophically elsewhere."""
    problem = patterns.pattern_problem(pattern)
    if problem:
        verb = "" if problem.startswith("uses") else "is "
        return [Finding(path, line, ERROR, f"{name} {verb}{problem}")]
    risk = patterns.backtracking_risk(pattern)
    if risk:
        return [
            Finding(
                path,
                line,
                WARNING,
                f"{name} has {risk} ((x+)* style): it backtracks catastrophically in "
                "Python, PCRE and JavaScript (the cockpit matches in linear time); "
                "flatten it, e.g. ^[\\w\\s]*$ for ^(\\w+\\s?)*$",
            )
        ]
    return []


def _sections(runbook: Runbook) -> list[Finding]:
    kinds = {section.kind for section in runbook.sections}
    missing = [
        name
        for kind, name in REQUIRED
        if kind not in kinds and not (kind == OWNER and runbook.owner)
    ]
    if not missing:
        return []
    if is_cockpit_layout(runbook):
        return [
            Finding(runbook.path, 1, ERROR, f"missing required section: {name}") for name in missing
        ]
    return [
        Finding(
            runbook.path,
            1,
            WARNING,
            "real-world layout, missing template sections: " + ", ".join(missing),
        )
    ]


def _decisions(runbook: Runbook) -> list[Finding]:
    found = []
    decisions = runbook.decisions
    for decision in decisions:
        for branch in decision.branches:
            if not branch.resolved:
                found.append(
                    Finding(
                        runbook.path,
                        branch.line,
                        ERROR,
                        f"decision branch {branch.label!r} points nowhere: {branch.target!r} is "
                        "no section or step of this runbook",
                    )
                )
    if not decisions:
        return found
    targeted_sections = {b.target_section for d in decisions for b in d.branches}
    targeted_ids = {b.target_step for d in decisions for b in d.branches if b.target_step}
    for index, section in enumerate(runbook.sections):
        if section.kind not in (ROLLBACK, VALIDATION) or not section.steps:
            continue
        if index in targeted_sections or any(s.id in targeted_ids for s in section.steps):
            continue
        found.append(
            Finding(
                runbook.path,
                section.line,
                WARNING,
                f"section {section.title!r} is unreachable: no decision branch leads to it",
            )
        )
    ended = False
    for decision in decisions:
        if ended and decision.id not in targeted_ids:
            found.append(
                Finding(
                    runbook.path,
                    decision.line,
                    WARNING,
                    f"decision {decision.question[:60]!r} is unreachable: an "
                    "earlier decision sends every branch elsewhere",
                )
            )
        kinds = {
            runbook.sections[b.target_section].kind
            for b in decision.branches
            if b.target_section is not None
        }
        if decision.branches and kinds and kinds <= {ROLLBACK, VALIDATION}:
            ended = True
    return found


# Bidi embeddings, overrides, isolates and marks: they reorder what is shown ("Trojan Source",
# CVE-2021-42574), so a command can read differently from what runs.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _texts(runbook: Runbook) -> Iterator[tuple[int, str, str]]:
    """(first line, where, text) of everything the cockpit shows, copies or runs."""
    yield 1, "the title", runbook.title
    for key, value in runbook.meta.items():
        yield runbook.front_matter_lines.get(key, 1), f"front matter {key!r}", f"{key} {value}"
    for section in runbook.sections:
        yield section.line, "a heading", section.title
        yield section.line, "a section", section.text
        for step in section.steps:
            yield step.line, "a step", "\n".join((step.text, *step.details))
            for command in step.commands:
                yield command.line, "a command", command.text
        for decision in section.decisions:
            yield decision.line, "a decision", decision.question
            for branch in decision.branches:
                yield branch.line, "a decision branch", f"{branch.label} {branch.text}"


def _hidden_characters(runbook: Runbook) -> list[Finding]:
    """Control, bidi and invisible characters: shown as ⟦U+202E⟧ by the cockpit, but an
    editor or a terminal shows them as nothing, or reorders the text around them. An error
    in a command (what runs) and for bidi controls anywhere; a warning elsewhere."""
    found: list[Finding] = []
    for first, where, text in _texts(runbook):
        for offset, line in enumerate(str(text).split("\n")):
            chars = sorted({m.group() for m in UNSAFE.finditer(line)} - {"\t"})
            if not chars:
                continue
            names = ", ".join(f"U+{ord(c):04X} {unicodedata.name(c, 'control')}" for c in chars)
            severe = where == "a command" or any(c in _BIDI for c in chars)
            finding = Finding(
                runbook.path,
                first + offset if where == "a command" else first,
                ERROR if severe else WARNING,
                f"hidden character in {where} ({names}): what it shows is not what it "
                "holds; remove it",
            )
            if finding not in found:
                found.append(finding)
    return found


def lint_runbook(runbook: Runbook) -> list[Finding]:
    """All findings for one parsed runbook (parse findings included), by line."""
    found = list(runbook.findings)
    found += _front_matter(runbook)
    found += _sections(runbook)
    found += _decisions(runbook)
    found += _hidden_characters(runbook)
    if not runbook.steps:
        found.append(
            Finding(
                runbook.path,
                1,
                WARNING,
                "no steps at all: no list items or code blocks in a step section",
            )
        )
    return sorted(found, key=lambda f: (f.line, f.severity != ERROR, f.message))


def lint_paths(paths: Iterable[str | Path]) -> list[Finding]:
    """Lint files and folders (folders as a library: drafts/ and README.md skipped)."""
    from cockpit.runbooks.library import load_library, load_or_finding

    found: list[Finding] = []
    for path in paths:
        path = Path(path)
        runbooks = load_library([path]) if path.is_dir() else [load_or_finding(path)]
        for runbook in runbooks:
            found += lint_runbook(runbook)
    return found


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(finding.severity == ERROR for finding in findings)
