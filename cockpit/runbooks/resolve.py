"""Whole-file passes after the Markdown walk: stable ids, then decision branch targets."""

from __future__ import annotations

from dataclasses import replace

from cockpit.runbooks import syntax
from cockpit.runbooks.model import ERROR, Branch, Decision, Finding, Section, Step


def assign_ids(sections: list[Section], path: str, findings: list[Finding]) -> list[Section]:
    """Give every step and decision its id, unique within the file, in document order.

    Explicit ids win; a second use of one is an error and gets a ``-2`` suffix so the model
    stays unambiguous. Derived ids are ``<section kind>.<slug of text>``, disambiguated by
    ``-2``, ``-3`` in document order, so reordering identical steps is the only edit that
    can swap two ids.
    """
    taken: set[str] = set()
    explicit_seen: dict[str, int] = {}
    for section in sections:
        items: list[Step | Decision] = [*section.steps, *section.decisions]
        for item in items:
            if item.id:
                if item.id in explicit_seen:
                    findings.append(
                        Finding(
                            path,
                            item.line,
                            ERROR,
                            f"duplicate step id {item.id!r} (first used on line "
                            f"{explicit_seen[item.id]})",
                        )
                    )
                else:
                    explicit_seen[item.id] = item.line
                    taken.add(item.id)

    def unique(base: str) -> str:
        candidate, n = base, 1
        while candidate in taken:
            n += 1
            candidate = f"{base}-{n}"
        taken.add(candidate)
        return candidate

    explicit_given: set[str] = set()
    result = []
    for index, section in enumerate(sections):
        steps = []
        for step in section.steps:
            if step.explicit_id and step.id not in explicit_given:
                explicit_given.add(step.id)
                new_id = step.id
            elif step.explicit_id:
                new_id = unique(step.id)
            else:
                new_id = unique(f"{section.kind}.{syntax.step_slug(step.text)}")
            steps.append(replace(step, id=new_id, section=section.kind))
        decisions = []
        for decision in section.decisions:
            if decision.id and decision.id not in explicit_given:
                explicit_given.add(decision.id)
                new_id = decision.id
            elif decision.id:
                new_id = unique(decision.id)
            else:
                new_id = unique(f"decision.{syntax.step_slug(decision.question)}")
            decisions.append(replace(decision, id=new_id, section=index))
        result.append(replace(section, steps=tuple(steps), decisions=tuple(decisions)))
    return result


def _resolve(target: str, sections: list[Section]) -> tuple[int | None, str]:
    key = target.strip()
    if key.startswith("#"):
        key = key[1:]
    if not key or "://" in key:
        return None, ""
    lowered = key.lower()
    for index, section in enumerate(sections):
        for step in section.steps:
            if step.id == key or step.id.lower() == lowered:
                return index, step.id
        for decision in section.decisions:
            if decision.id == key:
                return index, decision.id
    for index, section in enumerate(sections):
        if section.anchor == lowered or section.anchor == syntax.anchor(key):
            return index, ""
    kind = syntax.section_kind(key)
    for candidate in (lowered, kind):
        for index, section in enumerate(sections):
            if candidate and section.kind == candidate:
                return index, ""
    return None, ""


def resolve_branches(sections: list[Section]) -> list[Section]:
    result = []
    for section in sections:
        decisions = []
        for decision in section.decisions:
            branches: list[Branch] = []
            for branch in decision.branches:
                index, step_id = _resolve(branch.target, sections)
                branches.append(replace(branch, target_section=index, target_step=step_id))
            decisions.append(replace(decision, branches=tuple(branches)))
        result.append(replace(section, decisions=tuple(decisions)))
    return result
