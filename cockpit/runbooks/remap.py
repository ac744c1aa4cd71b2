"""Carry step ids from one version of a runbook to the next.

A run in progress keeps its ticks when the file changes under it: ids that still exist
map to themselves; the rest are matched by text similarity (difflib ratio >= 0.8), best
pairs first, ties broken by id so the result is deterministic.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field

from cockpit.runbooks.model import Runbook

SIMILARITY = 0.8


@dataclass(frozen=True)
class RunbookChange:
    """How step ids moved between two versions: ``mapping`` is old id -> new id."""

    mapping: dict[str, str] = field(default_factory=dict)
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    renamed: tuple[tuple[str, str], ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.renamed)

    def to_details(self) -> dict[str, object]:
        return {
            "mapping": dict(self.mapping),
            "added": list(self.added),
            "removed": list(self.removed),
            "renamed": [list(pair) for pair in self.renamed],
        }


def step_texts(runbook: Runbook) -> dict[str, str]:
    """Every step and decision id with its text: the snapshot a run keeps of its runbook."""
    texts = {step.id: step.text for step in runbook.steps}
    texts.update({decision.id: decision.question for decision in runbook.decisions})
    return texts


def _normal(text: str) -> str:
    return " ".join(text.lower().split())


def remap_steps(
    old: Mapping[str, str] | Runbook, new: Mapping[str, str] | Runbook
) -> RunbookChange:
    """Map old ids onto ``new``: exact id first, then text similarity >= 0.8."""
    old_texts = step_texts(old) if isinstance(old, Runbook) else dict(old)
    new_texts = step_texts(new) if isinstance(new, Runbook) else dict(new)
    mapping = {old_id: old_id for old_id in old_texts if old_id in new_texts}
    left_old = [i for i in old_texts if i not in mapping]
    left_new = [i for i in new_texts if i not in mapping.values()]
    pairs = []
    for old_id in left_old:
        for new_id in left_new:
            ratio = difflib.SequenceMatcher(
                None, _normal(old_texts[old_id]), _normal(new_texts[new_id])
            ).ratio()
            if ratio >= SIMILARITY:
                pairs.append((-ratio, old_id, new_id))
    renamed = []
    used: set[str] = set()
    for _, old_id, new_id in sorted(pairs):
        if old_id in mapping or new_id in used:
            continue
        mapping[old_id] = new_id
        used.add(new_id)
        renamed.append((old_id, new_id))
    targets = set(mapping.values())
    return RunbookChange(
        mapping=mapping,
        added=tuple(i for i in new_texts if i not in targets),
        removed=tuple(i for i in old_texts if i not in mapping),
        renamed=tuple(sorted(renamed)),
    )
