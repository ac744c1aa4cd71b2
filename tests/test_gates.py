"""The code's gates, run with the suite so that the README's one test command (and `.ci/run`)
checks them too: ruff's lint and format, mypy as configured, and the import contracts in
pyproject.toml (the layers, no cycles between sibling modules, the core never imports Textual)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

GATES = {
    "ruff check": [str(BIN / "ruff"), "check", "cockpit", "tests", "bench"],
    "ruff format": [str(BIN / "ruff"), "format", "--check", "cockpit", "tests", "bench"],
    "mypy": [str(BIN / "mypy")],
    "lint-imports": [str(BIN / "lint-imports")],
}


@pytest.mark.parametrize("gate", sorted(GATES))
def test_gate_passes(gate: str) -> None:
    command = GATES[gate]
    if not Path(command[0]).exists():
        pytest.fail(
            f"{gate}: {command[0]} is missing: install the test extra (pip install -e '.[test]')"
        )
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{gate} failed:\n{done.stdout}\n{done.stderr}"
