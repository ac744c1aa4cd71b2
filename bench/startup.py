"""Start-up as the user meets it: the ``cockpit`` command, launched on a real terminal, until
the current incident's title is visible there, as a ratio to a bare Textual app (Header,
DataTable, Footer) launched the same way, measured in the same run, the two taking turns.

Run: python bench/startup.py [--incidents 100000] [--runs 7] [--no-runbooks]
Goal: under 1.5x at 100,000 incidents; ``cockpit --version`` and ``--help`` under 150 ms.

The terminal is a tmux pane (160x48) on a private tmux server (``tmux -L``, its own socket;
never the user's). A launch is one ``new-window`` whose command is a small ``sh`` script that
``exec``s the program with its environment, the same script shape for both sides:

- the cockpit: the installed ``cockpit`` entry point of this interpreter's environment, with
  a store of N incidents (``COCKPIT_DATA_DIR``), the eight sample runbooks, a PagerDuty token
  and an unreachable URL (so the first sync, which starts after the first frame, fails fast
  and sends nothing), an empty config folder and the fail keyring;
- the bare app: ``python bare.py``, 50 rows in a DataTable.

The clock starts when the ``new-window`` command is sent and stops at the first
``capture-pane`` of that pane that shows the mark (the top incident's title; the bare app's
first row), polled every ``POLL`` seconds over one tmux control-mode client (no process
spawned per poll). The pane is then killed (SIGHUP; SIGKILL by pid if it outlives 3 s) and
the next launch waits until it is gone. One warm-up launch of each side is discarded (it
fills the runbook parse cache, as a user's earlier start would have).

It also times ``cockpit --version`` and ``cockpit --help`` (plain subprocesses, output
discarded) against ``python -c pass``.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cockpit.runbooks.library import samples_dir

WIDTH, HEIGHT = 160, 48
POLL = 0.004  # seconds between two looks at the pane
TIMEOUT = 30.0

BARE_APP = """
from textual.app import App
from textual.widgets import DataTable, Footer, Header


class Bare(App):
    def compose(self):
        yield Header()
        yield DataTable()
        yield Footer()

    def on_mount(self):
        table = self.query_one(DataTable)
        table.add_columns("id", "title", "status")
        for n in range(50):
            table.add_row(str(n), f"incident {n}", "triggered")


Bare().run()
"""
BARE_MARK = "incident 0"


def build_store(root: Path, count: int) -> None:
    from cockpit.records import IncidentRecord
    from cockpit.store.engine import Store
    from cockpit.store.upsert import upsert_incidents

    store = Store.open(root)
    now = datetime.now(UTC)
    statuses = ("resolved",) * 97 + ("triggered", "acknowledged", "triggered")
    batch: list[IncidentRecord] = []
    for n in range(count):
        created = now - timedelta(minutes=n * 5)
        status = statuses[n % len(statuses)]
        batch.append(
            IncidentRecord(
                id=f"P{n:07d}",
                number=n + 1,
                title=f"Incident {n} on service-{n % 40}",
                status=status,
                created_at=created,
                updated_at=created,
                urgency="high" if n % 3 else "low",
                service_name=f"service-{n % 40}",
            )
        )
        if len(batch) == 5000:
            with store.write() as session:
                upsert_incidents(session, "pagerduty", batch)
            batch = []
    if batch:
        with store.write() as session:
            upsert_incidents(session, "pagerduty", batch)
    store.close()


def top_title(root: Path) -> str:
    """The title the cockpit shows first (the most urgent open incident)."""
    from cockpit.store import reads
    from cockpit.store.engine import Store

    store = Store.open(root)
    with store.rows() as conn:
        title = str(reads.open_refs(conn, limit=1)[0][3])
    store.close()
    return title


def byte_compile() -> None:
    """Compile the package as an installed one is. Python writes these on a module's first
    import, except where PYTHONDONTWRITEBYTECODE is set (as on this box): then every start
    would compile cockpit from source (~65 ms) while the bare app's Textual, installed with
    its byte code, would not."""
    import compileall

    import cockpit

    compileall.compile_dir(str(Path(cockpit.__file__).parent), quiet=1)


def cockpit_command() -> Path:
    """The ``cockpit`` entry point installed next to this interpreter."""
    path = Path(sys.executable).parent / "cockpit"
    if not path.exists():
        sys.exit(f"no `cockpit` entry point next to {sys.executable}: pip install -e . first")
    return path


def launcher(path: Path, environ: dict[str, str], argv: list[str]) -> Path:
    """A shell script that execs ``argv`` with ``environ`` (what a terminal's shell does)."""
    lines = ["#!/bin/sh"]
    lines += [f"export {key}={shlex.quote(value)}" for key, value in sorted(environ.items())]
    lines.append("exec " + " ".join(shlex.quote(a) for a in argv))
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o755)
    return path


