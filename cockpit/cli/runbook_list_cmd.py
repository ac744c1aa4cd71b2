"""``cockpit runbook list``: every runbook with its last drill, flagging those never drilled
or not drilled in 90 days. ``runbook_cmd.register`` calls :func:`register_list`."""

from __future__ import annotations

import argparse
from typing import Any

from cockpit.text import safe_line


def register_list(commands: Any) -> None:
    parser = commands.add_parser("list", help="runbooks and when each was last drilled")
    parser.add_argument(
        "--stale", action="store_true", help="only those never drilled or not drilled in 90 days"
    )
    parser.set_defaults(handler=run_list)


def run_list(args: argparse.Namespace) -> int:
    from cockpit.cli.common import settings_and_store
    from cockpit.drills.service import STALE_AFTER, last_drilled, stale_runbooks
    from cockpit.runbooks.library import default_runbook_dirs, load_library
    from cockpit.store.timefmt import utcnow

    settings, store = settings_and_store(args)
    try:
        last = last_drilled(store)
    finally:
        store.close()
    runbooks = load_library(default_runbook_dirs(settings))
    now = utcnow()
    stale = {s.runbook_id for s in stale_runbooks(runbooks, last, now)}
    for runbook in sorted(runbooks, key=lambda rb: rb.id):
        if args.stale and runbook.id not in stale:
            continue
        when = last.get(runbook.id)
        drilled = f"drilled {when:%Y-%m-%d}" if when else "never drilled"
        flag = "  DRILL DUE" if runbook.id in stale else ""
        print(f"{safe_line(runbook.id):<36} {drilled:<20}{flag}  {safe_line(runbook.title)}")
    print(
        f"{len(stale)} of {len(runbooks)} runbook(s) never drilled or not drilled in "
        f"{STALE_AFTER.days} days"
    )
    return 0
