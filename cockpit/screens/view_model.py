"""What the cockpit screen shows, read from the store in one short session per refresh.

No Textual here: the widgets render these records, and tests can check them without a
terminal. Every string stays raw; the widgets pass it through ``cockpit.text.safe``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from cockpit.durations import age as age
from cockpit.store.engine import Store
from cockpit.store.models import Alert, BatonPass, Incident, OnCallShift, Person, SyncState
from cockpit.store.queries import _STATUS_RANK as STATUS_RANK
from cockpit.store.queries import _URGENCY_RANK as URGENCY_RANK
from cockpit.store.queries import (
    NO_FILTER,
    OPEN_STATUSES,
    IncidentFilter,
    TimelineItem,
    alerts_of,
    outbox_counts,
    paged_people,
    people_by_id,
    timeline,
)
from cockpit.store.types import as_utc
from cockpit.sync.actions import baton_holder, pending_offer
from cockpit.sync.identity import Me, get_me

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class IncidentRef:
    """An incident as it was when a key was pressed: what a confirmation names and acts on."""

    id: str
    remote_id: str
    number: int | None
    title: str
    status: str
    is_drill: bool = False

    @property
    def label(self) -> str:
        return f"#{self.number}" if self.number is not None else self.remote_id

    @classmethod
    def of(cls, incident: Incident) -> IncidentRef:
        return cls(
            incident.id,
            incident.remote_id,
            incident.number,
            incident.title,
            incident.status,
            incident.is_drill,
        )


@dataclass(frozen=True)
class IncidentView:
    incident: Incident
    alerts: list[Alert]
    paged: list[str]
    assignees: list[str]
    timeline: list[TimelineItem]
    holder_id: str
    holder_name: str
    holder_since: datetime | None
    offer: BatonPass | None
    offer_to_name: str

    @property
    def ref(self) -> IncidentRef:
        return IncidentRef.of(self.incident)


@dataclass(frozen=True)
class SwitcherView:
    open: list[IncidentRef]
    resolved: list[IncidentRef]
    urgency: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StatusView:
    pending: int
    failed: int
    last_sync: datetime | None
    last_error: str


@dataclass(frozen=True)
class RosterEntry:
    person_id: str
    name: str
    on_call: str  # "on call now (level 1, Primary)" or ""


_REF_COLUMNS = (Incident.id, Incident.remote_id, Incident.number, Incident.title,
                Incident.status, Incident.is_drill, Incident.urgency)


def _refs(session: Session, query: Any) -> list[tuple[IncidentRef, str]]:
    return [(IncidentRef(i, r, n, t, s, bool(d)), u or "")
            for i, r, n, t, s, d, u in session.exec(query)]


def load_switcher(
    store: Store, *, resolved_limit: int = 10, where: IncidentFilter = NO_FILTER
) -> SwitcherView:
    """The switcher's rows: only the columns it shows (no ORM objects: on a store of 100,000
    incidents the open list is read on every refresh)."""
    with store.read() as session:
        # Served by ix_incidents_status_drill (schema 3): the few open rows, never a walk
        # over every incident ever stored.
        opened = _refs(session, where.apply(select(*_REF_COLUMNS).where(  # type: ignore[call-overload]
            col(Incident.status).in_(OPEN_STATUSES), col(Incident.is_drill).is_(False)
        )).order_by(URGENCY_RANK, STATUS_RANK, col(Incident.created_at).desc(),
                   col(Incident.id)).limit(200))
        drills = _refs(session, select(*_REF_COLUMNS).where(  # type: ignore[call-overload]
            col(Incident.is_drill).is_(True), col(Incident.status).in_(OPEN_STATUSES)
        ).order_by(col(Incident.created_at).desc(), col(Incident.id)).limit(50))
        resolved = _refs(session, where.apply(select(*_REF_COLUMNS).where(  # type: ignore[call-overload]
            Incident.status == "resolved", col(Incident.is_drill).is_(False)
        )).order_by(col(Incident.created_at).desc(), col(Incident.id)).limit(resolved_limit))
    every = opened + drills
    return SwitcherView(
        [ref for ref, _ in every],
        [ref for ref, _ in resolved],
        {ref.id: urgency for ref, urgency in every + resolved},
    )


def load_incident(store: Store, incident_id: str) -> IncidentView | None:
    with store.read() as session:
        incident = session.get(Incident, incident_id)
        if incident is None:
            return None
        paged = paged_people(session, incident_id)
        holder_id, since = baton_holder(session, incident)
        offer = pending_offer(session, incident_id)
        wanted = set(paged) | set(incident.assignees) | {holder_id}
        if offer is not None:
            wanted.add(offer.to_person)
        names = people_by_id(session, sorted(p for p in wanted if p))
        return IncidentView(
            incident=incident,
            alerts=alerts_of(session, incident_id),
            paged=[_name(names, p) for p in paged],
            assignees=[_name(names, p) for p in incident.assignees],
            timeline=timeline(session, incident_id, limit=200),
            holder_id=holder_id,
            holder_name=_name(names, holder_id),
            holder_since=since,
            offer=offer,
            offer_to_name=_name(names, offer.to_person) if offer else "",
        )


def _name(names: dict[str, Person], person_id: str) -> str:
    if not person_id:
        return ""
    person = names.get(person_id)
    return person.name if person else person_id.split(":", 1)[-1]


def load_status(store: Store) -> StatusView:
    with store.read() as session:
        counts = outbox_counts(session)
        rows = session.exec(
            select(SyncState).where(col(SyncState.last_ok_at).is_not(None))
        ).all()
        errors = session.exec(select(SyncState).where(SyncState.last_error != "")).all()
    last = max((as_utc(r.last_ok_at) for r in rows if r.last_ok_at), default=None)
    return StatusView(
        pending=counts.get("pending", 0) + counts.get("sending", 0),
        failed=counts.get("failed", 0),
        last_sync=last,
        last_error=errors[0].last_error if errors else "",
    )


def me_of(store: Store, user: str = "") -> Me:
    with store.read() as session:
        return get_me(session, user)


def roster(store: Store, now: datetime) -> list[RosterEntry]:
    """People to pass a baton to: who is on call now first, then everyone else."""
    with store.read() as session:
        people = {p.id: p for p in session.exec(select(Person).order_by(col(Person.name)))}
        shifts = _current_shifts(session, now)
    entries: list[RosterEntry] = []
    seen: set[str] = set()
    for shift in sorted(shifts, key=lambda s: (s.escalation_level, s.person_id)):
        if shift.person_id in seen:
            continue
        seen.add(shift.person_id)
        person = people.get(shift.person_id)
        name = person.name if person else shift.person_id.split(":", 1)[-1]
        where = shift.schedule_name or shift.escalation_policy_name
        label = f"on call now, level {shift.escalation_level}" + (f", {where}" if where else "")
        entries.append(RosterEntry(shift.person_id, name, label))
    for person in people.values():
        if person.id not in seen:
            entries.append(RosterEntry(person.id, person.name, ""))
    return entries


def _current_shifts(session: Session, now: datetime) -> list[OnCallShift]:
    shifts = session.exec(select(OnCallShift)).all()
    return [
        s
        for s in shifts
        if (s.start is None or as_utc(s.start) <= now) and (s.end is None or as_utc(s.end) > now)
    ]


def clock_time(when: datetime | None) -> str:
    return as_utc(when).strftime("%H:%M") if when else "never"


def window(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)
