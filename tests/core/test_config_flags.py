"""Every setting can be given on the command line (`--set KEY=VALUE`), secrets excepted."""

from __future__ import annotations

from pathlib import Path

import pytest

from cockpit.cli.main import main


def test_set_overrides_file_and_environment_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text("sync_interval = 120\ntimezone = 'Europe/Berlin'\n")
    monkeypatch.setenv("COCKPIT_SYNC_INTERVAL", "90")
    code = main(
        [
            "--config",
            str(config),
            "--set",
            "sync_interval=30",
            "--set",
            "alertmanager-url=http://am.internal:9093",
            "config",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    rows = {line.split()[0]: line for line in out.splitlines() if line and line[0].isalpha()}
    assert "30" in rows["sync_interval"] and "flag --set sync_interval" in rows["sync_interval"]
    assert "http://am.internal:9093" in rows["alertmanager_url"]
    assert "file" in rows["timezone"]  # untouched keys keep their source


@pytest.mark.parametrize(
    ("arg", "says"),
    [
        ("nope=1", "expected KEY=VALUE with a known key"),
        ("sync_interval", "expected KEY=VALUE"),
        ("sync_interval=soon", "sync_interval must be int"),
        ("pagerduty_token=u+abcdefghijklmnopqrst", "not taken on the command line"),
    ],
)
def test_bad_or_secret_set_is_refused_by_name(
    arg: str, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--set", arg, "config"])
    captured = capsys.readouterr()
    assert code == 2 and says in captured.err
    assert "abcdefghijklmnopqrst" not in captured.err + captured.out


def test_config_names_the_file_to_create_when_there_is_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    assert main(["config"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert "none yet" in first and str(tmp_path / "cfg" / "cockpit" / "config.toml") in first


def test_an_unknown_time_zone_is_refused_naming_the_key_wherever_it_comes_from(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = ["--data-dir", str(tmp_path)]
    assert main([*data, "--set", "timezone=Mars/Olympus", "incidents"]) == 2
    err = capsys.readouterr().err
    assert "--set timezone" in err and "Mars/Olympus" in err
    monkeypatch.setenv("COCKPIT_TIMEZONE", "Nowhere/Atall")
    assert main([*data, "incidents"]) == 2
    assert "COCKPIT_TIMEZONE" in capsys.readouterr().err
    monkeypatch.setenv("COCKPIT_TIMEZONE", "Europe/Berlin")
    assert main([*data, "incidents"]) == 0
