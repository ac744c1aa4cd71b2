"""The core never imports Textual: each headless module is imported in a fresh interpreter
and ``textual`` must not appear in ``sys.modules``. The headless CLI commands neither."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

import cockpit

UI_PACKAGES = ("cockpit.app", "cockpit.screens", "cockpit.widgets")
# The TUI starters (cli.tui_cmd, cli.demo_cmd) import the app inside the function that
# runs it, so they belong to the headless list too.


def _headless_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(cockpit.__path__, "cockpit."):
        if info.name.startswith(UI_PACKAGES) or info.name == "cockpit.__main__":
            continue
        names.append(info.name)
    return sorted(names)


def test_the_module_list_is_not_empty() -> None:
    names = _headless_modules()
    assert "cockpit.store.engine" in names and "cockpit.runbooks.parse" in names


@pytest.mark.parametrize("chunk", [pytest.param(i, id=f"chunk{i}") for i in range(4)])
def test_headless_modules_do_not_import_textual(chunk: int) -> None:
    names = _headless_modules()[chunk::4]
    script = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "    if 'textual' in sys.modules:\n"
        "        print(name); sys.exit(1)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, f"{result.stdout.strip()} imports textual\n{result.stderr}"


def test_headless_commands_do_not_load_textual() -> None:
    script = (
        "import sys\n"
        "from cockpit.cli.main import main\n"
        "code = main(['runbook', 'match', '--title', 'x', '--service', 'y'])\n"
        "print('textual' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"
