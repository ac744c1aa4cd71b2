"""Bench: ``cockpit stats --since 52w`` at 1,000 and at 100,000 incidents (issue 17 item 6).

The real entry point in a fresh process each time (argument parsing, imports, settings, the
store, every figure the command prints), timed from launch to exit, with the peak resident
set size of that process (``os.wait4``). The stores are built the way ``bench/store.py``
builds them (its ``build``: one incident every 10 minutes, 10 timeline events each, three
people paged per incident, acknowledged and resolved), but ending at the time of the run,
since ``cockpit stats`` counts back from now: at 100,000 incidents 52 weeks hold 52,416 of
them and ~157,000 notify entries; at 1,000 the window holds the whole store (7 days).

Whole weeks of the report are kept in the store (``cockpit/metrics/weeks.py``), so each
round times two runs per store: **cold**, the kept weeks deleted first (the first run after
the upgrade, or after a first sync: every week folded from the rows, then kept), and
**warm**, the same command again (what a user's next run pays; a sync in between marks only
the weeks it wrote, which here is the current one, folded on every run anyway). The two
stores take turns, one warm-up run each is discarded, and the medians of ``--runs`` are
printed with the ratio big/small against the goal (<= 1.5x, on the warm run).

``--sync-writes`` times what the weeks' triggers cost a sync instead: the pull's own write
(``sync.pull._write``: incidents, then entries, in transactions of ``BATCH_ROWS``) of
10,000 incidents and 100,000 log entries into an empty store, then the same again (an
incremental sync re-reading what it has), on a store without the triggers (dropped), one
with them, and one with them and a week kept (so they delete rather than stop at their
first check), taking turns.

Stores are cached in ``bench/.cache/stats-*.db`` and rebuilt when older than a day (the
window moves with now). Run: ``.venv/bin/python bench/stats.py [--runs 5] [--since 52w]
[--profile] [--sync-writes]``. Set ``PYTHONPATH`` to another tree's parent folder to time
that tree's ``cockpit/``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))


def store_bench() -> Any:
    """bench/store.py (the same rows as the store bench), imported only where it is used:
    it loads the ORM, and a child forked from this process starts with its peak RSS."""
    import store

    return store


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
        # In a child of its own: a child made by fork starts with this process's peak RSS,
        # which building 100,000 incidents here would put into every timed run's figure.
        subprocess.run([sys.executable, __file__, "--build", str(total), str(path)], check=True)
        print(f"built {total:,} incidents in {time.perf_counter() - started:.1f} s: {path}")
    return folder


def build(total: int, path: Path) -> None:
    # bench/store.py counts back from its NOW; stats count back from the clock.
    bench = store_bench()
    bench.NOW = datetime.now(UTC).replace(second=0, microsecond=0)
    bench.build(path, total)


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


def forget_weeks(folder: Path) -> None:
    """Delete the kept weeks (a store from before migration 0006 has none to delete)."""
    conn = sqlite3.connect(folder / "cockpit.db")
    try:
        with conn:
            conn.execute("DELETE FROM stats_weeks")
    except sqlite3.OperationalError:
        pass
    finally:
        conn.close()


def kept_weeks(folder: Path) -> int:
    conn = sqlite3.connect(folder / "cockpit.db")
    try:
        return int(conn.execute("SELECT COUNT(*) FROM stats_weeks").fetchone()[0])
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()


def sync_writes(rounds: int) -> int:
    """The pull's writes with and without the weeks' triggers (see the module docstring)."""
    from cockpit.records import IncidentRecord, LogEntryRecord
    from cockpit.store import Store
    from cockpit.sync.pull import _write

    total = 10_000
    bench = store_bench()
    bench.NOW = datetime.now(UTC).replace(second=0, microsecond=0)
    incidents, entries = [], []
    for n in range(total):
        row, events, _ = bench._rows(n, total)
        incidents.append(
            IncidentRecord(
                id=row[2],
                title=row[4],
                status=row[5],
                created_at=datetime.fromisoformat(row[18]).replace(tzinfo=UTC),
                updated_at=datetime.fromisoformat(row[19]).replace(tzinfo=UTC),
                number=row[3],
                service_name=row[9],
                team=row[10],
                acknowledged_at=None,
                resolved_at=row[21] and datetime.fromisoformat(row[21]).replace(tzinfo=UTC),
            )
        )
        for event in events:
            entries.append(
                LogEntryRecord(
                    id=event[7].split(":", 1)[1],
                    incident_id=row[2],
                    type=event[2],
                    created_at=datetime.fromisoformat(event[1]).replace(tzinfo=UTC),
                    person_id=event[5].split(":", 1)[1] if event[5] else "",
                    channel="sms" if event[2] == "notify" else "",
                )
            )
    # "weeks kept": the store already holds kept weeks (one far in the past), so every
    # trigger runs its deletions instead of stopping at its first check.
    labels = ("without", "with triggers", "weeks kept")
    samples: dict[str, list[tuple[float, float]]] = {label: [] for label in labels}
    with tempfile.TemporaryDirectory() as folder:
        for round_ in range(rounds):
            order = list(samples) if round_ % 2 == 0 else list(reversed(samples))
            for label in order:
                path = Path(folder) / f"{label}-{round_}.db"
                Store.open(path).close()
                conn = sqlite3.connect(path)
                if label == "without":
                    names = conn.execute(
                        "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                        "AND name LIKE 'stats_%'"
                    ).fetchall()
                    for (name,) in names:
                        conn.execute(f"DROP TRIGGER {name}")
                elif label == "weeks kept":
                    with conn:
                        conn.execute("INSERT INTO stats_weeks (week, data) VALUES (0, '{}')")
                conn.close()
                store = Store.open(path)
                started = time.process_time()
                _write(store, "pagerduty", incidents, entries)
                first = time.process_time() - started
                started = time.process_time()
                _write(store, "pagerduty", incidents, entries)
                again = time.process_time() - started
                store.close()
                samples[label].append((first, again))
    print(f"\nthe pull's writes, {total:,} incidents and {len(entries):,} entries, CPU s,")
    print(f"median of {rounds} rounds (fresh store each)")
    print(f"{'':<16}{'first sync':>12}{'again':>9}")
    medians = {}
    for label, own in samples.items():
        medians[label] = (
            statistics.median(a for a, _ in own),
            statistics.median(b for _, b in own),
        )
        print(f"{label:<16}{medians[label][0]:>12.3f}{medians[label][1]:>9.3f}")
    without = medians["without"]
    for label in labels[1:]:
        own = medians[label]
        print(
            f"{label} / without: first {own[0] / without[0]:.2f}x, again {own[1] / without[1]:.2f}x"
        )
    return 0


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
    parser.add_argument(
        "--sync-writes", action="store_true", help="the triggers' cost to a sync's writes"
    )
    parser.add_argument("--build", nargs=2, metavar=("TOTAL", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.build:
        build(int(args.build[0]), Path(args.build[1]))
        return 0
    if args.sync_writes:
        return sync_writes(args.runs)
    folders = {label: ensure_store(total, args.rebuild) for label, total in SIZES.items()}
    if args.profile:
        profile(folders["big"], args.since)
        return 0
    command = [str(cockpit_command()), "stats", "--since", args.since]
    kinds = ("cold", "warm")
    samples: dict[tuple[str, str], list[tuple[float, float, int]]] = {
        (label, kind): [] for label in folders for kind in kinds
    }
    with tempfile.TemporaryDirectory() as home:
        envs = {label: environment(folder, Path(home)) for label, folder in folders.items()}
        outputs = {}
        for label, env in envs.items():  # warm-up, and the cold and warm runs print alike
            forget_weeks(folders[label])
            outputs[label] = timed(command, env)[3]
            if timed(command, env)[3] != outputs[label]:
                sys.exit(f"{label}: the warm run printed another report than the cold one")
            print(f"{label}: {kept_weeks(folders[label])} weeks kept after a run")
        order = list(folders)
        for _ in range(args.runs):
            for label in order:
                forget_weeks(folders[label])
                for kind in kinds:
                    wall, cpu, rss, _ = timed(command, envs[label])
                    samples[label, kind].append((wall, cpu, rss))
            order.reverse()
    print(f"\ncockpit stats --since {args.since}, median of {args.runs} runs (fresh process each)")
    print(
        f"{'store':<8}{'run':<6}{'incidents':>10}{'wall s':>9}{'CPU s':>8}"
        f"{'peak RSS MiB':>14}{'lines':>7}"
    )
    walls, cpus = {}, {}
    for (label, kind), own in samples.items():
        walls[label, kind] = statistics.median(w for w, _, _ in own)
        cpus[label, kind] = statistics.median(c for _, c, _ in own)
        rss = max(r for _, _, r in own)
        lines = outputs[label].count("\n")
        print(
            f"{label:<8}{kind:<6}{SIZES[label]:>10,}{walls[label, kind]:>9.3f}"
            f"{cpus[label, kind]:>8.3f}{rss:>14}{lines:>7}"
        )
    for kind in kinds:
        ratio = walls["big", kind] / walls["small", kind]
        cpu_ratio = cpus["big", kind] / cpus["small", kind]
        verdict = ("ok" if ratio <= 1.5 else "MISS") if kind == "warm" else "(no goal)"
        print(f"{kind}: ratio big/small wall {ratio:.2f}x, CPU {cpu_ratio:.2f}x {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
