"""Bench: ``cockpit stats --since 52w`` at 1,000 and at 100,000 incidents (issue 17 item 6).

The real entry point in a fresh process each time (argument parsing, imports, settings, the
store, every figure the command prints), timed from launch to exit, with the peak resident
set size of that process (``os.wait4``). The stores are built the way ``bench/store.py``
builds them (its ``build``: one incident every 10 minutes, 10 timeline events each, three
people paged per incident, acknowledged and resolved), but ending at the time of the run,
since ``cockpit stats`` counts back from now: at 100,000 incidents 52 weeks hold 52,416 of
them and ~157,000 notify entries; at 1,000 the window holds the whole store (7 days).

The two stores take turns, one warm-up run each is discarded, and the median of ``--runs``
is printed with the ratio big/small against the goal (<= 1.5x). Stores are cached in
``bench/.cache/stats-*.db`` and rebuilt when older than a day (the window moves with now).
Run: ``.venv/bin/python bench/stats.py [--runs 5] [--since 52w] [--profile]``.
Set ``PYTHONPATH`` to another tree's parent folder to time that tree's ``cockpit/``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import store as store_bench  # noqa: E402  (bench/store.py: the same rows as the store bench)

CACHE = Path(__file__).resolve().parent / ".cache"
SIZES = {"small": 1_000, "big": 100_000}
MAX_AGE = timedelta(days=1)


def cockpit_command() -> Path:
    """The ``cockpit`` entry point installed next to this interpreter."""
    path = Path(sys.executable).parent / "cockpit"
    if not path.exists():
        sys.exit(f"no `cockpit` entry point next to {sys.executable}: pip install -e . first")
    return path


def ensure_store(total: int, rebuild: bool) -> Path:
    """A data folder whose ``cockpit.db`` holds ``total`` incidents, the newest one now-ish."""
    folder = CACHE / f"stats-{total}"
    path = folder / "cockpit.db"
    fresh = path.exists() and time.time() - path.stat().st_mtime < MAX_AGE.total_seconds()
    if rebuild or not fresh:
        started = time.perf_counter()
        # bench/store.py counts back from its NOW; stats count back from the clock.
        store_bench.NOW = datetime.now(UTC).replace(second=0, microsecond=0)
        store_bench.build(path, total)
        print(f"built {total:,} incidents in {time.perf_counter() - started:.1f} s: {path}")
    return folder


def environment(data: Path, home: Path) -> dict[str, str]:
    env = {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_DATA_HOME": str(home / "share"),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "COCKPIT_DATA_DIR": str(data),
    }
    for key in ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE"):
        if key in os.environ:
            env[key] = os.environ[key]
    return env


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float, int, str]:
    """Wall seconds, CPU seconds (user + system), peak RSS in MiB and stdout of one run of
    ``argv`` (reaped with ``wait4`` to read that child's own rusage)."""
    started = time.perf_counter()
    child = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdout is not None and child.stderr is not None
    out = child.stdout.read()
    err = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        sys.exit(f"{' '.join(argv)} failed ({child.returncode}):\n{err.decode()}")
    cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, usage.ru_maxrss // 1024, out.decode()


def profile(folder: Path, since: str) -> None:
    """Where the time goes in-process (the command's handler, not the imports)."""
    from cockpit.cli.main import main as cockpit_main

    os.environ["COCKPIT_DATA_DIR"] = str(folder)
    profiler = cProfile.Profile()
    sink = io.StringIO()
    stdout, sys.stdout = sys.stdout, sink
    try:
        profiler.runcall(cockpit_main, ["stats", "--since", since])
    finally:
        sys.stdout = stdout
    report = io.StringIO()
    stats = pstats.Stats(profiler, stream=report)
    stats.sort_stats("cumulative").print_stats(35)
    print(report.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--since", default="52w")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached stores")
    parser.add_argument("--profile", action="store_true", help="cProfile the big store's run")
    args = parser.parse_args(argv)
    folders = {label: ensure_store(total, args.rebuild) for label, total in SIZES.items()}
    if args.profile:
        profile(folders["big"], args.since)
        return 0
    command = [str(cockpit_command()), "stats", "--since", args.since]
    samples: dict[str, list[tuple[float, float, int]]] = {label: [] for label in folders}
    with tempfile.TemporaryDirectory() as home:
        envs = {label: environment(folder, Path(home)) for label, folder in folders.items()}
        outputs = {label: timed(command, env)[3] for label, env in envs.items()}  # warm-up
        order = list(folders)
        for _ in range(args.runs):
            for label in order:
                wall, cpu, rss, _ = timed(command, envs[label])
                samples[label].append((wall, cpu, rss))
            order.reverse()
    print(f"\ncockpit stats --since {args.since}, median of {args.runs} runs (fresh process each)")
    print(f"{'store':<8}{'incidents':>10}{'wall s':>9}{'CPU s':>8}{'peak RSS MiB':>14}{'lines':>7}")
    walls, cpus = {}, {}
    for label, own in samples.items():
        walls[label] = statistics.median(w for w, _, _ in own)
        cpus[label] = statistics.median(c for _, c, _ in own)
        rss = max(r for _, _, r in own)
        lines = outputs[label].count("\n")
        print(
            f"{label:<8}{SIZES[label]:>10,}{walls[label]:>9.3f}{cpus[label]:>8.3f}{rss:>14}{lines:>7}"
        )
    ratio = walls["big"] / walls["small"]
    verdict = "ok" if ratio <= 1.5 else "MISS"
    print(f"ratio big/small, wall: {ratio:.2f}x (goal <= 1.5x) {verdict}")
    print(f"ratio big/small, CPU:  {cpus['big'] / cpus['small']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
