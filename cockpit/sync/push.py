"""Push: the outbox -> the paging service, once, in order, or loudly not at all.

The rules of the write path, in one place (the README's "What reaches PagerDuty" repeats them
for users):

1. **Queued with its local effect.** An action writes its local effect and its outbox item in
   one transaction (:mod:`cockpit.sync.actions`); what is impossible by what the store knows
   is refused there, at the moment the user asks.
2. **One incident, one order.** Items of one incident are delivered in the order they were
   made: an item waits while an earlier one of its incident is being sent, is waiting to be
   checked, or is paused. Different incidents do not wait for each other.
3. **Claimed, with who holds it.** Before its request goes out an item is marked ``sending``
   with its attempt counted and its holder (``host:pid:start``, :mod:`cockpit.sync.holder`),
   in its own committed transaction. An item whose holder is gone (killed, crashed, a
   cancelled worker of this very process) is taken back by the next sync at once; only a
   holder on another host falls back to the lease (:data:`SENDING_LEASE`), which outlives any
   request's deadline.
4. **In doubt, look before sending again.** After a timeout, a dropped connection, a 5xx on a
   write or a killed sender, the write may or may not have arrived. Every later attempt first
   reads the remote state: the status for acknowledge and resolve, the assignees for a
   reassignment, the log for an escalation or a snooze, the notes for a note. If the write is
   not there yet while the first request could still be in the server's hands (less than the
   client's request deadline ago), the item waits out that time and looks again; only then is
   it sent. A re-escalation pages people again, so it is never sent blind.
5. **A refused token pauses, it does not fail.** 401/403 leaves the item pending and pauses
   that service's writes: the status bar and every command say "writes paused: the token was
   refused - run `cockpit auth login`". The next sync with a working token sends them.
6. **Unreachable or throttled: stop and keep.** A network error, a 429 or a 5xx leaves the
   item pending and ends this push for that service (the rest would fail the same way).
7. **Refused for good: undo or mark.** A 4xx other than auth, or any other error while
   building, sending or recording one item, fails that item with a message naming it; the
   sync goes on with the rest and with the pull. The incident is read back from the service,
   so the store holds the status the service has, and every screen and ``--json`` marks the
   incident with the write that did not reach it until the user retries or discards it.
8. **Already done remotely.** A write the service already reflects (someone else resolved
   it) is not sent; the item is ``superseded`` and the reason is reported.
9. **An acknowledgement that reopened.** PagerDuty reopens a resolved incident on an
   acknowledgement, and there is no conditional update: an incident resolved between our check
   and our PUT comes back acknowledged. The log is read after every acknowledgement; a reopen
   is recorded on the item (``warning``) and reported loudly with how to resolve it again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import col, select

from cockpit.integrations.base import (
    AlreadyInState,
    AuthError,
    MissingSetting,
    PagingProvider,
    ProgressCallback,
    ProviderError,
    RateLimited,
)
from cockpit.redact import redact
from cockpit.store.engine import Store
from cockpit.store.models import Incident, Note, OutboxItem, SyncState, TimelineEvent
from cockpit.store.timefmt import as_utc, utcnow
from cockpit.store.upsert import apply_remote_snoozes, upsert_incidents
from cockpit.sync import holder
from cockpit.sync.deliver import Claim, Wait, deliver

# An item a sender on another host is sending is left alone this long; any request's deadline
# (and so any one delivery) ends well inside it.
SENDING_LEASE = timedelta(minutes=3)
PAUSED_TEXT = "writes paused: the token was refused - run `cockpit auth login {source}`"


@dataclass
class PushResult:
    sent: int = 0
    failed: int = 0
    superseded: int = 0
    pending: int = 0
    errors: list[str] = field(default_factory=list)
    reconciled: list[str] = field(default_factory=list)
    paused: list[str] = field(default_factory=list)  # one line per service whose token failed
    alerts: list[str] = field(default_factory=list)  # loud: a write did more than was asked
    interrupted: bool = False  # a retryable error (network, 429, 5xx) stopped the run


# ---------------------------------------------------------------- claiming


def _claim(store: Store, sources: set[str]) -> tuple[Claim | None, datetime | None]:
    """The oldest item that may go now, marked sending (committed); else (None, the soonest
    time a waiting item may go, if any)."""
    now = utcnow()
    me = holder.me()
    soonest: datetime | None = None
    with store.write() as session:
        rows = session.exec(
            select(OutboxItem)
            .where(col(OutboxItem.state).in_(("pending", "sending")))
            .order_by(col(OutboxItem.id))
        ).all()
        blocked: set[str] = set()
        for item in rows:
            if item.incident_id in blocked:
                continue
            if item.source not in sources:
                blocked.add(item.incident_id)  # paused or not connected: later ones wait too
                continue
            if item.state == "sending" and _still_held(item, me, now):
                blocked.add(item.incident_id)
                continue
            not_before = as_utc(item.not_before) if item.not_before else None
            if not_before is not None and not_before > now:
                blocked.add(item.incident_id)
                soonest = not_before if soonest is None else min(soonest, not_before)
                continue
            claim = Claim(
                item,
                as_utc(item.last_attempt_at) if item.last_attempt_at else None,
                item.not_before is not None,
            )
            item.state = "sending"
            item.attempts += 1
            item.last_attempt_at = now
            item.holder = me
            item.not_before = None
            session.add(item)
            return claim, None
    return None, soonest


def _still_held(item: OutboxItem, me: str, now: datetime) -> bool:
    if item.holder == me:
        return item.id in holder.IN_FLIGHT
    alive = holder.is_alive(item.holder) if item.holder else None
    if alive is not None:
        return alive
    started = as_utc(item.last_attempt_at) if item.last_attempt_at else None
    return started is not None and now - started < SENDING_LEASE


# ---------------------------------------------------------------- the loop


async def push_outbox(
    store: Store,
    providers: Mapping[str, PagingProvider],
    *,
    limit: int = 500,
    max_wait: float = 120.0,
    progress: ProgressCallback | None = None,
) -> PushResult:
    """Deliver what the outbox holds for ``providers``; never raises for one item's fault.

    ``max_wait``: at most this many seconds are spent waiting for in-doubt items to settle
    before they are checked again; what is still waiting after that goes at the next sync.
    """
    result = PushResult()
    sources = set(providers)
    answered: set[str] = set()  # services that took our token this time
    waited = 0.0
    for _ in range(limit):
        claim, soonest = _claim(store, sources)
        if claim is None:
            if soonest is None:
                break
            delay = max((soonest - utcnow()).total_seconds(), 0.0) + 0.05
            if waited + delay > max_wait:
                break
            waited += delay
            if progress is not None:
                progress(0, None, f"a write in doubt: checking it again in {delay:.0f} s")
            await asyncio.sleep(delay)
            continue
        item = claim.item
        provider = providers[item.source]
        holder.IN_FLIGHT.add(item.id or 0)
        try:
            outcome = await _attempt(store, provider, claim, result)
        except BaseException:
            # Cancelled (the TUI stopped its worker) or the loop is going down: the item is
            # in doubt, so it goes back to pending and the next attempt looks before sending.
            _release(store, item, "pending", "interrupted while sending: will check first")
            raise
        finally:
            holder.IN_FLIGHT.discard(item.id or 0)
        if outcome in ("sent", "superseded", "failed"):
            answered.add(item.source)
        if outcome == "paused":
            sources.discard(item.source)
        elif outcome == "offline":
            sources.discard(item.source)
            result.interrupted = True
        if not sources:
            break
    with store.rows() as conn:
        waiting = {
            str(row[0])
            for row in conn.execute(
                "SELECT DISTINCT source FROM outbox WHERE state IN ('pending', 'sending')"
            )
        }
    for source in providers:
        # Paused until the service takes the token again, or nothing is held back any more.
        if source in answered or source not in waiting:
            _set_paused(store, source, "")
    with store.read() as session:
        result.pending = len(
            session.exec(
                select(OutboxItem.id).where(col(OutboxItem.state).in_(("pending", "sending")))
            ).all()
        )
    return result


async def _attempt(store: Store, provider: PagingProvider, claim: Claim, result: PushResult) -> str:
    """One item, start to recorded: "sent", "waiting", "superseded", "failed", "paused" or
    "offline"."""
    item = claim.item
    what = f"{item.action} on {_short(item.incident_id)}"
    try:
        done = await deliver(store, provider, claim)
    except Wait as wait:
        _release(store, item, "pending", str(wait), not_before=wait.until)
        result.reconciled.append(str(wait))
        return "waiting"
    except AlreadyInState as error:
        _finish(store, item, "superseded", f"already {error.state} remotely")
        result.superseded += 1
        result.reconciled.append(f"{what}: already {error.state} remotely, not sent")
        return "superseded"
    except AuthError as error:
        message = PAUSED_TEXT.format(source=item.source)
        if isinstance(error, MissingSetting):
            # The token works (an account-level key); the From email is what is missing.
            message = f"writes paused: {error}"
        # Refused at the door: nothing arrived, so the next attempt is not in doubt.
        _release(store, item, "pending", f"{message} ({error.status or 'refused'})", sure=True)
        _set_paused(store, item.source, message)
        result.paused.append(message)
        return "paused"
    except ProviderError as error:
        if error.retryable:
            _release(store, item, "pending", str(error), sure=isinstance(error, RateLimited))
            result.errors.append(str(error))
            return "offline"
        await _fail(store, provider, item, str(error))
        result.failed += 1
        result.errors.append(f"{what} failed: {error}")
        return "failed"
    except Exception as error:  # noqa: BLE001 - one item's fault must not stop the others
        message = f"could not be sent: {type(error).__name__}: {redact(str(error))}"
        await _fail(store, provider, item, message)
        result.failed += 1
        result.errors.append(f"{what} {message}")
        return "failed"
    try:
        _finish(store, item, "sent", "", done.ref, warning=done.warning)
    except Exception as error:  # noqa: BLE001 - it reached the service: never send it again
        _finish(
            store,
            item,
            "sent",
            f"delivered, but recording it failed: {type(error).__name__}",
            "",
            warning=done.warning,
            link_note=False,
        )
        result.errors.append(f"{what}: delivered, but recording it failed: {error}")
    result.sent += 1
    if done.note:
        result.reconciled.append(done.note)
    if done.warning:
        result.alerts.append(done.warning)
    return "sent"


# ---------------------------------------------------------------- recording


def _release(
    store: Store,
    item: OutboxItem,
    state: str,
    error: str,
    *,
    not_before: datetime | None = None,
    sure: bool = False,
) -> None:
    """Back to ``state``; ``sure``: the service surely did not apply this attempt (it refused
    the token, or throttled it), so it does not count as one that might have arrived."""
    with store.write() as session:
        row = session.get(OutboxItem, item.id)
        if row is None or row.state != "sending":
            return
        if sure:
            row.attempts = max(row.attempts - 1, 0)
        row.state = state
        row.last_error = error
        row.holder = ""
        row.not_before = not_before
        session.add(row)


async def _fail(store: Store, provider: PagingProvider, item: OutboxItem, error: str) -> None:
    """Fail the item for good and put the service's own status back into the store."""
    _finish(store, item, "failed", error)
    if item.action not in ("acknowledge", "resolve", "snooze", "reassign"):
        return
    try:
        with store.read() as session:
            incident = session.get(Incident, item.incident_id)
        if incident is None:
            return
        remote = await provider.get_incident(incident.remote_id)
    except Exception:  # noqa: BLE001 - the item is marked failed; the next pull corrects
        return
    with store.write() as session:
        # The service's record, written as a pull writes it (status, assignees, its snooze).
        upsert_incidents(session, item.source, [remote])
        apply_remote_snoozes(session, item.source, [remote])


