"""The flywheel's runbook draft: what was actually done in an incident, in the template.

The steps come from the incident's runbook runs (their step events replayed over the runbook
file each run used, so an undone tick is not in it): done, skipped and failed steps in the
order they were taken, each in its own section with its text and its command as a ``sh``
block. Commands run are kept with their exit code (their output, already redacted when it was
stored, only as a short quoted excerpt). Decisions answered keep their answer; notes are
context, not steps. The draft goes to a folder the user owns (:func:`drafts_folder`), never
into the shipped samples.

The drill debrief's draft (``cockpit.drills.draft``) goes to the same folder through
:func:`write_draft`, and shows itself against the runbook it edits with :func:`draft_diff`.
"""

from __future__ import annotations

import difflib
import re
import sys
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from sqlmodel import Session, col, select

from cockpit import paths
from cockpit.runbooks.model import (
    ACTIONS,
    CHECKS,
    ROLLBACK,
    VALIDATION,
    Decision,
    Runbook,
    Step,
)
from cockpit.runbooks.run import RunState
from cockpit.runbooks.run_events import COMMAND_RUN, DECIDED, DONE, FAILED, SKIPPED, RunEvent
from cockpit.store.models import Incident, Note, RunbookRun, StepEvent, TimelineEvent
from cockpit.store.timefmt import as_utc
from cockpit.text import safe_line

if TYPE_CHECKING:
    from cockpit.config import Settings

SECTIONS = (
    (CHECKS, "Checks"),
    (ACTIONS, "Actions"),
    (ROLLBACK, "Rollback"),
    (VALIDATION, "Validation"),
)
_SLUG = re.compile(r"[^a-z0-9]+")
_EXCERPT_LINES = 3


def drafts_folder(settings: Settings) -> Path:
    """Where a draft goes: ``drafts/`` of the runbooks folder the user set (or already has),
    else ``<user data dir>/runbook-drafts``. Never the shipped samples: a checkout or
    site-packages is not the user's. Not ``<data>/runbooks/drafts`` either, as creating that
    folder would make the library read an empty ``runbooks/`` instead of the samples."""
    configured = Path(settings.runbooks_path)
    source = (getattr(settings, "sources", {}) or {}).get("runbooks", "default")
    if not _shipped(configured) and (source != "default" or configured.is_dir()):
        return configured / "drafts"
    return paths.default_data_dir() / "runbook-drafts"


def write_draft(drafts_dir: Path, name: str, text: str) -> Path:
    """Write ``drafts_dir/name`` (the folder is created on use); returns its path.

    Raises:
        OSError: the folder or the file cannot be written.
    """
    drafts_dir.mkdir(parents=True, exist_ok=True)
    path = drafts_dir / name
    path.write_text(text, encoding="utf-8")
    return path


def draft_diff(before: str, after: str, before_name: str, after_name: str, context: int = 2) -> str:
    """A unified diff of the runbook (``before``) and its draft (``after``); "" if equal."""
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=before_name,
        tofile=after_name,
        n=context,
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def _shipped(folder: Path) -> bool:
    from cockpit.runbooks.library import samples_dir

    where = folder.expanduser().resolve()
    samples = samples_dir().resolve()
    share = (Path(sys.prefix) / "share").resolve()
    return (
        where == samples
        or samples in where.parents
        or share in where.parents
        or "site-packages" in where.parts
    )


# ---------------------------------------------------------------- what was done


def runs_of(session: Session, incident_id: str) -> list[RunbookRun]:
    return list(
        session.exec(
            select(RunbookRun)
            .where(RunbookRun.incident_id == incident_id, col(RunbookRun.is_drill).is_(False))
            .order_by(col(RunbookRun.started_at), col(RunbookRun.id))
        )
    )


def events_of(session: Session, runs: list[RunbookRun]) -> list[StepEvent]:
    ids = [run.id for run in runs if run.id is not None]
    if not ids:
        return []
    return list(
        session.exec(
            select(StepEvent)
            .where(col(StepEvent.run_id).in_(ids))
            .order_by(col(StepEvent.run_id), col(StepEvent.seq))
        )
    )


