"""Push: the outbox -> the paging service, in order, exactly once as the service sees it.

An item is marked ``sending`` (and its attempt counted) in its own committed transaction
before the request goes out. If the process dies or the request times out after that, the
outcome is unknown: the next attempt first reads the remote state (the incident's status,
its notes) and only sends what is not there yet. So a note is never posted twice and an
acknowledgement is never sent to an incident someone already resolved.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import col, select

from cockpit.integrations.base import (
    AlreadyInState,
    PagingProvider,
    ProviderError,
)
from cockpit.store.engine import Store
from cockpit.store.models import Incident, Note, OutboxItem, TimelineEvent
from cockpit.store.types import utcnow

_STATUS_ORDER = {"triggered": 0, "acknowledged": 1, "resolved": 2}
# How far back a remote note may predate its outbox item and still be "ours" (clock skew).
_NOTE_SKEW = timedelta(minutes=5)
# An item another process is sending is left alone this long (the client's timeout times its
# retries and backoff stays well inside it); after that its sender is presumed dead.
SENDING_LEASE = timedelta(minutes=3)


@dataclass
class PushResult:
    sent: int = 0
    failed: int = 0
    superseded: int = 0
    pending: int = 0
    errors: list[str] = field(default_factory=list)
    reconciled: list[str] = field(default_factory=list)
    interrupted: bool = False  # a retryable error (network, 429, 5xx) stopped the run


def _claim(store: Store, sources: set[str]) -> OutboxItem | None:
    """The oldest deliverable item, marked sending with its attempt counted (committed)."""
    with store.write() as session:
        stale = utcnow() - SENDING_LEASE
        query = (
            select(OutboxItem)
            .where(
                or_(
                    col(OutboxItem.state) == "pending",
                    and_(
                        col(OutboxItem.state) == "sending", col(OutboxItem.last_attempt_at) < stale
                    ),
                )
            )
            .where(col(OutboxItem.source).in_(sorted(sources)))
            .order_by(col(OutboxItem.id))
        )
        item = session.exec(query).first()
        if item is None:
            return None
        item.state = "sending"
        item.attempts += 1
        item.last_attempt_at = utcnow()
        session.add(item)
        return item


async def push_outbox(
    store: Store, providers: Mapping[str, PagingProvider], *, limit: int = 500
) -> PushResult:
    result = PushResult()
    for _ in range(limit):
        item = _claim(store, set(providers))
        if item is None:
            break
        provider = providers[item.source]
        try:
            ref, note = await _deliver(store, provider, item)
        except AlreadyInState as error:
            _finish(store, item, "superseded", f"already {error.state} remotely")
            result.superseded += 1
            result.reconciled.append(
                f"{item.action} on {item.incident_id}: already {error.state} remotely, not sent"
            )
            continue
        except ProviderError as error:
            if error.retryable:
                _finish(store, item, "pending", str(error))
                result.errors.append(str(error))
                result.interrupted = True
                # The service is unreachable or throttling: later items would fail the same way.
                break
            _finish(store, item, "failed", str(error))
            result.failed += 1
            result.errors.append(f"{item.action} on {item.incident_id} failed: {error}")
            continue
        _finish(store, item, "sent", "", ref)
        result.sent += 1
        if note:
            result.reconciled.append(note)
    with store.read() as session:
        result.pending = len(
            session.exec(
                select(OutboxItem.id).where(col(OutboxItem.state).in_(("pending", "sending")))
            ).all()
        )
    return result


async def _deliver(store: Store, provider: PagingProvider, item: OutboxItem) -> tuple[str, str]:
    """Send one item; returns (remote reference, reconciliation note or "")."""
    with store.read() as session:
        incident = session.get(Incident, item.incident_id)
    if incident is None:
        raise ProviderError(f"incident {item.incident_id} is no longer in the store")
    remote_id = incident.remote_id
    retry = item.attempts > 1
    if item.action == "note":
        content = str(item.payload.get("content", ""))
        if retry:
            taken = _delivered_refs(store, item)
            for note in await provider.notes(remote_id):
                if (
                    note.content == content
                    and note.created_at >= item.created_at - _NOTE_SKEW
                    and note.id not in taken  # the same words sent earlier are another note
                ):
                    return note.id, f"note on {remote_id} had reached the service already"
        sent = await provider.add_note(remote_id, content)
        return sent.id, ""
    if item.action in ("acknowledge", "resolve"):
        target = "acknowledged" if item.action == "acknowledge" else "resolved"
        if retry or item.action == "acknowledge":
            remote = await provider.get_incident(remote_id)
            if _STATUS_ORDER[remote.status] >= _STATUS_ORDER[target]:
                raise AlreadyInState(f"{remote_id} is {remote.status}", remote.status)
        if item.action == "acknowledge":
            updated = await _commented(provider, item, provider.acknowledge, remote_id)
        else:
            updated = await provider.resolve(remote_id)
        return updated.id, ""
    if item.action == "reassign":
        person = str(item.payload["person_id"])
        if retry:
            remote = await provider.get_incident(remote_id)
            if list(remote.assignees) == [person]:
                return remote.id, f"{remote_id} was already assigned to {person}"
        return (await provider.reassign(remote_id, person)).id, ""
    if item.action == "snooze":
        seconds = int(item.payload["seconds"])
        return (await _commented(provider, item, provider.snooze, remote_id, seconds)).id, ""
    if item.action == "escalate":
        return (await provider.escalate(remote_id, int(item.payload["level"]))).id, ""
    raise ProviderError(f"unknown outbox action {item.action!r}")


async def _commented(provider: Any, item: OutboxItem, call: Any, *args: Any) -> Any:
    """The write, with the user's comment where the service keeps one (an Alertmanager
    silence's comment); PagerDuty has none: the note went as a note of its own."""
    comment = str(item.payload.get("comment", ""))
    if comment and getattr(provider, "takes_comments", False):
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


