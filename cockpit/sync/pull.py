"""Pull: provider -> store, incremental from a stored watermark.

The first sync walks the configured window in chunks and records how far it got after each
chunk, so an interrupted first sync resumes where it stopped. Later syncs ask only for what
changed since the watermark (account-wide log entries), so the request count grows with
what changed, not with history. Every write is an idempotent upsert: a chunk or a change
page can be applied twice without duplicates, which is what makes resuming safe.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from sqlmodel import Session, col, select

from cockpit.integrations.base import (
    AuthError,
    InvalidRequest,
    NotFound,
    OnCallRecord,
    PagingProvider,
    PersonRecord,
    ProgressCallback,
    ProviderError,
)
from cockpit.records import AlertRecord, IncidentRecord, LogEntryRecord
from cockpit.store.bulk import timeline_tuples
from cockpit.store.engine import Store
from cockpit.store.models import Incident, SyncState
from cockpit.store.timefmt import as_utc, utcnow
from cockpit.store.upsert import (
    apply_remote_snoozes,
    insert_timeline_rows,
    qualify,
    replace_oncalls,
    resolve_alerts_of,
    upsert_alerts,
    upsert_incidents,
    upsert_people,
)
from cockpit.sync import courtesy

_T = TypeVar("_T")
GC_THRESHOLD = 10_000

CHUNK = timedelta(days=7)
# Log entries can land a little out of order; re-reading a short overlap costs nothing
# because inserts are idempotent.
OVERLAP = timedelta(seconds=30)
BACKFILL_BATCH = 8
# Rows per write transaction: a few milliseconds each (1,000 took 10-40 ms), so a tick waits
# for one at most (the UI's writes take their turn between batches), and the sync holds no
# more than a few batches of entries in memory (issue 17 items 4 and 8). 100, 250 and 1,000
# cost the same sync time; 100 gave the UI the shortest waits (bench/responsiveness.py).
BATCH_ROWS = 100
# `cockpit sync` on the command line has no key waiting on its transactions: 1,000 rows each
# cost a third less CPU (every commit rewrites the index pages it touched into the WAL: 2.1
# vs 3.2 s of writer CPU for 100,000 entries, bench/README.md).
HEADLESS_BATCH_ROWS = 1_000
BATCHES_AHEAD = 4  # read and waiting to be written
_batch_rows: ContextVar[int | None] = ContextVar("batch_rows", default=None)
ROSTER_BACK = timedelta(days=14)
ROSTER_AHEAD = timedelta(days=14)
# Alerts (details, runbook URLs, links) are read only for open incidents that are new or
# changed: one request each, never for the history. At most this many per pull; the rest
# are owed (SyncState cursor ALERTS_DUE) and read by the next pulls.
ALERTS_PER_PULL = 100
ALERTS_AT_ONCE = 8
ALERTS_DUE = "alerts_due"


@dataclass
class PullResult:
    """What one pull of one service wrote, whatever its strategy (``Capabilities.pull``)."""

    incidents: int = 0
    alerts: int = 0  # alert rows upserted (log pulls: of open, new or changed incidents)
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
    generation-0 threshold (700) runs collections that cost a quarter of its CPU (measured,
    bench/sync.py). A larger threshold for its duration only, but not so large that none
    runs: each page's HTTP response (its ~150 KB body) sat in a reference cycle that only
    the collector freed (the client now cuts it: integrations/pagerduty_http.py). At
    100,000 (net allocations, which a sync never reaches) none ran and a first sync of 100k
    entries kept every body: 245 MB resident at the end (bench/sync.py --memory). At
    GC_THRESHOLD a few dozen run, for ~0.05 s of CPU."""
    previous = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, previous[1], previous[2])
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


@contextmanager
def transactions_of(rows: int) -> Iterator[None]:
    """Pulls started in this block (and the threads they write in) write ``rows`` rows a
    transaction instead of :data:`BATCH_ROWS`."""
    token = _batch_rows.set(rows)
    try:
        yield
    finally:
        _batch_rows.reset(token)


def _rows_per_transaction() -> int:
    return _batch_rows.get() or BATCH_ROWS


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
    # The pull checkpoints the WAL itself (once a chunk, once an incremental pull), in a
    # thread: meanwhile no other commit of this process (a tick) pays for copying it.
    with store.bulk():
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
    for index, (low, high) in enumerate(chunks):
        if progress:
            progress(index, len(chunks), f"history {low:%Y-%m-%d} to {high:%Y-%m-%d}")
        incidents, read, new = await _pull_chunk(store, provider, low, high)
        # Recorded once the chunk's last batch is committed: a kill before this re-reads the
        # chunk, and every batch of it is an idempotent upsert.
        cursor["initial_done_until"] = high.isoformat()
        await asyncio.to_thread(_save_state, store, provider, None, cursor)
        # The batches' commits left the WAL to grow: it is copied once a chunk.
        await asyncio.to_thread(store.checkpoint)
        result.incidents += incidents
        result.log_entries += read
        result.new_entries += new
    if progress:
        progress(len(chunks), len(chunks), "history done")
    cursor.pop("initial_done_until", None)
    await asyncio.to_thread(_save_state, store, provider, now - OVERLAP, cursor)
    # No ALERTS_DUE in the cursor yet: every open incident of the window is owed its alerts.
    result.alerts = await _pull_alerts(store, provider, [], [], progress)
    return result


