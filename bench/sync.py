"""Bench: cockpit's first and incremental PagerDuty sync against the TLS emulator.

One emulator (its own process, ``python -m cockpit emulator --tls``) seeded with 10,000
incidents and ~100,000 log entries over 30 days, limiting each token to ``--rate-limit``
requests a minute (default 960, PagerDuty's per-user limit, in fixed one-minute windows with
``ratelimit-*`` headers and 429s as PagerDuty; ``--rate-limit 0`` lifts it, to compare CPU).
Out of process because a real API is: in-process, the server's request handling would share
this process's GIL with the client, which penalises a client that overlaps requests and
store writes (cockpit) much more than a strictly sequential one (the plain loop). Each round
runs, in alternating order:

- cockpit: ``SyncService(store, providers.make_providers(settings)).sync_once()`` into a
  fresh data folder: the provider as ``cockpit`` builds it (the shared request budget in
  ``<data_dir>/ratelimit.json``, the CA bundle setting, the request deadline), everything
  parsed and stored;
- plain: python-pagerduty (``RestApiV2Client.iter_all``) listing the same incidents and log
  entries and throwing them away, in one-day windows (``offset + limit`` stops at 10,000).

Before each timed run the bench waits, if the emulator is rate limited, until the token's
window has reset, so that neither side starts in a window the other one spent.

Goals (issue 3; issue 17: at the rate PagerDuty allows): cockpit's request count within 1.1x
of the lower bound ``ceil(incidents/100) + ceil(log entries/100) + roster requests``;
cockpit's wall time within 1.5x of the plain loop's (median of the rounds); an incremental
sync after 10 incidents changed under 5 requests. ``--profile`` prints where a cockpit sync
spends its time: this (the client) process only, the event loop's thread and the
store-writing worker thread profiled separately and merged. "client CPU" is this process's CPU
time during a run; near the wall time, the client is CPU bound and more requests in flight
cannot help. "GC" is the part of it spent in garbage collections (``gc.callbacks``). Run:
``.venv/bin/python bench/sync.py [--incidents 10000] [--rounds 3] [--rate-limit 960]
[--profile]`` (needs ``pip install -e '.[bench]'`` for python-pagerduty).

``--memory`` (issue 17 item 8) measures only peak resident memory: the installed ``cockpit
sync`` into a fresh data folder and the plain listing (this script's ``--plain-child``),
each a fresh process, taking turns; each one's peak comes from ``os.wait4``. Goal: cockpit's
peak within 2x the plain listing's.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import math
import os
import pstats
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pagerduty

from cockpit.config import load_settings
from cockpit.store import Store
from cockpit.sync import pull
from cockpit.sync.providers import make_providers
from cockpit.sync.pull import BATCH_ROWS, HEADLESS_BATCH_ROWS, transactions_of
from cockpit.sync.service import SyncReport, SyncService

SEED_DAYS = 30
WINDOW_DAYS = SEED_DAYS + 1  # the seed covers 30 days back from its start; a day more: it all
PAGE = 100


@dataclass
class Emulator:
    """The emulator child process and what it printed: URL, token, certificate."""

    process: subprocess.Popen[str]
    url: str
    token: str
    cert_path: Path

    def control(self, method: str, path: str, body: Any = None) -> Any:
        """A ``/_emulator/`` control request (no token, not counted by the emulator)."""
        with httpx.Client(verify=_tls(self)) as client:
            response = client.request(method, self.url + path, json=body)
            response.raise_for_status()
            return response.json()

    def reset_counters(self) -> None:
        self.control("POST", "/_emulator/reset")

    def counts(self) -> tuple[int, dict[str, int]]:
        stats = self.control("GET", "/_emulator/stats")
        return int(stats["request_count"]), dict(stats["paths"])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        # The emulator writes its self-signed pair to a fresh temp folder and never removes it.
        if self.cert_path.parent.name.startswith("pd-emulator-tls-"):
            shutil.rmtree(self.cert_path.parent, ignore_errors=True)


def start_emulator_process(incidents: int, days: int, rate_limit: int) -> Emulator:
    """``python -m cockpit emulator`` on a free port; returns once it serves (seeded)."""
    command = [sys.executable, "-m", "cockpit", "emulator", "--tls", "--port", "0",
               "--incidents", str(incidents), "--days", str(days),
               "--rate-limit", str(rate_limit or 10**9)]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    printed: dict[str, str] = {}
    try:
        assert process.stdout is not None
        while "certificate" not in printed:
            line = process.stdout.readline()
            if not line:
                raise SystemExit(f"the emulator exited (code {process.wait()}) before serving")
            if line.startswith("PagerDuty emulator on "):
                printed["url"] = line.removeprefix("PagerDuty emulator on ").strip()
            elif ":" in line:
                key, _, value = line.partition(":")
                printed[key.strip()] = value.strip()
    except BaseException:
        process.kill()
        process.wait()
        raise
    # Nothing else is read from its stdout: the CLI prints only those three lines.
    return Emulator(process, printed["url"], printed["token"], Path(printed["certificate"]))


def _tls(handle: Emulator) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(handle.cert_path))


def _service(handle: Emulator, store: Store, data_dir: Path) -> SyncService:
    """The sync service on the providers ``cockpit`` builds (cli/sync_cmd, cli/tui_cmd)."""
    settings = load_settings(
        None,
        environ={
            "COCKPIT_PAGERDUTY_URL": handle.url,
            "COCKPIT_PAGERDUTY_TOKEN": handle.token,
            "COCKPIT_PAGERDUTY_CA_BUNDLE": str(handle.cert_path),
        },
        flags={"data_dir": data_dir},
    )
    return SyncService(store, make_providers(settings), window_days=WINDOW_DAYS)


def fresh_window(handle: Emulator) -> None:
    """Wait until the token's rate-limit window has reset (one request, to read it)."""
    headers = {"Authorization": f"Token token={handle.token}",
               "Accept": "application/vnd.pagerduty+json;version=2"}  # fmt: skip
    with httpx.Client(base_url=handle.url, verify=_tls(handle), headers=headers) as client:
        answer = client.get("/users/me")
    limit = int(answer.headers.get("ratelimit-limit", 0))
    remaining = int(answer.headers.get("ratelimit-remaining", 0))
    if limit < 10**9 and remaining < limit - 1:
        time.sleep(float(answer.headers.get("ratelimit-reset", 60)) + 0.5)


