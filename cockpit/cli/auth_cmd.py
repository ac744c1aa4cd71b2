"""``cockpit auth``: log in to PagerDuty or Alertmanager (the secret checked, kept in the keyring),
log out, status.

PagerDuty keys come in two kinds. A user-level key says whose it is (``GET /users/me``), and that
user's email is the ``From`` of every write. An account-level key cannot ask ``/users/me`` (the
spec says so); login then checks the key on ``GET /users``, asks for the user's email
(``--from-email`` when headless), checks that a user of the account has it, and saves it as
``pagerduty_from``. The token itself only ever goes to the keyring, never to a file or output.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cockpit.text import safe_line

if TYPE_CHECKING:
    from cockpit import credentials
    from cockpit.config import Settings
    from cockpit.integrations.base import ProviderError
    from cockpit.records import PersonRecord

# The settings, the keyring (credentials) and the providers are imported by the handlers:
# building the parser (every `cockpit` command does) must not load them.

SERVICES = ("pagerduty", "alertmanager")
# How /users/me may refuse an account-level key: the spec documents 400; 401/403 are taken too
# because a second request (GET /users) tells a working account key from a wrong token.
ACCOUNT_KEY_REFUSALS = (400, 401, 403)


def register(sub: Any) -> None:
    parser = sub.add_parser("auth", help="log in to a paging service, log out, show status")
    actions = parser.add_subparsers(dest="auth_action", metavar="ACTION", required=True)
    login = actions.add_parser(
        "login",
        help="check a token (Alertmanager: password or bearer token) and keep it in the "
        "keyring (reads it without echo)",
    )
    login.add_argument("service", choices=SERVICES)
    login.add_argument(
        "--from-email",
        metavar="EMAIL",
        help="PagerDuty with an account-level API key: your PagerDuty user's email, sent as "
        "From on writes and saved as pagerduty_from (asked for when needed and not given)",
    )
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


def read_line(prompt: str) -> str:
    """A line from the terminal (echoed), or the next line of stdin for scripts."""
    if sys.stdin is not None and sys.stdin.isatty():
        return input(prompt).strip()
    line = sys.stdin.readline() if sys.stdin is not None else ""
    return line.strip()


@dataclass(frozen=True)
class Identity:
    """Whose a PagerDuty key is: ``person`` for a user-level key; for an account-level key
    ``person`` is None and ``refused`` is what ``/users/me`` answered."""

    person: PersonRecord | None
    refused: ProviderError | None = None


async def _identify(settings: Settings, token: str) -> Identity:
    """``/users/me``; when it refuses, ``GET /users`` tells an account-level key (which reads
    it) from a wrong token (refused there too: the ``/users/me`` error is raised)."""
    from cockpit.integrations.base import AuthError, InvalidRequest
    from cockpit.integrations.pagerduty import PagerDutyProvider
    from cockpit.integrations.pagerduty_http import PagerDutyHTTP

    verify = settings.pagerduty_ca_bundle or True
    async with PagerDutyProvider(
        settings.pagerduty_url, token, max_retries=2, verify=verify
    ) as provider:
        try:
            return Identity(await provider.whoami())
        except (AuthError, InvalidRequest) as error:
            if error.status not in ACCOUNT_KEY_REFUSALS:
                raise
            refused: ProviderError = error
    http = PagerDutyHTTP(settings.pagerduty_url, token, max_retries=2, verify=verify)
    try:
        await http.request("GET", "/users", params={"limit": 1})
    except AuthError:
        raise refused from None
    finally:
        await http.aclose()
    return Identity(None, refused)


async def _user_with_email(settings: Settings, token: str, email: str) -> PersonRecord | None:
    """The account's user whose email is ``email`` (case aside), or None."""
    from cockpit.integrations import pagerduty_parse as parse
    from cockpit.integrations.pagerduty_http import PagerDutyHTTP

    http = PagerDutyHTTP(
        settings.pagerduty_url, token, max_retries=2, verify=settings.pagerduty_ca_bundle or True
    )
    try:
        body = await http.request("GET", "/users", params={"query": email, "limit": 100})
    finally:
        await http.aclose()
    for raw in parse.as_list(body.get("users")):
        person = parse.person(parse.as_dict(raw))
        if person.email.lower() == email.lower():
            return person
    return None


