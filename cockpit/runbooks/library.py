"""The runbook library: which folders to read, and reading them without ever failing."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import cockpit
from cockpit.errors import ConfigError
from cockpit.runbooks import cache
from cockpit.runbooks.model import ERROR, Finding, Runbook

if TYPE_CHECKING:
    from cockpit.config import Settings

SKIPPED_DIRS = frozenset({"drafts"})
SKIPPED_FILES = frozenset({"readme.md"})


def samples_dir() -> Path:
    """The sample runbooks: ``runbooks/`` beside the package in a checkout or an editable
    install, else where a wheel puts its data files (``<prefix>/share/cockpit/runbooks``)."""
    beside = Path(cockpit.__file__).resolve().parent.parent / "runbooks"
    if beside.is_dir():
        return beside
    return Path(sys.prefix) / "share" / "cockpit" / "runbooks"


def default_runbook_dirs(settings: Settings) -> list[Path]:
    """The configured runbooks folder. When none is set and the default folder does not
    exist yet, the samples (a first run, the demo); a folder that was set but is missing is
    an error, never silently swapped for the samples."""
    configured = Path(settings.runbooks_path)
    if configured.is_dir():
        return [configured]
    source = (getattr(settings, "sources", {}) or {}).get("runbooks", "default")
    if source != "default":
        raise ConfigError(f"runbooks folder {configured} ({source}) does not exist")
    return [samples_dir()]


def load_or_finding(path: Path) -> Runbook:
    """Parse one file (or take its cached parse: ``cache.py``); an unreadable one becomes an
    empty runbook holding an error finding."""
    cached = cache.load(path)
    if cached is not None:
        return cached
    # The parsers are imported on the first miss only: a warm start never loads them.
    from cockpit.runbooks.parse import RunbookError, load_runbook

    try:
        runbook = load_runbook(path)
    except RunbookError as error:
        return Runbook(
            id=path.stem,
            title=path.stem,
            path=str(path),
            findings=(Finding(str(path), 1, ERROR, str(error).split(": ", 1)[-1]),),
        )
    cache.save(path, runbook)
    return runbook


def library_files(dirs: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for folder in dirs:
        folder = Path(folder)
        if folder.is_file():
            files.append(folder)
            continue
        for path in sorted(folder.rglob("*.md")):
            parts = {part.lower() for part in path.relative_to(folder).parts[:-1]}
            if parts & SKIPPED_DIRS or path.name.lower() in SKIPPED_FILES:
                continue
            files.append(path)
    return files


def load_library(dirs: Iterable[Path]) -> list[Runbook]:
    """Every runbook under ``dirs`` (drafts/ and README.md skipped), sorted by path."""
    return [load_or_finding(path) for path in library_files(dirs)]
