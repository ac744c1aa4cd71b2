"""Helpers shared by the headless commands: the store, the sync service, printing safely."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from cockpit.durations import age as age

if TYPE_CHECKING:
    from cockpit.config import Settings
    from cockpit.store.engine import Store

# Every sub-command module imports this one to build the parser (cli/main.py), so what its
# helpers need is imported when they run: `cockpit --version` must not load the settings
# or the store.


def settings_and_store(args: argparse.Namespace) -> tuple[Settings, Store]:
    from cockpit.config import settings_from_args
    from cockpit.store.engine import open_store

    settings = settings_from_args(args)
    store = open_store(settings)
    warn_paused_writes(store)
    return settings, store


def warn_paused_writes(store: Store) -> None:
    """Every command says so while a refused token holds writes back (push.py, rule 5)."""
    from cockpit.store import reads

    with store.rows() as conn:
        paused = reads.writes_paused(conn)
    for line in paused:
        print(f"cockpit: {line}", file=sys.stderr)


def local_time(value: datetime | None, zone: ZoneInfo | None) -> str:
    """A stored UTC time in the user's zone (the system's when none is set)."""
    if value is None:
        return "-"
    shown = value.astimezone(zone) if zone else value.astimezone()
    return shown.strftime("%Y-%m-%d %H:%M %Z")


class ProgressPrinter:
    """A terminal progress bar for long pulls; silent when stderr is not a terminal."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.tty = sys.stderr.isatty()

    def __call__(self, done: int, total: int | None, what: str) -> None:
        if not self.tty:
            return
        if total:
            width = 30
            filled = int(width * done / max(total, 1))
            bar = "#" * filled + "-" * (width - filled)
            sys.stderr.write(f"\r{self.label} [{bar}] {done}/{total} {what[:40]:<40}")
        else:
            sys.stderr.write(f"\r{self.label} {what[:60]:<60}")
        sys.stderr.flush()

    def close(self) -> None:
        if self.tty:
            sys.stderr.write("\r" + " " * 100 + "\r")
            sys.stderr.flush()


def write_text_file(path: Path, text: str) -> None:
    """Write an export; a bad path is a one-line error naming it, not a traceback."""
    from cockpit.cli.main import CliError

    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise CliError(f"{path}: cannot write: {error.strerror}") from None
