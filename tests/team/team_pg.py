"""The PostgreSQL server the team-mode tests start (tests/team/conftest.py runs it)."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

PG_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
MEMBERS = ("alice", "bob", "carol")


def _pg_bin() -> Path | None:
    for folder in PG_BIN_DIRS:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    found = shutil.which("initdb")
    return Path(found).parent if found else None


@dataclass
class PgServer:
    bin: Path
    data: Path
    socket_dir: Path
    port: int
    run_as: str | None

    def url(self, user: str, db: str = "team") -> str:
        return f"postgresql://{user}@/{db}?host={self.socket_dir}&port={self.port}"

    def _run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        command = list(argv)
        if self.run_as:
            command = ["runuser", "-u", self.run_as, "--", *command]
        return subprocess.run(
            command, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60
        )

    def start(self) -> None:
        done = self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-w",
            "-t",
            "30",
            "-l",
            str(self.data.parent / "server.log"),
            "-o",
            f"-k {self.socket_dir} -p {self.port} -c listen_addresses=''",
            "start",
        )
        if done.returncode != 0:
            log = (self.data.parent / "server.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"postgres did not start: {done.stderr}{done.stdout}\n{log}")

    def stop(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", "-m", "fast", "stop")

    def restart(self) -> None:
        self.stop()
        self.start()


def _free_port() -> int:
    import socket

    # Only names the socket file (.s.PGSQL.<port>); no TCP listener is opened.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
