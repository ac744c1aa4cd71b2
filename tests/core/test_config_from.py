"""pagerduty_from is checked when settings load and when it is set; a bad one is one clear line
from every command, and never reaches httpx (which raised UnicodeEncodeError on 'zoë')."""

from __future__ import annotations

import stat
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from cockpit.cli.main import main
from cockpit.config import email_problem, load_settings, save_setting
from cockpit.errors import ConfigError
from cockpit.integrations.base import InvalidRequest
from cockpit.integrations.pagerduty import PagerDutyProvider
from cockpit.integrations.pagerduty_emulator import EmulatorHandle, start_emulator


@pytest.fixture
def emulator() -> Iterator[EmulatorHandle]:
    with start_emulator(incidents=3, days=1) as handle:
        yield handle


@pytest.mark.parametrize(
    "value",
    [
        "zoë@example.com",
        "me@example.com\r\n",
        "a@b.c\r\nX-Evil: 1",
        "me @example.com",
        "me@example.com\t",
        "nobody",
        "@example.com",
        "me@",
        "me@.com",
        "a@b@c",
        "x" * 260 + "@e.c",
    ],
)
def test_bad_addresses_are_named(value: str) -> None:
    assert email_problem(value)


@pytest.mark.parametrize("value", ["me@example.com", "first.last+oncall@sub.example.co.uk"])
def test_good_addresses_pass(value: str) -> None:
    assert email_problem(value) is None


def test_a_non_ascii_from_in_the_file_names_the_file_and_the_setting(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('pagerduty_from = "zo\\u00eb@example.com"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    message = str(caught.value)
    assert message.startswith(f"{path}: pagerduty_from must be ASCII")
    assert "cockpit config set pagerduty_from you@example.com" in message


def test_a_crlf_from_in_the_environment_names_the_variable() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={"COCKPIT_PAGERDUTY_FROM": "a@b.c\r\n"})
    message = str(caught.value)
    assert message.startswith("COCKPIT_PAGERDUTY_FROM: pagerduty_from must be one address")
    assert "fix or unset COCKPIT_PAGERDUTY_FROM" in message


def test_an_empty_from_means_ask_users_me() -> None:
    settings = load_settings(environ={"COCKPIT_PAGERDUTY_FROM": ""})
    assert settings.pagerduty_from == ""


@pytest.mark.parametrize(
    "argv", [["sync"], ["config"], ["auth", "status", "--offline"], ["incidents"], []]
)
def test_every_command_says_one_line_instead_of_a_traceback(
    tmp_path: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.toml"
    path.write_text('pagerduty_from = "zo\\u00eb@example.com"\n', encoding="utf-8")
    assert main(["--config", str(path), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cockpit: ") and err.count("\n") == 1
    assert "pagerduty_from must be ASCII" in err and "Traceback" not in err


def test_config_set_fixes_a_bad_value_and_keeps_the_rest_of_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.toml"
    text = (
        "# my settings\n"
        'pagerduty_from = "zo\\u00eb@example.com"  # typo\n'
        "sync_interval = 30\n"
        "\n"
        "[filters.mine]\n"
        'urgency = "high"\n'
    )
    path.write_text(text, encoding="utf-8")
    assert main(["--config", str(path), "config", "set", "pagerduty_from", "zoe@example.com"]) == 0
    assert f"pagerduty_from saved in {path}" in capsys.readouterr().out
    after = path.read_text(encoding="utf-8")
    assert after == text.replace('"zo\\u00eb@example.com"  # typo', '"zoe@example.com"')
    settings = load_settings(path, environ={})
    assert settings.pagerduty_from == "zoe@example.com"
    assert settings.tables["filters"]["mine"] == {"urgency": "high"}


def test_config_set_refuses_a_bad_value_and_leaves_the_file_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.toml"
    path.write_text('pagerduty_from = "me@example.com"\n', encoding="utf-8")
    argv = ["--config", str(path), "config", "set", "pagerduty_from", "me@example.com\r\n"]
    assert main(argv) == 2
    assert "pagerduty_from must be one address" in capsys.readouterr().err
    assert path.read_text(encoding="utf-8") == 'pagerduty_from = "me@example.com"\n'
    assert main(["--config", str(path), "config", "set", "pagerduty_token", "s3cret"]) == 2
    assert "not taken on the command line" in capsys.readouterr().err
    assert "s3cret" not in path.read_text(encoding="utf-8")


def test_save_setting_creates_a_private_file_and_writes_into_a_cockpit_table(
    tmp_path: Path,
) -> None:
    fresh = tmp_path / "new" / "config.toml"
    save_setting(fresh, "pagerduty_from", "me@example.com")
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600  # it may come to hold a token
    assert tomllib.loads(fresh.read_text()) == {"pagerduty_from": "me@example.com"}

    tabled = tmp_path / "tabled.toml"
    tabled.write_text('[cockpit]\nsync_interval = 30\n\n[keymap]\n"incident.ack" = "a"\n')
    save_setting(tabled, "pagerduty_from", "me@example.com")
    save_setting(tabled, "sync_interval", "45")
    data = tomllib.loads(tabled.read_text())
    assert data["cockpit"] == {"sync_interval": 45, "pagerduty_from": "me@example.com"}
    assert data["keymap"] == {"incident.ack": "a"}


async def test_the_provider_refuses_a_bad_from_before_httpx_sees_it(
    emulator: EmulatorHandle,
) -> None:
    """Defence in depth: a From from code or from /users/me is checked too."""
    incident = next(iter(emulator.state.incidents))
    for bad in ("zoë@example.com", "me@example.com\r\nX-Evil: 1"):
        async with PagerDutyProvider(emulator.url, emulator.token, from_email=bad) as pd:
            with pytest.raises(InvalidRequest) as caught:
                await pd.acknowledge(incident)
        assert "pagerduty_from" in str(caught.value)
        assert not caught.value.retryable  # not "offline": retrying cannot help
    assert len(emulator.state.writes) == 0  # nothing reached the server
