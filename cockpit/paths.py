"""Where cockpit keeps its files. Folders are created on first use, never at import."""

from __future__ import annotations

import os
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


def ensure_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
