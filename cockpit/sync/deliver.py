"""Delivering one outbox item: one handler per action, each with its in-doubt check.

:mod:`cockpit.sync.push` claims an item and records the outcome; this module sends it. A
handler first looks at the service when the item is in doubt (an earlier attempt's answer was
lost): the write found there is reported as delivered, not sent again. If it is not there yet
while the earlier request could still land, :class:`Wait` says until when (push.py, rule 4).

A new kind of write is a handler here, an entry in :data:`HANDLERS`, its name in
``cockpit.integrations.base.WRITES`` and the provider method that sends it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import select

from cockpit.integrations.base import AlreadyInState, PagingProvider, ProviderError
from cockpit.records import IncidentRecord
from cockpit.store.engine import Store
from cockpit.store.models import Incident, OutboxItem
from cockpit.store.timefmt import as_utc, utcnow
from cockpit.sync.identity import me_in

_STATUS_ORDER = {"triggered": 0, "acknowledged": 1, "resolved": 2}
# How far back a remote record may predate its outbox item and still be "ours" (clock skew).
_SKEW = timedelta(minutes=5)


class Wait(Exception):
    """The write is not at the service yet, and an earlier request may still land."""

    def __init__(self, until: datetime, what: str) -> None:
        super().__init__(what)
        self.until = until


@dataclass(frozen=True)
class Claim:
    item: OutboxItem
    sent_before: datetime | None  # when the previous attempt began, if any
    settled: bool  # it already waited for that attempt to settle: look once more, then send


@dataclass(frozen=True)
class Delivered:
    ref: str
    note: str = ""  # a reconciliation to report
    warning: str = ""  # something the service did beyond what was asked


@dataclass(frozen=True)
class Job:
    """One item on its way: what a handler needs."""

    store: Store
    provider: PagingProvider
    claim: Claim
    incident: Incident

    @property
    def item(self) -> OutboxItem:
        return self.claim.item

    @property
    def remote_id(self) -> str:
        return self.incident.remote_id

    @property
    def in_doubt(self) -> bool:
        return self.item.attempts > 1

    def settle(self, what: str) -> None:
        """Raise Wait while the previous request for the item may still reach the server."""
        if self.claim.settled or self.claim.sent_before is None:
            return
        until = self.claim.sent_before + timedelta(seconds=float(self.provider.request_deadline))
        if until > utcnow():
            raise Wait(
                until,
                f"{what}: not at the service yet; an earlier send may still land, "
                f"checking again at {until:%H:%M:%S} before sending",
            )


Handler = Callable[[Job], Awaitable[Delivered]]


async def deliver(store: Store, provider: PagingProvider, claim: Claim) -> Delivered:
    """Send one claimed item through its action's handler."""
    with store.read() as session:
        incident = session.get(Incident, claim.item.incident_id)
    if incident is None:
        raise ProviderError(f"incident {claim.item.incident_id} is no longer in the store")
    handler = HANDLERS.get(claim.item.action)
    if handler is None:
        raise ProviderError(f"unknown outbox action {claim.item.action!r}")
    return await handler(Job(store, provider, claim, incident))


# ---------------------------------------------------------------- handlers


async def _note(job: Job) -> Delivered:
    content = str(job.item.payload.get("content", ""))
    if job.in_doubt:
        taken = _delivered_refs(job.store, job.item)
        for note in await job.provider.notes(job.remote_id):
            if (
                note.content == content
                and note.created_at >= as_utc(job.item.created_at) - _SKEW
                and note.id not in taken  # the same words sent earlier are another note
            ):
                return Delivered(
                    note.id, f"note on {job.remote_id} had reached the service already"
                )
        job.settle(f"note on {job.remote_id}")
    sent = await job.provider.add_note(job.remote_id, content)
    return Delivered(sent.id)


async def _status(job: Job) -> Delivered:
    """Acknowledge or resolve: the status is read first (always before an acknowledgement,
    which would reopen an incident someone resolved)."""
    action = job.item.action
    target = "acknowledged" if action == "acknowledge" else "resolved"
    remote: IncidentRecord | None = None
    if job.in_doubt or action == "acknowledge":
        remote = await job.provider.get_incident(job.remote_id)
        if _STATUS_ORDER.get(remote.status, -1) >= _STATUS_ORDER[target]:
            raise AlreadyInState(f"{job.remote_id} is {remote.status}", remote.status)
        if job.in_doubt:
            job.settle(f"{action} of {job.remote_id}")
    if action == "resolve":
        return Delivered((await job.provider.resolve(job.remote_id)).id)
    updated = await _commented(job, job.provider.acknowledge, job.remote_id)
    assert remote is not None
    return Delivered(updated.id, warning=await _reopened(job, remote))


