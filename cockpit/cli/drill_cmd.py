"""``cockpit drill``: practice runs.

cockpit drill [RUNBOOK] [--scenario FILE] [--as PERSON]   start one in the TUI, in practice
                                                          mode (on a terminal); --print
                                                          (or not a terminal) prints it
cockpit drill report ID                                    finish it and print the debrief
cockpit drill list [RUNBOOK]                               drill history
cockpit drill replay INCIDENT [--speed 10] [--runbook RB]  replay a past incident from the
                                                          store as a drill (in the TUI)
cockpit drill draft ID                                     the debrief's suggested edits as
                                                          a runbook draft in drafts/, diffed
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cockpit.cli.common import settings_and_store
from cockpit.text import safe, safe_line

if TYPE_CHECKING:
    from cockpit.config import Settings

BANNER = "PRACTICE MODE: nothing is sent to the paging service and no command is executed."


def register(sub: Any) -> None:
    parser = sub.add_parser("drill", help="start a drill, print its debrief, list drills")
    parser.add_argument(
        "words",
        nargs="*",
        metavar="RUNBOOK | report ID | list [RUNBOOK] | replay INCIDENT | draft ID",
    )
    parser.add_argument("--scenario", metavar="FILE", help="scenario YAML file")
    parser.add_argument("--as", dest="as_person", default="", metavar="PERSON")
    parser.add_argument(
        "--print",
        "--headless",
        dest="headless",
        action="store_true",
        help="print the drill instead of opening the TUI in practice mode",
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=1.0,
        metavar="N",
        help="replay: play the incident N times faster (default 1: as it was)",
    )
    parser.add_argument(
        "--runbook",
        dest="replay_runbook",
        default="",
        metavar="RUNBOOK",
        help="replay: the runbook to practise (default: the one that ran "
        "then, else the best match)",
    )
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
    if words[:1] == ["replay"]:
        return _replay(args, words[1:])
    if words[:1] == ["draft"]:
        return _draft(args, words[1:])
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


def run_practice_tui(settings: Settings, store: Any, drill: Any, runbook: Any, who: str) -> int:
    """The cockpit in practice mode on the drill. Its only paging provider is the practice
    one, which refuses every write; the debrief opens when the run ends."""
    from cockpit.app import CockpitApp  # Textual only here: headless drills never load it
    from cockpit.drills import PracticeProvider
    from cockpit.sync.service import SyncService

    service = SyncService(store, {"practice": PracticeProvider(who or "practice")})
    app = CockpitApp(settings, store, service)
    app.open_drill = (drill, runbook)
    app.run()
    return 0


def _replay(args: argparse.Namespace, rest: list[str]) -> int:
    from cockpit.cli.main import CliError
    from cockpit.cli.people import resolve_person
    from cockpit.drills.replay import check_speed, load_history, pick_runbook, start_replay
    from cockpit.metrics.stats import format_seconds
    from cockpit.runbooks.library import default_runbook_dirs, load_library
    from cockpit.runbooks.render import render_checklist

    if len(rest) != 1:
        raise CliError("usage: cockpit drill replay INCIDENT [--speed 10] [--runbook RUNBOOK]")
    speed = check_speed(args.speed)
    settings, store = settings_and_store(args)
    try:
        history = load_history(store, rest[0])
        wanted = args.replay_runbook
        library = load_library(default_runbook_dirs(settings))
        if wanted and Path(wanted).is_file():
            library.append(_find_runbook(args, wanted))
            wanted = library[-1].id
        runbook = pick_runbook(history, library, wanted)
        participant = resolve_person(store, args.as_person, settings.user, strict=False)
        drill = start_replay(store, history, runbook, speed=speed, participant=participant)
        if not args.headless and sys.stdin.isatty() and sys.stdout.isatty():
            return run_practice_tui(settings, store, drill, runbook, participant)
    finally:
        store.close()
    print(f"*** {BANNER} ***")
    print(
        f"drill #{drill.id}: replay of {safe_line(history.label)} {safe_line(history.title)}"
        f" at x{speed:g}, runbook {safe_line(runbook.id)}, on incident {drill.incident_id}"
    )
    print(
        f"what arrives when (drill time, then the time in the incident; "
        f"{len(history.events)} events):"
    )
    for event in history.events:
        who = f" ({safe_line(event.actor)})" if event.actor and event.kind == "note" else ""
        now, then = f"+{format_seconds(event.offset / speed)}", f"+{format_seconds(event.offset)}"
        print(
            f"  {now:>8}  then {then:>8}  {event.kind:<14} "
            f"{safe_line(event.summary, limit=120)}{who}"
        )
    print()
    print("\n".join(render_checklist(runbook)))
    print()
    print(
        "Play it in a terminal (without --print): the events arrive on the drill's clock; "
        f"then `cockpit drill report {drill.id}` for the debrief."
    )
    return 0


def _draft(args: argparse.Namespace, rest: list[str]) -> int:
    from cockpit.cli.main import CliError
    from cockpit.drills.draft import draft_from_debrief
    from cockpit.drills.service import analyse_drill, get_drill, participant_name
    from cockpit.flywheel.draft import drafts_folder

    if len(rest) != 1 or not rest[0].isdigit():
        raise CliError("usage: cockpit drill draft ID")
    settings, store = settings_and_store(args)
    try:
        drill = get_drill(store, int(rest[0]))
        runbook = _find_runbook(args, drill.runbook_id)
        analysis = analyse_drill(store, drill, runbook)
        draft = draft_from_debrief(
            runbook,
            drill,
            analysis,
            drafts_folder(settings),
            participant=participant_name(store, drill),
        )
    finally:
        store.close()
    print(f"runbook draft: {draft.path} ({draft.edits} edit(s) marked)")
    if draft.clean:
        print("lint: clean")
    for finding in draft.findings:
        print(f"lint: {safe_line(str(finding))}")
    print()
    print(safe(draft.diff), end="")
    return 0 if draft.clean else 1


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
        print(
            f"#{drill.id}  {drill.started_at:%Y-%m-%d %H:%M} UTC  {safe_line(drill.runbook_id)}"
            f"  {state}  {safe_line(drill.participant)}"
        )
    return 0
