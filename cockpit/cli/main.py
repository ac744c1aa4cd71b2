"""The ``cockpit`` command: the TUI by default, plus headless sub-commands.

Each sub-command lives in its own module under ``cockpit.cli`` and exposes
``register(subparsers)``. Every command imports all of them to build the parser, so at module
level they import only the standard library and light helpers: the ORM, httpx, the keyring
and Textual are imported by the handler that needs them. ``cockpit --version`` and
``cockpit --help`` load none of it, and the TUI draws its first frame before SQLAlchemy is
imported (tests/core/test_cli_startup_imports.py).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from cockpit import __version__
from cockpit.errors import CockpitError
from cockpit.text import safe_line

# Sub-command modules, in the order ``cockpit --help`` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "cockpit.cli.config_cmd",
    "cockpit.cli.emulator_cmd",
    "cockpit.cli.sync_cmd",
    "cockpit.cli.incident_cmd",
    "cockpit.cli.runbook_cmd",
    "cockpit.cli.auth_cmd",
    "cockpit.cli.demo_cmd",
    "cockpit.cli.stats_cmd",
    "cockpit.cli.handoff_cmd",
    "cockpit.cli.drill_cmd",
    "cockpit.cli.team_cmd",
)


class CliError(Exception):
    """An error the user can fix; printed as one line, exit status 2 unless given."""

    def __init__(self, message: str, status: int = 2) -> None:
        super().__init__(message)
        self.status = status


def _global_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cockpit",
        description="The on-call cockpit. With no sub-command, starts the TUI.",
    )
    parser.add_argument("--version", action="version", version=f"cockpit {__version__}")
    parser.add_argument("--config", metavar="FILE", help="settings file (default: user config)")
    parser.add_argument("--data-dir", metavar="DIR", help="folder of the local store")
    parser.add_argument("--runbooks", metavar="DIR", help="runbooks folder")
    parser.add_argument(
        "--set",
        metavar="KEY=VALUE",
        action="append",
        help="any setting for this run (repeatable; `cockpit config` lists them)",
    )
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = _global_parser()
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def tui_args() -> argparse.Namespace:
    """What ``build_parser().parse_args([])`` gives, without importing the ten sub-command
    modules: plain ``cockpit`` starts the TUI, and building their parsers costs ~15 ms of its
    start-up (bench/startup.py)."""
    args = _global_parser().parse_args([])
    args.command = None
    return args


def main(argv: Sequence[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    args = tui_args() if not words else build_parser().parse_args(words)
    handler = getattr(args, "handler", None)
    try:
        if handler is None:
            from cockpit.cli.tui_cmd import run_tui  # lazy: only the TUI pays for Textual

            return run_tui(args)
        return int(handler(args) or 0)
    except CliError as error:
        print(f"cockpit: {safe_line(str(error))}", file=sys.stderr)
        return error.status
    except CockpitError as error:
        # Messages can carry a server's or a file's text: data, so made inert.
        print(f"cockpit: {safe_line(str(error))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
