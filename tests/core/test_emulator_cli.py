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


def test_the_printed_routing_key_triggers_an_incident_through_the_events_api() -> None:
    import subprocess
    import sys

    import httpx

    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cockpit",
            "emulator",
            "--port",
            "0",
            "--incidents",
            "3",
            "--days",
            "1",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(3)]
        url = lines[0].removeprefix("PagerDuty emulator on ").strip()
        assert lines[2].startswith("events: POST ")
        name, key = process.stdout.readline().split()
        event = {
            "routing_key": key,
            "event_action": "trigger",
            "dedup_key": "cli-test",
            "payload": {
                "summary": "Disk almost full on db-9",
                "source": "db-9",
                "severity": "critical",
            },
        }
        answer = httpx.post(f"{url}/v2/enqueue", json=event, timeout=10)
        assert answer.status_code == 202, answer.text
        found = httpx.get(
            f"{url}/incidents",
            headers={
                "Authorization": "Token token=emulator-token",
                "Accept": "application/vnd.pagerduty+json;version=2",
            },
            params={"statuses[]": "triggered", "limit": 100},
            timeout=10,
        ).json()
        assert any(
            i["title"] == "Disk almost full on db-9" and i["service"]["summary"] == name
            for i in found["incidents"]
        )
    finally:
        process.kill()
        process.wait()
