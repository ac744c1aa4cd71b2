"""Issue 16 item 13: one duration parser with one meaning, for the CLI and the TUI alike: a
number alone is minutes, weeks work everywhere, and the unit is always said back."""

from __future__ import annotations

import pytest

from cockpit.durations import compact, describe, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30", 1800),
        ("30m", 1800),
        ("90s", 90),
        ("2h", 7200),
        ("1d", 86_400),
        ("2w", 1_209_600),
        (" 1.5h ", 5400),
        ("45 ", 2700),
        ("10 m", 600),
    ],
)
def test_one_meaning(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "0", "-5m", "2x", "m", "nan", "1e999h"])
def test_refusals_say_what_is_accepted(text: str) -> None:
    with pytest.raises(ValueError) as error:
        parse_duration(text)
    assert "30m" in str(error.value) and "a number alone is minutes" in str(error.value)


@pytest.mark.parametrize(
    ("seconds", "short", "words"),
    [
        (1800, "30m", "30 minutes"),
        (5400, "90m", "1 hour 30 minutes"),
        (86_400, "1d", "1 day"),
        (1_209_600, "2w", "2 weeks"),
        (90, "90s", "1 minute 30 seconds"),
        (3600, "1h", "1 hour"),
    ],
)
def test_the_unit_is_said_back(seconds: int, short: str, words: str) -> None:
    assert (compact(seconds), describe(seconds)) == (short, words)


def test_the_cli_uses_the_same_parser() -> None:
    from cockpit.cli import incident_cmd

    assert incident_cmd.parse_duration("30") == 1800
    assert incident_cmd.parse_duration("2w") == 1_209_600
