"""The reads the screens, the CLI and the handoff need. Each is an indexed query, so that
opening a store of 100,000 incidents costs what opening one of 1,000 does."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case
from sqlmodel import Session, col, select

from cockpit.errors import CockpitError
from cockpit.store.models import (
    Alert,
    BatonPass,
    Incident,
    OnCallShift,
    Person,
    RunbookRun,
    SyncState,
)
from cockpit.store.reads import NO_FILTER as NO_FILTER
from cockpit.store.reads import OPEN_STATUSES as OPEN_STATUSES
from cockpit.store.reads import IncidentFilter as IncidentFilter
from cockpit.store.reads import TimelineItem as TimelineItem
from cockpit.store.timefmt import as_utc

_URGENCY_RANK = case((col(Incident.urgency) == "high", 0), else_=1)
_STATUS_RANK = case((col(Incident.status) == "triggered", 0), else_=1)
# A handoff with no shift on record covers this much.
SHIFT = timedelta(hours=12)


def open_incidents(
    session: Session,
    *,
    include_drills: bool = False,
    limit: int = 200,
    where: IncidentFilter = NO_FILTER,
) -> list[Incident]:
    """Open incidents, most urgent first: high before low, triggered before acknowledged,
    newest first. Ties are broken by id so the order is stable across refreshes."""
    query = where.apply(select(Incident).where(col(Incident.status).in_(OPEN_STATUSES)))
    if not include_drills:
        query = query.where(col(Incident.is_drill).is_(False))
    query = query.order_by(
        _URGENCY_RANK, _STATUS_RANK, col(Incident.created_at).desc(), col(Incident.id)
    ).limit(limit)
    return list(session.exec(query))


def recent_resolved(
    session: Session, *, limit: int = 20, include_drills: bool = False
) -> list[Incident]:
    query = select(Incident).where(Incident.status == "resolved")
    if not include_drills:
        query = query.where(col(Incident.is_drill).is_(False))
    query = query.order_by(col(Incident.created_at).desc(), col(Incident.id)).limit(limit)
    return list(session.exec(query))


def list_incidents(
    session: Session,
    *,
    status: str | None = None,
    limit: int = 100,
    include_drills: bool = False,
    where: IncidentFilter = NO_FILTER,
) -> list[Incident]:
    query = where.apply(select(Incident))
    if status == "open":
        query = query.where(col(Incident.status).in_(OPEN_STATUSES))
    elif status:
        query = query.where(Incident.status == status)
    if not include_drills:
        query = query.where(col(Incident.is_drill).is_(False))
    return list(
        session.exec(query.order_by(col(Incident.created_at).desc(), col(Incident.id)).limit(limit))
    )


class AmbiguousIncident(CockpitError):
    """An incident reference that names incidents of more than one source."""


def incident_label(incident: Incident) -> str:
    """How the screens and the CLI name an incident: ``#201``, or its remote id."""
    return f"#{incident.number}" if incident.number is not None else incident.remote_id


def find_incident(session: Session, ref: str) -> Incident | None:
    """The one resolver of what a user types for an incident: its full id
    (``pagerduty:PKVKHO5``), its remote id (``PKVKHO5``), or its number (``#201``, ``201``).

    Within a source the newest incident with that remote id or number wins; a reference
    that names incidents of several sources is refused, naming them.

    Raises:
        AmbiguousIncident: ``ref`` names incidents of more than one source.
    """
    ref = ref.strip()
    if not ref:
        return None
    found = session.get(Incident, ref)
    if found is not None:
        return found
    if ref.startswith("#"):  # "#201" is a number, as the screens show it
        text = ref[1:].strip()
        if not text.isdigit():
            return None
        match = col(Incident.number) == int(text)
    else:
        match = col(Incident.remote_id) == ref
        if ref.isdigit():
            match = match | (col(Incident.number) == int(ref))
    candidates = list(
        session.exec(
            select(Incident)
            .where(match)
            .order_by(col(Incident.created_at).desc(), col(Incident.id))
        )
    )
    newest: dict[str, Incident] = {}
    for incident in candidates:
        newest.setdefault(incident.source, incident)
    if len(newest) > 1:
        named = "; ".join(f"{i.id} ({incident_label(i)} {i.title[:40]})" for i in newest.values())
        raise AmbiguousIncident(f"{ref!r} could be {named}: give the full id")
    return next(iter(newest.values()), None)


def alerts_of(session: Session, incident_id: str) -> list[Alert]:
    return list(
        session.exec(
            select(Alert).where(Alert.incident_id == incident_id).order_by(col(Alert.created_at))
        )
    )


def people_by_id(session: Session, ids: list[str] | None = None) -> dict[str, Person]:
    query = select(Person)
    if ids is not None:
        query = query.where(col(Person.id).in_(ids))
    return {p.id: p for p in session.exec(query)}


def person_name(session: Session, person_id: str) -> str:
    if not person_id:
        return ""
    person = session.get(Person, person_id)
    return person.name if person else person_id.split(":", 1)[-1]


def baton_history(session: Session, incident_id: str) -> list[BatonPass]:
    return list(
        session.exec(
            select(BatonPass)
            .where(BatonPass.incident_id == incident_id)
            .order_by(col(BatonPass.offered_at), col(BatonPass.id))
        )
    )


def latest_run(session: Session, incident_id: str) -> RunbookRun | None:
    return session.exec(
        select(RunbookRun)
        .where(RunbookRun.incident_id == incident_id)
        .order_by(col(RunbookRun.started_at).desc(), col(RunbookRun.id).desc())
    ).first()


def sync_state(session: Session, key: str) -> SyncState | None:
    return session.get(SyncState, key)


def shift_window(session: Session, person_id: str, now: datetime) -> tuple[datetime, datetime]:
    """The person's on-call shift holding ``now``, else the one that ended last within a
    day, else the last 12 hours."""
    shift = session.exec(
        select(OnCallShift)
        .where(
            OnCallShift.person_id == person_id,
            col(OnCallShift.start) <= now,
            col(OnCallShift.start) >= now - timedelta(days=8),
        )
        .order_by(col(OnCallShift.start).desc())
    ).first()
    if shift is not None and shift.start is not None:
        end = as_utc(shift.end) if shift.end else now
        if end > now - timedelta(days=1):
            return as_utc(shift.start), end
    return now - SHIFT, now
