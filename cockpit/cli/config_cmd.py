"""``cockpit config``: the effective settings and where each came from."""

from __future__ import annotations

import argparse
from typing import Any

from cockpit.config import settings_from_args


def register(sub: Any) -> None:
    parser = sub.add_parser("config", help="print the effective settings and their sources")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    rows = settings.describe()
    rows.append(("(data folder)", str(settings.data_path), "derived"))
    rows.append(("(runbooks folder)", str(settings.runbooks_path), "derived"))
    width = max(len(name) for name, _, _ in rows)
    vwidth = min(60, max(len(value) for _, value, _ in rows))
    if settings.config_file:
        print(f"settings file: {settings.config_file}")
    else:
        print(f"settings file: none yet (create {settings.config_path} to keep settings)")
    for name, value, source in rows:
        print(f"{name:<{width}}  {value:<{vwidth}}  {source}")
    return 0
