"""A step's command runs in its own process group (killed whole on timeout, no stdin), and
what is kept of it holds no secret."""

from __future__ import annotations

import os
from pathlib import Path

from cockpit.runbooks.shell import EXCERPT_LINES, execute, record


def test_exit_code_and_output_and_no_stdin() -> None:
    code, output = execute("echo out; echo err >&2; cat; exit 3")
    assert code == 3
    assert output.splitlines() == ["out", "err"]  # cat read nothing: stdin is /dev/null


def test_a_timeout_kills_the_whole_pipeline(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    # 3 s: time for the inner shell to start and write its pid on a loaded machine.
    code, output = execute(f"sh -c 'echo $$ > {pids}; sleep 60' | cat", timeout=3)
    assert code is None and "timed out after 3 s: killed" in output
    child = int(pids.read_text())
    try:
        os.kill(child, 0)
    except ProcessLookupError:
        return
    # A zombie not yet reaped by init is dead too.
    assert Path(f"/proc/{child}/stat").read_text().split()[2] == "Z"


def test_what_is_kept_masks_secrets_and_keeps_the_tail() -> None:
    secret = "u+S3CRETTOKEN42"
    lines = "\n".join(f"line {n}" for n in range(50))
    kept = record(f"curl -H 'Authorization: {secret}' x", 0, f"{lines}\ntoken={secret}\n", [secret])
    assert secret not in kept.command + kept.output + kept.summary
    assert secret not in str(kept.details)
    assert kept.summary.startswith("$ curl") and "\nexit 0\n" in kept.summary
    assert "line 0\n" not in kept.summary  # only the tail
    assert f"… {51 - EXCERPT_LINES} line(s) before" in kept.summary
    assert record("false", None, "", []).summary.startswith("$ false\nexit -")
