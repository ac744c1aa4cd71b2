"""Bad input gets one clear line naming the file, field or value, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from cockpit.cli.main import main
from cockpit.store import Incident, Store, utcnow


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(args)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    return code, captured.err


def test_a_config_file_that_is_not_utf8(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.toml"
    config.write_bytes(b"pagerduty_url = '\xff\xfe'\n")
    code, err = _run(["--config", str(config), "config"], capsys)
    assert code == 2 and str(config) in err and "UTF-8" in err


def test_a_cockpit_key_that_is_not_a_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('cockpit = "x"\n')
    code, err = _run(["--config", str(config), "config"], capsys)
    assert code == 2 and "must be a table" in err


def test_a_secret_of_the_wrong_type_is_not_echoed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text("pagerduty_token = 123456789012345\n")
    code, err = _run(["--config", str(config), "config"], capsys)
    assert code == 2 and "pagerduty_token must be str" in err
    assert "123456789012345" not in err


def test_a_sync_interval_below_the_minimum(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text("sync_interval = 0\n")
    code, err = _run(["--config", str(config), "config"], capsys)
    assert code == 2 and "sync_interval must be at least 5" in err


@pytest.mark.parametrize("duration", ["infm", "nan", "0m", "0", "soon"])
def test_a_bad_snooze_duration(
    duration: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = Store.open(tmp_path)
    with store.write() as session:
        now = utcnow()
        session.add(
            Incident(
                id="pagerduty:P1",
                source="pagerduty",
                remote_id="P1",
                title="t",
                status="acknowledged",
                created_at=now,
                updated_at=now,
            )
        )
    store.close()
    code, err = _run(["--data-dir", str(tmp_path), "snooze", "P1", duration], capsys)
    assert code == 2 and f"duration {duration!r}" in err


def test_an_unknown_incident(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run(["--data-dir", str(tmp_path), "ack", "PNOPE"], capsys)
    assert code == 2 and "PNOPE" in err


def test_an_export_to_a_folder_that_does_not_exist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "missing" / "chart.svg"
    code, err = _run(["--data-dir", str(tmp_path), "stats", "--chart", str(target)], capsys)
    assert code == 2 and str(target) in err and "cannot write" in err


def test_a_data_dir_that_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("not a folder")
    code, err = _run(["--data-dir", str(blocker), "incidents"], capsys)
    assert code == 2 and str(blocker) in err


def test_an_error_message_holding_control_characters_is_made_inert(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = _run(["--data-dir", str(tmp_path), "show", "P\x1b]52;c;aGk=\x07"], capsys)
    assert code == 2 and "\x1b" not in err and "\x07" not in err
