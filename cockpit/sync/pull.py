"""Pull: provider -> store, incremental from a stored watermark.

The first sync walks the configured window in chunks and records how far it got after each
chunk, so an interrupted first sync resumes where it stopped. Later syncs ask only for what
changed since the watermark (account-wide log entries), so the request count grows with
what changed, not with history. Every write is an idempotent upsert: a chunk or a change
page can be applied twice without duplicates, which is what makes resuming safe.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cockpit.integrations.base import (
    IncidentRecord,
    LogEntryRecord,
    NotFound,
    PagingProvider,
    ProgressCallback,
)
from cockpit.store.engine import Store
from cockpit.store.models import SyncState
from cockpit.store.types import as_utc, utcnow
from cockpit.store.upsert import (
    insert_log_entries,
    replace_oncalls,
    upsert_incidents,
    upsert_people,
)

CHUNK = timedelta(days=7)
# Log entries can land a little out of order; re-reading a short overlap costs nothing
# because inserts are idempotent.
OVERLAP = timedelta(seconds=30)
BACKFILL_BATCH = 8  # incidents fetched at once for entries whose incident we lack
ROSTER_BACK = timedelta(days=14)
ROSTER_AHEAD = timedelta(days=14)


@dataclass
class PullResult:
    """What one pull of one service wrote, whatever its strategy (``Capabilities.pull``)."""

    incidents: int = 0
    alerts: int = 0  # snapshot pulls: alert rows upserted
    resolved: int = 0  # snapshot pulls: groups resolved because they cleared
    log_entries: int = 0  # read (an incremental sync re-reads a short overlap)
    new_entries: int = 0  # of them, not in the store before
    requests_hint: int = 0
    initial: bool = False
    reconciled: list[str] = field(default_factory=list)


def _key(provider: PagingProvider) -> str:
    return f"{provider.name}:log_entries"


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """The first sync allocates ~10 objects per log entry and keeps few: the default
    generation-0 threshold (700) runs full collections that cost a quarter of its CPU
    (measured, bench/sync.py). A larger threshold for its duration only."""
    previous = gc.get_threshold()
    gc.set_threshold(100_000, previous[1], previous[2])
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def _chunks(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    out = []
    while start < end:
        stop = min(start + CHUNK, end)
        out.append((start, stop))
        start = stop
    return out


async def pull_provider(
    store: Store,
    provider: PagingProvider,
    *,
    window_days: int = 30,
    now: datetime | None = None,
    progress: ProgressCallback | None = None,
) -> PullResult:
    now = as_utc(now) if now else utcnow()
    with store.read() as session:
        state = session.get(SyncState, _key(provider))
        watermark = state.watermark if state else None
        cursor = dict(state.cursor) if state else {}
    if watermark is None:
        with _fewer_collections():
            return await _initial(store, provider, now, window_days, cursor, progress)
    return await _incremental(store, provider, watermark, progress)


async def _initial(
    store: Store,
    provider: PagingProvider,
    now: datetime,
    window_days: int,
    cursor: dict[str, str],
    progress: ProgressCallback | None,
) -> PullResult:
    result = PullResult(initial=True)
    await _roster(store, provider)
    begin = now - timedelta(days=window_days)
    done_until = cursor.get("initial_done_until")
    start = datetime.fromisoformat(done_until) if done_until else begin
    chunks = _chunks(start, now)
    # Two requests in flight (incidents and log entries of a chunk), and the next chunk is
    # fetched while this one is written in a thread: the network and SQLite overlap.
    pending = asyncio.ensure_future(_fetch(provider, *chunks[0])) if chunks else None
    try:
        for index, (low, high) in enumerate(chunks):
            if progress:
                progress(index, len(chunks), f"history {low:%Y-%m-%d} to {high:%Y-%m-%d}")
            assert pending is not None
            incidents, entries = await pending
            pending = (
                asyncio.ensure_future(_fetch(provider, *chunks[index + 1]))
                if index + 1 < len(chunks)
                else None
            )
            cursor["initial_done_until"] = high.isoformat()
            missing, inserted = await asyncio.to_thread(
                _write, store, provider.name, incidents, entries)
            added, late = await _backfill(store, provider, missing, entries)
            _save_state(store, provider, None, cursor)
            result.incidents += len(incidents) + added
            result.log_entries += len(entries)
            result.new_entries += inserted + late
    finally:
        if pending is not None:
            pending.cancel()
    if progress:
        progress(len(chunks), len(chunks), "history done")
    cursor.pop("initial_done_until", None)
    _save_state(store, provider, now - OVERLAP, cursor)
    return result


async def _incremental(
    store: Store,
    provider: PagingProvider,
    watermark: datetime,
    progress: ProgressCallback | None,
) -> PullResult:
    if progress:
        progress(0, None, "changes")
    page = await provider.changes_since(watermark, progress)
    added, inserted = await _apply(store, provider, page.incidents, page.log_entries)
    new_mark = min(page.watermark, utcnow()) if page.complete else watermark
    _save_state(store, provider, max(new_mark - OVERLAP, watermark), None)
    return PullResult(incidents=len(page.incidents) + added, log_entries=len(page.log_entries),
                      new_entries=inserted)


async def _fetch(
    provider: PagingProvider, low: datetime, high: datetime
) -> tuple[list[IncidentRecord], list[LogEntryRecord]]:
    async def incidents() -> list[IncidentRecord]:
        return [i async for i in provider.list_incidents(low, high)]

    async def entries() -> list[LogEntryRecord]:
        return [e async for e in provider.log_entries(low, high)]

    return await asyncio.gather(incidents(), entries())


def _write(
    store: Store,
    source: str,
    incidents: list[IncidentRecord],
    entries: list[LogEntryRecord],
) -> tuple[list[str], int]:
    """One batch in one transaction; returns the incidents that entries need but we lack,
    and how many entries were new."""
    with store.write() as session:
        upsert_incidents(session, source, incidents)
        known = {f"{source}:{i.id}" for i in incidents}
        inserted, missing = insert_log_entries(session, source, entries, known)
    return missing, inserted


async def _apply(
    store: Store,
    provider: PagingProvider,
    incidents: list[IncidentRecord],
    entries: list[LogEntryRecord],
) -> tuple[int, int]:
    missing, inserted = _write(store, provider.name, incidents, entries)
    added, late = await _backfill(store, provider, missing, entries)
    return added, inserted + late


async def _backfill(
    store: Store, provider: PagingProvider, missing: list[str], entries: list[LogEntryRecord]
) -> tuple[int, int]:
    """Fetch the few incidents that entries refer to but the store lacks, then the entries
    held back for them: (incidents fetched, entries inserted)."""
    if not missing:
        return 0, 0
    # Every one is fetched: an entry held back here would be lost for good, because the
    # chunk it came in is recorded as done.
    fetched: list[IncidentRecord] = []
    for start in range(0, len(missing), BACKFILL_BATCH):
        batch = missing[start : start + BACKFILL_BATCH]
        found = await asyncio.gather(
            *(_get_or_none(provider, q.split(":", 1)[1]) for q in batch)
        )
        fetched += [record for record in found if record is not None]
    with store.write() as session:
        upsert_incidents(session, provider.name, fetched)
        inserted, _ = insert_log_entries(session, provider.name, entries)
    return len(fetched), inserted


async def _get_or_none(provider: PagingProvider, remote_id: str) -> IncidentRecord | None:
    try:
        return await provider.get_incident(remote_id)
    except NotFound:
        return None  # deleted remotely: its entries cannot be kept


async def _roster(store: Store, provider: PagingProvider) -> None:
    # The past two weeks (shift page load) and the next two (who is on next, for the
    # handoff); PagerDuty allows up to 90 days in one window.
    now = utcnow()
    since, until = now - ROSTER_BACK, now + ROSTER_AHEAD
    people = await provider.people()
    oncalls = await provider.oncalls(since=since, until=until)
    with store.write() as session:
        upsert_people(session, provider.name, people)
        replace_oncalls(session, provider.name, oncalls, since=since)


async def refresh_roster(store: Store, provider: PagingProvider) -> None:
    await _roster(store, provider)


def _save_state(
    store: Store,
    provider: PagingProvider,
    watermark: datetime | None,
    cursor: dict[str, str] | None,
) -> None:
    with store.write() as session:
        row = session.get(SyncState, _key(provider)) or SyncState(key=_key(provider))
        if watermark is not None:
            row.watermark = watermark
        if cursor is not None:
            row.cursor = dict(cursor)
        row.updated_at = utcnow()
        row.last_ok_at = row.updated_at
        row.last_error = ""
        session.add(row)
