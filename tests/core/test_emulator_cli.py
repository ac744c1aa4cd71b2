"""``cockpit emulator`` options reach ``start_emulator``."""

from __future__ import annotations

from typing import Any

import pytest

from cockpit.cli import emulator_cmd
from cockpit.cli.main import build_parser


class _Stop(Exception):
    pass


def test_rate_limit_option_is_passed_to_the_emulator(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def fake_start(**kwargs: Any) -> Any:
        seen.update(kwargs)
        raise _Stop  # run() would serve forever after this

    monkeypatch.setattr("cockpit.integrations.pagerduty_emulator.start_emulator", fake_start)
    args = build_parser().parse_args(["emulator", "--port", "0", "--rate-limit", "12345"])
    with pytest.raises(_Stop):
        emulator_cmd.run(args)
    assert seen["rate_limit_per_minute"] == 12345
    assert seen["port"] == 0
    default = build_parser().parse_args(["emulator"])
    assert default.rate_limit == 960  # PagerDuty's documented per-token limit
