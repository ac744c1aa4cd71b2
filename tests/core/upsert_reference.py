"""The typed (SQLAlchemy) rows the sync once wrote, kept as the reference the plain-sqlite3
writes (cockpit/store/bulk.py) are compared with, column for column."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, or_, update
from sqlmodel import Session

from cockpit.records import IncidentRecord, LogEntryRecord
from cockpit.store import Incident
from cockpit.store.timefmt import as_utc, utcnow
from cockpit.store.types import UTCDateTime
from cockpit.store.upsert import qualify


def incident_row(source: str, record: IncidentRecord, is_drill: bool = False) -> dict[str, Any]:
    return {
        "id": qualify(source, record.id),
        "source": source,
        "remote_id": record.id,
        "number": record.number,
        "title": record.title,
        "status": record.status,
        "urgency": record.urgency,
        "priority": record.priority,
        "service_id": record.service_id,
        "service_name": record.service_name,
        "team": record.team,
        "escalation_policy_id": record.escalation_policy_id,
        "assignees": [qualify(source, a) for a in record.assignees],
        "html_url": record.html_url,
        "runbook_url": record.runbook_url,
        "incident_key": record.incident_key,
        "labels": dict(record.labels),
        "annotations": dict(record.annotations),
        "created_at": as_utc(record.created_at),
        "updated_at": as_utc(record.updated_at),
        "acknowledged_at": as_utc(record.acknowledged_at) if record.acknowledged_at else None,
        "resolved_at": as_utc(record.resolved_at) if record.resolved_at else None,
        "is_drill": is_drill,
        "synced_at": utcnow(),
    }


def timeline_row(source: str, entry: LogEntryRecord, is_drill: bool = False) -> dict[str, Any]:
    details = dict(entry.details)
    if entry.agent_name:
        details.setdefault("agent_name", entry.agent_name)
    return {
        "incident_id": qualify(source, entry.incident_id),
        "at": as_utc(entry.created_at),
        "kind": entry.type,
        "summary": entry.summary,
        "actor": qualify(source, entry.agent_id),
        "person_id": qualify(source, entry.person_id),
        "channel": entry.channel,
        "remote_id": qualify(source, entry.id),
        "is_drill": is_drill,
        "details": details,
    }


def first_acknowledgements(session: Session, rows: list[dict[str, Any]]) -> None:
    """PagerDuty lists no acknowledgements on a resolved incident; the log has the first one,
    which MTTA needs. Taken from the rows at hand: a query over the whole timeline per
    batch would grow with history."""
    first: dict[str, datetime] = {}
    for row in rows:
        if row["kind"] == "acknowledge":
            at = row["at"]
            if row["incident_id"] not in first or at < first[row["incident_id"]]:
                first[row["incident_id"]] = at
    if not first:
        return
    incidents = Incident.__table__  # type: ignore[attr-defined]
    session.execute(
        update(incidents)
        .where(incidents.c.id == bindparam("ack_id"))
        .where(
            or_(
                incidents.c.acknowledged_at.is_(None),
                incidents.c.acknowledged_at > bindparam("ack_at", type_=UTCDateTime()),
            )
        )
        .values(acknowledged_at=bindparam("ack_at", type_=UTCDateTime())),
        [{"ack_id": key, "ack_at": at} for key, at in first.items()],
    )
