"""The team store's address: a ``postgresql://`` URL whose password goes to the keyring and
never into the settings, and which must use TLS unless it points at this machine."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, unquote, urlsplit, urlunsplit

from cockpit.errors import CockpitError
from cockpit.seen_secrets import remember

KEYRING_SERVICE = "cockpit"
PASSWORD_ENV = "COCKPIT_TEAM_PASSWORD"
TLS_MODES = ("require", "verify-ca", "verify-full")


class TeamUrlError(CockpitError):
    """A team URL the cockpit will not use."""


@dataclass(frozen=True)
class TeamUrl:
    url: str  # without the password: what the settings keep
    password: str | None

    def __repr__(self) -> str:
        return f"TeamUrl({self.url!r})"


def _local_host(host: str) -> bool:
    if not host or host.startswith("/") or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse(text: str) -> TeamUrl:
    """Split the password off and check the address; TeamUrlError says what is wrong."""
    parts = urlsplit(text.strip())
    if parts.scheme not in ("postgresql", "postgres"):
        raise TeamUrlError("the team store is a postgresql://USER@HOST/DATABASE URL")
    query = parse_qs(parts.query)
    hosts = [h for h in (parts.hostname or "",) if h] + [
        h for value in query.get("host", []) for h in value.split(",")
    ]
    if not hosts:
        hosts = [""]
    mode = (query.get("sslmode") or [""])[-1]
    remote = [h for h in hosts if not _local_host(h)]
    if remote and mode not in TLS_MODES:
        raise TeamUrlError(
            f"the team store at {remote[0]} must be reached over TLS: add "
            "?sslmode=verify-full (or require) to the URL; plain connections are accepted "
            "only to this machine (localhost or a Unix socket)"
        )
    if not parts.username:
        raise TeamUrlError("the team URL needs your PostgreSQL user: postgresql://USER@HOST/DB")
    password = unquote(parts.password) if parts.password else None
    netloc = quote(unquote(parts.username), safe="")
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{netloc}@{host}"
    clean = urlunsplit(("postgresql", netloc, parts.path, parts.query, ""))
    if password:
        remember(password)
    return TeamUrl(clean, password)


def _account(url: str) -> str:
    return f"team:{url}"


def store_password(url: str, password: str) -> str:
    """Keep the password in the keyring; returns where it went. Refuses without a keyring."""
    import keyring
    import keyring.errors

    from cockpit.credentials import keyring_available

    if not keyring_available():
        raise TeamUrlError(
            f"no keyring backend on this machine: give the URL without its password and set "
            f"{PASSWORD_ENV} (or PGPASSWORD, or ~/.pgpass) instead"
        )
    try:
        keyring.set_password(KEYRING_SERVICE, _account(url), password)
    except keyring.errors.KeyringError as error:
        raise TeamUrlError(
            f"the keyring refused to store the team password: {type(error).__name__}"
        ) from None
    return "keyring"


def find_password(url: str) -> str | None:
    """The keyring's, else $COCKPIT_TEAM_PASSWORD; None lets libpq use PGPASSWORD/.pgpass."""
    import keyring
    import keyring.errors

    from cockpit.credentials import keyring_available

    found: str | None = None
    if keyring_available():
        try:
            found = keyring.get_password(KEYRING_SERVICE, _account(url))
        except keyring.errors.KeyringError:
            found = None
    found = found or os.environ.get(PASSWORD_ENV) or None
    if found:
        remember(found)
    return found