def _finish(store: Store, item: OutboxItem, state: str, error: str, ref: str = "") -> None:
    with store.write() as session:
        row = session.get(OutboxItem, item.id)
        if row is None:
            return
        row.state = state
        row.last_error = error
        if state == "sent":
            row.sent_at = utcnow()
            row.remote_ref = ref
        session.add(row)
        note_state = {"sent": "sent", "failed": "failed", "superseded": "sent"}.get(state)
        if row.action == "note" and note_state:
            note = session.get(Note, row.payload.get("note_id"))
            if note is not None:
                note.state = note_state
                if state == "sent" and ref:
                    # The same id form upsert.insert_remote_notes writes.
                    note.remote_id = f"{row.source}:{ref}"
                session.add(note)
        if state in ("sent", "failed", "superseded"):
            for event in session.exec(
                select(TimelineEvent).where(
                    TimelineEvent.incident_id == row.incident_id,
                    col(TimelineEvent.remote_id).is_(None),
                )
            ):
                if event.details and event.details.get("outbox_id") == row.id:
                    event.details = {**event.details, "state": state}
                    session.add(event)


def retry_item(store: Store, item_id: int) -> OutboxItem:
    with store.write() as session:
        row = session.get(OutboxItem, item_id)
        if row is None:
            raise ProviderError(f"no outbox item {item_id}")
        if row.state not in ("failed", "pending"):
            raise ProviderError(f"outbox item {item_id} is {row.state}: nothing to retry")
        row.state = "pending"
        row.last_error = ""
        session.add(row)
        return row


def discard_item(store: Store, item_id: int) -> OutboxItem:
    with store.write() as session:
        row = session.get(OutboxItem, item_id)
        if row is None:
            raise ProviderError(f"no outbox item {item_id}")
        if row.state in ("sent", "discarded"):
            raise ProviderError(f"outbox item {item_id} is {row.state}: nothing to discard")
        row.state = "discarded"
        session.add(row)
        if row.action == "note":
            note = session.get(Note, row.payload.get("note_id"))
            if note is not None:
                # The note stays in the store: it is only never sent.
                note.state = "local"
                session.add(note)
        return row
