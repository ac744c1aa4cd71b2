"""Persistence of runbook runs: one row per transition, appended in the transition's own
transaction, so a crash never loses a tick and a reopened store resumes the run exactly."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from cockpit.store.models import RunbookRun, StepEvent, TimelineEvent
from cockpit.store.timefmt import as_utc, utcnow


def start_run(
    session: Session,
    incident_id: str,
    runbook_id: str,
    *,
    runbook_path: str = "",
    runbook_hash: str = "",
    started_by: str = "",
    is_drill: bool = False,
    at: datetime | None = None,
) -> RunbookRun:
    run = RunbookRun(
        incident_id=incident_id,
        runbook_id=runbook_id,
        runbook_path=runbook_path,
        runbook_hash=runbook_hash,
        started_by=started_by,
        is_drill=is_drill,
        started_at=as_utc(at) if at else utcnow(),
    )
    session.add(run)
    session.flush()
    return run


def next_seq(session: Session, run_id: int) -> int:
    current = session.exec(select(func.max(StepEvent.seq)).where(StepEvent.run_id == run_id)).one()
    return int(current or 0) + 1


def append_event(
    session: Session,
    run: RunbookRun,
    *,
    kind: str,
    at: datetime | None = None,
    step_id: str = "",
    branch: str = "",
    reason: str = "",
    actor: str = "",
    details: Mapping[str, Any] | None = None,
    summary: str = "",
    seq: int | None = None,
) -> StepEvent:
    """Append one transition; also writes it to the incident's timeline (one record)."""
    assert run.id is not None
    when = as_utc(at) if at else utcnow()
    event = StepEvent(
        run_id=run.id,
        seq=seq if seq is not None else next_seq(session, run.id),
        at=when,
        kind=kind,
        step_id=step_id,
        branch=branch,
        reason=reason,
        actor=actor,
        details=dict(details or {}),
    )
    session.add(event)
    if kind == "finished":
        run.finished_at = when
        run.outcome = branch or str((details or {}).get("outcome", "")) or None
        session.add(run)
    session.add(
        TimelineEvent(
            incident_id=run.incident_id,
            at=when,
            kind="command" if kind == "command_run" else "runbook",
            summary=summary or _describe(kind, step_id, branch, reason),
            actor=actor,
            is_drill=run.is_drill,
            details={"run_id": run.id, "step_event": kind, "step_id": step_id},
        )
    )
    session.flush()
    return event


def _describe(kind: str, step_id: str, branch: str, reason: str) -> str:
    words = kind.replace("_", " ")
    parts = [f"runbook: {words}"]
    if step_id:
        parts.append(step_id)
    if branch:
        parts.append(f"→ {branch}")
    if reason:
        parts.append(f"({reason})")
    return " ".join(parts)


def events_of(session: Session, run_id: int) -> list[StepEvent]:
    return list(
        session.exec(
            select(StepEvent).where(StepEvent.run_id == run_id).order_by(col(StepEvent.seq))
        )
    )


def open_run(session: Session, incident_id: str) -> RunbookRun | None:
    return session.exec(
        select(RunbookRun)
        .where(RunbookRun.incident_id == incident_id, col(RunbookRun.finished_at).is_(None))
        .order_by(col(RunbookRun.started_at).desc(), col(RunbookRun.id).desc())
    ).first()