async def _sync(service: SyncService) -> SyncReport:
    try:
        return await service.sync_once()
    finally:
        await service.aclose()


class GcClock:
    """Seconds this process spent in garbage collections (any thread) since ``reset``."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started

    def reset(self) -> None:
        self.seconds = 0.0


GC = GcClock()


def _profiled_writes(profile: cProfile.Profile) -> Callable[[], None]:
    """Profile ``pull._write`` (run in a worker thread, which cProfile does not follow).

    Returns the undo. The loop runs one write at a time, so one Profile object suffices.
    """
    original = pull._write

    def write(*args: Any) -> Any:
        profile.enable()
        try:
            return original(*args)
        finally:
            profile.disable()

    pull._write = write  # type: ignore[assignment]

    def undo() -> None:
        pull._write = original

    return undo


def run_cockpit(
    handle: Emulator,
    folder: Path,
    profiles: tuple[cProfile.Profile, cProfile.Profile] | None,
    rows: int = HEADLESS_BATCH_ROWS,
) -> dict:
    """A full first sync into a fresh store, ``rows`` rows a write transaction (as `cockpit
    sync` writes; the TUI writes BATCH_ROWS); returns timing, request and row counts."""
    store = Store.open(folder / "cockpit.db")
    fresh_window(handle)
    handle.reset_counters()
    service = _service(handle, store, folder)
    budget = getattr(service.providers["pagerduty"], "budget", None)
    undo = _profiled_writes(profiles[1]) if profiles is not None else None
    GC.reset()
    started, cpu = time.perf_counter(), time.process_time()
    try:
        if profiles is not None:
            profiles[0].enable()
        with transactions_of(rows):
            report = asyncio.run(_sync(service))
    finally:
        if profiles is not None:
            profiles[0].disable()
        if undo is not None:
            undo()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    requests, paths = handle.counts()
    incidents = store.execute("SELECT count(*) FROM incidents")[0][0]
    events = store.execute("SELECT count(*) FROM timeline_events")[0][0]
    store.close()
    if report.errors:
        raise SystemExit(f"cockpit sync failed: {report.errors}")
    return {"seconds": seconds, "cpu": cpu, "gc": GC.seconds, "requests": requests,
            "paths": paths, "incidents": incidents, "events": events,
            "waited": budget.waited if budget is not None else 0.0}  # fmt: skip


def run_plain(handle: Emulator, since: datetime, until: datetime) -> dict:
    """python-pagerduty listing the same data in one-day windows, storing nothing."""
    client = pagerduty.RestApiV2Client(handle.token, verify=_tls(handle))
    client.url = handle.url
    fresh_window(handle)
    handle.reset_counters()
    counts = {"incidents": 0, "log_entries": 0}
    GC.reset()
    started, cpu = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a window that hit the 10,000 cap must not pass
        low = since
        while low < until:
            high = min(low + timedelta(days=1), until)
            params = {"since": low.isoformat(), "until": high.isoformat()}
            for name in counts:
                extra = {"is_overview": "false"} if name == "log_entries" else {}
                for _ in client.iter_all(name, params={**params, **extra}):
                    counts[name] += 1
            low = high
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    client.close()
    return {"seconds": seconds, "cpu": cpu, "gc": GC.seconds, "requests": handle.counts()[0],
            **counts}  # fmt: skip


def change_incidents(handle: Emulator, count: int) -> None:
    """Trigger ``count`` incidents and acknowledge each: 10 changed incidents, ~40 entries.

    Triggered through the control endpoint, acknowledged through the REST API by the first
    assignee (the ``From`` header names the acting user).
    """
    headers = {"Authorization": f"Token token={handle.token}",
               "Accept": "application/vnd.pagerduty+json;version=2"}  # fmt: skip
    with httpx.Client(base_url=handle.url, verify=_tls(handle), headers=headers) as client:
        users = client.get("/users", params={"limit": 100}).raise_for_status().json()["users"]
        emails = {user["id"]: user["email"] for user in users}
        me = client.get("/users/me").raise_for_status().json()["user"]
        for n in range(count):
            incident = handle.control("POST", "/_emulator/trigger", {"title": f"Bench change {n}"})
            incident = incident["incident"]
            assignments = incident.get("assignments") or []
            user_id = assignments[0]["assignee"]["id"] if assignments else me["id"]
            body = {"incident": {"type": "incident_reference", "status": "acknowledged"}}
            acting = {"From": emails.get(user_id, me["email"])}
            client.put(f"/incidents/{incident['id']}", json=body, headers=acting).raise_for_status()


def _peak_rss_mb(command: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """(peak resident MB, wall s, exit code) of ``command`` run as a child process."""
    started = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_maxrss / 1024, time.perf_counter() - started, child.returncode


def run_memory(handle: Emulator, rounds: int) -> int:
    """Peak RSS of ``cockpit sync`` (the installed command, a fresh store) against the plain
    python-pagerduty listing (this script's ``--plain-child``), each a fresh process,
    taking turns; the ratio is each pair's, the goal <= 2x (issue 17 item 8)."""
    cockpit_cmd = [str(Path(sys.executable).with_name("cockpit")), "sync"]
    plain_cmd = [sys.executable, __file__, "--plain-child", handle.url, handle.token,
                 str(handle.cert_path)]  # fmt: skip
    ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.toml"
        config.write_text("")
        for round_no in range(rounds):
            data = Path(tmp) / f"data{round_no}"
            env = {**os.environ, "COCKPIT_CONFIG": str(config), "COCKPIT_DATA_DIR": str(data),
                   "COCKPIT_PAGERDUTY_URL": handle.url, "COCKPIT_PAGERDUTY_TOKEN": handle.token,
                   "COCKPIT_PAGERDUTY_CA_BUNDLE": str(handle.cert_path),
                   "COCKPIT_SYNC_WINDOW_DAYS": str(WINDOW_DAYS)}  # fmt: skip
            peaks: dict[str, tuple[float, float, int]] = {}
            for who in ["plain", "cockpit"] if round_no % 2 == 0 else ["cockpit", "plain"]:
                fresh_window(handle)
                peaks[who] = _peak_rss_mb(cockpit_cmd if who == "cockpit" else plain_cmd, env)
            (c_mb, c_s, c_rc), (p_mb, p_s, p_rc) = peaks["cockpit"], peaks["plain"]
            if c_rc or p_rc:
                raise SystemExit(f"a child failed: cockpit sync {c_rc}, plain listing {p_rc}")
            ratios.append(c_mb / p_mb)
            print(f"  round {round_no + 1}: cockpit sync peak {c_mb:.0f} MB ({c_s:.1f} s), plain "
                  f"listing peak {p_mb:.0f} MB ({p_s:.1f} s): {c_mb / p_mb:.2f}x")  # fmt: skip
    median = statistics.median(ratios)
    print(f"peak RSS cockpit sync / plain listing: median {median:.2f}x "
          f"({'ok' if median <= 2 else 'MISS'}, goal <= 2x)")  # fmt: skip
    return 0


def plain_child(url: str, token: str, cert: str) -> int:
    """The plain listing alone in this process (``--memory`` measures its peak RSS)."""
    handle = Emulator(None, url, token, Path(cert))  # type: ignore[arg-type]
    until = datetime.now(UTC) + timedelta(minutes=1)
    result = run_plain(handle, until - timedelta(days=WINDOW_DAYS), until)
    return 0 if result["log_entries"] else 1


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--plain-child"]:
        return plain_child(*argv[1:4])
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="cProfile one cockpit sync")
    parser.add_argument(
        "--memory",
        action="store_true",
        help="only peak RSS: `cockpit sync` vs the plain listing, each in a fresh process",
    )
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=960,
        help="the emulator's requests per minute per token (0: lifted)",
    )
    args = parser.parse_args(argv)

    started = time.perf_counter()
    handle = start_emulator_process(args.incidents, SEED_DAYS, args.rate_limit)
    try:
        if args.memory:
            return run_memory(handle, args.rounds)
        return _bench(handle, args, started)
    finally:
        handle.stop()


