"""The team exchange: push what waits in ``team_outbox``, pull what others committed.

- **Push** inserts each pending event with ``ON CONFLICT DO NOTHING``: the event's id is made
  once on this laptop, so a push retried after a lost answer, a restart or a crash inserts
  nothing twice (exactly once by construction). An event is marked sent only after the team
  store committed it. A ``baton_accept`` that loses to another's acceptance of the same offer
  (a unique index on the team store) is marked ``lost`` with who holds the baton.
- **Pull** reads events by their position ``(tx, id)``, where ``tx`` is the inserting
  transaction's id, and only those below the oldest transaction still running
  (``pg_snapshot_xmin``): a transaction that committed late has a lower ``tx`` than some
  rows already read, so rows are never read past it while it is still open. Each page is
  applied and the watermark moved in one local transaction.
- The local store is touched only in short transactions; no local lock is held while waiting
  on the network.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cockpit.errors import CockpitError
from cockpit.team import apply as applying
from cockpit.team import handoffs, local, schema
from cockpit.team.events import unpark

if TYPE_CHECKING:
    import psycopg

    from cockpit.store.engine import Store

PAGE = 1000
PUSH_BATCH = 500
# One page of the pull (bench/team.py EXPLAINs this very text): see fetch_after.
FETCH = (
    "SELECT events.id::text, events.tx::text, kind, incident_key, payload, author, origin"
    " FROM events WHERE events.tx < pg_snapshot_xmin(pg_current_snapshot())"
    " AND (events.tx, events.id) > (%s::xid8, %s::uuid)"
    " ORDER BY events.tx, events.id LIMIT %s"
)
# Kinds the team store takes once per value of a payload field (its unique indexes): the
# first to reach it wins, a later one is "lost" and told who holds it.
ONE_PER = {"baton_accept": "offer", "handoff_accepted": "handoff"}
START = ("0", "00000000-0000-0000-0000-000000000000")


class TeamUnreachable(CockpitError):
    """The team store cannot be reached; nothing was lost, the next sync carries on."""


@dataclass
class ExchangeReport:
    captured: int = 0
    pushed: int = 0
    already_there: int = 0
    lost: list[str] = field(default_factory=list)
    pulled: int = 0  # others' events that came down (this laptop's own are not counted)
    own: int = 0  # this laptop's own events, read back as the watermark passed them
    applied: int = 0
    parked: int = 0
    pending: int = 0


def _local(store: Store) -> sqlite3.Connection:
    conn = sqlite3.connect(store.path, timeout=30, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def _write(conn: sqlite3.Connection, body: Callable[[sqlite3.Connection], Any]) -> Any:
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = body(conn)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return result


def prepare(store: Store) -> None:
    conn = _local(store)
    try:
        _write(conn, local.ensure)
    finally:
        conn.close()


def connect(url: str, password: str | None = None) -> psycopg.Connection:
    import psycopg

    # Autocommit: each ``transaction()`` block below is a transaction of its own, committed
    # when the block ends (not a savepoint of one long transaction), so an event is marked
    # sent only once the team store has committed it.
    try:
        if password:
            return psycopg.connect(url, connect_timeout=10, autocommit=True, password=password)
        return psycopg.connect(url, connect_timeout=10, autocommit=True)
    except psycopg.OperationalError as error:
        raise TeamUnreachable(f"the team store cannot be reached: {_first_line(error)}") from None


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def sync(store: Store, url: str, password: str | None = None) -> ExchangeReport:
    """Capture local changes, push them, then pull once. Raises TeamUnreachable when the
    team store is down (what was captured stays queued)."""
    import psycopg

    report = ExchangeReport()
    conn = _local(store)
    try:
        _write(conn, local.ensure)
        report.captured = _write(conn, applying.capture)
        try:
            with connect(url, password) as team:
                schema.check(team)
                _push(conn, team, report)
                _pull(conn, team, report)
        except psycopg.OperationalError as error:
            raise TeamUnreachable(
                f"the team store went away mid-exchange: {_first_line(error)}"
            ) from None
        _write(
            conn,
            lambda c: local.set_state(
                c, "last_exchange", datetime.now(UTC).isoformat(timespec="seconds")
            ),
        )
        report.pending = int(
            conn.execute("SELECT count(*) FROM team_outbox WHERE state = 'pending'").fetchone()[0]
        )
    finally:
        conn.close()
    return report


def _push(conn: sqlite3.Connection, team: psycopg.Connection, report: ExchangeReport) -> None:
    """Push what waits, PUSH_BATCH events per team transaction: one multi-row insert, then one
    look-up for the ids it did not insert (sent before, whose answer was lost; or an
    acceptance that lost its race). Each batch is marked sent only after it committed."""
    rows = conn.execute(
        "SELECT id, kind, incident_key, payload FROM team_outbox WHERE state = 'pending'"
        " ORDER BY seq"
    ).fetchall()
    origin = local.origin()
    for start in range(0, len(rows), PUSH_BATCH):
        batch = rows[start : start + PUSH_BATCH]
        ids = [row[0] for row in batch]
        holders: dict[str, tuple[str, str]] = {}
        with team.transaction():
            inserted = {
                str(row[0])
                for row in team.execute(
                    "INSERT INTO events (id, kind, incident_key, payload, origin)"
                    " SELECT e.id, e.kind, e.incident_key, e.payload, %s FROM unnest("
                    "%s::uuid[], %s::text[], %s::text[], %s::jsonb[]"
                    ") WITH ORDINALITY AS e(id, kind, incident_key, payload, n) ORDER BY e.n"
                    " ON CONFLICT DO NOTHING RETURNING id::text",
                    (
                        origin,
                        ids,
                        [row[1] for row in batch],
                        [row[2] for row in batch],
                        [row[3] for row in batch],
                    ),
                )
            }
            missing = [event_id for event_id in ids if event_id not in inserted]
            there = (
                {
                    str(row[0])
                    for row in team.execute(
                        "SELECT id::text FROM events WHERE id = ANY(%s::uuid[])", (missing,)
                    )
                }
                if missing
                else set()
            )
            for event_id, kind, _incident, payload in batch:
                if event_id in missing and event_id not in there and kind in ONE_PER:
                    field = ONE_PER[kind]
                    holder = team.execute(
                        "SELECT author, origin FROM events WHERE kind = %s AND payload ->> %s = %s",
                        (kind, field, str(json.loads(payload).get(field, ""))),
                    ).fetchone()
                    if holder is not None:
                        holders[event_id] = (str(holder[0]), str(holder[1]))

        def record(
            c: sqlite3.Connection,
            batch: list[Any] = batch,
            inserted: set[str] = inserted,
            holders: dict[str, tuple[str, str]] = holders,
        ) -> None:
            for event_id, kind, incident, payload in batch:
                if event_id in inserted:
                    report.pushed += 1
                    _mark(c, event_id, "sent")
                elif event_id in holders and kind == "handoff_accepted":
                    author, where = holders[event_id]
                    lost = handoffs.lost_at_push(c, event_id, json.loads(payload), author, where)
                    report.lost.append(lost)
                elif event_id in holders:
                    _lost(c, report, event_id, incident, *holders[event_id])
                else:
                    report.already_there += 1  # sent before; the answer was lost
                    _mark(c, event_id, "sent")

        _write(conn, record)


def _lost(
    conn: sqlite3.Connection,
    report: ExchangeReport,
    event_id: str,
    incident: str,
    author: str,
    origin: str,
) -> None:
    message = f"{incident}: the baton offer was accepted first by {author} on {origin}"
    # PagerDuty is reassigned once, by the winner's cockpit: ours, if not sent yet, never goes.
    withdrawn = conn.execute(
        "UPDATE outbox SET state = 'superseded', last_error = ? WHERE incident_id = ?"
        " AND action = 'reassign' AND state = 'pending'",
        (f"the baton was accepted first by {author} on {origin}", incident),
    ).rowcount
    if withdrawn:
        message += "; your reassignment at PagerDuty was withdrawn"
    report.lost.append(message)
    _mark(conn, event_id, "lost", message)


def _mark(conn: sqlite3.Connection, event_id: str, state: str, message: str = "") -> None:
    conn.execute(
        "UPDATE team_outbox SET state = ?, message = ? WHERE id = ?", (state, message, event_id)
    )


def _pull(conn: sqlite3.Connection, team: psycopg.Connection, report: ExchangeReport) -> None:
    own = {row[0] for row in conn.execute("SELECT id FROM team_outbox")}
    while True:
        mark_tx = local.get_state(conn, "pull_tx", START[0])
        mark_id = local.get_state(conn, "pull_id", START[1])
        events = fetch_after(team, (mark_tx, mark_id), PAGE)
        if not events:
            break

        def page(c: sqlite3.Connection, events: list[applying.Pulled] = events) -> None:
            for event in events:
                outcome = applying.apply(c, event, own)
                report.applied += outcome == "applied"
                report.parked += outcome == "parked"
                report.own += outcome == "own"
            _retry_parked(c, own)
            applying.after_pull(c)
            local.set_state(c, "pull_tx", events[-1].tx)
            local.set_state(c, "pull_id", events[-1].id)

        _write(conn, page)
        report.pulled += sum(event.id not in own for event in events)
        if len(events) < PAGE:
            break
    # An incident this laptop has since pulled from its paging service unparks its events.
    if conn.execute("SELECT 1 FROM team_parked LIMIT 1").fetchone():

        def retry(c: sqlite3.Connection) -> None:
            _retry_parked(c, own)
            applying.after_pull(c)

        _write(conn, retry)


def fetch_after(
    team: psycopg.Connection, mark: tuple[str, str], limit: int = PAGE
) -> list[applying.Pulled]:
    """Events after the watermark ``mark`` = (tx, id), in team order, up to ``limit``
    (``team`` is an autocommit connection, as :func:`connect` makes).

    Only rows of transactions below the oldest one still running are read: every such
    transaction has ended, so no row can later appear before the last one returned. A
    transaction held open anywhere on the server delays what is read after it, and never
    makes it skip."""
    # One statement, so one snapshot: its xmin is the horizon. ORDER BY names the table's
    # columns: the select list's ``tx::text`` would otherwise be the sort key, and text order
    # ("999" > "1000") made a page end past rows it never returned.
    rows = team.execute(FETCH, (mark[0], mark[1], limit)).fetchall()
    return [applying.Pulled(r[0], r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows]


def _retry_parked(conn: sqlite3.Connection, own: set[str]) -> int:
    """Events parked for want of their incident or offer, tried again in team order."""
    parked = conn.execute(
        "SELECT id, tx, kind, incident_key, payload, author, origin FROM team_parked"
        " ORDER BY length(tx), tx, id"
    ).fetchall()
    applied = 0
    for r in parked:
        if r[2] not in applying.APPLIERS:
            continue  # a kind this cockpit does not know: kept for a later version
        event = applying.Pulled(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5], r[6])
        if applying.apply(conn, event, own) == "applied":
            unpark(conn, event)
            applied += 1
    return applied


def status(store: Store) -> dict[str, Any]:
    """What this laptop shares: counts of what waits, went up, was lost, came down."""
    conn = _local(store)
    try:
        _write(conn, local.ensure)
        counts = dict(
            conn.execute("SELECT state, count(*) FROM team_outbox GROUP BY state").fetchall()
        )
        lost = [
            row[0]
            for row in conn.execute(
                "SELECT message FROM team_outbox WHERE state = 'lost' ORDER BY seq"
            )
        ]
        return {
            "pending": int(counts.get("pending", 0)),
            "sent": int(counts.get("sent", 0)),
            "lost": lost,
            "parked": int(conn.execute("SELECT count(*) FROM team_parked").fetchone()[0]),
            "last_exchange": local.get_state(conn, "last_exchange") or None,
            "watermark": local.get_state(conn, "pull_tx", START[0]),
        }
    finally:
        conn.close()


def active_members(team: psycopg.Connection, days: int = 7) -> list[tuple[str, str, str]]:
    """(author, origin, last event time) of everyone who wrote in the last ``days``."""
    rows = team.execute(
        "SELECT author, origin, max(created_at) FROM events"
        " WHERE created_at > now() - make_interval(days => %s)"
        " GROUP BY author, origin ORDER BY max(created_at) DESC",
        (days,),
    ).fetchall()
    return [(str(a), str(o), t.isoformat(timespec="seconds")) for a, o, t in rows]