async def _reassign(job: Job) -> Delivered:
    person = str(job.item.payload["person_id"])
    ack = bool(job.item.payload.get("acknowledge"))
    if job.in_doubt:
        remote = await job.provider.get_incident(job.remote_id)
        if list(remote.assignees) == [person] and (not ack or remote.status != "triggered"):
            return Delivered(remote.id, f"{job.remote_id} was already assigned to {person}")
        job.settle(f"reassignment of {job.remote_id}")
    return Delivered((await job.provider.reassign(job.remote_id, person, acknowledge=ack)).id)


async def _logged(job: Job) -> Delivered:
    """Snooze or escalate: in doubt, the incident's log says whether it arrived (a second
    escalation pages people again, a second snooze restarts the timer)."""
    action = job.item.action
    if job.in_doubt:
        since = as_utc(job.item.created_at) - _SKEW
        ours = _my_remote_id(job.store, job.item.source)
        for entry in await job.provider.incident_log_entries(job.remote_id):
            by_other = bool(ours and entry.agent_id and entry.agent_id != ours)
            if entry.type == action and as_utc(entry.created_at) >= since and not by_other:
                return Delivered(
                    entry.id, f"{action} of {job.remote_id} had reached the service already"
                )
        job.settle(f"{action} of {job.remote_id}")
    if action == "snooze":
        seconds = int(job.item.payload["seconds"])
        return Delivered((await _commented(job, job.provider.snooze, job.remote_id, seconds)).id)
    level = int(job.item.payload["level"])
    return Delivered((await job.provider.escalate(job.remote_id, level)).id)


HANDLERS: dict[str, Handler] = {
    "note": _note,
    "acknowledge": _status,
    "resolve": _status,
    "reassign": _reassign,
    "snooze": _logged,
    "escalate": _logged,
}


# ---------------------------------------------------------------- helpers


def _my_remote_id(store: Store, source: str) -> str:
    """The user's id at ``source`` ("" if not known): whose log entries are ours."""
    with store.rows() as conn:
        me = me_in(conn)
    prefix = f"{source}:"
    return me.id.removeprefix(prefix) if me.id.startswith(prefix) else ""


async def _reopened(job: Job, before: IncidentRecord) -> str:
    """A warning if the incident was resolved between our check and our acknowledgement (the
    acknowledgement then reopened it), else ""."""
    try:
        entries = await job.provider.incident_log_entries(before.id)
    except ProviderError:
        return ""
    checked = as_utc(before.updated_at)
    resolves = [e for e in entries if e.type == "resolve" and as_utc(e.created_at) > checked]
    if not resolves:
        return ""
    incident = job.incident
    who = resolves[-1].agent_name or "someone"
    when = as_utc(resolves[-1].created_at)
    number = f"#{incident.number}" if incident.number else incident.remote_id
    return (
        f"Your acknowledgement REOPENED {number} ({incident.remote_id}): {who} had resolved it "
        f"at {when:%H:%M:%S} UTC, just before it arrived. Resolve it again: "
        f"`cockpit resolve {incident.remote_id}` (R in the cockpit)."
    )


async def _commented(job: Job, call: Any, *args: Any) -> Any:
    """The write, with the user's comment where the service keeps one (an Alertmanager
    silence's comment); PagerDuty has none: the note went as a note of its own."""
    comment = str(job.item.payload.get("comment", ""))
    if comment and job.provider.capabilities.comments:
        return await call(*args, comment=comment)
    return await call(*args)


def _delivered_refs(store: Store, item: OutboxItem) -> set[str]:
    """Remote ids of this incident's notes that other outbox items already account for."""
    with store.read() as session:
        rows = session.exec(
            select(OutboxItem.remote_ref).where(
                OutboxItem.incident_id == item.incident_id,
                OutboxItem.action == "note",
                OutboxItem.state == "sent",
                OutboxItem.id != item.id,
            )
        ).all()
    return {ref for ref in rows if ref}


__all__ = ["HANDLERS", "Claim", "Delivered", "Handler", "Job", "Wait", "deliver"]
