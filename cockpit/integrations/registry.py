"""Which paging services this user has configured, built as providers.

Adapters are imported only when configured, so a machine without one never pays for it.
What the store knows (the learned name of "me") is asked through a callable the caller passes
(``cockpit.sync.providers`` passes the store's), so the integrations never import the store.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cockpit.config import Settings
    from cockpit.integrations.base import PagingProvider


def _nobody() -> str:
    return ""


def make_providers(
    settings: Settings, learned_name: Callable[[], str] = _nobody
) -> dict[str, PagingProvider]:
    """One provider per configured service. Raises ProviderError for a bad URL.

    ``learned_name``: the name of "me" learned from a provider, "" if none (asked only when
    an Alertmanager silence needs a creator and the settings name no user)."""
    providers: dict[str, PagingProvider] = {}
    from cockpit.credentials import load_token

    token = load_token("pagerduty", settings)
    if token:
        from cockpit.integrations.pagerduty import PagerDutyProvider
        from cockpit.integrations.ratelimit import RequestBudget

        providers["pagerduty"] = PagerDutyProvider(
            settings.pagerduty_url,
            token,
            from_email=settings.pagerduty_from,
            budget=RequestBudget.in_data_dir(settings.data_path),
            verify=settings.pagerduty_ca_bundle or True,
            deadline=float(settings.request_deadline),
        )
    if settings.alertmanager_url:
        from cockpit.integrations.alertmanager import AlertmanagerProvider

        secret = load_token("alertmanager", settings)
        os_user = _os_user()
        creator = (
            settings.user or learned_name() or settings.alertmanager_user or os_user or "cockpit"
        )
        providers["alertmanager"] = AlertmanagerProvider(
            settings.alertmanager_url,
            user=settings.alertmanager_user,
            token=secret or "",
            # Silences name who made them; Alertmanager has no user of its own to ask.
            creator=creator,
            # Silences made before "me" was learned carry the OS user name: still ours.
            also_ours=(os_user,) if os_user and os_user != creator else (),
            deadline=float(settings.request_deadline),
        )
    return providers


def configured(settings: Settings) -> bool:
    """Whether any paging service is set up. The settings are asked first: the OS keyring
    takes a fifth of a second to load, so it is asked only when they do not say."""
    if getattr(settings, "pagerduty_token", "") or getattr(settings, "alertmanager_url", ""):
        return True
    from cockpit.credentials import load_token

    return bool(load_token("pagerduty", settings))


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name (a container running as a bare uid)
        return ""
