"""What the cockpit screen shows, read from the store in one short read per refresh.

No Textual here: the widgets and the screens both render these records (so this module sits
below both), and tests can check them without a terminal. Every string stays raw; the widgets
pass it through ``cockpit.text.safe``. The reads are plain SQL (``cockpit.store.reads``): the
first frame is drawn before the ORM is imported, and a refresh compiles nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cockpit.durations import age as age
from cockpit.store import reads
from cockpit.store.engine import Store
from cockpit.store.reads import NO_FILTER, IncidentFilter, RefRow, TimelineItem
from cockpit.store.records import PEOPLE, SHIFTS, AlertRow, BatonRow, IncidentRow
from cockpit.store.timefmt import as_utc, to_db_text
from cockpit.sync.identity import Me, me_in

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
    def of(cls, incident: Any) -> IncidentRef:
        """Of an incident record or ORM object (the fields are the same)."""
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
    incident: IncidentRow
    alerts: list[AlertRow]
    paged: list[str]
    assignees: list[str]
    timeline: list[TimelineItem]
    holder_id: str
    holder_name: str
    holder_since: datetime | None
    offer: BatonRow | None
    offer_to_name: str
    unsent: list[reads.Unsent] = field(default_factory=list)  # not at the service yet
    warnings: list[str] = field(default_factory=list)  # a delivered write did more (reopen)

    @property
    def ref(self) -> IncidentRef:
        return IncidentRef.of(self.incident)


@dataclass(frozen=True)
class SwitcherView:
    open: list[IncidentRef]
    resolved: list[IncidentRef]
    urgency: dict[str, str] = field(default_factory=dict)
    last_rowid: int = 0  # the newest incident row of the store: where "new" starts next time
    arrived: frozenset[str] = frozenset()  # incidents stored since ``arrived_after``


@dataclass(frozen=True)
class StatusView:
    pending: int
    failed: int
    last_sync: datetime | None
    last_error: str
    paused: list[str] = field(default_factory=list)  # writes held back: a refused token


@dataclass(frozen=True)
class RosterEntry:
    person_id: str
    name: str
    on_call: str  # "on call now (level 1, Primary)" or ""


def _ref(row: RefRow) -> tuple[IncidentRef, str]:
    incident_id, remote_id, number, title, status, is_drill, urgency = row
    return IncidentRef(incident_id, remote_id, number, title, status, is_drill), urgency


def load_switcher(
    store: Store,
    *,
    resolved_limit: int = 10,
    where: IncidentFilter = NO_FILTER,
    arrived_after: int | None = None,
) -> SwitcherView:
    """The switcher's rows: only the columns it shows. Open incidents are served by
    ix_incidents_status_drill (schema 3): the few open rows, never a walk over every
    incident ever stored.

    ``arrived_after``: a ``last_rowid`` from an earlier read; the view then lists, in
    ``arrived``, the incidents that are new to the store since (an upsert keeps its row, so
    an incident the store already had is never new, whatever a filter showed before)."""
    with store.rows() as conn:
        every = [_ref(r) for r in reads.open_refs(conn, where) + reads.drill_refs(conn)]
        resolved = [_ref(r) for r in reads.resolved_refs(conn, where, resolved_limit)]
        last = int(conn.execute("SELECT coalesce(max(rowid), 0) FROM incidents").fetchone()[0])
        arrived: frozenset[str] = frozenset()
        if arrived_after is not None and last > arrived_after:
            arrived = frozenset(
                str(row[0])
                for row in conn.execute(
                    "SELECT id FROM incidents WHERE rowid > ?", (arrived_after,)
                )
            )
    return SwitcherView(
        [ref for ref, _ in every],
        [ref for ref, _ in resolved],
        {ref.id: urgency for ref, urgency in every + resolved},
        last_rowid=last,
        arrived=arrived,
    )


def load_incident(store: Store, incident_id: str) -> IncidentView | None:
    with store.rows() as conn:
        incident = reads.incident(conn, incident_id)
        if incident is None:
            return None
        paged = reads.paged_people(conn, incident_id)
        holder_id, since = reads.holder(conn, incident)
        offer = reads.pending_offer(conn, incident_id)
        wanted = set(paged) | set(incident.assignees) | {holder_id}
        if offer is not None:
            wanted.add(offer.to_person)
        names = reads.names(conn, sorted(p for p in wanted if p))
        return IncidentView(
            incident=incident,
            alerts=reads.alerts(conn, incident_id),
            paged=[_name(names, p) for p in paged],
            assignees=[_name(names, p) for p in incident.assignees],
            timeline=reads.timeline(conn, incident_id, limit=200),
            holder_id=holder_id,
            holder_name=_name(names, holder_id),
            holder_since=since,
            offer=offer,
            offer_to_name=_name(names, offer.to_person) if offer else "",
            unsent=reads.unsent_writes(conn, incident_id),
            warnings=(
                reads.write_warnings(conn, incident_id) if incident.status != "resolved" else []
            ),
        )


def _name(names: dict[str, str], person_id: str) -> str:
    if not person_id:
        return ""
    return names.get(person_id) or person_id.split(":", 1)[-1]


def load_status(store: Store) -> StatusView:
    with store.rows() as conn:
        counts = reads.outbox_counts(conn)
        last, error = reads.sync_health(conn)
        paused = reads.writes_paused(conn)
    return StatusView(
        paused=paused,
        pending=counts.get("pending", 0) + counts.get("sending", 0),
        failed=counts.get("failed", 0),
        last_sync=last,
        last_error=error,
    )


def me_of(store: Store, user: str = "") -> Me:
    with store.rows() as conn:
        return me_in(conn, user)


def roster(store: Store, now: datetime) -> list[RosterEntry]:
    """People to pass a baton to: who is on call now first, then everyone else."""
    with store.rows() as conn:
        people = {p.id: p for p in PEOPLE.select(conn, "ORDER BY name")}
        stamp = to_db_text(now)
        shifts = SHIFTS.select(
            conn,
            'WHERE (start IS NULL OR start <= ?) AND ("end" IS NULL OR "end" > ?)',
            (stamp, stamp),
        )
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


def clock_time(when: datetime | None) -> str:
    return as_utc(when).strftime("%H:%M") if when else "never"


def window(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)