def _finish(
    store: Store,
    item: OutboxItem,
    state: str,
    error: str,
    ref: str = "",
    *,
    warning: str = "",
    link_note: bool = True,
) -> None:
    with store.write() as session:
        row = session.get(OutboxItem, item.id)
        if row is None:
            return
        row.state = state
        row.last_error = error
        row.holder = ""
        row.not_before = None
        row.warning = warning
        if state == "sent":
            row.sent_at = utcnow()
            row.remote_ref = ref
        session.add(row)
        note_state = {"sent": "sent", "failed": "failed", "superseded": "sent"}.get(state)
        if row.action == "note" and note_state:
            note = session.get(Note, row.payload.get("note_id"))
            if note is not None:
                note.state = note_state
                if state == "sent" and ref and link_note:
                    note.remote_id = note_remote_id(row.incident_id, ref)
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


def note_remote_id(incident_id: str, ref: str) -> str:
    """A remote note's id in the store: its incident and the service's id (some servers
    number notes per incident). The same form upsert.insert_remote_notes writes."""
    return f"{incident_id}/{ref}"


def _set_paused(store: Store, source: str, message: str) -> None:
    key = f"{source}:writes"
    with store.write() as session:
        row = session.get(SyncState, key)
        if row is None and not message:
            return
        row = row or SyncState(key=key)
        if row.last_error == message:
            return
        row.last_error = message
        row.updated_at = utcnow()
        session.add(row)


