"""The flywheel: every resolved incident leaves an insight, a guardrail with an owner, and
(when no runbook fit or the run went off-script) a runbook draft in the template.

The draft is built from what was actually done: the incident's notes become Checks, its
command events become Actions, the Rollback steps done (if any) become Rollback. It is
written to ``<runbooks>/drafts/<id>.md`` and passes ``cockpit runbook lint``; the library
skips ``drafts/`` until someone reviews it and moves it up.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import yaml
from sqlmodel import Session, col, select

from cockpit.errors import CockpitError
from cockpit.metrics.pageload import pages
from cockpit.store.engine import Store
from cockpit.store.models import Incident, Insight, Note, RunbookRun, StepEvent, TimelineEvent
from cockpit.store.types import as_utc, utcnow
from cockpit.text import safe_line

GUARDRAILS = ("timeout", "backpressure", "feature flag", "canary", "rollback",
              "SLO burn alert", "rate limit", "idempotency", "other")
Clock = Callable[[], datetime]
_SLUG = re.compile(r"[^a-z0-9]+")


class FlywheelError(CockpitError):
    """The insight or draft asked for cannot be recorded; the message says which field."""


def guardrail_name(value: str) -> str:
    wanted = value.strip().lower()
    for name in GUARDRAILS:
        if name.lower() == wanted:
            return name
    raise FlywheelError(f"guardrail must be one of: {', '.join(GUARDRAILS)}; got {value!r}")


def record_insight(
    store: Store,
    incident_id: str,
    *,
    text: str = "",
    whys: Sequence[str] = (),
    guardrail: str,
    owner: str = "",
    clock: Clock = utcnow,
) -> Insight:
    """One sentence or a five-whys chain, and a guardrail from the list, with an owner."""
    chain = [w.strip() for w in whys if w.strip()]
    if not text.strip() and not chain:
        raise FlywheelError("an insight needs one sentence (text) or a five-whys chain (whys)")
    if len(chain) > 5:
        raise FlywheelError(f"five whys at most, got {len(chain)}")
    name = guardrail_name(guardrail)
    with store.write() as session:
        incident = session.get(Incident, incident_id)
        if incident is None:
            raise FlywheelError(f"no incident {incident_id!r} in the local store")
        if incident.is_drill:
            raise FlywheelError(f"{incident_id} is a drill: debrief it instead (cockpit drill "
                                "report)")
        insight = Insight(incident_id=incident_id, text=text.strip(), whys=chain,
                          guardrail=name, guardrail_owner=owner.strip(),
                          created_at=as_utc(clock()))
        session.add(insight)
        session.flush()
        return insight


# ---------------------------------------------------------------- the runbook draft


def _runs(session: Session, incident_id: str) -> list[RunbookRun]:
    return list(session.exec(
        select(RunbookRun).where(RunbookRun.incident_id == incident_id,
                                 col(RunbookRun.is_drill).is_(False))
        .order_by(col(RunbookRun.started_at), col(RunbookRun.id))
    ))


def _events(session: Session, runs: list[RunbookRun]) -> list[StepEvent]:
    ids = [run.id for run in runs if run.id is not None]
    if not ids:
        return []
    return list(session.exec(
        select(StepEvent).where(col(StepEvent.run_id).in_(ids))
        .order_by(col(StepEvent.run_id), col(StepEvent.seq))
    ))


def needs_draft(store: Store, incident_id: str) -> str:
    """Why this incident should leave a runbook draft ("" when its runbook ran to the end)."""
    with store.read() as session:
        runs = _runs(session, incident_id)
        events = _events(session, runs)
    if not runs:
        return "no runbook ran"
    last = runs[-1]
    if last.outcome == "abandoned":
        return f"the run of {last.runbook_id} was abandoned"
    off = [e.step_id for e in events if e.kind in ("skipped", "failed")]
    if off:
        return f"the run went off-script ({len(off)} step(s) skipped or failed)"
    if any(e.kind == "runbook_changed" for e in events):
        return f"{last.runbook_id} changed during the run"
    return ""


def _slug(text: str) -> str:
    return _SLUG.sub("-", text.lower()).strip("-")[:48] or "incident"


def _title_regex(title: str) -> str:
    words = [w for w in re.split(r"\s+", title.strip()) if w][:6]
    parts = [r"\d+" if w.isdigit() else re.escape(re.sub(r"\d+", "0", w)).replace("0", r"\d+")
             for w in words]
    return "(?i)" + r"\s+".join(parts)


@dataclass(frozen=True)
class _Taken:
    checks: list[str]
    actions: list[tuple[str, str]]  # (what, command)
    rollback: list[str]


def _taken(session: Session, incident: Incident) -> _Taken:
    notes = session.exec(
        select(Note).where(Note.incident_id == incident.id)
        .order_by(col(Note.created_at), col(Note.id))
    ).all()
    checks = [safe_line(n.content).strip() for n in notes
              if n.content.strip() and not n.content.startswith("[cockpit")]
    commands = session.exec(
        select(TimelineEvent).where(TimelineEvent.incident_id == incident.id,
                                    TimelineEvent.kind == "command")
        .order_by(col(TimelineEvent.at), col(TimelineEvent.id))
    ).all()
    actions = []
    for event in commands:
        command = str((event.details or {}).get("command", "")).strip()
        what = safe_line(event.summary).strip() or "Run"
        actions.append((what, safe_line(command)))
    events = _events(session, _runs(session, incident.id))
    rollback = list(dict.fromkeys(
        e.step_id for e in events if e.kind == "done" and e.step_id.startswith("rollback")))
    return _Taken(checks, actions, rollback)


def render_draft(incident: Incident, taken: _Taken, reason: str, today: date) -> str:
    title = safe_line(incident.title).strip() or incident.id
    owner = safe_line(incident.team or incident.service_name).strip() or "unassigned"
    meta: dict[str, object] = {
        "id": f"draft-{_slug(title)}",
        "title": title,
        "owner": owner,
        "draft": True,
        "reviewed": today.isoformat(),
        "match": {"title": _title_regex(title)},
    }
    if incident.service_name:
        meta["services"] = [safe_line(incident.service_name)]
    ref = f"#{incident.number}" if incident.number else incident.remote_id
    lines = ["---", yaml.safe_dump(meta, sort_keys=False, allow_unicode=True).strip(), "---",
             f"# {title}", "", "## Trigger",
             f"{title} (service {safe_line(incident.service_name) or 'unknown'}, urgency "
             f"{safe_line(incident.urgency)}). Drafted from incident {safe_line(ref)} on "
             f"{today.isoformat()}: {reason}.", "", "## Checks"]
    checks = taken.checks or ["What did you look at first? (fill in)"]
    lines += [f"- [ ] {check}" for check in checks]
    lines += ["", "## Actions"]
    if not taken.actions:
        lines.append("1. [ ] What fixed it? (fill in the command)")
    for number, (what, command) in enumerate(taken.actions, 1):
        lines.append(f"{number}. [ ] {what}")
        if command:
            lines += ["   ```sh", f"   {command}", "   ```"]
    lines += ["", "## Decision points", "- Did the actions bring the service back?",
              "  - yes: go to [Validation](#validation)", "  - no: go to [Rollback](#rollback)",
              "", "## Rollback"]
    rollback = taken.rollback or ["Undo the last action above (fill in the exact command)"]
    lines += [f"{n}. [ ] {step}" for n, step in enumerate(rollback, 1)]
    lines += ["", "## Validation", f"- [ ] {title} stays resolved for 15 minutes", "",
              "## Owner", owner, ""]
    return "\n".join(lines)


def draft_runbook(
    store: Store, incident_id: str, drafts_dir: Path, *, reason: str = "",
    clock: Clock = utcnow,
) -> Path:
    """Write ``drafts_dir/<incident>.md`` (the folder is created on use); returns its path."""
    with store.read() as session:
        incident = session.get(Incident, incident_id)
        if incident is None:
            raise FlywheelError(f"no incident {incident_id!r} in the local store")
        taken = _taken(session, incident)
    reason = reason or needs_draft(store, incident_id) or "amended after the incident"
    text = render_draft(incident, taken, reason, as_utc(clock()).date())
    try:
        drafts_dir.mkdir(parents=True, exist_ok=True)
        path = drafts_dir / f"{_slug(incident.source + '-' + incident.remote_id)}.md"
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise FlywheelError(f"{drafts_dir}: cannot write the runbook draft: {error.strerror}"
                            ) from None
    with store.write() as session:
        for insight in session.exec(select(Insight).where(Insight.incident_id == incident_id)):
            insight.runbook_draft = str(path)
            session.add(insight)
    return path


# ---------------------------------------------------------------- weekly stats


@dataclass(frozen=True)
class FlywheelWeek:
    monday: date  # UTC weeks: the flywheel is a team figure, not a person's
    incidents: int
    with_insight: int
    guardrails: int
    runbooks: int
    pages: int


def _monday(at: datetime) -> date:
    day = as_utc(at).date()
    return day - timedelta(days=day.weekday())


def flywheel_weeks(store: Store, since: datetime, until: datetime) -> list[FlywheelWeek]:
    since, until = as_utc(since), as_utc(until)
    with store.read() as session:
        incidents = session.exec(
            select(Incident.id, Incident.created_at).where(
                col(Incident.is_drill).is_(False), col(Incident.created_at) >= since,
                col(Incident.created_at) < until)
        ).all()
        insights = session.exec(
            select(Insight).join(Incident, col(Incident.id) == col(Insight.incident_id))
            .where(col(Incident.is_drill).is_(False), col(Insight.created_at) >= since,
                   col(Insight.created_at) < until)
        ).all()
        all_insight_ids = set(session.exec(select(Insight.incident_id)).all())
    counts: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    monday = _monday(since)
    while monday < until.date():
        counts[monday]["incidents"] += 0
        monday += timedelta(days=7)
    for incident_id, created in incidents:
        week = counts[_monday(created)]
        week["incidents"] += 1
        week["with_insight"] += incident_id in all_insight_ids
    for insight in insights:
        week = counts[_monday(insight.created_at)]
        week["guardrails"] += bool(insight.guardrail)
        week["runbooks"] += bool(insight.runbook_draft)
    for page in pages(store, since, until):
        counts[_monday(page.at)]["pages"] += 1
    return [FlywheelWeek(m, c["incidents"], c["with_insight"], c["guardrails"], c["runbooks"],
                         c["pages"]) for m, c in sorted(counts.items())]
