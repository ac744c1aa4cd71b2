"""What the user does to an incident. Each action writes its local effect and, where the
incident's source takes writes, an outbox item, in one transaction: the timeline shows the
act at once (marked pending) and the sender delivers it when the network allows.

The TUI and the headless commands both call these; neither talks HTTP.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from cockpit.durations import compact
from cockpit.errors import CockpitError
from cockpit.integrations.catalog import capabilities
from cockpit.store import reads
from cockpit.store.engine import Store, driver_connection
from cockpit.store.models import (
    BatonPass,
    Incident,
    Note,
    OnCallShift,
    OutboxItem,
    TimelineEvent,
)
from cockpit.store.queries import find_incident, person_name
from cockpit.store.timefmt import utcnow
from cockpit.sync.identity import Me, get_me

# What the user's actions are stamped with: the app's clock (a drill's, a test's), or now.
Clock = Callable[[], datetime]

MAX_SNOOZE = 604_800


class ActionError(CockpitError):
    """The action does not apply (unknown incident, already resolved...)."""


def delivers(source: str) -> bool:
    """Whether writes to ``source``'s incidents go to a paging service at all."""
    return bool(capabilities(source).writes)


def _incident(session: Session, ref: str) -> Incident:
    incident = find_incident(session, ref)
    if incident is None:
        raise ActionError(f"no incident {ref!r} in the local store (try `cockpit sync`)")
    return incident


def _enqueue(
    session: Session, incident: Incident, action: str, payload: dict[str, Any]
) -> OutboxItem | None:
    # What the service does not take stays local (never lost, never sent): Alertmanager has
    # no notes or assignment, and drill incidents reach no one.
    if incident.is_drill or action not in capabilities(incident.source).writes:
        return None
    item = OutboxItem(
        source=incident.source, incident_id=incident.id, action=action, payload=payload
    )
    session.add(item)
    session.flush()
    return item


def _event(
    session: Session,
    incident: Incident,
    kind: str,
    summary: str,
    actor: str,
    item: OutboxItem | None,
    at: datetime,
    **details: Any,
) -> None:
    if item is not None:
        details["outbox_id"] = item.id
        details["state"] = "pending"
    session.add(
        TimelineEvent(
            incident_id=incident.id,
            at=at,
            kind=kind,
            summary=summary,
            actor=actor,
            is_drill=incident.is_drill,
            details=details,
        )
    )


def _supersede(session: Session, incident_id: str, actions: tuple[str, ...], by: str) -> None:
    for item in session.exec(
        select(OutboxItem).where(
            OutboxItem.incident_id == incident_id,
            col(OutboxItem.action).in_(actions),
            OutboxItem.state == "pending",
        )
    ):
        item.state = "superseded"
        item.last_error = f"superseded by a later {by}"
        session.add(item)


@dataclass(frozen=True)
class _Acting:
    """One user act on one incident, inside its write transaction: who, when, and the two
    things every act leaves (an outbox item where the service takes it, a timeline line)."""

    session: Session
    incident: Incident
    me: Me
    now: datetime

    def enqueue(self, action: str, payload: dict[str, Any]) -> OutboxItem | None:
        return _enqueue(self.session, self.incident, action, payload)

    def event(self, kind: str, summary: str, item: OutboxItem | None) -> None:
        _event(self.session, self.incident, kind, summary, self.me.id, item, self.now)


@contextmanager
def _acting(
    store: Store,
    ref: str,
    *,
    user: str,
    clock: Clock,
    refuse: Callable[[Incident], str],
    note: str = "",
) -> Iterator[_Acting]:
    """The preamble of every status act: the incident (or a clear error), ``refuse``'s
    reason not to act (nothing is written then), who acts and when, the user's note."""
    with store.write() as session:
        incident = _incident(session, ref)
        why = refuse(incident)
        if why:
            raise ActionError(why)
        me = get_me(session, user)
        now = clock()
        if note:
            _add_note(session, incident, note, me.name, now)
        yield _Acting(session, incident, me, now)


def acknowledge(
    store: Store, ref: str, *, user: str = "", note: str = "", clock: Clock = utcnow
) -> Incident:
    """Acknowledge; ``note`` is added to the incident and, where the service keeps one (an
    Alertmanager silence), is the write's comment."""

    def refuse(incident: Incident) -> str:
        if incident.status == "resolved":
            return f"{incident.remote_id} is already resolved: nothing to acknowledge"
        return ""

    with _acting(store, ref, user=user, clock=clock, refuse=refuse, note=note) as act:
        incident, me, now = act.incident, act.me, act.now
        incident.status = "acknowledged"
        incident.acknowledged_at = incident.acknowledged_at or now
        incident.updated_at = now
        act.session.add(incident)
        comment = _comment(note, f"acknowledged by {me.name} in cockpit")
        item = act.enqueue("acknowledge", {"comment": comment})
        act.event("acknowledge", f"Acknowledged by {me.name}", item)
        return incident


