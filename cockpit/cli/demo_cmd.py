"""``cockpit demo``: the cockpit on a local PagerDuty emulator, with nothing to set up.

The emulator runs in a background thread with a month of seeded history; the store is a
throwaway folder; the sample runbooks are used; and about 20 seconds after start a fresh
incident arrives through the emulator's Events API, so the first page can be worked live.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

FRESH_AFTER = 20.0
HINT_AFTER = 1.5  # seconds: the cockpit has drawn its first frame by then
FRESH_TITLE = "High latency on product-api /product (p95 1.4 s)"


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "demo",
        help="try the cockpit on a local PagerDuty emulator (nothing leaves this machine)",
        description="Start a PagerDuty emulator with a seeded history, a throwaway store and "
        "the sample runbooks, then the cockpit. A fresh incident arrives ~20 s after start.",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed of the history")
    parser.add_argument("--incidents", type=int, default=200, help="incidents in the history")
    parser.add_argument(
        "--fresh-after",
        type=float,
        default=FRESH_AFTER,
        metavar="SECONDS",
        help="seconds until the fresh incident arrives (default 20)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the throwaway store folder")
    parser.set_defaults(handler=run)


def trigger_fresh(url: str, routing_key: str, title: str = FRESH_TITLE) -> None:
    """Send one alert to the emulator's Events API, as monitoring would."""
    import httpx

    httpx.post(
        f"{url}/v2/enqueue",
        json={
            "routing_key": routing_key,
            "event_action": "trigger",
            "payload": {
                "summary": title,
                "source": "prometheus",
                "severity": "critical",
                "custom_details": {"alertname": "ProductLatencyHigh"},
            },
        },
        timeout=5,
    )


def routing_key_of(state: Any, service_name: str) -> str:
    for service in state.services.values():
        if service.name == service_name:
            return str(service.routing_key)
    return str(next(iter(state.services.values())).routing_key)


def cli_hint(folder: Path) -> str:
    """How to try the headless commands on this demo's store from another terminal."""
    return f"COCKPIT_DATA_DIR={shlex.quote(str(folder))} cockpit incidents"


def _tell_in_app(app: Any, folder: Path) -> None:
    """The same hint as a notification once the cockpit has the screen (the line printed
    before it is hidden while the TUI runs)."""
    try:
        app.call_from_thread(
            app.notify,
            f"From another terminal: {cli_hint(folder)}  (writes go through the demo's sync)",
            title="Try the CLI on this demo",
            timeout=20,
        )
    except RuntimeError:  # the app has already quit (or never started)
        pass


def run(args: argparse.Namespace) -> int:
    from cockpit.config import settings_from_args
    from cockpit.integrations.pagerduty import PagerDutyProvider
    from cockpit.integrations.pagerduty_emulator import start_emulator
    from cockpit.runbooks.library import samples_dir
    from cockpit.store.engine import Store
    from cockpit.sync.service import SyncService

    folder = Path(tempfile.mkdtemp(prefix="cockpit-demo-"))
    handle = start_emulator(seed=args.seed, incidents=args.incidents, days=30)
    timer: threading.Timer | None = None
    hint: threading.Timer | None = None
    store = None
    try:
        base = settings_from_args(args)
        runbooks = Path(args.runbooks) if getattr(args, "runbooks", None) else samples_dir()
        settings = base.replace(
            data_dir=folder, runbooks=runbooks, sync_interval=10, pagerduty_url=handle.url
        )
        store = Store.open(folder)
        provider = PagerDutyProvider(handle.url, handle.token)
        providers: dict[str, Any] = {"pagerduty": provider}
        service = SyncService(store, providers, window_days=30)
        key = routing_key_of(handle.state, "product-api")
        timer = threading.Timer(args.fresh_after, trigger_fresh, (handle.url, key))
        timer.daemon = True
        timer.start()
        from cockpit.app import CockpitApp

        print(
            f"cockpit demo: the store is {folder} "
            f"({'kept' if args.keep else 'removed'} when the demo ends)"
        )
        print(f"try the CLI on this demo: {cli_hint(folder)}", flush=True)
        app = CockpitApp(settings, store, service)
        hint = threading.Timer(HINT_AFTER, _tell_in_app, (app, folder))
        hint.daemon = True
        hint.start()
        app.run()
    finally:
        if timer is not None:
            timer.cancel()
        if hint is not None:
            hint.cancel()
        handle.stop()
        if store is not None:
            store.close()
        if args.keep:
            print(f"cockpit demo: the store is kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return 0
