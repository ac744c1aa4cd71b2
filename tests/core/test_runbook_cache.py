"""The parsed-runbook cache: used while the file is unchanged, never trusted beyond that,
never able to run code, never an error."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from cockpit.runbooks import cache, parse
from cockpit.runbooks.library import load_library, load_or_finding

RUNBOOK = """---
id: cache-test
title: Cache test
services: [api]
---
# Cache test

## Checks
1. Look at the dashboard.

## Actions
1. Restart the worker.
   ```bash
   systemctl restart worker
   ```

## Validation
1. Errors are back to normal.
"""


@pytest.fixture
def runbook_file(tmp_path: Path) -> Path:
    path = tmp_path / "runbooks" / "cache-test.md"
    path.parent.mkdir()
    path.write_text(RUNBOOK)
    return path


def _no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(path: Path) -> None:
        raise AssertionError(f"parsed {path} although it was cached")

    monkeypatch.setattr(parse, "load_runbook", refuse)


def test_an_unchanged_file_is_read_from_the_cache(
    runbook_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = load_or_finding(runbook_file)
    assert first.title == "Cache test" and not any(f.severity == "error" for f in first.findings)
    _no_parsing(monkeypatch)
    again = load_or_finding(runbook_file)
    assert again == first and again is not first


def test_an_edited_file_is_parsed_again(runbook_file: Path) -> None:
    load_or_finding(runbook_file)
    runbook_file.write_text(RUNBOOK.replace("Restart the worker.", "Drain the worker first."))
    stat = runbook_file.stat()
    os.utime(runbook_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    edited = load_or_finding(runbook_file)
    texts = [step.text for section in edited.sections for step in section.steps]
    assert any("Drain the worker first." in text for text in texts)


def test_a_tampered_entry_cannot_run_code_and_is_parsed_instead(
    runbook_file: Path, tmp_path: Path
) -> None:
    load_or_finding(runbook_file)
    (entry,) = list(cache.cache_dir().glob("*.pickle"))
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, (f"touch {marker}",))

    entry.write_bytes(pickle.dumps(("stamp", Evil())))
    runbook = load_or_finding(runbook_file)
    assert not marker.exists()
    assert runbook.title == "Cache test"


def test_an_unwritable_cache_is_not_an_error(
    runbook_file: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder should be")
    monkeypatch.setattr(cache, "cache_dir", lambda: blocked / "runbooks")
    (runbook,) = load_library([runbook_file.parent])
    assert runbook.title == "Cache test"
    assert cache.load(runbook_file) is None
