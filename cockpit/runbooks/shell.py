"""Running a runbook step's command on this machine, and what of it is kept.

The screen asks first and runs this in a thread worker; here is only what does not need a
terminal: the run itself (its own process group, killed whole on timeout, no stdin) and the
record the timeline keeps (secrets masked first, the output's tail).
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass

from cockpit.redact import kept_output, redact

COMMAND_TIMEOUT = 120
EXCERPT_LINES = 20


def execute(command: str, timeout: float = COMMAND_TIMEOUT) -> tuple[int | None, str]:
    """Run ``command`` in a shell of its own process group; (exit code or None, output)."""
    try:
        process = subprocess.Popen(
            command,
            shell=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,
        )
    except OSError as error:
        return None, f"could not start: {error}"
    try:
        output, _ = process.communicate(timeout=timeout)
        return process.returncode, output
    except subprocess.TimeoutExpired:
        # The whole group: a pipeline's children must not outlive the shell.
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        return None, f"{output}\ntimed out after {timeout:g} s: killed"


def excerpt(output: str, lines: int = EXCERPT_LINES) -> str:
    kept = output.rstrip("\n").split("\n")
    cut = len(kept) - lines
    tail = "\n".join(kept[-lines:])
    return f"… {cut} line(s) before\n{tail}" if cut > 0 else tail


@dataclass(frozen=True)
class CommandRecord:
    """What the timeline and the run keep of a command that ran: no secret in any of it."""

    command: str
    exit_code: int | None
    output: str
    summary: str

    @property
    def details(self) -> dict[str, object]:
        return {"command": self.command, "exit_code": self.exit_code, "output": self.output}


def record(
    command: str, exit_code: int | None, output: str, secrets: Iterable[str] = ()
) -> CommandRecord:
    """The kept form of a run: an env dump or a connection string is masked first."""
    known = tuple(secret for secret in secrets if secret)
    kept = kept_output(output, known)
    shown = redact(command, known)
    code = "-" if exit_code is None else exit_code
    return CommandRecord(
        shown, exit_code, kept, f"$ {shown}\nexit {code}\n{excerpt(kept)}".rstrip()
    )