@dataclass
class Ran:
    command: str
    exit_code: int | None
    output: str
    at: datetime


@dataclass
class Taken:
    """One step as the draft shows it."""

    section: str
    text: str
    step_id: str = ""  # kept as ``{#id}`` when the runbook gave it explicitly
    commands: list[str] = field(default_factory=list)
    at: datetime | None = None  # its last tick
    marks: list[tuple[datetime, str, str]] = field(default_factory=list)  # (at, kind, reason)
    ran: list[Ran] = field(default_factory=list)


@dataclass(frozen=True)
class Answer:
    question: str
    decision_id: str
    answer: str
    branches: tuple[tuple[str, str], ...]  # (label, section kind it leads to)


@dataclass(frozen=True)
class NoteLine:
    at: datetime
    text: str
    after: str  # the text of the step done just before it ("" if none)


@dataclass
class Drafted:
    steps: list[Taken] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    notes: list[NoteLine] = field(default_factory=list)
    runbooks: list[str] = field(default_factory=list)


def _load(path: str) -> Runbook | None:
    from cockpit.runbooks.parse import RunbookError, load_runbook

    if not path:
        return None
    try:
        return load_runbook(path)
    except (RunbookError, OSError):
        return None


def _snapshot(events: list[RunEvent]) -> dict[str, str]:
    """Step id -> text as the run first saw them (its ``started`` event keeps them)."""
    for event in events:
        steps = event.details.get("steps")
        if isinstance(steps, dict):
            return {str(k): str(v) for k, v in steps.items()}
    return {}


def _step_of(runbook: Runbook | None, snapshot: dict[str, str], step_id: str) -> Taken:
    step: Step | None = runbook.step(step_id) if runbook is not None else None
    if step is None:  # the file moved or changed: the id and the text the run saw
        kind = step_id.split(".", 1)[0] if "." in step_id else ACTIONS
        section = kind if kind in dict(SECTIONS) else ACTIONS
        return Taken(section, snapshot.get(step_id, step_id))
    commands = [c.text.strip() for c in step.commands if c.text.strip()]
    text = step.text
    for command in commands:  # the command goes in its own block, not twice
        text = text.replace(f"`{command}`", "")
    section = step.section if step.section in dict(SECTIONS) else ACTIONS
    return Taken(
        section,
        " ".join(text.split()).rstrip(" :") or step.id,
        step.id if step.explicit_id else "",
        commands,
    )


def _run_steps(run: RunbookRun, rows: list[StepEvent], drafted: Drafted) -> None:
    events = [RunEvent.from_step(r) for r in rows]
    runbook = _load(run.runbook_path)
    snapshot = _snapshot(events)
    drafted.runbooks.append(run.runbook_id)
    taken: dict[str, Taken] = {}
    if runbook is not None:
        state = RunState.replay(runbook, events)
        effective = state.undo_stack  # the ticks and answers still in effect, in order
        commands = [e for e in state.events if e.kind == COMMAND_RUN]
    else:
        effective = _without_undone(events)
        commands = [e for e in events if e.kind == COMMAND_RUN]
    for event in sorted([*effective, *commands], key=lambda e: e.seq):
        if event.kind not in (DONE, SKIPPED, FAILED, COMMAND_RUN) or not event.step_id:
            continue
        step = taken.get(event.step_id)
        if step is None:
            step = taken[event.step_id] = _step_of(runbook, snapshot, event.step_id)
            drafted.steps.append(step)
        if event.kind == COMMAND_RUN:
            code = event.details.get("exit_code")
            step.ran.append(
                Ran(
                    str(event.details.get("command", "")),
                    code if isinstance(code, int) else None,
                    str(event.details.get("output", "")),
                    as_utc(event.at),
                )
            )
        else:
            step.at = as_utc(event.at)
            step.marks.append((step.at, event.kind, event.reason))
    if runbook is not None:  # its questions stay, with the answer still in effect if any
        answered = {e.step_id: e.branch for e in effective if e.kind == DECIDED}
        drafted.answers += [_answer(runbook, d, answered.get(d.id, "")) for d in runbook.decisions]


