"""The runbook library: which folders to read, and reading them without ever failing."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import cockpit
from cockpit.runbooks.model import ERROR, Finding, Runbook
from cockpit.runbooks.parse import RunbookError, load_runbook

SKIPPED_DIRS = frozenset({"drafts"})
SKIPPED_FILES = frozenset({"readme.md"})


def samples_dir() -> Path:
    """The repository's own sample runbooks (``runbooks/`` beside the package)."""
    return Path(cockpit.__file__).resolve().parent.parent / "runbooks"


def default_runbook_dirs(settings: Any) -> list[Path]:
    """The configured runbooks folder, or the samples when it does not exist (yet)."""
    configured = Path(settings.runbooks_path)
    if configured.is_dir():
        return [configured]
    return [samples_dir()]


def load_or_finding(path: Path) -> Runbook:
    """Parse one file; an unreadable one becomes an empty runbook holding an error finding."""
    try:
        return load_runbook(path)
    except RunbookError as error:
        return Runbook(id=path.stem, title=path.stem, path=str(path),
                       findings=(Finding(str(path), 1, ERROR, str(error).split(": ", 1)[-1]),))


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