async def _pull_chunk(
    store: Store, provider: PagingProvider, low: datetime, high: datetime
) -> tuple[int, int, int]:
    """One chunk of history: (incidents stored, log entries read, of them new).

    Its incidents (a few thousand at most) and its log entries are listed at once; the
    entries are written as they arrive, each batch of BATCH_ROWS in its own transaction in a
    thread, while the next ones are read (up to BATCHES_AHEAD waiting; all after the chunk's
    incidents: an entry needs its incident). The write lock is never held for long, the UI
    writes between batches, and no more than a few batches of entries are held in memory
    (issue 17 items 4 and 8)."""
    source = provider.name

    async def list_and_write_incidents() -> set[str]:
        incidents = [i async for i in provider.list_incidents(low, high)]
        await asyncio.to_thread(_write, store, source, incidents, [])
        return {qualify(source, i.id) for i in incidents}

    batches: asyncio.Queue[list[LogEntryRecord] | None] = asyncio.Queue(BATCHES_AHEAD)

    async def write_batches() -> tuple[int, int]:
        known = await listing
        added = new = 0
        while (batch := await batches.get()) is not None:
            job = asyncio.ensure_future(asyncio.to_thread(_write, store, source, [], batch, known))
            try:
                lacking, inserted = await asyncio.shield(job)
            except asyncio.CancelledError:
                # Its thread cannot be stopped: the pull ends once the batch is in (or not).
                await asyncio.wait({job})
                raise
            more, late = await _backfill(store, provider, lacking, batch)
            added, new = added + more, new + inserted + late
        return len(known) + added, new

    listing = asyncio.ensure_future(list_and_write_incidents())
    writing = asyncio.ensure_future(write_batches())

    async def hand_over(batch: list[LogEntryRecord] | None) -> None:
        putting = asyncio.ensure_future(batches.put(batch))
        await asyncio.wait({putting, writing}, return_when=asyncio.FIRST_COMPLETED)
        if not putting.done():  # the writer stopped: its error is the pull's
            putting.cancel()
            writing.result()

    read = 0
    rows_per_transaction = _rows_per_transaction()
    try:
        batch: list[LogEntryRecord] = []
        async for entry in provider.log_entries(low, high):
            batch.append(entry)
            read += 1
            if len(batch) >= rows_per_transaction:
                await courtesy.wait_turn()  # a key being answered goes first
                await hand_over(batch)
                batch = []
        if batch:
            await hand_over(batch)
        await hand_over(None)
        stored, new = await writing
    finally:
        # Stopped early: the batch being written is finished by its thread (a whole
        # transaction either way) before the pull ends; the chunk is not recorded as done,
        # so it is read again.
        writing.cancel()
        listing.cancel()
        await asyncio.wait({writing, listing})
    return stored, read, new


async def _incremental(
    store: Store,
    provider: PagingProvider,
    watermark: datetime,
    progress: ProgressCallback | None,
) -> PullResult:
    if progress:
        progress(0, None, "changes")
    page = await provider.changes_since(watermark, progress)
    wanted = await asyncio.to_thread(_alerts_wanted, store, provider.name, page.incidents)
    added, inserted = await _apply(store, provider, page.incidents, page.log_entries)
    new_mark = min(page.watermark, utcnow()) if page.complete else watermark
    await asyncio.to_thread(_save_state, store, provider, max(new_mark - OVERLAP, watermark), None)
    alerts = await _pull_alerts(store, provider, wanted, page.incidents, progress)
    return PullResult(
        incidents=len(page.incidents) + added,
        log_entries=len(page.log_entries),
        new_entries=inserted,
        alerts=alerts,
    )


