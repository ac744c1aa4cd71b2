"""``cockpit sync`` (once or ``--watch``) and ``cockpit outbox`` (list, retry, discard)."""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from cockpit.cli.common import ProgressPrinter, local_time, settings_and_store
from cockpit.text import count, safe_line

if TYPE_CHECKING:
    from cockpit.config import Settings
    from cockpit.store.engine import Store
    from cockpit.store.models import Incident, OutboxItem
    from cockpit.sync.service import SyncReport, SyncService

# The ORM, the sync service and asyncio are imported by the handlers: building the parser
# (every `cockpit` command does) must not load them.


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "sync", help="sync with the paging services (push outbox, pull changes)"
    )
    parser.add_argument("--watch", action="store_true", help="keep syncing until interrupted")
    parser.add_argument("--interval", type=int, help="seconds between syncs (default: setting)")
    parser.set_defaults(handler=run_sync)

    outbox = sub.add_parser("outbox", help="list pending and failed writes; retry or discard one")
    outbox.add_argument("--all", action="store_true", help="include sent and discarded items")
    action = outbox.add_mutually_exclusive_group()
    action.add_argument("--retry", type=int, metavar="ID", help="send a failed item again")
    action.add_argument("--discard", type=int, metavar="ID", help="never send this item")
    outbox.set_defaults(handler=run_outbox)


def _stamp() -> str:
    """The local wall-clock time that starts each line of ``sync --watch``: ``14:03:07 ``."""
    from datetime import datetime

    return datetime.now().astimezone().strftime("%H:%M:%S ")


def _print_report(report: SyncReport, stamp: str = "") -> None:
    """The report of one sync; with ``stamp`` (``--watch``), each line starts with it."""
    status = (
        "OFFLINE" if not report.online else "online, with errors" if report.errors else "online"
    )
    print(
        f"{stamp}{status}: {count(report.pulled_incidents, 'incident')} and "
        f"{count(report.pulled_entries, 'log entry', 'log entries')} "
        f"read, {report.new_entries} new; {report.sent} sent, {report.failed} failed, "
        f"{report.superseded} superseded, {report.pending} pending"
    )
    for line in report.alerts:
        print(f"{stamp}  WARNING: {safe_line(line)}", file=sys.stderr)
    for line in report.paused:
        print(f"{stamp}  {safe_line(line)}", file=sys.stderr)
    for line in report.reconciled:
        print(f"{stamp}  reconciled: {safe_line(line)}")
    for line in report.errors:
        print(f"{stamp}  error: {safe_line(line)}", file=sys.stderr)


def run_sync(args: argparse.Namespace) -> int:
    import asyncio

    from cockpit.cli.main import CliError
    from cockpit.sync.providers import make_providers
    from cockpit.sync.pull import HEADLESS_BATCH_ROWS, transactions_of
    from cockpit.sync.service import SyncService

    settings, store = settings_and_store(args)
    providers = make_providers(settings)
    if not providers:
        raise CliError(
            "no paging service configured: run `cockpit auth login pagerduty`, set "
            "COCKPIT_PAGERDUTY_TOKEN, or set alertmanager_url"
        )
    service = SyncService(store, providers, window_days=settings.sync_window_days)
    interval = args.interval or settings.sync_interval
    team = _team_exchange(settings, store)
    # No key waits on this process's transactions (the TUI keeps them small for its ticks).
    with transactions_of(HEADLESS_BATCH_ROWS):
        return asyncio.run(_sync(service, store, args.watch, interval, team=team))


def _team_exchange(settings: Settings, store: Store) -> Callable[[str], None] | None:
    """In team mode, the exchange that follows each paging sync: it prints one line, and a
    team store that is down or refuses is a warning on stderr, never the sync's failure
    (what waits stays queued). None when team mode is off: nothing of it is imported."""
    if not getattr(settings, "team_url", ""):
        return None

    def exchange_once(stamp: str) -> None:
        import sqlite3

        from cockpit.cli.team_cmd import report_lines
        from cockpit.errors import CockpitError
        from cockpit.team import exchange, local
        from cockpit.team.live import configured_url, require_psycopg
        from cockpit.team.url import find_password

        try:
            require_psycopg()
        except CockpitError as error:
            print(f"{stamp}  warning: team: {error}", file=sys.stderr)
            return
        import psycopg

        try:
            url = configured_url(settings)
            report = exchange.sync(store, url, find_password(url))
        except (CockpitError, local.TeamLocalError, psycopg.Error) as error:
            message = str(error).strip().splitlines()[0] if str(error).strip() else ""
            try:
                pending = exchange.status(store)["pending"]
                waiting = f"; {pending} event(s) wait to go up, nothing is lost"
            except (sqlite3.Error, local.TeamLocalError):
                waiting = ""
            print(
                f"{stamp}  warning: team: {safe_line(message or type(error).__name__)}{waiting}",
                file=sys.stderr,
            )
            return
        for line in report_lines(report):
            print(f"{stamp}{'' if line.startswith('team:') else '  '}{line}")

    return exchange_once


