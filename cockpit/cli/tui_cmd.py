"""`cockpit` with no sub-command: the TUI on the configured store and paging account.

Textual is imported inside :func:`run_tui` only, so headless commands never pay for it.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cockpit.config import Settings


def register(sub: Any) -> None:
    """The TUI has no sub-command of its own: ``cockpit`` alone starts it (cli/main.py)."""


def run_tui(args: argparse.Namespace) -> int:
    from cockpit.startup import hold_collector

    hold_collector()
    from cockpit.config import settings_from_args

    app, store = build_app(settings_from_args(args))
    try:
        app.run()
    finally:
        if store is not None:
            store.close()
    return 0


def build_app(settings: Settings) -> tuple[Any, Any]:
    """The app `cockpit` runs, and its store (None for the welcome screen).

    Only what the first frame needs is loaded before it: the store is read with plain SQL,
    and the sync service (the ORM, httpx, the keyring) is built in a thread when the first
    sync starts. A store that has synced before opens without asking the keyring whether
    an account is configured; the sync asks it.
    """
    from cockpit.app import CockpitApp
    from cockpit.integrations.registry import configured
    from cockpit.store.engine import Store, open_store, store_path

    store: Store | None = None
    if store_path(settings).exists():
        store = open_store(settings)
        if not _synced_before(store) and not configured(settings):
            store.close()
            store = None
    elif configured(settings):
        store = open_store(settings)
    if store is None:
        return CockpitApp(settings, None, welcome=True), None
    from cockpit.sync.lazy import LazySync

    def build_sync() -> Any:
        from cockpit.sync.providers import make_providers
        from cockpit.sync.service import SyncService

        return SyncService(store, make_providers(settings), window_days=settings.sync_window_days)

    return CockpitApp(settings, store, LazySync(build_sync)), store


def _synced_before(store: Any) -> bool:
    return bool(store.execute("SELECT 1 FROM sync_state WHERE last_ok_at IS NOT NULL LIMIT 1"))