def _batches(rows: list[_T]) -> Iterator[list[_T]]:
    size = _rows_per_transaction()
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _write(
    store: Store,
    source: str,
    incidents: list[IncidentRecord],
    entries: list[LogEntryRecord],
    known: set[str] | None = None,
) -> tuple[list[str], int]:
    """Incidents, then the entries, in transactions of at most BATCH_ROWS rows each (run in
    a thread: a transaction can wait for another process's). Returns the incidents that
    entries need but the store lacks, and how many entries were new. Every batch is an
    idempotent upsert, so an interrupted write is completed by doing it again."""
    for part in _batches(incidents):
        courtesy.wait_turn_blocking()  # a key being answered goes first
        with store.write(checkpoint=False) as session:
            upsert_incidents(session, source, part)
            apply_remote_snoozes(session, source, part)
    known = (known or set()) | {qualify(source, i.id) for i in incidents}
    missing: set[str] = set()
    inserted = 0
    for rows in _batches(entries):
        # Built before the write lock is taken: the UI's writes wait for it less.
        tuples = timeline_tuples(source, rows)
        # Smaller transactions while the user is pressing keys: a tick waits for the one in
        # progress, and a smaller one ends sooner (cockpit/sync/courtesy.py).
        until = courtesy.deadline()  # one cap for the batch, however many parts
        for rows_now in courtesy.parts(tuples):
            courtesy.wait_turn_blocking(until)  # a key being answered goes first
            with store.write(checkpoint=False) as session:
                new, lacking = insert_timeline_rows(session, rows_now, known)
            inserted += new
            missing.update(lacking)
    return sorted(missing), inserted


async def _apply(
    store: Store,
    provider: PagingProvider,
    incidents: list[IncidentRecord],
    entries: list[LogEntryRecord],
) -> tuple[int, int]:
    missing, inserted = await asyncio.to_thread(_write, store, provider.name, incidents, entries)
    added, late = await _backfill(store, provider, missing, entries)
    await asyncio.to_thread(store.checkpoint)
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
        found = await asyncio.gather(*(_get_or_none(provider, q.split(":", 1)[1]) for q in batch))
        fetched += [record for record in found if record is not None]
    _, inserted = await asyncio.to_thread(_write, store, provider.name, fetched, entries)
    return len(fetched), inserted


async def _get_or_none(provider: PagingProvider, remote_id: str) -> IncidentRecord | None:
    try:
        return await provider.get_incident(remote_id)
    except NotFound:
        return None  # deleted remotely: its entries cannot be kept


def _open_ids(session: Session, source: str) -> list[str]:
    """Remote ids of the source's open incidents, most recently changed first."""
    rows = session.exec(
        select(Incident.remote_id)
        .where(Incident.source == source, Incident.status != "resolved")
        .where(col(Incident.is_drill).is_(False))
        .order_by(col(Incident.updated_at).desc(), col(Incident.id))
    )
    return list(rows)


def _alerts_wanted(store: Store, source: str, incidents: list[IncidentRecord]) -> list[str]:
    """Of the incidents a pull brings, the open ones that are new to the store or changed
    since it last saw them (status or ``updated_at``). An incident re-read in the overlap of
    the watermark is unchanged: an incremental sync with nothing new stays one request."""
    candidates = {r.id: r for r in incidents if r.status != "resolved"}
    if not candidates:
        return []
    with store.read() as session:
        seen = {
            remote_id: (as_utc(updated_at), status)
            for remote_id, updated_at, status in session.exec(
                select(Incident.remote_id, Incident.updated_at, Incident.status).where(
                    col(Incident.id).in_([qualify(source, i) for i in candidates])
                )
            )
        }
    changed = [
        remote_id
        for remote_id, record in candidates.items()
        if seen.get(remote_id) != (as_utc(record.updated_at), record.status)
    ]
    # A changed incident (acknowledged, reassigned, a note) whose alert counts match the
    # alerts stored for it has no alert to read: an acknowledgement of ten incidents stays one
    # request, not eleven. A new incident, or one whose counts moved, is read.
    counted = [r for r in changed if r in seen and candidates[r].alert_counts is not None]
    if not counted:
        return changed
    with store.rows() as conn:
        marks = ",".join("?" * len(counted))
        held = {
            incident_id: (every, int(triggered or 0))
            for incident_id, every, triggered in conn.execute(
                "SELECT incident_id, count(*), sum(status = 'triggered') FROM alerts"
                f" WHERE incident_id IN ({marks}) GROUP BY incident_id",
                [qualify(source, r) for r in counted],
            )
        }
    same = {
        r for r in counted if held.get(qualify(source, r), (0, 0)) == candidates[r].alert_counts
    }
    return [r for r in changed if r not in same]


