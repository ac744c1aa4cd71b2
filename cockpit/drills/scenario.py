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

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from cockpit.errors import CockpitError
from cockpit.runbooks.model import TRIGGER, Runbook

DIFFICULTIES = ("easy", "medium", "hard")
KNOWN = frozenset({"title", "runbook", "scenario", "difficulty", "symptoms",
                   "expected_branch", "service", "urgency"})


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
    source: str = ""  # the file it came from, or "runbook:<id>"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["symptoms"] = list(self.symptoms)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Scenario:
        values = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        values["symptoms"] = tuple(str(s) for s in values.get("symptoms", ()))
        return cls(**values)


def _text(data: dict[str, Any], key: str, where: str, default: str = "") -> str:
    value = data.get(key, default)
    if value is None:
        return default
    if not isinstance(value, str | int | float):
        raise ScenarioError(f"{where}: field {key!r} must be text, got {type(value).__name__}")
    return str(value).strip()


def load_scenario(path: str | Path) -> Scenario:
    where = str(path)
    try:
        raw = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ScenarioError(f"{where}: cannot read the scenario: {error.strerror}") from None
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ScenarioError(f"{where}{line}: not valid YAML") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{where}: a scenario is a mapping (title:, scenario:, ...)")
    unknown = sorted(str(k) for k in data if k not in KNOWN)
    if unknown:
        raise ScenarioError(f"{where}: unknown field(s) {', '.join(unknown)}")
    title = _text(data, "title", where)
    if not title:
        raise ScenarioError(f"{where}: field 'title' is required")
    difficulty = _text(data, "difficulty", where, "medium").lower()
    if difficulty not in DIFFICULTIES:
        raise ScenarioError(
            f"{where}: field 'difficulty' must be one of {', '.join(DIFFICULTIES)}, "
            f"got {difficulty!r}"
        )
    symptoms = data.get("symptoms") or []
    if isinstance(symptoms, str):
        symptoms = [symptoms]
    if not isinstance(symptoms, list):
        raise ScenarioError(f"{where}: field 'symptoms' must be a list")
    return Scenario(
        title=title,
        text=_text(data, "scenario", where),
        difficulty=difficulty,
        symptoms=tuple(str(s) for s in symptoms),
        expected_branch=_text(data, "expected_branch", where),
        runbook_id=_text(data, "runbook", where),
        service=_text(data, "service", where),
        urgency=_text(data, "urgency", where, "high") or "high",
        source=where,
    )


def scenario_from_runbook(runbook: Runbook) -> Scenario:
    """A made-up incident from the runbook's Trigger: its first line is the symptom."""
    trigger = " ".join(
        section.text.strip() for section in runbook.sections_of(TRIGGER) if section.text.strip()
    )
    first = trigger.splitlines()[0] if trigger else ""
    services = runbook.services
    return Scenario(
        title=f"[DRILL] {runbook.title}",
        text=trigger or f"Practice run of {runbook.title}.",
        symptoms=(first,) if first else (),
        runbook_id=runbook.id,
        service=services[0] if services else "",
        source=f"runbook:{runbook.id}",
    )
