"""The flywheel: every resolved incident leaves an insight, a guardrail with an owner, and
(when no runbook fit or the run went off-script) a runbook draft in the template.

The draft is built from what was actually done (``cockpit.flywheel.draft``): the steps the
runs ticked, skipped or failed with their commands, the decisions answered, the commands run
with their exit code, and the notes as context. It is written to the folder
:func:`drafts_folder` picks (the user's runbooks ``drafts/``, never the shipped samples) and
passes ``cockpit runbook lint``; the library skips ``drafts/`` until someone reviews it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from sqlmodel import select

from cockpit.errors import CockpitError
from cockpit.flywheel.draft import events_of, gather, render_draft, runs_of, slug

# The weekly counts are part of ``cockpit stats``, which reads plain SQL and must not load
# the ORM this module needs: they live in metrics/flywheel.py and are kept here by name.
from cockpit.metrics.flywheel import FlywheelWeek as FlywheelWeek
from cockpit.metrics.flywheel import flywheel_weeks as flywheel_weeks
from cockpit.store.engine import Store
from cockpit.store.models import Incident, Insight
from cockpit.store.timefmt import as_utc, utcnow

GUARDRAILS = (
    "timeout",
    "backpressure",
    "feature flag",
    "canary",
    "rollback",
    "SLO burn alert",
    "rate limit",
    "idempotency",
    "other",
)
Clock = Callable[[], datetime]


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
            raise FlywheelError(
                f"{incident_id} is a drill: debrief it instead (cockpit drill report)"
            )
        insight = Insight(
            incident_id=incident_id,
            text=text.strip(),
            whys=chain,
            guardrail=name,
            guardrail_owner=owner.strip(),
            created_at=as_utc(clock()),
        )
        session.add(insight)
        session.flush()
        return insight


# ---------------------------------------------------------------- the runbook draft


def needs_draft(store: Store, incident_id: str) -> str:
    """Why this incident should leave a runbook draft ("" when its runbook ran to the end)."""
    with store.read() as session:
        runs = runs_of(session, incident_id)
        events = events_of(session, runs)
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


def draft_runbook(
    store: Store,
    incident_id: str,
    drafts_dir: Path,
    *,
    reason: str = "",
    clock: Clock = utcnow,
) -> Path:
    """Write ``drafts_dir/<incident>.md`` (the folder is created on use); returns its path.
    Pick ``drafts_dir`` with :func:`drafts_folder`: never the shipped samples."""
    with store.read() as session:
        incident = session.get(Incident, incident_id)
        if incident is None:
            raise FlywheelError(f"no incident {incident_id!r} in the local store")
        drafted = gather(session, incident)
    reason = reason or needs_draft(store, incident_id) or "amended after the incident"
    text = render_draft(incident, drafted, reason, as_utc(clock()).date())
    try:
        drafts_dir.mkdir(parents=True, exist_ok=True)
        path = drafts_dir / f"{slug(incident.source + '-' + incident.remote_id)}.md"
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise FlywheelError(
            f"{drafts_dir}: cannot write the runbook draft: {error.strerror}"
        ) from None
    with store.write() as session:
        for insight in session.exec(select(Insight).where(Insight.incident_id == incident_id)):
            insight.runbook_draft = str(path)
            session.add(insight)
    return path
