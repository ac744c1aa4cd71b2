"""The reads the screens, the CLI and the handoff need. Each is an indexed query, so that
opening a store of 100,000 incidents costs what opening one of 1,000 does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Text, case, func, type_coerce
from sqlmodel import Session, col, select

from cockpit.store.models import (
    Alert,
    BatonPass,
    Incident,
    Note,
    OutboxItem,
    Person,
    RunbookRun,
    SyncState,
    TimelineEvent,
)

OPEN_STATUSES = ("triggered", "acknowledged")
_URGENCY_RANK = case((col(Incident.urgency) == "high", 0), else_=1)
_STATUS_RANK = case((col(Incident.status) == "triggered", 0), else_=1)


@dataclass(frozen=True)
class IncidentFilter:
    """What people keep filtering by: high urgency only, mine, my team's, one service."""

    urgency: str = ""
    assignee: str = ""  # a person id: incidents assigned to them
    team: str = ""
    service: str = ""

    def apply(self, query: Any) -> Any:
        if self.urgency:
            query = query.where(Incident.urgency == self.urgency)
        if self.assignee:
            # Assignees are a JSON list of quoted ids; the quotes make the match exact.
            # (type_coerce: matched as the stored text, not bound through the JSON type).
            assignees = type_coerce(col(Incident.assignees), Text)
            query = query.where(assignees.contains(f'"{self.assignee}"', autoescape=True))
        if self.team:
            query = query.where(func.lower(Incident.team) == self.team.lower())
        if self.service:
            query = query.where(func.lower(Incident.service_name) == self.service.lower())
        return query


NO_FILTER = IncidentFilter()


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


def find_incident(session: Session, ref: str) -> Incident | None:
    """An incident by qualified id, remote id or PagerDuty number."""
    found = session.get(Incident, ref)
    if found is not None:
        return found
    query = select(Incident).where(Incident.remote_id == ref)
    if ref.isdigit():
        query = select(Incident).where((Incident.remote_id == ref) | (Incident.number == int(ref)))
    return session.exec(query.order_by(col(Incident.created_at).desc())).first()


@dataclass(frozen=True)
class TimelineItem:
    """One line of an incident's timeline, from a log entry, a local event or a note."""

    at: datetime
    kind: str
    summary: str
    actor: str
    state: str = ""  # "pending" / "failed" for notes and writes not yet delivered
    remote: bool = True


def timeline(session: Session, incident_id: str, limit: int = 200) -> list[TimelineItem]:
    """Newest first: log entries and local events merged with notes."""
    events = session.exec(
        select(TimelineEvent)
        .where(TimelineEvent.incident_id == incident_id)
        .order_by(col(TimelineEvent.at).desc(), col(TimelineEvent.id).desc())
        .limit(limit)
    ).all()
    notes = session.exec(
        select(Note)
        .where(Note.incident_id == incident_id)
        .order_by(col(Note.created_at).desc(), col(Note.id).desc())
        .limit(limit)
    ).all()
    ours = {n.content for n in notes}
    items: list[TimelineItem] = []
    for e in events:
        details = e.details or {}
        if e.kind == "annotate" and e.remote_id is not None:
            # A note made in PagerDuty: its text is in the log entry. Our own notes come back
            # this way too, and the notes table already shows those.
            text = str(details.get("note") or e.summary)
            if text in ours:
                continue
            author = str(details.get("agent_name") or e.actor)
            items.append(TimelineItem(e.at, "note", text, author))
            continue
        items.append(
            TimelineItem(
                e.at,
                e.kind,
                e.summary,
                e.actor,
                state=str(details.get("state", "")),
                remote=e.remote_id is not None,
            )
        )
    items += [
        TimelineItem(
            n.created_at,
            "note",
            n.content,
            n.author,
            state="" if n.state in ("sent", "local") else n.state,
            remote=n.remote_id is not None,
        )
        for n in notes
    ]
    items.sort(key=lambda item: item.at, reverse=True)
    return items[:limit]


def alerts_of(session: Session, incident_id: str) -> list[Alert]:
    return list(
        session.exec(
            select(Alert).where(Alert.incident_id == incident_id).order_by(col(Alert.created_at))
        )
    )


def paged_people(session: Session, incident_id: str) -> list[str]:
    """Who was notified for this incident (person ids), first page first."""
    rows = session.exec(
        select(TimelineEvent.person_id, func.min(TimelineEvent.at))
        .where(TimelineEvent.incident_id == incident_id, TimelineEvent.kind == "notify")
        .group_by(TimelineEvent.person_id)
        .order_by(func.min(TimelineEvent.at))
    ).all()
    return [person for person, _ in rows if person]


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


def outbox_counts(session: Session) -> dict[str, int]:
    rows = session.exec(
        select(OutboxItem.state, func.count())
        .where(col(OutboxItem.state).in_(("pending", "sending", "failed")))
        .group_by(OutboxItem.state)
    ).all()
    return {state: int(count) for state, count in rows}


def sync_state(session: Session, key: str) -> SyncState | None:
    return session.get(SyncState, key)