def _without_undone(events: list[RunEvent]) -> list[RunEvent]:
    from cockpit.runbooks.run_events import UNDOABLE, UNDONE

    kept: list[RunEvent] = []
    for event in events:
        if event.kind == UNDONE:
            for index in range(len(kept) - 1, -1, -1):
                if kept[index].kind in UNDOABLE:
                    del kept[index]
                    break
        elif event.kind in UNDOABLE:
            kept.append(event)
    return kept


def _answer(runbook: Runbook, decision: Decision, answer: str) -> Answer:
    branches = []
    for branch in decision.branches:
        kind = (
            runbook.sections[branch.target_section].kind
            if branch.target_section is not None
            else ""
        )
        branches.append((branch.label, kind if kind in dict(SECTIONS) else VALIDATION))
    return Answer(decision.question, decision.id, answer, tuple(branches))


def gather(session: Session, incident: Incident) -> Drafted:
    drafted = Drafted()
    runs = runs_of(session, incident.id)
    rows = events_of(session, runs)
    for run in runs:
        _run_steps(run, [r for r in rows if r.run_id == run.id], drafted)
    # Commands run outside any runbook run (the timeline's own command lines) are Actions.
    for event in session.exec(
        select(TimelineEvent)
        .where(TimelineEvent.incident_id == incident.id, TimelineEvent.kind == "command")
        .order_by(col(TimelineEvent.at), col(TimelineEvent.id))
    ):
        details = event.details or {}
        if "run_id" in details:
            continue
        command = str(details.get("command", "")).strip()
        code = details.get("exit_code")
        step = Taken(
            ACTIONS,
            safe_line(event.summary).strip() or "Run",
            commands=[command] if command else [],
            at=as_utc(event.at),
        )
        if command:
            step.ran.append(
                Ran(
                    command,
                    code if isinstance(code, int) else None,
                    str(details.get("output", "")),
                    as_utc(event.at),
                )
            )
        drafted.steps.append(step)
    done = sorted(
        ((s.at, s.text) for s in drafted.steps if s.at is not None), key=lambda pair: pair[0]
    )
    for note in session.exec(
        select(Note)
        .where(Note.incident_id == incident.id)
        .order_by(col(Note.created_at), col(Note.id))
    ):
        if not note.content.strip() or note.content.startswith("[cockpit"):
            continue  # the cockpit's own lines (baton passed, ...) are not the responder's
        at = as_utc(note.created_at)
        before = [text for when, text in done if when <= at]
        drafted.notes.append(NoteLine(at, note.content, before[-1] if before else ""))
    return drafted


# ---------------------------------------------------------------- the Markdown


def slug(text: str) -> str:
    return _SLUG.sub("-", text.lower()).strip("-")[:48] or "incident"


def _title_regex(title: str) -> str:
    words = [w for w in re.split(r"\s+", title.strip()) if w][:6]
    parts = [
        r"\d+" if w.isdigit() else re.escape(re.sub(r"\d+", "0", w)).replace("0", r"\d+")
        for w in words
    ]
    return "(?i)" + r"\s+".join(parts)


def _hhmm(at: datetime) -> str:
    return as_utc(at).strftime("%H:%M UTC")


def _step_lines(number: int, step: Taken, ids: set[str]) -> list[str]:
    text = safe_line(step.text).strip()
    if step.step_id and step.step_id not in ids:
        ids.add(step.step_id)
        text += f" {{#{step.step_id}}}"
    lines = [f"{number}. [ ] {text}"]
    for command in step.commands:
        lines += ["   ```sh", *[f"   {safe_line(c)}" for c in command.splitlines()], "   ```"]
    said = {DONE: "done", SKIPPED: "skipped", FAILED: "failed"}
    history: list[tuple[datetime, list[str]]] = []
    for at, kind, reason in step.marks:
        why = f": {_no_markup(' '.join(safe_line(reason).split()))}" if reason.strip() else ""
        history.append((at, [f"   - In the incident: {said[kind]} at {_hhmm(at)}{why}."]))
    for ran in step.ran:
        code = "no exit code" if ran.exit_code is None else f"exit {ran.exit_code}"
        quoted = [f"$ {safe_line(ran.command).strip()}"]
        tail = [safe_line(line).rstrip()[:160] for line in ran.output.strip().splitlines()]
        quoted += tail[-_EXCERPT_LINES:]
        history.append(
            (
                ran.at,
                [
                    f"   - Ran at {_hhmm(ran.at)}, {code}:",
                    *[f"     > {_no_markup(q)}" for q in quoted if q.strip()],
                ],
            )
        )
    for _, said_lines in sorted(history, key=lambda entry: entry[0]):
        lines += said_lines
    return lines