def _short(incident_id: str) -> str:
    return incident_id.split(":", 1)[-1]


# ---------------------------------------------------------------- the user's commands


def retry_item(store: Store, item_id: int) -> OutboxItem:
    with store.write() as session:
        row = session.get(OutboxItem, item_id)
        if row is None:
            raise ProviderError(f"no outbox item {item_id}")
        if row.state not in ("failed", "pending"):
            raise ProviderError(f"outbox item {item_id} is {row.state}: nothing to retry")
        row.state = "pending"
        row.last_error = ""
        row.not_before = None
        session.add(row)
        return row


def discard_item(store: Store, item_id: int) -> OutboxItem:
    with store.write() as session:
        row = session.get(OutboxItem, item_id)
        if row is None:
            raise ProviderError(f"no outbox item {item_id}")
        if row.state in ("sent", "discarded"):
            raise ProviderError(f"outbox item {item_id} is {row.state}: nothing to discard")
        if row.state == "sending" and _still_held(row, holder.me(), utcnow()):
            raise ProviderError(f"outbox item {item_id} is being sent right now")
        row.state = "discarded"
        session.add(row)
        if row.action == "note":
            note = session.get(Note, row.payload.get("note_id"))
            if note is not None:
                # The note stays in the store: it is only never sent.
                note.state = "local"
                session.add(note)
        return row
