"""API tokens: the OS keyring first, then the environment or the settings file.

Tokens never go to the store, logs or messages. On a machine without a keyring backend
(a headless server, a container) the token comes from ``COCKPIT_PAGERDUTY_TOKEN`` instead
(Alertmanager's password or bearer token: ``COCKPIT_ALERTMANAGER_TOKEN``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import keyring
import keyring.errors
from keyring.backend import KeyringBackend

from cockpit.errors import CockpitError
from cockpit.seen_secrets import remember, url_secrets

if TYPE_CHECKING:
    from cockpit.config import Settings

KEYRING_SERVICE = "cockpit"
# service name -> (settings key, environment variable)
SETTINGS_KEYS = {
    "pagerduty": ("pagerduty_token", "COCKPIT_PAGERDUTY_TOKEN"),
    "alertmanager": ("alertmanager_token", "COCKPIT_ALERTMANAGER_TOKEN"),
}


class CredentialError(CockpitError):
    """The token cannot be stored, read or deleted."""


@dataclass(frozen=True)
class FoundToken:
    """A token and where it came from ("keyring", "env COCKPIT_...", "file ..."); no repr."""

    token: str
    source: str

    def __repr__(self) -> str:
        return f"FoundToken(source={self.source!r})"


def _check_service(service: str) -> None:
    if service not in SETTINGS_KEYS:
        raise CredentialError(
            f"unknown service {service!r} (known: {', '.join(sorted(SETTINGS_KEYS))})"
        )


def _backends(backend: KeyringBackend) -> list[KeyringBackend]:
    inner = getattr(backend, "backends", None)
    return list(inner) if isinstance(inner, list | tuple) else [backend]


def keyring_available() -> bool:
    """False when keyring fell back to its ``fail`` backend or a chainer with nothing usable."""
    try:
        backend = keyring.get_keyring()
    except Exception:  # a broken keyring configuration means no keyring
        return False
    from keyring.backends import fail

    return any(not isinstance(b, fail.Keyring) and _priority(b) > 0 for b in _backends(backend))


def _priority(backend: KeyringBackend) -> float:
    try:
        return float(backend.priority)
    except Exception:  # a backend that cannot say is not usable
        return 0.0


def no_keyring_message(service: str = "pagerduty") -> str:
    env = SETTINGS_KEYS.get(service, ("", "COCKPIT_PAGERDUTY_TOKEN"))[1]
    return f"no keyring backend on this machine: set {env} instead"


def store_token(service: str, token: str) -> None:
    """Keep ``token`` in the OS keyring. Raises CredentialError when there is no keyring."""
    _check_service(service)
    if not keyring_available():
        raise CredentialError(no_keyring_message(service))
    remember(token)
    try:
        keyring.set_password(KEYRING_SERVICE, service, token)
    except keyring.errors.KeyringError as error:
        raise CredentialError(
            f"the keyring refused to store the {service} token: {type(error).__name__}"
        ) from None


def delete_token(service: str) -> bool:
    """Remove the keyring entry; True if there was one."""
    _check_service(service)
    if not keyring_available():
        return False
    try:
        keyring.delete_password(KEYRING_SERVICE, service)
    except keyring.errors.PasswordDeleteError:
        return False
    except keyring.errors.KeyringError as error:
        raise CredentialError(
            f"the keyring refused to delete the {service} token: {type(error).__name__}"
        ) from None
    return True


def find_token(service: str, settings: Settings) -> FoundToken | None:
    """The token and its source: keyring, then the env var / settings file; None if unset."""
    _check_service(service)
    if keyring_available():
        try:
            stored = keyring.get_password(KEYRING_SERVICE, service)
        except keyring.errors.KeyringError:
            stored = None  # a locked keyring falls through to the environment
        if stored:
            remember(stored, *_settings_secrets(settings))
            return FoundToken(stored, "keyring")
    # The settings' secrets are masked from here on, wherever text is redacted.
    remember(*_settings_secrets(settings))
    key, _env = SETTINGS_KEYS[service]
    value = getattr(settings, key, "") if settings is not None else ""
    if value:
        sources = getattr(settings, "sources", {}) or {}
        return FoundToken(str(value), str(sources.get(key, "settings")))
    return None


def load_token(service: str, settings: Settings) -> str | None:
    found = find_token(service, settings)
    return found.token if found else None


def known_secrets(settings: Settings | None = None) -> list[str]:
    """Every secret the user has configured, to mask wherever text is shown or kept: the
    tokens in the keyring, the secret ``COCKPIT_*`` variables, the secret settings (when
    ``settings`` is given), and the userinfo of each configured URL. Never raises: a keyring
    that cannot be read adds nothing."""
    found: list[str] = []
    if keyring_available():
        for service in SETTINGS_KEYS:
            try:
                stored = keyring.get_password(KEYRING_SERVICE, service)
            except Exception:  # noqa: BLE001 - a locked or broken keyring masks nothing more
                stored = None
            if stored:
                found.append(stored)
    found += _env_secrets()
    found += _settings_secrets(settings)
    return list(dict.fromkeys(s for s in found if s))


def _secret_keys() -> list[tuple[str, str, bool]]:
    """(setting, environment variable, whether the value itself is secret) of every setting
    that is or may hold a secret (a URL may carry ``user:password@``)."""
    from cockpit.config import KEYS

    return [
        (key.name, key.env, key.secret) for key in KEYS if key.secret or key.name.endswith("_url")
    ]


def _env_secrets() -> list[str]:
    found: list[str] = []
    for _name, env, secret in _secret_keys():
        value = os.environ.get(env, "")
        if value:
            found += [value] if secret else url_secrets(value)
    return found


def _settings_secrets(settings: Settings | None) -> list[str]:
    if settings is None:
        return []
    found: list[str] = []
    for name, _env, secret in _secret_keys():
        try:
            value = str(getattr(settings, name, "") or "")
        except Exception:  # noqa: BLE001 - a settings object that cannot say holds no secret
            continue
        if value:
            found += [value] if secret else url_secrets(value)
    return found


__all__ = [
    "CredentialError",
    "FoundToken",
    "delete_token",
    "find_token",
    "keyring_available",
    "known_secrets",
    "load_token",
    "no_keyring_message",
    "store_token",
]
