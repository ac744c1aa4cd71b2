"""Pick the runbook for an incident: the matches first (with their score and why), then the rest."""

from __future__ import annotations

from rich.text import Text

from cockpit.runbooks.match import RunbookMatch
from cockpit.runbooks.model import Runbook
from cockpit.screens.choice_dialog import ChoiceDialog
from cockpit.screens.confirm import incident_line
from cockpit.text import safe_line
from cockpit.view_model import IncidentRef


def runbook_picker(
    ref: IncidentRef, matches: list[RunbookMatch], library: list[Runbook]
) -> ChoiceDialog:
    choices: list[tuple[str, Text]] = []
    matched = {m.runbook.path for m in matches}
    for match in matches:
        label = Text(safe_line(match.runbook.title), "bold")
        label.append(f"  score {match.score}", "green")
        label.append("\n  " + safe_line("; ".join(match.reasons))[:200], "dim")
        choices.append((match.runbook.path, label))
    for runbook in library:
        if runbook.path not in matched and runbook.steps:
            label = Text(safe_line(runbook.title))
            label.append(f"  {safe_line(runbook.id)}", "dim")
            choices.append((runbook.path, label))
    title = Text("Runbook for ", "bold")
    title.append_text(incident_line(ref))
    body = Text(
        f"{len(matches)} matching runbook(s) of {len(library)}."
        if library
        else "No runbooks found: put Markdown runbooks in your runbooks folder (--runbooks DIR).",
        "dim",
    )
    return ChoiceDialog(title, body, choices)
