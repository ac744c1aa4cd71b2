"""The team URL: the password goes to the keyring, never to the settings; TLS for any host
but this machine."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cockpit.team.url import TeamUrlError, find_password, parse, store_password


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://alice@db.example.com/team",
        "postgresql://alice@db.example.com/team?sslmode=prefer",
        "postgresql://alice@db.example.com/team?sslmode=disable",
        "postgresql://alice@/team?host=db.example.com",
        "postgresql://alice@localhost/team?host=10.0.0.5",
    ],
)
def test_a_remote_host_needs_tls(url: str) -> None:
    with pytest.raises(TeamUrlError, match="must be reached over TLS"):
        parse(url)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://alice@db.example.com/team?sslmode=require",
        "postgresql://alice@db.example.com/team?sslmode=verify-full",
        "postgresql://alice@localhost/team",
        "postgresql://alice@127.0.0.1:5433/team",
        "postgresql://alice@[::1]/team",
        "postgresql://alice@/team?host=/run/postgresql",
        "postgres://alice@/team",
    ],
)
def test_tls_or_this_machine_is_accepted(url: str) -> None:
    assert parse(url).url.startswith("postgresql://alice@")


def test_the_password_is_split_off_and_kept_in_the_keyring(memory_keyring: object) -> None:
    target = parse("postgresql://alice:s%40cret@db.example.com/team?sslmode=require")
    assert target.url == "postgresql://alice@db.example.com/team?sslmode=require"
    assert target.password == "s@cret"
    assert "s@cret" not in repr(target)
    assert store_password(target.url, "s@cret") == "keyring"
    assert find_password(target.url) == "s@cret"
    assert find_password("postgresql://bob@db.example.com/team?sslmode=require") is None


def test_without_a_keyring_the_password_is_refused_with_what_to_do() -> None:
    with pytest.raises(TeamUrlError, match="COCKPIT_TEAM_PASSWORD"):
        store_password("postgresql://alice@db.example.com/team?sslmode=require", "pw")


def test_other_urls_are_refused() -> None:
    with pytest.raises(TeamUrlError, match="postgresql://"):
        parse("mysql://alice@db/team")
    with pytest.raises(TeamUrlError, match="needs your PostgreSQL user"):
        parse("postgresql://localhost/team")


def test_a_password_in_team_url_setting_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('team_url = "postgresql://alice:hunter2@localhost/team"\n')
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cockpit",
            "--config",
            str(config),
            "--data-dir",
            str(tmp_path / "data"),
            "team",
            "sync",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2
    assert "holds a password" in result.stderr
    assert "hunter2" not in result.stderr + result.stdout
