"""Tokens: keyring first, then env/settings; no keyring backend is said plainly."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail
from memory_keyring import MemoryKeyring

from cockpit import credentials
from cockpit.cli.main import main
from cockpit.config import load_settings
from cockpit.credentials import CredentialError
from cockpit.integrations.pagerduty_emulator import EmulatorHandle, start_emulator


@pytest.fixture
def no_keyring() -> Iterator[None]:
    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        yield
    finally:
        keyring.set_keyring(before)


def settings(**environ: str):  # type: ignore[no-untyped-def]
    return load_settings(environ=environ)


def test_store_load_delete_round_trip(memory_keyring: MemoryKeyring) -> None:
    assert credentials.keyring_available()
    credentials.store_token("pagerduty", "u+secret-token-1")
    assert memory_keyring.items == {("cockpit", "pagerduty"): "u+secret-token-1"}
    found = credentials.find_token("pagerduty", settings())
    assert found is not None and found.source == "keyring"
    assert "secret" not in repr(found)
    assert credentials.load_token("pagerduty", settings()) == "u+secret-token-1"
    assert credentials.delete_token("pagerduty") is True
    assert credentials.delete_token("pagerduty") is False
    assert credentials.load_token("pagerduty", settings()) is None


def test_keyring_wins_over_the_environment(memory_keyring: MemoryKeyring) -> None:
    credentials.store_token("pagerduty", "from-keyring")
    env = settings(COCKPIT_PAGERDUTY_TOKEN="from-env")
    assert credentials.load_token("pagerduty", env) == "from-keyring"


def test_environment_is_used_when_the_keyring_is_empty(memory_keyring: MemoryKeyring) -> None:
    env = settings(COCKPIT_PAGERDUTY_TOKEN="from-env")
    found = credentials.find_token("pagerduty", env)
    assert found is not None
    assert (found.token, found.source) == ("from-env", "env COCKPIT_PAGERDUTY_TOKEN")


def test_without_a_keyring_backend_the_env_var_is_named(no_keyring: None) -> None:
    assert not credentials.keyring_available()
    with pytest.raises(CredentialError) as caught:
        credentials.store_token("pagerduty", "abc")
    assert str(caught.value) == (
        "no keyring backend on this machine: set COCKPIT_PAGERDUTY_TOKEN instead"
    )
    assert credentials.delete_token("pagerduty") is False
    assert credentials.load_token("pagerduty", settings(COCKPIT_PAGERDUTY_TOKEN="e")) == "e"
    assert credentials.load_token("pagerduty", settings()) is None


def test_a_chainer_with_no_usable_backend_is_no_keyring(memory_keyring: MemoryKeyring) -> None:
    from keyring.backends import chainer

    class EmptyChainer(chainer.ChainerBackend):
        @property
        def backends(self):  # type: ignore[no-untyped-def, override]
            return []

    keyring.set_keyring(EmptyChainer())
    assert not credentials.keyring_available()


def test_unknown_service_is_refused(memory_keyring: MemoryKeyring) -> None:
    with pytest.raises(CredentialError, match="unknown service 'opsgenie'"):
        credentials.store_token("opsgenie", "x")


# ---------------------------------------------------------------- cockpit auth, end to end


@pytest.fixture
def emulator() -> Iterator[EmulatorHandle]:
    with start_emulator(incidents=3, days=1, token="emu-T0KEN-for-cli") as handle:
        yield handle


@pytest.fixture
def config(tmp_path: Path, emulator: EmulatorHandle, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("COCKPIT_PAGERDUTY_TOKEN", raising=False)
    monkeypatch.delenv("COCKPIT_PAGERDUTY_URL", raising=False)
    path = tmp_path / "config.toml"
    path.write_text(f'pagerduty_url = "{emulator.url}"\ndata_dir = "{tmp_path / "data"}"\n')
    return path


def cockpit(config: Path, monkeypatch: pytest.MonkeyPatch, stdin: str, *argv: str) -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(["--config", str(config), *argv])


def test_login_checks_the_token_and_keeps_it_in_the_keyring(
    config: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    memory_keyring: MemoryKeyring,
) -> None:
    assert cockpit(config, monkeypatch, "emu-T0KEN-for-cli\n", "auth", "login", "pagerduty") == 0
    out = capsys.readouterr().out
    assert "Logged in as Ada Okafor <ada.okafor@example.com>" in out
    assert memory_keyring.items[("cockpit", "pagerduty")] == "emu-T0KEN-for-cli"
    assert "emu-T0KEN" not in out

    assert cockpit(config, monkeypatch, "", "auth", "status") == 0
    out = capsys.readouterr().out
    assert "pagerduty: token from keyring" in out
    assert "pagerduty: Logged in as Ada Okafor" in out

    assert cockpit(config, monkeypatch, "", "auth", "logout") == 0
    assert "token removed from the keyring" in capsys.readouterr().out
    assert memory_keyring.items == {}
    assert cockpit(config, monkeypatch, "", "auth", "status", "--offline") == 1
    assert "pagerduty: no token" in capsys.readouterr().out


def test_login_with_a_wrong_token_stores_nothing_and_says_one_line(
    config: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    memory_keyring: MemoryKeyring,
) -> None:
    status = cockpit(config, monkeypatch, "nope-T0KEN-42\n", "auth", "login", "pagerduty")
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("cockpit: PagerDuty refused the token (401)")
    assert err.count("\n") == 1 and "nope-T0KEN-42" not in err
    assert memory_keyring.items == {}


def test_login_without_a_keyring_explains_the_env_var(
    config: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    no_keyring: None,
) -> None:
    assert cockpit(config, monkeypatch, "emu-T0KEN-for-cli\n", "auth", "login", "pagerduty") == 1
    captured = capsys.readouterr()
    assert "Logged in as Ada Okafor" in captured.out
    assert "no keyring backend on this machine: set COCKPIT_PAGERDUTY_TOKEN instead" in captured.err

    monkeypatch.setenv("COCKPIT_PAGERDUTY_TOKEN", "emu-T0KEN-for-cli")
    assert cockpit(config, monkeypatch, "", "auth", "status") == 0
    out = capsys.readouterr().out
    assert "token from env COCKPIT_PAGERDUTY_TOKEN" in out and "Logged in as" in out


def test_login_refuses_an_empty_token(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cockpit(config, monkeypatch, "\n", "auth", "login", "pagerduty") == 2
    assert "no token given" in capsys.readouterr().err
