"""The providers the sync talks to: built by the integrations' registry, told what the store
learned (the name of "me", which an Alertmanager silence is made by)."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from cockpit.integrations import registry
from cockpit.store.engine import store_path
from cockpit.sync.identity import me_in

if TYPE_CHECKING:
    from cockpit.config import Settings
    from cockpit.integrations.base import PagingProvider


def make_providers(settings: Settings) -> dict[str, PagingProvider]:
    """One provider per configured service. Raises ProviderError for a bad URL."""
    return registry.make_providers(settings, learned_name=lambda: _learned_name(settings))


def _learned_name(settings: Settings) -> str:
    """The name of "me" the store learned from a provider, or "" if none was learned yet."""
    path = store_path(settings)
    if not path.exists():
        return ""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
    except sqlite3.Error:
        return ""
    try:
        me = me_in(conn)
    except (sqlite3.Error, ValueError):
        return ""  # an old or busy store: the OS user name will do
    finally:
        conn.close()
    return "" if me.id.startswith("local:") else me.name