async def _sync(
    service: SyncService,
    store: Store,
    watch: bool,
    interval: float,
    sleep: Callable[[float], Awaitable[object]] | None = None,
    *,
    team: Callable[[str], None] | None = None,
) -> int:
    """One sync, or with ``watch`` one every ``interval`` seconds (``sleep`` waits between
    them: asyncio's, or a test's clock), each followed by the ``team`` exchange in team
    mode."""
    import asyncio

    sleep = sleep or asyncio.sleep
    progress = ProgressPrinter("sync")
    idle = 0
    try:
        while True:
            try:
                report = await service.sync_once(progress)
            except Exception as error:
                if not watch:
                    raise
                # --watch keeps going: one bad round is reported, the next one may work.
                progress.close()
                print(f"{_stamp()}  error: sync failed: {safe_line(str(error))}", file=sys.stderr)
                await sleep(interval * random.uniform(0.9, 1.1))
                continue
            progress.close()
            _print_report(report, _stamp() if watch else "")
            if team is not None:
                # psycopg blocks: in a thread, so the service's connections stay served.
                await asyncio.to_thread(team, _stamp() if watch else "")
            if not watch:
                clean = not (report.failed or report.errors or report.paused or report.alerts)
                return 0 if report.online and clean else 1
            # Back off while nothing changes (up to 4x), and with jitter so that several
            # terminals do not poll in lock-step. "Changed" counts only what is new: every
            # pass re-reads a short overlap (SyncReport.changed).
            idle = 0 if report.changed else min(idle + 1, 2)
            await sleep(interval * (2**idle) * random.uniform(0.9, 1.1))
    finally:
        await service.aclose()
        store.close()


def _label(incident: Incident | None, incident_id: str) -> str:
    """``#201`` as the screens say it; the remote id for one without a number."""
    if incident is None:
        return safe_line(incident_id)
    from cockpit.store.queries import incident_label

    return safe_line(incident_label(incident))


def _incident_words(store: Store, item: OutboxItem) -> str:
    """The incident of an outbox item as the user knows it: ``#201 (Disk usage above…)``."""
    from cockpit.store.models import Incident

    with store.read() as session:
        incident = session.get(Incident, item.incident_id)
    if incident is None:
        return safe_line(item.incident_id)
    return f"{_label(incident, item.incident_id)} ({safe_line(incident.title)[:50]})"


def run_outbox(args: argparse.Namespace) -> int:
    from sqlmodel import col, select

    from cockpit.store.models import Incident, OutboxItem
    from cockpit.sync.push import discard_item, retry_item

    settings, store = settings_and_store(args)
    try:
        if args.retry is not None:
            item = retry_item(store, args.retry)
            print(
                f"outbox item {item.id} ({item.action} on {_incident_words(store, item)}) "
                "queued again"
            )
            return 0
        if args.discard is not None:
            item = discard_item(store, args.discard)
            print(
                f"outbox item {item.id} ({item.action} on {_incident_words(store, item)}) discarded"
            )
            return 0
        states = None if args.all else ("pending", "sending", "failed")
        with store.read() as session:
            query = select(OutboxItem).order_by(col(OutboxItem.id))
            if states:
                query = query.where(col(OutboxItem.state).in_(states))
            items = list(session.exec(query))
            ids = {item.incident_id for item in items}
            incidents = (
                {i.id: i for i in session.exec(select(Incident).where(col(Incident.id).in_(ids)))}
                if ids
                else {}
            )
        if not items:
            print("outbox is empty: everything was delivered")
            return 0
        for item in items:
            detail = ""
            if item.action == "note":
                detail = safe_line(str(item.payload.get("content", "")))[:50]
            elif item.payload:
                detail = " ".join(f"{k}={v}" for k, v in sorted(item.payload.items()))
            incident = incidents.get(item.incident_id)
            print(
                f"{item.id:>5}  {item.state:<10} {item.action:<11} "
                f"{_label(incident, item.incident_id):<8} "
                f"{local_time(item.created_at, None)}  tries={item.attempts}  {detail}"
            )
            if incident is not None:
                print(f"       {safe_line(incident.title)[:90]}")
            if item.last_error:
                print(f"       last error: {safe_line(item.last_error)}")
        return 0
    finally:
        store.close()
