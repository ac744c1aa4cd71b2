"""Where cockpit keeps its files. Folders are created on first use, never at import.

The data and cache folders hold incident data, notes, command output and parsed runbooks:
they are the user's alone. Folders the cockpit creates there are 0700 and its files 0600
(:func:`private_dir`, :func:`private_file`), and an existing folder or file that group or
others could read is tightened when the cockpit opens it (:func:`tighten`), so a store
made by an older cockpit (0644) is closed off too.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import platformdirs

APP = "cockpit"


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP))


def default_config_file() -> Path:
    override = os.environ.get("COCKPIT_CONFIG")
    return Path(override) if override else config_dir() / "config.toml"


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP))


def default_runbooks_dir() -> Path:
    return default_data_dir() / "runbooks"


PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def ensure_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def tighten(path: Path) -> None:
    """Take group and others' access away from ``path`` when it is the user's own (a
    symlink, or a folder or file of another user, is left as it is). Never raises: a mode
    that cannot be changed (a read-only file system) stays what it was."""
    getuid = getattr(os, "getuid", None)
    if getuid is None:  # Windows: modes do not work this way
        return
    try:
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode) or info.st_uid != getuid() or not info.st_mode & 0o077:
            return
        os.chmod(path, stat.S_IMODE(info.st_mode) & ~0o077)
    except OSError:
        return


def private_dir(path: Path, *, top: Path | None = None, tighten_existing: bool = True) -> Path:
    """``path`` as a folder only the user can use, created if missing.

    Every folder from ``top`` (default: ``path`` itself) down to ``path`` is created 0700;
    the ones above ``top`` as usual (``~/.cache`` is not the cockpit's). With
    ``tighten_existing``, those that exist already are tightened (:func:`tighten`).

    Raises:
        OSError: a folder cannot be created.
    """
    top = top or path
    levels = [top]
    for part in path.relative_to(top).parts:
        levels.append(levels[-1] / part)
    top.parent.mkdir(parents=True, exist_ok=True)
    for level in levels:
        try:
            level.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:
            if tighten_existing:
                tighten(level)
    return path


def private_file(path: Path) -> Path:
    """``path`` as a file only the user can read or write: created empty (0600) if missing,
    tightened if it exists.

    Raises:
        OSError: it cannot be created.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        tighten(path)
    else:
        os.close(fd)
    return path


def tighten_folder(folder: Path) -> None:
    """Tighten ``folder`` and what is directly in it (the store and its -wal/-shm, the rate
    limit file, drafts and exports): a closed folder guards what is further down."""
    tighten(folder)
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        tighten(Path(entry.path))