def _no_markup(line: str) -> str:
    """Command output read as Markdown could open a code block or a list: escape it."""
    return re.sub(r"([\\`*_\[\]<>#|~])", r"\\\1", line)


def _decision_lines(answers: list[Answer]) -> list[str]:
    if not answers:
        return [
            "- Did the actions bring the service back?",
            "  - yes: go to [Validation](#validation)",
            "  - no: go to [Rollback](#rollback)",
        ]
    lines: list[str] = []
    latest: dict[str, Answer] = {}  # the same runbook run twice: one question, last answer
    for answer in answers:
        if answer.answer or answer.decision_id not in latest:
            latest[answer.decision_id] = answer
    for answer in latest.values():
        question = safe_line(answer.question).strip()
        lines.append(f"- {question} {{#{answer.decision_id}}}")
        for label, kind in answer.branches:
            title = dict(SECTIONS)[kind]
            chosen = (
                " (answered in the incident)"
                if answer.answer and label.lower() == answer.answer.lower()
                else ""
            )
            lines.append(f"  - {safe_line(label)}: go to [{title}](#{kind}){chosen}")
    return lines


def render_draft(incident: Incident, drafted: Drafted, reason: str, today: date) -> str:
    title = safe_line(incident.title).strip() or incident.id
    owner = safe_line(incident.team or incident.service_name).strip() or "unassigned"
    meta: dict[str, object] = {
        "id": f"draft-{slug(title)}",
        "title": title,
        "owner": owner,
        "draft": True,
        "reviewed": today.isoformat(),
        "match": {"title": _title_regex(title)},
    }
    if incident.service_name:
        meta["services"] = [safe_line(incident.service_name)]
    ref = f"#{incident.number}" if incident.number else incident.remote_id
    used = ", ".join(dict.fromkeys(safe_line(r) for r in drafted.runbooks))
    lines = [
        "---",
        yaml.safe_dump(meta, sort_keys=False, allow_unicode=True).strip(),
        "---",
        f"# {title}",
        "",
        "## Trigger",
        f"{title} (service {safe_line(incident.service_name) or 'unknown'}, urgency "
        f"{safe_line(incident.urgency)}). Drafted from incident {safe_line(ref)} on "
        f"{today.isoformat()}: {safe_line(reason)}." + (f" Runbook run: {used}." if used else ""),
        "",
    ]
    if drafted.notes:
        lines += ["## Notes", "Notes from the incident (context, not steps):", ""]
        for note in drafted.notes:
            after = f" (after: {safe_line(note.after).strip()})" if note.after else ""
            body = " ".join(safe_line(note.text).split())
            lines.append(f"> {_hhmm(note.at)}{_no_markup(after)}: {_no_markup(body)}")
            lines.append(">")
        lines[-1] = ""
    ids: set[str] = set()
    fill = {
        CHECKS: "What did you look at first? (fill in)",
        ACTIONS: "What fixed it? (fill in the command)",
        ROLLBACK: "Undo the last action above (fill in the exact command)",
        VALIDATION: f"{title} stays resolved for 15 minutes",
    }
    for kind, name in SECTIONS:
        if kind == ROLLBACK:
            lines += ["## Decision points", *_decision_lines(drafted.answers), ""]
        lines.append(f"## {name}")
        steps = [s for s in drafted.steps if s.section == kind]
        if not steps:
            lines.append(f"1. [ ] {fill[kind]}")
        for number, step in enumerate(steps, 1):
            lines += _step_lines(number, step, ids)
        lines.append("")
    lines += ["## Owner", owner, ""]
    return "\n".join(lines)
