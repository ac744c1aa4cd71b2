"""`cockpit auth login/logout/status alertmanager`, against the real Alertmanager binary."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from alertmanager_server import (  # noqa: F401 - fixtures
    AUTH_PASSWORD,
    AUTH_USER,
    AlertmanagerServer,
    alertmanager_basic_auth,
)
from memory_keyring import MemoryKeyring

from cockpit.cli.main import main


def write_config(tmp_path: Path, url: str, user: str = AUTH_USER) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'alertmanager_url = "{url}"\nalertmanager_user = "{user}"\n'
        f'data_dir = "{tmp_path / "data"}"\n'
    )
    return path


def cockpit(config: Path, monkeypatch: pytest.MonkeyPatch, stdin: str, *argv: str) -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(["--config", str(config), *argv])


@pytest.mark.alertmanager
def test_login_checks_the_password_and_keeps_it_in_the_keyring(
    alertmanager_basic_auth: AlertmanagerServer,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    memory_keyring: MemoryKeyring,
) -> None:
    config = write_config(tmp_path, alertmanager_basic_auth.url)
    assert cockpit(config, monkeypatch, "wrong-pw-77\n", "auth", "login", "alertmanager") == 2
    err = capsys.readouterr().err
    assert "refused the credentials (401)" in err and "wrong-pw-77" not in err
    assert memory_keyring.items == {}

    assert cockpit(config, monkeypatch, f"{AUTH_PASSWORD}\n", "auth", "login", "alertmanager") == 0
    out = capsys.readouterr().out
    assert f"at {alertmanager_basic_auth.url} accepted it" in out and AUTH_PASSWORD not in out
    assert memory_keyring.items == {("cockpit", "alertmanager"): AUTH_PASSWORD}

    assert cockpit(config, monkeypatch, "", "auth", "status") == 0
    out = capsys.readouterr().out
    assert "alertmanager: password or token from keyring" in out
    assert "alertmanager: reachable (Alertmanager" in out
    assert "pagerduty: no token (not used)" in out

    assert cockpit(config, monkeypatch, "", "auth", "logout", "alertmanager") == 0
    assert "alertmanager: token removed from the keyring" in capsys.readouterr().out
    assert memory_keyring.items == {}
    assert cockpit(config, monkeypatch, "", "auth", "status") == 1
    assert "refused the credentials (401)" in capsys.readouterr().out


def test_login_without_a_keyring_names_the_env_var(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The fail backend (tests/conftest.py); no URL configured, so nothing to check against.
    config = tmp_path / "config.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n')
    assert cockpit(config, monkeypatch, "bearer-xyz\n", "auth", "login", "alertmanager") == 1
    captured = capsys.readouterr()
    assert "Not checked: alertmanager_url is not set" in captured.out
    assert (
        "no keyring backend on this machine: set COCKPIT_ALERTMANAGER_TOKEN instead; "
        "the token was not stored" in captured.err
    )
    assert "bearer-xyz" not in captured.out + captured.err
    assert cockpit(config, monkeypatch, "", "auth", "logout", "alertmanager") == 0
    assert "alertmanager: no token in the keyring" in capsys.readouterr().out


def test_login_refuses_plain_http_to_another_host_before_asking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, "http://alertmanager.monitoring.svc:9093")
    assert cockpit(config, monkeypatch, "pw\n", "auth", "login", "alertmanager") == 2
    err = capsys.readouterr().err
    assert "refusing plain http:// to alertmanager.monitoring.svc" in err
    assert err.count("\n") == 1
    assert sys.stdin.readline() == "pw\n"  # not read
