"""``cockpit emulator``: serve the PagerDuty emulator until interrupted."""

from __future__ import annotations

import argparse
import threading
from typing import Any


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "emulator",
        help="serve a PagerDuty REST v2 emulator with a seeded history",
        description="Serve a PagerDuty REST API v2 and Events API v2 emulator on HOST:PORT.",
    )
    parser.add_argument("--port", type=int, default=8787, help="port (0: any free one)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--tls", action="store_true", help="serve https with a self-signed cert")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the history")
    parser.add_argument("--incidents", type=int, default=200, help="incidents to seed")
    parser.add_argument("--days", type=int, default=30, help="days of history")
    parser.add_argument("--token", default="emulator-token", help="API token it accepts")
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=960,
        metavar="N",
        help="requests per minute per token before 429 (PagerDuty's is 960)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from cockpit.integrations.pagerduty_emulator import start_emulator

    handle = start_emulator(
        host=args.host,
        port=args.port,
        tls=args.tls,
        seed=args.seed,
        incidents=args.incidents,
        days=args.days,
        token=args.token,
        rate_limit_per_minute=args.rate_limit,
    )
    print(f"PagerDuty emulator on {handle.url}", flush=True)
    print(f"token: {handle.token}", flush=True)
    if handle.cert_path is not None:
        print(f"certificate: {handle.cert_path}", flush=True)
    # The Events API v2 needs a service's integration key: trigger an incident with
    #   curl -X POST URL/v2/enqueue -d '{"routing_key": KEY, "event_action": "trigger", ...}'
    print(f"events: POST {handle.url}/v2/enqueue with a routing_key of:", flush=True)
    for service in sorted(handle.state.services.values(), key=lambda s: s.name):
        print(f"  {service.name:<24} {service.routing_key}", flush=True)
    try:
        threading.Event().wait()
    finally:
        handle.stop()
    return 0