class Tmux:
    """A private tmux server and one control-mode client talking to it."""

    def __init__(self, socket: str) -> None:
        self.socket = socket
        base = ["tmux", "-L", socket, "-f", "/dev/null"]
        subprocess.run(
            [
                *base,
                "new-session",
                "-d",
                "-s",
                "bench",
                "-x",
                str(WIDTH),
                "-y",
                str(HEIGHT),
                "sleep 86400",
            ],
            check=True,
        )
        self.client = subprocess.Popen(
            ["tmux", "-L", socket, "-C", "attach", "-t", "bench"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self._block()  # the answer to attach
        # The window size follows the latest client: this one. No %output stream.
        self.command(f"refresh-client -C {WIDTH}x{HEIGHT}")
        self.command("refresh-client -f no-output")
        self.command("set -g remain-on-exit on")  # a crash stays readable
        self.socket_path = Path(self.command("display-message -p '#{socket_path}'")[0])

    def _block(self) -> tuple[bool, list[str]]:
        assert self.client.stdout is not None
        lines: list[str] = []
        inside = False
        while True:
            line = self.client.stdout.readline()
            if not line:
                raise RuntimeError("the tmux control client went away")
            line = line.rstrip("\n")
            if line.startswith("%begin"):
                inside, lines = True, []
            elif inside and line.startswith(("%end", "%error")):
                return line.startswith("%end"), lines
            elif inside:
                lines.append(line)
            # Outside a block: notifications (%window-add, ...), not ours.

    def command(self, text: str) -> list[str]:
        ok, lines = self.try_command(text)
        if not ok:
            raise RuntimeError(f"tmux {text!r}: {' '.join(lines)}")
        return lines

    def try_command(self, text: str) -> tuple[bool, list[str]]:
        assert self.client.stdin is not None
        self.client.stdin.write(text + "\n")
        self.client.stdin.flush()
        return self._block()

    def close(self) -> None:
        try:
            self.try_command("kill-server")
        except (RuntimeError, BrokenPipeError, OSError):
            pass
        if self.client.stdin is not None:
            self.client.stdin.close()
        try:
            self.client.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.client.kill()
            self.client.wait()
        self.socket_path.unlink(missing_ok=True)  # the private server's socket, ours alone


def _gone(pid: int, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if not Path(f"/proc/{pid}").exists():
            return True
        time.sleep(0.01)
    return not Path(f"/proc/{pid}").exists()


def launch(tmux: Tmux, script: Path, mark: str) -> float:
    """Seconds from the launch to ``mark`` visible in the pane."""
    started = time.perf_counter()
    pane, pid_text = tmux.command(
        f"new-window -d -P -F '#{{pane_id}} #{{pane_pid}}' {shlex.quote(str(script))}"
    )[0].split()
    seen = None
    screen: list[str] = []
    try:
        while time.perf_counter() - started < TIMEOUT:
            screen = tmux.command(f"capture-pane -p -t {pane}")
            if any(mark in line for line in screen):
                seen = time.perf_counter() - started
                break
            time.sleep(POLL)
    finally:
        tmux.try_command(f"kill-window -t {pane}")
        pid = int(pid_text)
        if not _gone(pid, 3.0):
            os.kill(pid, signal.SIGKILL)  # our own child's pane, by its pid
            _gone(pid, 3.0)
    if seen is None:
        shown = "\n".join(screen).strip()[-2000:]
        raise RuntimeError(f"{mark!r} not shown within {TIMEOUT:.0f} s by {script}:\n{shown}")
    return seen


def command_times(runs: int) -> dict[str, float]:
    """Median ms of ``cockpit --version``/``--help`` and ``python -c pass``, interleaved."""
    entry = str(cockpit_command())
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "cockpit --version": [entry, "--version"],
        "cockpit --help": [entry, "--help"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            started = time.perf_counter()
            subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
            times[name].append((time.perf_counter() - started) * 1000)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--no-runbooks",
        action="store_true",
        help="an empty runbooks folder instead of the eight samples",
    )
    args = parser.parse_args()
    byte_compile()
    for name, ms in command_times(max(args.runs, 10)).items():
        print(f"{name:<20} median {ms:6.1f} ms")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        started = time.perf_counter()
        build_store(root / "data", args.incidents)
        print(f"store of {args.incidents} incidents built in {time.perf_counter() - started:.1f} s")
        mark = top_title(root / "data")
        runbooks = root / "no-runbooks" if args.no_runbooks else samples_dir()
        (root / "no-runbooks").mkdir()
        home = {
            "HOME": str(root / "home"),
            "XDG_CONFIG_HOME": str(root / "config"),
            "XDG_CACHE_HOME": str(root / "cache"),
            "XDG_DATA_HOME": str(root / "share"),
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": os.environ.get("LANG", "C.UTF-8"),
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        }
        for key in ("PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "PYTHONPATH"):
            if key in os.environ:
                home[key] = os.environ[key]
        (root / "bare.py").write_text(BARE_APP)
        bare_script = launcher(root / "bare.sh", home, [sys.executable, str(root / "bare.py")])
        cockpit_script = launcher(
            root / "cockpit.sh",
            {
                **home,
                "COCKPIT_DATA_DIR": str(root / "data"),
                "COCKPIT_RUNBOOKS": str(runbooks),
                "COCKPIT_PAGERDUTY_TOKEN": "bench",
                "COCKPIT_PAGERDUTY_URL": "http://127.0.0.1:9",
            },
            [str(cockpit_command())],
        )
        tmux = Tmux(f"cockpit-bench-{os.getpid()}")
        try:
            launch(tmux, bare_script, BARE_MARK)  # warm-ups, not counted
            launch(tmux, cockpit_script, mark)
            bare: list[float] = []
            cockpit: list[float] = []
            for index in range(args.runs):  # interleaved, each side first in turn
                pair = [("bare", bare_script, BARE_MARK), ("cockpit", cockpit_script, mark)]
                for side, script, shown in pair if index % 2 == 0 else pair[::-1]:
                    (bare if side == "bare" else cockpit).append(launch(tmux, script, shown))
        finally:
            tmux.close()
    b, c = statistics.median(bare), statistics.median(cockpit)
    ratios = sorted(x / y for x, y in zip(cockpit, bare, strict=True))
    print(
        f"bare Textual app (Header, DataTable, Footer): median {b * 1000:.0f} ms "
        f"({', '.join(f'{x * 1000:.0f}' for x in bare)})"
    )
    print(
        f"cockpit, {args.incidents} incidents:            median {c * 1000:.0f} ms "
        f"({', '.join(f'{x * 1000:.0f}' for x in cockpit)})"
    )
    print(
        f"ratio of medians: {c / b:.2f}x (goal <= 1.5x); per pair {ratios[0]:.2f}-{ratios[-1]:.2f}x"
    )


if __name__ == "__main__":
    main()
