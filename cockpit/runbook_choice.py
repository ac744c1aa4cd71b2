"""Which runbook the cockpit shows for an incident, and why, in words.

The open run's runbook first (a run keeps its runbook), then the one the user picked, else
the best match of the library for the incident's facts (its title, service, urgency,
labels, the alerts' runbook links). No terminal here: the screen shows what this returns.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from cockpit.runbooks.library import SKIPPED_DIRS
from cockpit.runbooks.match import (
    IncidentFacts,
    RunbookMatch,
    facts_of_incident,
    match_runbooks,
)
from cockpit.runbooks.model import Runbook
from cockpit.view_model import IncidentView


def facts_of(view: IncidentView) -> IncidentFacts:
    return facts_of_incident(view.incident, view.alerts)


_WORDS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^runbook URL .* (?:is listed by|points at) this"), "the alert's runbook link"),
    (re.compile(r"^alert (?P<a>.+) is listed in alerts$"), "alert {a}"),
    (re.compile(r"^service (?P<a>.+) is listed$"), "service {a}"),
    (re.compile(r"^title matches /"), "its title"),
    (re.compile(r"^label (?P<a>[^=]+)=(?P<b>.*) matches /"), "{a}={b}"),
    (re.compile(r"^label (?P<a>[^=]+)=(?P<b>.*) does not match /"), "but not {a}={b}"),
    (re.compile(r"^(?P<a>urgency|priority) (?P<b>\S+) as the runbook expects$"), "{b} {a}"),
    (
        re.compile(r"^(?P<a>urgency|priority) (?P<b>\S+), the runbook is for (?P<c>.+)$"),
        "but {b} {a} (it is for {c})",
    ),
]


def why_in_words(reasons: tuple[str, ...] | list[str]) -> str:
    """The match's reasons as a short phrase for the checklist's header ("matches service
    product-api, its title and high urgency"), no patterns: the picker (p) and ``cockpit
    runbook match`` show them in full. A reason of an unknown form is kept as it is."""
    positive: list[str] = []
    negative: list[str] = []
    for reason in reasons:
        for pattern, words in _WORDS:
            found = pattern.match(reason)
            if found:
                phrase = words.format(**found.groupdict())
                (negative if phrase.startswith("but ") else positive).append(phrase)
                break
        else:
            positive.append(reason)
    if not positive:
        return ", ".join(negative)
    said = positive[0] if len(positive) == 1 else ", ".join(positive[:-1]) + " and " + positive[-1]
    return "matches " + " ".join([said, *negative])


def stamps(library: list[Runbook], roots: Sequence[Path] = ()) -> dict[str, int]:
    """Each runbook file's modification time, and each folder's that could hold one (a file
    added to, removed from or renamed in a folder changes the folder's): the folders of the
    runbooks and every folder under ``roots`` (the configured runbook folders; drafts
    skipped, as the library skips them)."""
    paths = [r.path for r in library] + sorted({os.path.dirname(r.path) for r in library})
    for root in roots:
        for folder, subfolders, _files in os.walk(root):
            subfolders[:] = sorted(d for d in subfolders if d.lower() not in SKIPPED_DIRS)
            paths.append(folder)
    found = {}
    for path in paths:
        try:
            found[str(path)] = os.stat(path).st_mtime_ns
        except OSError:
            found[str(path)] = 0
    return found


class LibraryWatch:
    """Whether the runbook library on disk changed since it was read, so a runbook edited
    mid-run is seen (and the run records what changed) and one dropped in a folder is
    offered, without reading any runbook again while nothing changed (one ``stat`` per
    file and folder)."""

    def __init__(self) -> None:
        self._library: list[Runbook] | None = None
        self._stamps: dict[str, int] = {}

    def changed(self, library: list[Runbook], roots: Sequence[Path] = ()) -> bool:
        """True when a file or folder of ``library`` (or a folder under ``roots``) changed
        since ``library`` was first seen here (then read it again and hand the new one over)."""
        if library is not self._library:
            self._library, self._stamps = library, stamps(library, roots)
            return False
        return stamps(library, roots) != self._stamps


def choose(
    library: list[Runbook], view: IncidentView, open_id: str | None, chosen: str | None
) -> tuple[Runbook | None, str, list[RunbookMatch]]:
    """(runbook, why, matches) for ``view``'s incident: the open run's runbook (``open_id``),
    the user's pick (``chosen``, a path), else the best match."""
    by_path = {r.path: r for r in library}
    by_id = {r.id: r for r in library}
    matches = match_runbooks(library, facts_of(view))
    if open_id and open_id in by_id:
        # The run keeps its runbook; still say why it fits (or that it no longer does).
        reasons = next((m.reasons for m in matches if m.runbook.id == open_id), None)
        if reasons:
            return by_id[open_id], why_in_words(reasons) + "  (run open)", []
        return by_id[open_id], "the open run's runbook (picked; it does not match now)", []
    if chosen and chosen in by_path:
        return by_path[chosen], "picked by you", matches
    if matches:
        best = matches[0]
        why = why_in_words(best.reasons)
        if len(matches) > 1:
            why += f"  ({len(matches) - 1} other match(es): p to pick)"
        return best.runbook, why, matches
    return None, "", matches