async def _pull_alerts(
    store: Store,
    provider: PagingProvider,
    wanted: list[str],
    touched: list[IncidentRecord],
    progress: ProgressCallback | None,
) -> int:
    """Alerts of the open incidents owed (``wanted`` now, and those a former pull could not
    read), one request each, at most ALERTS_PER_PULL; the alert rows of resolved incidents in
    ``touched`` are resolved without a request. Returns the alert rows written.

    What is owed is saved before the first request, so an interrupted pull owes it still.
    An incident gone (404) or whose alerts the token may not read (400/401/403) is dropped;
    any other failure is raised once the alerts read so far are stored, and the rest stays
    owed."""
    source = provider.name
    changed = 0
    if any(r.status == "resolved" for r in touched):
        changed = await asyncio.to_thread(_resolve_alerts, store, source, touched)
    due = await asyncio.to_thread(_owe_alerts, store, provider, wanted)
    if not due:
        return changed
    batch = due[:ALERTS_PER_PULL]
    done: list[str] = []
    written = changed
    failure: ProviderError | None = None
    for start in range(0, len(batch), ALERTS_AT_ONCE):
        if progress:
            progress(start, len(batch), "alerts")
        part = batch[start : start + ALERTS_AT_ONCE]
        answers = await asyncio.gather(*(_alerts_of(provider, rid) for rid in part))
        records: list[AlertRecord] = []
        for remote_id, answer in zip(part, answers, strict=True):
            if isinstance(answer, list):
                records += answer
                done.append(remote_id)
            elif isinstance(answer, NotFound | AuthError | InvalidRequest):
                done.append(remote_id)
            else:
                failure = failure or answer
        if records:
            written += await asyncio.to_thread(_store_alerts, store, source, records)
        if failure is not None:
            break
    await asyncio.to_thread(_settle_alerts, store, provider, done)
    if progress:
        progress(len(batch), len(batch), "alerts")
    if failure is not None:
        raise failure
    return written


def _resolve_alerts(store: Store, source: str, touched: list[IncidentRecord]) -> int:
    with store.write() as session:
        return resolve_alerts_of(session, source, touched)


def _store_alerts(store: Store, source: str, records: list[AlertRecord]) -> int:
    with store.write() as session:
        return upsert_alerts(session, source, records)


async def _alerts_of(provider: PagingProvider, remote_id: str) -> list[AlertRecord] | ProviderError:
    try:
        found = await provider.alerts(remote_id)
    except ProviderError as error:
        return error
    # Stored under the incident asked about, whatever a merge says: the row needs it.
    return [
        a if a.incident_id == remote_id else dataclasses.replace(a, incident_id=remote_id)
        for a in found
    ]


def _owe_alerts(store: Store, provider: PagingProvider, wanted: list[str]) -> list[str]:
    """The open incidents whose alerts are owed, ``wanted`` first, saved in the cursor. A
    cursor without ALERTS_DUE (a first sync that just ended, or a store synced by an older
    cockpit) owes every open incident once."""
    key = _key(provider)
    if not wanted:
        with store.read() as session:
            row = session.get(SyncState, key)
            if row is not None and (row.cursor or {}).get(ALERTS_DUE) == []:
                return []  # the usual incremental pull: nothing new, nothing owed
    with store.write() as session:
        row = session.get(SyncState, key) or SyncState(key=key)
        cursor = dict(row.cursor or {})
        owed = cursor.get(ALERTS_DUE)
        if not isinstance(owed, list):
            owed = _open_ids(session, provider.name)
        due = list(dict.fromkeys([*wanted, *(i for i in owed if isinstance(i, str))]))
        if due:
            still_open = set(
                session.exec(
                    select(Incident.remote_id).where(
                        col(Incident.id).in_([qualify(provider.name, i) for i in due]),
                        Incident.status != "resolved",
                    )
                )
            )
            due = [i for i in due if i in still_open]
        if cursor.get(ALERTS_DUE) != due:
            cursor[ALERTS_DUE] = due
            row.cursor = cursor
            session.add(row)
    return due


def _settle_alerts(store: Store, provider: PagingProvider, done: list[str]) -> None:
    if not done:
        return
    paid = set(done)
    with store.write() as session:
        row = session.get(SyncState, _key(provider))
        if row is None:
            return
        cursor = dict(row.cursor or {})
        owed = cursor.get(ALERTS_DUE)
        cursor[ALERTS_DUE] = [i for i in owed if i not in paid] if isinstance(owed, list) else []
        row.cursor = cursor
        session.add(row)


async def _roster(store: Store, provider: PagingProvider) -> None:
    # The past two weeks (shift page load) and the next two (who is on next, for the
    # handoff); PagerDuty allows up to 90 days in one window.
    now = utcnow()
    since, until = now - ROSTER_BACK, now + ROSTER_AHEAD
    people = await provider.people()
    oncalls = await provider.oncalls(since=since, until=until)
    await asyncio.to_thread(_store_roster, store, provider.name, people, oncalls, since)


def _store_roster(
    store: Store,
    source: str,
    people: list[PersonRecord],
    oncalls: list[OnCallRecord],
    since: datetime,
) -> None:
    with store.write() as session:
        upsert_people(session, source, people)
        replace_oncalls(session, source, oncalls, since=since)


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
