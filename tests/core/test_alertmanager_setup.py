"""Alertmanager from the settings: which URLs are accepted, who makes silences, snoozing."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cockpit.config import load_settings
from cockpit.errors import CockpitError
from cockpit.integrations.alertmanager import AlertmanagerProvider
from cockpit.integrations.base import InsecureURL
from cockpit.store.engine import Store
from cockpit.store.models import Incident
from cockpit.sync import actions
from cockpit.sync.identity import Me, set_me
from cockpit.sync.providers import make_providers

NOW = datetime(2026, 3, 10, 3, 12, tzinfo=UTC)


def settings(tmp_path: Path, **environ: str):  # type: ignore[no-untyped-def]
    environ.setdefault("COCKPIT_DATA_DIR", str(tmp_path / "data"))
    return load_settings(environ=environ)


def alertmanager(tmp_path: Path, **environ: str) -> AlertmanagerProvider:
    provider = make_providers(settings(tmp_path, **environ))["alertmanager"]
    assert isinstance(provider, AlertmanagerProvider)
    return provider


def test_cluster_url_without_credentials_is_accepted(tmp_path: Path) -> None:
    am = alertmanager(tmp_path, COCKPIT_ALERTMANAGER_URL="http://alertmanager.monitoring.svc:9093")
    assert am.base_url == "http://alertmanager.monitoring.svc:9093"


def test_cluster_url_with_a_token_is_refused_naming_the_setting(tmp_path: Path) -> None:
    with pytest.raises(InsecureURL) as caught:
        make_providers(
            settings(
                tmp_path,
                COCKPIT_ALERTMANAGER_URL="http://alertmanager.monitoring.svc:9093",
                COCKPIT_ALERTMANAGER_TOKEN="s3cret-bearer",
            )
        )
    message = str(caught.value)
    assert isinstance(caught.value, CockpitError)
    assert "alertmanager_url" in message and "COCKPIT_ALERTMANAGER_TOKEN" in message
    assert "s3cret-bearer" not in message


def test_silences_are_made_by_the_os_user_without_a_user_setting(tmp_path: Path) -> None:
    am = alertmanager(tmp_path, COCKPIT_ALERTMANAGER_URL="http://127.0.0.1:9")
    assert am.creator == getpass.getuser() != "cockpit"
    named = alertmanager(
        tmp_path, COCKPIT_ALERTMANAGER_URL="http://127.0.0.1:9", COCKPIT_USER="alice"
    )
    assert named.creator == "alice"


def test_silences_are_made_by_the_learned_identity(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "data")
    try:
        with store.write() as session:
            set_me(session, Me("pagerduty:PME", "Alex Night", "alex@example.com"))
    finally:
        store.close()
    am = alertmanager(tmp_path, COCKPIT_ALERTMANAGER_URL="http://127.0.0.1:9")
    assert am.creator == "Alex Night"
    # Silences made under the OS user name before "me" was learned are still ours.
    assert getpass.getuser() in am._ours


def _store_with(tmp_path: Path, source: str, status: str) -> Store:
    store = Store.open(tmp_path / "data")
    with store.write() as session:
        session.add(
            Incident(
                id=f"{source}:abc123def456",
                source=source,
                remote_id="abc123def456",
                title="HighLatency",
                status=status,
                created_at=NOW,
                updated_at=NOW,
            )
        )
    return store


def test_a_triggered_alertmanager_group_can_be_snoozed(tmp_path: Path) -> None:
    store = _store_with(tmp_path, "alertmanager", "triggered")
    try:
        incident = actions.snooze(store, "alertmanager:abc123def456", 600, user="alice")
        assert incident.snoozed_until is not None
    finally:
        store.close()


def test_a_triggered_pagerduty_incident_still_needs_an_acknowledge(tmp_path: Path) -> None:
    store = _store_with(tmp_path, "pagerduty", "triggered")
    try:
        with pytest.raises(actions.ActionError, match="only an acknowledged incident"):
            actions.snooze(store, "pagerduty:abc123def456", 600, user="alice")
    finally:
        store.close()
