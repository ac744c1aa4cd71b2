"""Drill scenarios: a YAML file, or one made from a runbook's Trigger section.

A scenario file::

    title: "5xx above 1% on product-api"
    runbook: product-cache-stampede      # optional: the runbook to drill
    scenario: |
      Peak traffic after a campaign email; the cache hit ratio fell off a cliff.
    difficulty: medium                   # easy | medium | hard
    symptoms:                            # injected: what the drill shows as observed
      - p95 latency 2.4 s on /product
      - redis keyspace_hits flat
    expected_branch: rollback            # a branch label ("no") or rollback / validation
    service: product-api
    urgency: high
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cockpit.errors import CockpitError
from cockpit.runbooks.model import TRIGGER, Runbook
from cockpit.runbooks.yaml_safe import YamlError, load_yaml, read_text

DIFFICULTIES = ("easy", "medium", "hard")
KNOWN = frozenset(
    {
        "title",
        "runbook",
        "scenario",
        "difficulty",
        "symptoms",
        "expected_branch",
        "service",
        "urgency",
    }
)


class ScenarioError(CockpitError):
    """A scenario file that cannot be used; the message names the file and field."""


@dataclass(frozen=True)
class Scenario:
    title: str
    text: str = ""
    difficulty: str = "medium"
    symptoms: tuple[str, ...] = ()
    expected_branch: str = ""
    runbook_id: str = ""
    service: str = ""
    urgency: str = "high"
    source: str = ""  # the file it came from, "runbook:<id>", or "replay:<incident id>"
    replay_of: str = ""  # a replay: the id of the real incident played back
    speed: float = 1.0  # a replay: how much faster than it happened

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["symptoms"] = list(self.symptoms)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Scenario:
        values = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        values["symptoms"] = tuple(str(s) for s in values.get("symptoms", ()))
        return cls(**values)


_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*:")


def _key_lines(text: str) -> dict[str, int]:
    """Line of each top-level key, so that a field's error names its line."""
    lines: dict[str, int] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        key = _KEY.match(line)
        if key:
            lines.setdefault(key.group(1), number)
    return lines


def _text(data: dict[str, Any], key: str, at: str, default: str = "") -> str:
    value = data.get(key, default)
    if value is None:
        return default
    if not isinstance(value, str | int | float):
        raise ScenarioError(f"{at}: field {key!r} must be text, got {type(value).__name__}")
    return str(value).strip()


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario file.

    Raises:
        ScenarioError: one line, ``file:line: what is wrong`` (unreadable, not UTF-8, not
            valid YAML, an alias, a missing or wrong field).
    """
    where = str(path)
    try:
        raw = read_text(path)
        data = load_yaml(raw, where)
    except YamlError as error:
        problem = error.problem
        if error.kind == YamlError.INVALID:
            problem = f"not valid YAML: {problem}"
        raise ScenarioError(f"{error.path}:{error.line}: {problem}") from None
    lines = _key_lines(raw)

    def at(key: str) -> str:
        return f"{where}:{lines.get(key, 1)}"

    if not isinstance(data, dict):
        raise ScenarioError(f"{where}:1: a scenario is a mapping (title:, scenario:, ...)")
    unknown = sorted(str(k) for k in data if k not in KNOWN)
    if unknown:
        raise ScenarioError(f"{at(unknown[0])}: unknown field(s) {', '.join(unknown)}")
    title = _text(data, "title", at("title"))
    if not title:
        raise ScenarioError(f"{at('title')}: field 'title' is required")
    difficulty = _text(data, "difficulty", at("difficulty"), "medium").lower()
    if difficulty not in DIFFICULTIES:
        raise ScenarioError(
            f"{at('difficulty')}: field 'difficulty' must be one of "
            f"{', '.join(DIFFICULTIES)}, got {difficulty!r}"
        )
    symptoms = data.get("symptoms") or []
    if isinstance(symptoms, str):
        symptoms = [symptoms]
    if not isinstance(symptoms, list) or not all(
        isinstance(s, str | int | float) for s in symptoms
    ):
        raise ScenarioError(f"{at('symptoms')}: field 'symptoms' must be a list of lines")
    return Scenario(
        title=title,
        text=_text(data, "scenario", at("scenario")),
        difficulty=difficulty,
        symptoms=tuple(str(s) for s in symptoms),
        expected_branch=_text(data, "expected_branch", at("expected_branch")),
        runbook_id=_text(data, "runbook", at("runbook")),
        service=_text(data, "service", at("service")),
        urgency=_text(data, "urgency", at("urgency"), "high") or "high",
        source=where,
    )


def first_paragraph(markdown: str) -> str:
    """The first paragraph as one line of plain words: a wrapped sentence is not cut at the
    end of its first source line, and Markdown marks (backticks, link targets) are dropped."""
    from cockpit.runbooks.links import plain

    for block in re.split(r"\n\s*\n", markdown.strip()):
        words = " ".join(block.split())
        if words:
            return plain(words) or words
    return ""


def scenario_from_runbook(runbook: Runbook) -> Scenario:
    """A made-up incident from the runbook's Trigger: its first paragraph is the symptom."""
    trigger = "\n\n".join(
        section.text.strip() for section in runbook.sections_of(TRIGGER) if section.text.strip()
    )
    first = first_paragraph(trigger)
    services = runbook.services
    return Scenario(
        title=f"[DRILL] {runbook.title}",
        text=trigger or f"Practice run of {runbook.title}.",
        symptoms=(first,) if first else (),
        runbook_id=runbook.id,
        service=services[0] if services else "",
        source=f"runbook:{runbook.id}",
    )
