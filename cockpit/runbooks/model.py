"""The parsed runbook: plain frozen dataclasses, raw text kept as written.

Text here is the file's own text, never made safe: whoever shows it passes it through
``cockpit.text.safe()`` first (see ``cockpit.runbooks.render``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Section kinds. Steps live in STEP_KINDS; the others are read, not ticked.
TRIGGER = "trigger"
CONTEXT = "context"
CHECKS = "checks"
ACTIONS = "actions"
DECISIONS = "decisions"
ROLLBACK = "rollback"
VALIDATION = "validation"
OWNER = "owner"
OTHER = "other"
STEP_KINDS = (CHECKS, ACTIONS, ROLLBACK, VALIDATION)
MAIN_KINDS = (CHECKS, ACTIONS)

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    """One lint finding; ``str()`` gives ``file:line: severity: message``."""

    path: str
    line: int
    severity: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.severity}: {self.message}"


@dataclass(frozen=True)
class Command:
    """A command to copy or run; prompts (``$ ``) already stripped."""

    text: str
    lang: str = ""
    line: int = 0


@dataclass(frozen=True)
class Step:
    """One checkable step.

    ``id`` is stable: an explicit ``{#id}`` if given, else ``<section kind>.<slug of text>``.
    ``params`` are the placeholders (``{{cluster}}``, ``<region>``) in its commands, to ask
    for before the command is copied or run.
    """

    id: str
    section: str
    text: str
    line: int
    commands: tuple[Command, ...] = ()
    timer_seconds: int | None = None
    risky: bool = False
    params: tuple[str, ...] = ()
    explicit_id: bool = False
    details: tuple[str, ...] = ()

    @property
    def command(self) -> str:
        return "\n".join(command.text for command in self.commands)


@dataclass(frozen=True)
class Branch:
    """One answer of a decision and where it leads.

    ``target`` is what the file says (``#rollback``, ``warm-cache``); ``target_section`` is
    the index of the section it resolved to and ``target_step`` the step id, when it points
    at one step. Both empty/None: the branch points nowhere (a lint error).
    """

    label: str
    text: str
    target: str
    line: int
    target_section: int | None = None
    target_step: str = ""

    @property
    def resolved(self) -> bool:
        return self.target_section is not None


@dataclass(frozen=True)
class Decision:
    id: str
    question: str
    line: int
    section: int
    branches: tuple[Branch, ...] = ()

    def branch(self, label: str) -> Branch | None:
        wanted = label.strip().lower()
        for branch in self.branches:
            if branch.label.lower() == wanted:
                return branch
        return None


@dataclass(frozen=True)
class Section:
    """A heading and what is under it, up to the next heading of the same or higher level."""

    kind: str
    title: str
    anchor: str
    line: int
    level: int
    steps: tuple[Step, ...] = ()
    decisions: tuple[Decision, ...] = ()
    text: str = ""


@dataclass(frozen=True)
class Runbook:
    id: str
    title: str
    path: str
    meta: dict[str, Any] = field(default_factory=dict)
    sections: tuple[Section, ...] = ()
    findings: tuple[Finding, ...] = ()
    front_matter_lines: dict[str, int] = field(default_factory=dict)
    has_front_matter: bool = False

    @property
    def steps(self) -> tuple[Step, ...]:
        return tuple(step for section in self.sections for step in section.steps)

    @property
    def decisions(self) -> tuple[Decision, ...]:
        return tuple(d for section in self.sections for d in section.decisions)

    def step(self, step_id: str) -> Step | None:
        for step in self.steps:
            if step.id == step_id:
                return step
        return None

    def decision(self, decision_id: str) -> Decision | None:
        for decision in self.decisions:
            if decision.id == decision_id:
                return decision
        return None

    def sections_of(self, *kinds: str) -> tuple[Section, ...]:
        return tuple(section for section in self.sections if section.kind in kinds)

    def steps_of(self, *kinds: str) -> tuple[Step, ...]:
        return tuple(step for section in self.sections_of(*kinds) for step in section.steps)

    @property
    def owner(self) -> str:
        owner = self.meta.get("owner")
        if isinstance(owner, str) and owner.strip():
            return owner.strip()
        for section in self.sections_of(OWNER):
            if section.text.strip():
                return section.text.strip().splitlines()[0]
        return ""

    @property
    def services(self) -> tuple[str, ...]:
        found: list[str] = []
        for key in ("services", "service"):
            value = self.meta.get(key)
            values = value if isinstance(value, list) else [value]
            found.extend(str(v) for v in values if isinstance(v, str | int) and str(v))
        return tuple(dict.fromkeys(found))
