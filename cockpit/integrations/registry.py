"""Which paging services this user has configured, built as providers.

Adapters are imported only when configured, so a machine without one never pays for it.
"""

from __future__ import annotations

import getpass
import sqlite3
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
            deadline=float(settings.request_deadline),
        )
    if settings.alertmanager_url:
        from cockpit.integrations.alertmanager import AlertmanagerProvider

        secret = load_token("alertmanager", settings)
        os_user = _os_user()
        creator = (
            settings.user
            or _learned_name(settings)
            or settings.alertmanager_user
            or os_user
            or "cockpit"
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


def configured(settings: Any) -> bool:
    """Whether any paging service is set up. The settings are asked first: the OS keyring
    takes a fifth of a second to load, so it is asked only when they do not say."""
    if getattr(settings, "pagerduty_token", "") or getattr(settings, "alertmanager_url", ""):
        return True
    from cockpit.integrations.credentials import load_token

    return bool(load_token("pagerduty", settings))


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name (a container running as a bare uid)
        return ""


def _learned_name(settings: Any) -> str:
    """The name of "me" the store learned from a provider, or "" if none was learned yet."""
    from cockpit.store.engine import store_path
    from cockpit.sync.identity import me_in

    path = store_path(settings)
    if not path.exists():
        return ""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
    except sqlite3.Error:
        return ""
    try:
        me = me_in(conn)
    except (sqlite3.Error, ValueError):
        return ""  # an old or busy store: the OS user name will do
    finally:
        conn.close()
    return "" if me.id.startswith("local:") else me.name
