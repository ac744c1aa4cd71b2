"""Parsed runbooks kept on disk, so that the cockpit's first frame does not parse Markdown.

Parsing the library takes the Markdown and YAML parsers' import (~40 ms) and ~4 ms a file;
reading a cached runbook takes well under a millisecond. An entry is used only while the
file's size and modification time, the parser's own source files and the cache format are
all what they were when it was written; anything else is a miss and the file is parsed.
A cache that cannot be read or written is never an error: the runbook is parsed instead.

The entries are pickles in the user's cache folder (0700, entries 0600), read with an
unpickler that can build the runbook model's own classes and a few plain types and nothing
else, so a tampered file can fail to load but cannot run code.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

import platformdirs

from cockpit import paths
from cockpit.runbooks import model
from cockpit.runbooks.model import Runbook

FORMAT = 1
# The modules whose code decides what a parsed runbook holds: an edit to any invalidates.
_PARSER = (
    "parse",
    "model",
    "lint",
    "resolve",
    "tree",
    "syntax",
    "cache",
    "yaml_safe",
    "patterns",
    "params",
)
_PLAIN = {
    ("builtins", "frozenset"),
    ("builtins", "set"),
    ("builtins", "tuple"),
    ("builtins", "list"),
    ("builtins", "dict"),
    ("datetime", "date"),
    ("datetime", "datetime"),
    ("datetime", "timedelta"),
    ("datetime", "timezone"),
    ("copyreg", "_reconstructor"),
    ("builtins", "object"),
}
_code_stamp: str | None = None


def cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("cockpit")) / "runbooks"


def _parser_stamp() -> str:
    global _code_stamp
    if _code_stamp is None:
        here = Path(__file__).parent
        parts = [str(FORMAT)]
        for name in _PARSER:
            try:
                stat = (here / f"{name}.py").stat()
                parts.append(f"{name}:{stat.st_mtime_ns}:{stat.st_size}")
            except OSError:
                parts.append(f"{name}:-")
        _code_stamp = "|".join(parts)
    return _code_stamp


def _entry(path: Path) -> tuple[Path, str] | None:
    try:
        resolved = path.resolve()
        stat = resolved.stat()
    except OSError:
        return None
    name = hashlib.sha256(str(resolved).encode()).hexdigest()[:32]
    return cache_dir() / f"{name}.pickle", f"{_parser_stamp()}|{stat.st_mtime_ns}|{stat.st_size}"


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if module == model.__name__ and isinstance(getattr(model, name, None), type):
            return getattr(model, name)
        if (module, name) in _PLAIN:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not part of a runbook")


def load(path: Path) -> Runbook | None:
    """The cached parse of ``path``, or None (no entry, stale, or unreadable)."""
    found = _entry(path)
    if found is None:
        return None
    file, stamp = found
    try:
        with file.open("rb") as handle:
            kept_stamp, runbook = _Unpickler(handle).load()
    except (OSError, EOFError, ValueError, TypeError, AttributeError, pickle.UnpicklingError):
        return None
    if kept_stamp != stamp or not isinstance(runbook, Runbook) or runbook.path != str(path):
        return None
    return runbook


def save(path: Path, runbook: Runbook) -> None:
    """Keep the parse of ``path``; quietly nothing when the cache folder cannot be written."""
    found = _entry(path)
    if found is None:
        return
    file, stamp = found
    written = ""
    try:
        # The cockpit's cache folder and this one are the user's alone (0700); the entries
        # are 0600 (NamedTemporaryFile's own mode).
        paths.private_dir(file.parent, top=file.parent.parent)
        with tempfile.NamedTemporaryFile(
            "wb", dir=file.parent, delete=False, suffix=".tmp"
        ) as handle:
            written = handle.name
            pickle.dump((stamp, runbook), handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(written, file)
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        if written:
            with contextlib.suppress(OSError):
                Path(written).unlink(missing_ok=True)