def resolve(
    store: Store, ref: str, *, user: str = "", note: str = "", clock: Clock = utcnow
) -> Incident:
    def refuse(incident: Incident) -> str:
        return f"{incident.remote_id} is already resolved" if incident.status == "resolved" else ""

    with _acting(store, ref, user=user, clock=clock, refuse=refuse, note=note) as act:
        incident, now = act.incident, act.now
        incident.status = "resolved"
        incident.resolved_at = now
        incident.updated_at = now
        act.session.add(incident)
        _supersede(act.session, incident.id, ("acknowledge", "snooze", "escalate"), "resolve")
        act.event("resolve", f"Resolved by {act.me.name}", act.enqueue("resolve", {}))
        return incident


def snooze(
    store: Store, ref: str, seconds: int, *, user: str = "", note: str = "", clock: Clock = utcnow
) -> Incident:
    if not 1 <= seconds <= MAX_SNOOZE:
        raise ActionError(f"snooze must be between 1 second and 7 days, got {seconds} s")

    def refuse(incident: Incident) -> str:
        # An Alertmanager snooze is a silence, which needs no acknowledge first.
        allowed = ("acknowledged", "triggered") if incident.source == "alertmanager" else ()
        if incident.status in (*allowed, "acknowledged"):
            return ""
        return (
            f"{incident.remote_id} is {incident.status}: only an acknowledged incident "
            "can be snoozed (acknowledge it first)"
        )

    with _acting(store, ref, user=user, clock=clock, refuse=refuse, note=note) as act:
        incident, me = act.incident, act.me
        incident.snoozed_until = act.now + timedelta(seconds=seconds)
        act.session.add(incident)
        comment = _comment(note, f"snoozed for {compact(seconds)} by {me.name} in cockpit")
        item = act.enqueue("snooze", {"seconds": seconds, "comment": comment})
        act.event("snooze", f"Snoozed {compact(seconds)} by {me.name}", item)
        return incident


def escalate(
    store: Store, ref: str, level: int, *, user: str = "", clock: Clock = utcnow
) -> Incident:
    if level < 1:
        raise ActionError(f"escalation level must be 1 or more, got {level}")

    def refuse(incident: Incident) -> str:
        if incident.status == "resolved":
            return f"{incident.remote_id} is resolved: nothing to escalate"
        return ""

    with _acting(store, ref, user=user, clock=clock, refuse=refuse) as act:
        _check_level(act.session, act.incident, level)
        item = act.enqueue("escalate", {"level": level})
        act.event("escalate", f"Escalated to level {level} by {act.me.name}", item)
        return act.incident


def _check_level(session: Session, incident: Incident, level: int) -> None:
    """Refuse a level the incident's escalation policy does not have, when the store knows
    the policy's levels (from the on-call roster); the service would refuse it at sync."""
    if not incident.escalation_policy_id:
        return
    shifts = session.exec(
        select(OnCallShift.escalation_level, OnCallShift.escalation_policy_name).where(
            OnCallShift.escalation_policy_id == incident.escalation_policy_id
        )
    ).all()
    if not shifts:
        return
    levels = max(row[0] for row in shifts)
    if level > levels:
        name = next((row[1] for row in shifts if row[1]), "its escalation policy")
        raise ActionError(
            f"{incident.remote_id} cannot be escalated to level {level}: {name} has "
            f"levels 1 to {levels}"
        )


def add_note(
    store: Store, ref: str, content: str, *, user: str = "", clock: Clock = utcnow
) -> Note:
    if not content.strip():
        raise ActionError("a note needs some text")
    with store.write() as session:
        incident = _incident(session, ref)
        me = get_me(session, user)
        return _add_note(session, incident, content, me.name, clock())


def _add_note(
    session: Session, incident: Incident, content: str, author: str, at: datetime
) -> Note:
    note = Note(
        incident_id=incident.id, content=content, author=author, created_at=at, state="local"
    )
    session.add(note)
    session.flush()
    item = _enqueue(session, incident, "note", {"content": content, "note_id": note.id})
    if item is not None:
        note.state = "pending"
        note.outbox_id = item.id
        session.add(note)
    return note


