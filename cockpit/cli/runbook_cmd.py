"""``cockpit runbook lint|show|match``: the runbook engine from the shell."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cockpit.runbooks.model import Finding


def register(sub: Any) -> None:
    parser = sub.add_parser("runbook", help="lint, show and match runbooks")
    commands = parser.add_subparsers(dest="runbook_command", metavar="ACTION", required=True)

    lint = commands.add_parser("lint", help="lint runbooks (default: the runbooks folder)")
    lint.add_argument("paths", nargs="*", metavar="PATH", help="files or folders")
    lint.set_defaults(handler=run_lint)

    show = commands.add_parser("show", help="print a runbook as the checklist the cockpit runs")
    show.add_argument("path", metavar="FILE")
    show.set_defaults(handler=run_show)

    match = commands.add_parser("match", help="which runbooks match an incident, and why")
    match.add_argument("--title", default="")
    match.add_argument("--service", default="")
    match.add_argument("--urgency", default="")
    match.add_argument("--priority", default="")
    match.add_argument("--alertname", default="")
    match.add_argument("--label", action="append", default=[], metavar="K=V")
    match.add_argument("--runbook-url", action="append", default=[], metavar="URL")
    match.add_argument("paths", nargs="*", metavar="PATH", help="runbook files or folders")
    match.set_defaults(handler=run_match, match_usage=match.format_usage())

    from cockpit.cli.runbook_list_cmd import register_list

    register_list(commands)


def _dirs(args: argparse.Namespace, paths: list[str]) -> list[Path]:
    from cockpit.config import settings_from_args
    from cockpit.runbooks.library import default_runbook_dirs

    if paths:
        return [Path(p) for p in paths]
    return default_runbook_dirs(settings_from_args(args))


def run_lint(args: argparse.Namespace) -> int:
    from cockpit.runbooks.lint import has_errors, lint_paths
    from cockpit.text import count, safe_line

    paths = _dirs(args, args.paths)
    findings = unreadable_alone(lint_paths(paths))
    for finding in findings:
        print(safe_line(str(finding)))
    errors = sum(1 for f in findings if f.severity == "error")
    total = f"{count(len(findings), 'finding')} ({count(errors, 'error')})"
    print(f"{total} in {', '.join(map(str, paths))}" if len(paths) < 4 else total)
    return 1 if has_errors(findings) else 0


def unreadable_alone(findings: list[Finding]) -> list[Finding]:
    """A file that cannot be read gets that one error, not also the warnings about the
    empty runbook its failed read leaves."""
    unreadable = {
        f.path for f in findings if f.severity == "error" and f.message.startswith("cannot read")
    }
    return [f for f in findings if f.path not in unreadable or f.message.startswith("cannot read")]


def run_show(args: argparse.Namespace) -> int:
    from cockpit.runbooks.parse import load_runbook
    from cockpit.runbooks.render import render_checklist

    runbook = load_runbook(Path(args.path))
    print("\n".join(render_checklist(runbook)))
    return 0


def run_match(args: argparse.Namespace) -> int:
    from cockpit.cli.main import CliError
    from cockpit.runbooks.library import load_library
    from cockpit.runbooks.match import IncidentFacts, match_runbooks
    from cockpit.text import safe_line

    given = (
        args.title,
        args.service,
        args.urgency,
        args.priority,
        args.alertname,
        args.label,
        args.runbook_url,
    )
    if not any(given):
        print(getattr(args, "match_usage", "").rstrip(), file=sys.stderr)
        raise CliError(
            "runbook match: say what the incident is: give at least one of "
            "--title, --service, --urgency, --priority, --alertname, --label, "
            '--runbook-url (e.g. --title "Disk usage above 90%")'
        )
    labels: dict[str, str] = {}
    for pair in args.label:
        if "=" not in pair:
            raise CliError(f"--label {pair!r}: expected KEY=VALUE")
        key, value = pair.split("=", 1)
        labels[key.strip()] = value
    facts = IncidentFacts(
        title=args.title,
        service=args.service,
        urgency=args.urgency,
        priority=args.priority,
        labels=labels,
        runbook_urls=list(args.runbook_url),
        alertname=args.alertname or labels.get("alertname", ""),
    )
    runbooks = load_library(_dirs(args, args.paths))
    matches = match_runbooks(runbooks, facts)
    if not matches:
        print("no runbook matches")
        return 0
    for rank, match in enumerate(matches, start=1):
        runbook = match.runbook
        print(
            f"{rank}. {safe_line(runbook.id)}  score {match.score}  "
            f"{safe_line(runbook.title)}  ({safe_line(runbook.path)})"
        )
        for reason in match.reasons:
            print(f"     - {safe_line(reason)}")
    return 0
