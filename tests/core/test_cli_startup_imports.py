"""Start-up imports: `cockpit --version`, `--help` and every sub-command's parser load no
ORM, HTTP client, keyring or Textual (the handlers import what they need), and the TUI's path
draws its first frame with the incident before SQLAlchemy is imported.

Each check runs in a fresh interpreter and looks at ``sys.modules``; no timing here (speed is
measured by bench/startup.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cockpit.records import IncidentRecord
from cockpit.store.engine import Store
from cockpit.store.upsert import upsert_incidents

HEAVY = (
    "sqlalchemy",
    "sqlmodel",
    "httpx",
    "keyring",
    "textual",
    "yaml",
    "markdown_it",
    "cockpit.store.models",
    "cockpit.sync.service",
    "cockpit.credentials",
)

PARSE_ONLY = """
import json, sys
from cockpit.cli.main import main
try:
    code = main(sys.argv[1:])
except SystemExit as stop:
    code = stop.code
heavy = [m for m in json.loads(HEAVY) if m in sys.modules]
print(json.dumps({"code": code, "heavy": heavy}))
"""


def _loaded_by(argv: list[str]) -> dict[str, object]:
    script = f"HEAVY = {json.dumps(json.dumps(HEAVY))}\n" + PARSE_ONLY
    result = subprocess.run(
        [sys.executable, "-c", script, *argv], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    data: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return data


@pytest.mark.parametrize(
    "argv",
    [
        ["--version"],
        ["--help"],
        ["sync", "--help"],
        ["outbox", "--help"],
        ["incidents", "--help"],
        ["show", "--help"],
        ["auth", "login", "--help"],
        ["handoff", "--help"],
        ["stats", "--help"],
        ["drill", "--help"],
        ["runbook", "lint", "--help"],
    ],
    ids=lambda argv: " ".join(argv),
)
def test_parsing_a_command_loads_nothing_heavy(argv: list[str]) -> None:
    loaded = _loaded_by(argv)
    assert loaded["code"] == 0
    assert loaded["heavy"] == [], f"`cockpit {' '.join(argv)}` imported {loaded['heavy']}"


def test_plain_cockpit_parses_as_the_full_parser_would() -> None:
    from cockpit.cli.main import build_parser, tui_args

    assert vars(tui_args()) == vars(build_parser().parse_args([]))


def test_the_version_is_printed() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cockpit", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and result.stdout.startswith("cockpit "), result.stderr


FIRST_FRAME = """
import asyncio, json, sys
from textual.app import App

MARK, HEAVY = sys.argv[1], json.loads(sys.argv[2])
seen: list[list[str]] = []
_display = App._display


def _first_frame_with_the_title(self, screen, renderable):
    if not seen and renderable is not None:
        if hasattr(renderable, "render_segments"):
            text = renderable.render_segments(self.console)
        else:
            text = "".join(s.text for s in self.console.render(renderable, self.console.options))
        if MARK in text:
            seen.append([m for m in HEAVY if m in sys.modules])
            self.exit()
    return _display(self, screen, renderable)


App._display = _first_frame_with_the_title

# The path `cockpit` takes (cli/main.main -> tui_cmd.run_tui), run headless; the folders come
# from the environment, as main() with no argument parses them.
from cockpit.cli.main import tui_args
from cockpit.cli.tui_cmd import build_app
from cockpit.config import settings_from_args

args = tui_args()
app, store = build_app(settings_from_args(args))


async def main():
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(1000):
            if seen:
                break
            await pilot.pause(0.01)


asyncio.run(main())
print(json.dumps(seen))
"""


def test_the_tui_draws_its_first_frame_without_the_orm(tmp_path: Path) -> None:
    title = "Disk full on payments-db-2"
    store = Store.open(tmp_path / "data")
    now = datetime.now(UTC)
    with store.write() as session:
        upsert_incidents(
            session,
            "pagerduty",
            [
                IncidentRecord(
                    id="PSTART1",
                    number=1,
                    title=title,
                    status="triggered",
                    created_at=now,
                    updated_at=now,
                    urgency="high",
                    service_name="payments",
                )
            ],
        )
    store.close()
    (tmp_path / "runbooks").mkdir()
    env = dict(
        os.environ,
        COCKPIT_DATA_DIR=str(tmp_path / "data"),
        COCKPIT_RUNBOOKS=str(tmp_path / "runbooks"),
        COCKPIT_PAGERDUTY_TOKEN="start-up",
        COCKPIT_PAGERDUTY_URL="http://127.0.0.1:9",
    )  # configured, never reached
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            FIRST_FRAME,
            title,
            json.dumps([m for m in HEAVY if m != "textual"] + ["cockpit.cli.sync_cmd"]),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen, "the incident's title never showed"
    assert seen[0] == [], f"imported before the first frame: {seen[0]}"
