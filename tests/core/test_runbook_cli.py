"""``cockpit runbook lint|show|match`` end to end through ``main``."""

from __future__ import annotations

from pathlib import Path

import pytest

from cockpit.cli.main import main

GOOD = """\
---
id: disk
title: Disk full
owner: infra
services: [platform]
match:
  title: "(?i)disk"
---
# Disk full

## Trigger
t

## Checks
- [ ] How full? `df -h {{mountpoint}}`

## Actions
1. [ ] ⚠ Prune releases [bold]now[/bold] (wait 1m)
   ```console
   $ rm -rf /srv/releases/old
   removed
   ```

## Decision points
- Below 80%?
  - yes: go to [Validation](#validation)
  - no: go to [Rollback](#rollback)

## Rollback
1. [ ] Drain the host

## Validation
- [ ] Usage flat

## Owner
infra
"""


@pytest.fixture
def books(tmp_path: Path) -> Path:
    (tmp_path / "disk.md").write_text(GOOD)
    return tmp_path


def test_lint_exit_codes(books: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["runbook", "lint", str(books)]) == 0
    assert "0 findings" in capsys.readouterr().out
    (books / "bad.md").write_text(GOOD.replace("#rollback", "#nowhere"))
    assert main(["runbook", "lint", str(books)]) == 1
    out = capsys.readouterr().out
    assert f"{books / 'bad.md'}:27: error: decision branch 'no' points nowhere" in out
    (books / "bad.md").write_text("# prose only\n")
    assert main(["runbook", "lint", str(books / "bad.md")]) == 0
    assert ": warning: " in capsys.readouterr().out


def test_lint_without_path_uses_configured_folder(
    books: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--runbooks", str(books), "runbook", "lint"]) == 0
    assert str(books) in capsys.readouterr().out
    # A folder that was set but is missing is an error, never silently the samples.
    assert main(["--runbooks", str(books / "none"), "runbook", "lint"]) == 2
    assert f"{books / 'none'} (flag --runbooks) does not exist" in capsys.readouterr().err


def test_show_prints_checklist(books: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["runbook", "show", str(books / "disk.md")]) == 0
    out = capsys.readouterr().out
    assert "  1. [ ] How full? `df -h {{mountpoint}}`" in out
    assert "parameters: mountpoint" in out
    assert "RISKY: confirm first; timer 1m" in out
    assert "          rm -rf /srv/releases/old\n" in out and "removed\n" not in out
    assert "[bold]now[/bold]" in out
    assert "yes -> Validation" in out and "no -> Rollback" in out


def test_show_missing_file_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["runbook", "show", "/nonexistent/x.md"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cockpit: /nonexistent/x.md: cannot read runbook")
    assert "Traceback" not in err


def test_match(books: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "runbook",
                "match",
                "--title",
                "Disk almost full",
                "--service",
                "platform",
                "--label",
                "severity=critical",
                str(books),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "1. disk  score 90" in out and "title matches /(?i)disk/" in out
    assert main(["runbook", "match", "--title", "printer", str(books)]) == 0
    assert capsys.readouterr().out.strip() == "no runbook matches"
    assert main(["runbook", "match", "--runbook-url", "https://x/ops/disk.md", str(books)]) == 0
    assert "beats every heuristic" in capsys.readouterr().out
    assert main(["runbook", "match", "--label", "novalue", str(books)]) == 2
