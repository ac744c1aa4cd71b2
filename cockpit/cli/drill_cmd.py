"""``cockpit drill``: practice runs.

    cockpit drill [RUNBOOK] [--scenario FILE] [--as PERSON]   start one in the TUI, in practice
                                                              mode (on a terminal); --print
                                                              (or not a terminal) prints it
    cockpit drill report ID                                    finish it and print the debrief
    cockpit drill list [RUNBOOK]                               drill history
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from cockpit.cli.common import settings_and_store
from cockpit.text import safe, safe_line

BANNER = "PRACTICE MODE: nothing is sent to the paging service and no command is executed."


def register(sub: Any) -> None:
    parser = sub.add_parser("drill", help="start a drill, print its debrief, list drills")
    parser.add_argument("words", nargs="*", metavar="RUNBOOK | report ID | list [RUNBOOK]")
    parser.add_argument("--scenario", metavar="FILE", help="scenario YAML file")
    parser.add_argument("--as", dest="as_person", default="", metavar="PERSON")
    parser.add_argument("--print", "--headless", dest="headless", action="store_true",
                        help="print the drill instead of opening the TUI in practice mode")
    parser.set_defaults(handler=run)


def _find_runbook(args: argparse.Namespace, ref: str) -> Any:
    from cockpit.cli.main import CliError
    from cockpit.config import settings_from_args
    from cockpit.runbooks.library import default_runbook_dirs, load_library
    from cockpit.runbooks.parse import load_runbook

    if ref and Path(ref).is_file():
        return load_runbook(Path(ref))
    runbooks = load_library(default_runbook_dirs(settings_from_args(args)))
    for runbook in runbooks:
        if runbook.id == ref or Path(runbook.path).stem == ref:
            return runbook
    known = ", ".join(sorted(rb.id for rb in runbooks)) or "none"
    raise CliError(f"no runbook {ref!r} (known: {known})")


def run(args: argparse.Namespace) -> int:
    words = list(args.words)
    if words[:1] == ["report"]:
        return _report(args, words[1:])
    if words[:1] == ["list"]:
        return _list(args, words[1:])
    return _start(args, words[0] if words else "")


def _start(args: argparse.Namespace, ref: str) -> int:
    from cockpit.cli.main import CliError
    from cockpit.cli.people import resolve_person
    from cockpit.drills import load_scenario, scenario_from_runbook, start_drill
    from cockpit.runbooks.render import render_checklist

    scenario = load_scenario(args.scenario) if args.scenario else None
    ref = ref or (scenario.runbook_id if scenario else "")
    if not ref:
        raise CliError("name a runbook (id or file), or a --scenario that names one")
    runbook = _find_runbook(args, ref)
    scenario = scenario or scenario_from_runbook(runbook)
    settings, store = settings_and_store(args)
    try:
        participant = resolve_person(store, args.as_person, settings.user, strict=False)
        drill = start_drill(store, runbook, scenario, participant=participant)
        if not args.headless and sys.stdin.isatty() and sys.stdout.isatty():
            return run_practice_tui(settings, store, drill, runbook, participant)
    finally:
        store.close()
    print(f"*** {BANNER} ***")
    print(f"drill #{drill.id} of {safe_line(runbook.id)} on incident {drill.incident_id}")
    print(f"scenario: {safe_line(scenario.title)} ({scenario.difficulty})")
    if scenario.text:
        print(safe(scenario.text).strip())
    for symptom in scenario.symptoms:
        print(f"  symptom: {safe_line(symptom)}")
    print()
    print("\n".join(render_checklist(runbook)))
    print()
    print(f"Tick the steps in the TUI; then `cockpit drill report {drill.id}` for the debrief.")
    return 0


def run_practice_tui(settings: Any, store: Any, drill: Any, runbook: Any, who: str) -> int:
    """The cockpit in practice mode on the drill. Its only paging provider is the practice
    one, which refuses every write; the debrief opens when the run ends."""
    from cockpit.app import make_app  # Textual only here: headless drills never load it
    from cockpit.drills import PracticeProvider
    from cockpit.sync.service import SyncService

    service = SyncService(store, {"practice": PracticeProvider(who or "practice")})
    app = make_app(settings, store, service)
    app.open_drill = (drill, runbook)
    app.run()
    return 0


def _report(args: argparse.Namespace, rest: list[str]) -> int:
    from cockpit.cli.main import CliError
    from cockpit.drills import finish_drill
    from cockpit.drills.service import get_drill

    if len(rest) != 1 or not rest[0].isdigit():
        raise CliError("usage: cockpit drill report ID")
    _, store = settings_and_store(args)
    try:
        drill = get_drill(store, int(rest[0]))
        runbook = None
        try:
            runbook = _find_runbook(args, drill.runbook_id)
        except CliError:
            pass  # the runbook moved or was renamed: the report uses step ids
        if drill.id is not None and (drill.finished_at is None or runbook is not None):
            drill = finish_drill(store, drill.id, runbook)
    finally:
        store.close()
    print(drill.report_md, end="")
    return 0


def _list(args: argparse.Namespace, rest: list[str]) -> int:
    from cockpit.drills.service import drill_history

    _, store = settings_and_store(args)
    try:
        drills = drill_history(store, rest[0] if rest else None)
    finally:
        store.close()
    if not drills:
        print("no drills yet")
    for drill in drills:
        state = "finished" if drill.finished_at else "open"
        print(f"#{drill.id}  {drill.started_at:%Y-%m-%d %H:%M} UTC  {safe_line(drill.runbook_id)}"
              f"  {state}  {safe_line(drill.participant)}")
    return 0
