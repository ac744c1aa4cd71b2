"""The ``cockpit`` command: the TUI by default, plus headless sub-commands.

Each sub-command lives in its own module under ``cockpit.cli`` and exposes
``register(subparsers)``. Modules are imported only to build the parser; none of them
imports Textual at module level, so headless commands never pay for the TUI.
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
)


class CliError(Exception):
    """An error the user can fix; printed as one line, exit status 2 unless given."""

    def __init__(self, message: str, status: int = 2) -> None:
        super().__init__(message)
        self.status = status


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cockpit",
        description="The on-call cockpit. With no sub-command, starts the TUI.",
    )
    parser.add_argument("--version", action="version", version=f"cockpit {__version__}")
    parser.add_argument("--config", metavar="FILE", help="settings file (default: user config)")
    parser.add_argument("--data-dir", metavar="DIR", help="folder of the local store")
    parser.add_argument("--runbooks", metavar="DIR", help="runbooks folder")
    parser.add_argument("--set", metavar="KEY=VALUE", action="append",
                        help="any setting for this run (repeatable; `cockpit config` lists them)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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
