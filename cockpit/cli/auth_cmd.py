"""``cockpit auth``: log in to PagerDuty or Alertmanager (the secret checked, kept in the keyring),
log out, status."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from typing import Any

from cockpit.config import Settings, settings_from_args
from cockpit.integrations import credentials
from cockpit.integrations.base import PersonRecord, ProviderError
from cockpit.text import safe_line

SERVICES = ("pagerduty", "alertmanager")


def register(sub: Any) -> None:
    parser = sub.add_parser("auth", help="log in to a paging service, log out, show status")
    actions = parser.add_subparsers(dest="auth_action", metavar="ACTION", required=True)
    login = actions.add_parser(
        "login",
        help="check a token (Alertmanager: password or bearer token) and keep it in the "
        "keyring (reads it without echo)",
    )
    login.add_argument("service", choices=SERVICES)
    login.set_defaults(handler=run_login)
    logout = actions.add_parser("logout", help="remove a token from the keyring")
    logout.add_argument("service", nargs="?", choices=SERVICES, default=None)
    logout.set_defaults(handler=run_logout)
    status = actions.add_parser("status", help="where each token comes from, and whom it is")
    status.add_argument(
        "--offline", action="store_true", help="do not ask the service who the token belongs to"
    )
    status.set_defaults(handler=run_status)


def read_token(prompt: str) -> str:
    """The token from the terminal without echo, or the first line of stdin for scripts."""
    if sys.stdin is not None and sys.stdin.isatty():
        return getpass.getpass(prompt).strip()
    line = sys.stdin.readline() if sys.stdin is not None else ""
    return line.strip()


async def _whoami(settings: Settings, token: str) -> PersonRecord:
    from cockpit.integrations.pagerduty import PagerDutyProvider

    async with PagerDutyProvider(
        settings.pagerduty_url, token, from_email=settings.pagerduty_from, max_retries=2
    ) as provider:
        return await provider.whoami()


def _describe(person: PersonRecord) -> str:
    return safe_line(f"{person.name} <{person.email}>")


async def _alertmanager_version(settings: Settings, token: str) -> str:
    from cockpit.integrations.alertmanager import AlertmanagerProvider

    async with AlertmanagerProvider(
        settings.alertmanager_url, user=settings.alertmanager_user, token=token, max_retries=1
    ) as provider:
        return await provider.server_version()


def _alertmanager_prompt(settings: Settings) -> str:
    if settings.alertmanager_user:
        return f"Alertmanager password for {safe_line(settings.alertmanager_user)}: "
    return "Alertmanager bearer token (set alertmanager_user first for basic auth): "


def _check_alertmanager(settings: Settings, token: str) -> None:
    if not settings.alertmanager_url:
        print("Not checked: alertmanager_url is not set (set it or COCKPIT_ALERTMANAGER_URL)")
        return
    version = asyncio.run(_alertmanager_version(settings, token))
    print(f"Alertmanager {safe_line(version)} at {settings.alertmanager_url} accepted it")


def run_login(args: argparse.Namespace) -> int:
    from cockpit.cli.main import CliError

    settings = settings_from_args(args)
    if args.service == "alertmanager":
        if settings.alertmanager_url:
            from cockpit.integrations.alertmanager import check_base_url

            check_base_url(settings.alertmanager_url, secret=True)  # before asking for it
        token = read_token(_alertmanager_prompt(settings))
    else:
        token = read_token("PagerDuty API token: ")
    if not token:
        raise CliError("no token given (type it at the prompt, or pipe it on stdin)")
    if args.service == "alertmanager":
        _check_alertmanager(settings, token)
    else:
        person = asyncio.run(_whoami(settings, token))
        print(f"Logged in as {_describe(person)} at {settings.pagerduty_url}")
    if not credentials.keyring_available():
        print(
            f"cockpit: {credentials.no_keyring_message(args.service)}; the token was not stored",
            file=sys.stderr,
        )
        return 1
    credentials.store_token(args.service, token)
    print(f"The {args.service} token is in the keyring.")
    return 0


def run_logout(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    for service in [args.service] if args.service else list(SERVICES):
        removed = credentials.delete_token(service)
        said = "token removed from the keyring" if removed else "no token in the keyring"
        print(f"{service}: {said}")
        key, env = credentials.SETTINGS_KEYS[service]
        if getattr(settings, key, ""):
            where = settings.sources.get(key, "settings")
            print(f"{service}: a token is still set by {where} ({env} or {key})")
    return 0


def run_status(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    if credentials.keyring_available():
        import keyring

        print(f"keyring: {type(keyring.get_keyring()).__name__}")
    else:
        print(f"keyring: {credentials.no_keyring_message()}")
    status = 0
    for service in SERVICES:
        found = credentials.find_token(service, settings)
        if service == "alertmanager":
            if not _alertmanager_status(settings, found, args.offline):
                status = 1
            continue
        if found is None and settings.alertmanager_url:
            print(f"{service}: no token (not used)")
            continue
        if found is None:
            _, env = credentials.SETTINGS_KEYS[service]
            print(f"{service}: no token (run `cockpit auth login {service}` or set {env})")
            status = 1
            continue
        print(f"{service}: token from {found.source}, url {settings.pagerduty_url}")
        if args.offline:
            continue
        try:
            person = asyncio.run(_whoami(settings, found.token))
        except ProviderError as error:
            print(f"{service}: {error}")
            status = 1
        else:
            print(f"{service}: Logged in as {_describe(person)}")
    return status


def _alertmanager_status(
    settings: Settings, found: credentials.FoundToken | None, offline: bool
) -> bool:
    """Print where the Alertmanager secret comes from and whether the server takes it."""
    where = f"password or token from {found.source}" if found else "no password or token"
    if not settings.alertmanager_url:
        if found:
            print(f"alertmanager: {where}, but alertmanager_url is not set")
        return True
    print(f"alertmanager: {where}, url {settings.alertmanager_url}")
    if offline:
        return True
    try:
        version = asyncio.run(_alertmanager_version(settings, found.token if found else ""))
    except ProviderError as error:
        print(f"alertmanager: {error}")
        return False
    print(f"alertmanager: reachable (Alertmanager {safe_line(version)})")
    return True
