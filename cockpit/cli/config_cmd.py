"""``cockpit config``: the effective settings and where each came from;
``cockpit config set KEY VALUE`` saves one in the settings file."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from cockpit.config import KEYS_BY_NAME, save_setting, settings_file, settings_from_args
from cockpit.errors import ConfigError
from cockpit.redact import mask_userinfo


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "config",
        help="print the effective settings and their sources; `config set KEY VALUE` saves one",
    )
    parser.set_defaults(handler=run)
    actions = parser.add_subparsers(dest="config_action", metavar="ACTION")
    setter = actions.add_parser(
        "set",
        help="save KEY = VALUE in the settings file (checked first; the rest of the file is kept)",
    )
    setter.add_argument("key", help="a setting, as `cockpit config` lists them")
    setter.add_argument("value")
    setter.set_defaults(handler=run_set)


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    # Secrets come masked; a URL's user:password@ is one too.
    rows = [(name, mask_userinfo(value), source) for name, value, source in settings.describe()]
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


def run_set(args: argparse.Namespace) -> int:
    """Save one setting. The settings are not loaded first: a bad value already in the file
    (which every other command refuses) must be fixable from here."""
    name = str(args.key).strip().replace("-", "_")
    key = KEYS_BY_NAME.get(name)
    if key is not None and key.secret:
        raise ConfigError(
            f"cockpit config set {name}: a secret is not taken on the command line (any user can "
            f"read it in the process list): use `cockpit auth login` or {key.env}"
        )
    path = settings_file(Path(args.config) if getattr(args, "config", None) else None)
    save_setting(path, name, args.value)
    print(f"{name} saved in {path}")
    if key is not None and os.environ.get(key.env):
        print(f"note: {key.env} is set, and wins over the file while it is")
    try:
        settings_from_args(args)
    except ConfigError as error:
        print(f"cockpit: saved, but the settings still have a problem: {error}", file=sys.stderr)
        return 1
    return 0