async def _whoami(settings: Settings, token: str) -> PersonRecord:
    from cockpit.integrations.pagerduty import PagerDutyProvider

    async with PagerDutyProvider(
        settings.pagerduty_url,
        token,
        from_email=settings.pagerduty_from,
        max_retries=2,
        verify=settings.pagerduty_ca_bundle or True,
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
    import asyncio

    if not settings.alertmanager_url:
        print("Not checked: alertmanager_url is not set (set it or COCKPIT_ALERTMANAGER_URL)")
        return
    version = asyncio.run(_alertmanager_version(settings, token))
    print(f"Alertmanager {safe_line(version)} at {settings.alertmanager_url} accepted it")


def run_login(args: argparse.Namespace) -> int:
    import asyncio

    from cockpit import credentials
    from cockpit.cli.main import CliError
    from cockpit.config import settings_from_args

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
        identity = asyncio.run(_identify(settings, token))
        if identity.person is not None:
            print(f"Logged in as {_describe(identity.person)} at {settings.pagerduty_url}")
        else:
            _account_key_login(args, settings, token, identity)
    if not credentials.keyring_available():
        print(
            f"cockpit: {credentials.no_keyring_message(args.service)}; the token was not stored",
            file=sys.stderr,
        )
        return 1
    credentials.store_token(args.service, token)
    print(f"The {args.service} token is in the keyring.")
    return 0


def _account_key_login(
    args: argparse.Namespace, settings: Settings, token: str, identity: Identity
) -> None:
    """An account-level key: learn, check and save the From email its writes need."""
    import asyncio

    from cockpit.cli.main import CliError
    from cockpit.config import check_value, save_setting, settings_file

    status = identity.refused.status if identity.refused else None
    print(
        f"PagerDuty at {settings.pagerduty_url} accepted the token, but /users/me did not "
        f"({status}): an account-level API key. Writes are sent From the email of a user."
    )
    given = getattr(args, "from_email", None)
    source = settings.sources.get("pagerduty_from", "default")
    if given:
        email, where = given.strip(), "--from-email"
    elif settings.pagerduty_from:
        email, where = settings.pagerduty_from, source
    else:
        email = read_line("Your PagerDuty email (sent as From on writes): ")
        where = "the email typed"
    if not email:
        raise CliError(
            "an account-level API key needs the email of your PagerDuty user for writes: "
            "give --from-email you@example.com (or type it when asked)"
        )
    check_value("pagerduty_from", email, where)  # one clear line for a bad address
    person = asyncio.run(_user_with_email(settings, token, email))
    if person is None:
        raise CliError(
            f"no user of this PagerDuty account has the email {safe_line(email)!r}: PagerDuty "
            "would refuse writes From it; give the address your PagerDuty profile shows "
            "(--from-email)"
        )
    email = person.email or email  # as PagerDuty spells it
    saved = ""
    if email != settings.pagerduty_from or not source.startswith(("file ", "env ")):
        path = settings_file(Path(args.config) if getattr(args, "config", None) else None)
        save_setting(path, "pagerduty_from", email)
        saved = f", saved as pagerduty_from in {path}"
        env = "COCKPIT_PAGERDUTY_FROM"
        if source.startswith("env ") and settings.pagerduty_from != email:
            saved += f" (but {env} is set and wins over it while it is)"
    print(f"Logged in with an account-level key; writes are sent From {_describe(person)}{saved}")


def run_logout(args: argparse.Namespace) -> int:
    from cockpit import credentials
    from cockpit.config import settings_from_args

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
    import asyncio

    from cockpit import credentials
    from cockpit.config import settings_from_args
    from cockpit.integrations.base import ProviderError

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
            identity = asyncio.run(_identify(settings, found.token))
        except ProviderError as error:
            print(f"{service}: {error}")
            status = 1
            continue
        if identity.person is not None:
            print(f"{service}: Logged in as {_describe(identity.person)}")
        elif settings.pagerduty_from:
            where = settings.sources.get("pagerduty_from", "settings")
            print(
                f"{service}: an account-level key; writes are sent From "
                f"{safe_line(settings.pagerduty_from)} (pagerduty_from, from {where})"
            )
        else:
            print(
                f"{service}: an account-level key, and pagerduty_from is not set: writes cannot "
                "be sent; run `cockpit auth login pagerduty --from-email you@example.com`"
            )
            status = 1
    return status


def _alertmanager_status(
    settings: Settings, found: credentials.FoundToken | None, offline: bool
) -> bool:
    """Print where the Alertmanager secret comes from and whether the server takes it."""
    import asyncio

    from cockpit.integrations.base import ProviderError

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
