from __future__ import annotations

import pytest

from cockpit.durations import compact, parse_duration


@pytest.mark.parametrize(
    ("text", "default", "seconds"),
    [
        ("90s", "s", 90),
        ("30m", "s", 1800),
        ("2h", "s", 7200),
        ("1d", "s", 86400),
        ("1w", "s", 604800),
        ("3600", "s", 3600),
        ("30", "m", 1800),
        (" 1.5h ", "s", 5400),
    ],
)
def test_parse(text: str, default: str, seconds: int) -> None:
    assert parse_duration(text, default) == seconds


@pytest.mark.parametrize("text", ["", "soon", "0", "0m", "-5m", "inf", "infm", "nan", "1e999h"])
def test_parse_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("seconds", "shown"), [(7200, "2h"), (5400, "90m"), (45, "45s"), (0, "0s")]
)
def test_compact(seconds: int, shown: str) -> None:
    assert compact(seconds) == shown
