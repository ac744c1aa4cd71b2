"""Which paging services this user has configured, built as providers.

Adapters are imported only when configured, so a machine without one never pays for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cockpit.integrations.base import PagingProvider


def make_providers(settings: Any) -> dict[str, PagingProvider]:
    """One provider per configured service. Raises ProviderError for a bad URL."""
    providers: dict[str, PagingProvider] = {}
    from cockpit.integrations.credentials import load_token

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
        )
    if settings.alertmanager_url:
        from cockpit.integrations.alertmanager import AlertmanagerProvider

        secret = load_token("alertmanager", settings)
        providers["alertmanager"] = AlertmanagerProvider(
            settings.alertmanager_url,
            user=settings.alertmanager_user,
            token=secret or "",
            # Silences name who made them; Alertmanager has no user of its own to ask.
            creator=settings.user or settings.alertmanager_user or "cockpit",
        )
    return providers


def configured(settings: Any) -> bool:
    """Whether any paging service is set up. The settings are asked first: the OS keyring
    takes a fifth of a second to load, so it is asked only when they do not say."""
    if getattr(settings, "pagerduty_token", "") or getattr(settings, "alertmanager_url", ""):
        return True
    from cockpit.integrations.credentials import load_token

    return bool(load_token("pagerduty", settings))
