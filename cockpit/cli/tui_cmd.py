"""`cockpit` with no sub-command: the TUI on the configured store and paging account.

Textual is imported inside :func:`run_tui` only, so headless commands never pay for it.
"""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    """The TUI has no sub-command of its own: ``cockpit`` alone starts it (cli/main.py)."""


def run_tui(args: argparse.Namespace) -> int:
    from cockpit.startup import hold_collector

    hold_collector()
    from cockpit.config import settings_from_args
    from cockpit.integrations.registry import configured, make_providers

    settings = settings_from_args(args)
    if not configured(settings):
        from cockpit.app import make_app

        make_app(settings, None, welcome=True).run()
        return 0
    from cockpit.store.engine import open_store
    from cockpit.sync.service import SyncService

    store = open_store(settings)
    try:
        service = SyncService(store, make_providers(settings),
                              window_days=settings.sync_window_days)
        from cockpit.app import make_app

        make_app(settings, store, service).run()
    finally:
        store.close()
    return 0