def _bench(handle: Emulator, args: argparse.Namespace, started: float) -> int:
    stats = handle.control("GET", "/_emulator/stats")
    print(f"emulator (pid {handle.process.pid}) seeded and serving in "
          f"{time.perf_counter() - started:.1f} s: {stats['incidents']:,} incidents, "
          f"{stats['log_entries']:,} log entries")  # fmt: skip
    until = datetime.now(UTC) + timedelta(minutes=1)
    since = until - timedelta(days=WINDOW_DAYS)
    cockpit_runs: list[dict] = []
    tui_runs: list[dict] = []
    plain_runs: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        for round_no in range(args.rounds):
            order = ["plain", "cockpit", "tui"]
            order = order[round_no % 3 :] + order[: round_no % 3]
            for who in order:
                if who == "plain":
                    result = run_plain(handle, since, until)
                    plain_runs.append(result)
                elif who == "cockpit":
                    result = run_cockpit(handle, Path(tmp) / f"run{round_no}", None)
                    cockpit_runs.append(result)
                else:  # the TUI's first sync writes smaller transactions (its keys wait less)
                    result = run_cockpit(handle, Path(tmp) / f"tui{round_no}", None, BATCH_ROWS)
                    tui_runs.append(result)
                waited = f", budget waits {result['waited']:.1f} s" if "waited" in result else ""
                print(f"  round {round_no + 1} {who}: {result['seconds']:.1f} s (client CPU "
                      f"{result['cpu']:.1f} s, of it GC {result['gc']:.1f} s{waited}; "
                      f"{result['requests']} requests)")  # fmt: skip

        last = Path(tmp) / f"run{args.rounds - 1}"
        store = Store.open(last / "cockpit.db")
        change_incidents(handle, 10)
        fresh_window(handle)
        handle.reset_counters()
        inc_started = time.perf_counter()
        inc_report = asyncio.run(_sync(_service(handle, store, last)))
        inc_seconds = time.perf_counter() - inc_started
        inc_requests, inc_paths = handle.counts()
        store.close()

        profile_text = ""
        if args.profile:
            profiles = (cProfile.Profile(), cProfile.Profile())
            run_cockpit(handle, Path(tmp) / "profiled", profiles)
            stats = pstats.Stats(*profiles, stream=(out := io.StringIO()))
            stats.sort_stats("cumulative").print_stats(30)
            stats.sort_stats("tottime").print_stats(20)
            profile_text = out.getvalue()

    plain, full = plain_runs[-1], cockpit_runs[-1]
    roster = sum(n for p, n in full["paths"].items() if p in ("GET /users", "GET /oncalls"))
    bound = math.ceil(plain["incidents"] / PAGE) + math.ceil(plain["log_entries"] / PAGE) + roster
    cockpit_s = statistics.median(r["seconds"] for r in cockpit_runs)
    plain_s = statistics.median(r["seconds"] for r in plain_runs)
    tui_s = statistics.median(r["seconds"] for r in tui_runs)
    rows = [
        ("first sync: requests vs lower bound", f"{full['requests']} / {bound}",
         full["requests"] / bound, 1.1),
        ("first sync: wall s vs plain listing", f"{cockpit_s:.1f} / {plain_s:.1f}",
         cockpit_s / plain_s, 1.5),
        (f"  the TUI's ({BATCH_ROWS} rows a transaction)",
         f"{tui_s:.1f} / {plain_s:.1f}", tui_s / plain_s, 1.5),
    ]  # fmt: skip
    limit = f"{args.rate_limit}/min per token" if args.rate_limit else "lifted"
    print(f"\nsync bench: {plain['incidents']:,} incidents, {plain['log_entries']:,} log entries "
          f"in the window; median of {args.rounds} rounds; emulator limit {limit}")  # fmt: skip
    print(f"{'measure':<38}{'value':>16}{'ratio':>8}{'goal':>8}{'':>6}")
    for name, value, ratio, goal in rows:
        verdict = "ok" if ratio <= goal else "MISS"
        print(f"{name:<38}{value:>16}{ratio:>7.2f}x{goal:>7.1f}x{verdict:>6}")
    verdict = "ok" if inc_requests < 5 else "MISS"
    print(f"{'incremental (10 changed): requests':<38}{inc_requests:>16}{'':>8}{'< 5':>8}"
          f"{verdict:>6}")  # fmt: skip
    print(f"\nstored by cockpit: {full['incidents']:,} incidents, {full['events']:,} timeline "
          f"events; plain loop made {plain['requests']} requests (one-day windows)")  # fmt: skip
    print(f"cockpit first sync requests by path: {full['paths']}")
    print(f"incremental: {inc_seconds:.2f} s, pulled {inc_report.pulled_incidents} incidents, "
          f"{inc_report.pulled_entries} entries, requests by path: {inc_paths}")  # fmt: skip
    print("each round (s): cockpit " + ", ".join(f"{r['seconds']:.1f}" for r in cockpit_runs)
          + "; plain " + ", ".join(f"{r['seconds']:.1f}" for r in plain_runs))  # fmt: skip
    print("client CPU (s): TUI's batches " + ", ".join(f"{r['cpu']:.1f}" for r in tui_runs))
    print("client CPU (s): cockpit " + ", ".join(f"{r['cpu']:.1f}" for r in cockpit_runs)
          + "; plain " + ", ".join(f"{r['cpu']:.1f}" for r in plain_runs))  # fmt: skip
    print("of it in GC (s): cockpit " + ", ".join(f"{r['gc']:.1f}" for r in cockpit_runs)
          + "; plain " + ", ".join(f"{r['gc']:.1f}" for r in plain_runs))  # fmt: skip
    if profile_text:
        print("\n" + profile_text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