def _comment(note: str, default: str) -> str:
    """A write's comment: the user's note (its first 500 characters) or who did what."""
    note = " ".join(note.split())
    return note[:500] if note else default


def baton_holder(session: Session, incident: Incident) -> tuple[str, datetime | None]:
    """(person id, since): the last accepted pass, else the remote assignee."""
    return reads.holder(driver_connection(session), incident)


def pending_offer(session: Session, incident_id: str) -> BatonPass | None:
    """The open offer as an ORM row (to withdraw or accept it); the query is the screen's."""
    offer = reads.pending_offer(driver_connection(session), incident_id)
    return session.get(BatonPass, offer.id) if offer is not None else None


def offer_baton(
    store: Store, ref: str, to_person: str, note: str, *, user: str = "", clock: Clock = utcnow
) -> BatonPass:
    """Offer the baton. The giver keeps it until the receiver accepts."""
    if not note.strip():
        raise ActionError("passing the baton needs a short note for the receiver")
    with store.write() as session:
        incident = _incident(session, ref)
        me = get_me(session, user)
        holder, _ = baton_holder(session, incident)
        if holder and holder == to_person:
            raise ActionError(f"{to_person} already holds {incident.remote_id}")
        previous = pending_offer(session, incident.id)
        if previous is not None:
            previous.state = "withdrawn"
            session.add(previous)
        baton = BatonPass(
            incident_id=incident.id,
            from_person=holder or me.id,
            to_person=to_person,
            note=note,
            offered_at=clock(),
        )
        session.add(baton)
        session.flush()
        _event(
            session,
            incident,
            "baton",
            f"Baton offered to {person_name(session, to_person)} by {me.name}: {note}",
            me.id,
            None,
            baton.offered_at,
        )
        return baton


def accept_baton(
    store: Store, ref: str, *, by: str = "", user: str = "", clock: Clock = utcnow
) -> BatonPass:
    """The receiver accepts: ownership moves, and the reassignment and its note are queued."""
    with store.write() as session:
        incident = _incident(session, ref)
        baton = pending_offer(session, incident.id)
        if baton is None:
            raise ActionError(f"no baton offer is waiting on {incident.remote_id}")
        me = get_me(session, user)
        receiver = by or baton.to_person
        if receiver != baton.to_person:
            raise ActionError(
                f"the baton of {incident.remote_id} was offered to "
                f"{person_name(session, baton.to_person)}, not "
                f"{person_name(session, receiver)}: only they can accept it"
            )
        now = clock()
        baton.state = "accepted"
        baton.accepted_at = now
        session.add(baton)
        _queue_reassign(session, incident, baton, me.name, now)
        return baton


def take_baton(
    store: Store, ref: str, *, user: str = "", note: str = "", clock: Clock = utcnow
) -> BatonPass:
    """Take the baton yourself: your own acceptance is the taking."""
    with store.write() as session:
        incident = _incident(session, ref)
        me = get_me(session, user)
        holder, _ = baton_holder(session, incident)
        if holder == me.id:
            raise ActionError(f"you already hold {incident.remote_id}")
        previous = pending_offer(session, incident.id)
        if previous is not None:
            previous.state = "withdrawn"
            session.add(previous)
        now = clock()
        baton = BatonPass(
            incident_id=incident.id,
            from_person=holder,
            to_person=me.id,
            note=note or "taken",
            state="accepted",
            offered_at=now,
            accepted_at=now,
        )
        session.add(baton)
        session.flush()
        _queue_reassign(session, incident, baton, me.name, now)
        return baton


def _queue_reassign(
    session: Session, incident: Incident, baton: BatonPass, actor: str, now: datetime
) -> None:
    remote_person = baton.to_person.split(":", 1)[1] if ":" in baton.to_person else ""
    item = None
    if remote_person and baton.to_person.startswith(incident.source + ":"):
        # Reassigning sends an incident back to triggered and pages the assignee again; an
        # acknowledged incident is acknowledged in the same request by its new holder.
        payload: dict[str, Any] = {"person_id": remote_person}
        if incident.status == "acknowledged":
            payload["acknowledge"] = True
        item = _enqueue(session, incident, "reassign", payload)
        incident.assignees = [baton.to_person]
        session.add(incident)
    giver = person_name(session, baton.from_person) or "nobody"
    text = f"Baton passed from {giver} to {person_name(session, baton.to_person)}"
    if baton.note:
        text += f": {baton.note}"
    _event(session, incident, "baton", text, baton.to_person, item, now, baton_id=baton.id)
    _add_note(session, incident, f"[cockpit] {text}", actor, now)
