"""Errors the user can act on. Each message names the file, line, field or URL at fault."""

from __future__ import annotations


class CockpitError(Exception):
    """Base of every error that is shown to the user as a message, never a traceback."""


class ConfigError(CockpitError):
    """A settings file or value is wrong."""


class StoreError(CockpitError):
    """The local store cannot be opened or written."""
