"""Responsiveness: key press -> runbook tick committed to the store and shown.

Default: 1,000 presses in a Pilot run, as median and p95 ratios to toggling a plain Textual
Checkbox. Goal: under 2x. Run: python bench/responsiveness.py [--presses 1000]

``--during-sync`` (issue 17 items 4 and 8): the user's path while the TUI makes its first
sync. The emulator runs in its own process (bench/sync.py's, TLS, ~10k incidents, rate
limit lifted) and the app is built as ``cockpit`` builds it (``LazySync`` around a
``SyncService`` on the registry's providers), so its first sync starts after the first
frame, on the app's event loop. Space is pressed on a long runbook every 150 ms, each
timed from when it was due to its tick shown (``presses``), while the sync runs, then as
many times once it has ended: the idle presses are the baseline, measured in the same
run on the same (now full) store. Goal: p95 during the
sync <= 2x idle. It also reads the process's resident memory (``/proc/self/statm``) at the
first frame and after the sync: goal within 1.5x. Run: python bench/responsiveness.py
--during-sync [--incidents 10000] [--presses 400] [--stages] [--rate-limit 960]

``--stages`` also times each press along its path (medians and p95 from when it was due):
the key handled by the checklist, the write lock's turn taken by the tick's write (on the
event loop, or in the UI's writer thread when a batch held the store), the write
committed, the tick shown. It patches the checklist's ``_request`` and the store's
``_Turns.turn`` for the run, so its own cost is in the figures: compare stages, not runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import Checkbox


class CheckboxApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Checkbox("plain", id="box")


def p95(values: list[float]) -> float:
    return sorted(values)[int(len(values) * 0.95) - 1]


async def bench_checkbox(presses: int) -> list[float]:
    app = CheckboxApp()
    times = []
    async with app.run_test(size=(120, 40)) as pilot:
        app.query_one(Checkbox).focus()
        await pilot.pause()
        for _ in range(presses):
            start = time.perf_counter()
            await pilot.press("space")
            await pilot.pause()
            times.append(time.perf_counter() - start)
    return times


def runbook_text(steps: int) -> str:
    lines = [
        "---",
        "id: bench",
        "title: Bench",
        "services: [bench]",
        "---",
        "# Bench",
        "",
        "## Checks",
    ]
    lines += [f"- [ ] Check number {n}" for n in range(steps)]
    return "\n".join(lines) + "\n"


async def bench_cockpit(presses: int, root: Path) -> list[float]:
    from cockpit.app import CockpitApp
    from cockpit.config import load_settings
    from cockpit.records import IncidentRecord
    from cockpit.runbooks.library import load_library
    from cockpit.store.engine import Store
    from cockpit.store.models import StepEvent
    from cockpit.store.timefmt import utcnow
    from cockpit.store.upsert import upsert_incidents

    (root / "runbooks").mkdir()
    (root / "runbooks" / "bench.md").write_text(runbook_text(presses + 1))
    store = Store.open(root / "data")
    now = utcnow()
    with store.write() as session:
        upsert_incidents(
            session,
            "pagerduty",
            [
                IncidentRecord(
                    id="PB",
                    number=1,
                    title="Bench",
                    status="triggered",
                    created_at=now,
                    updated_at=now,
                    service_name="bench",
                )
            ],
        )
    settings = load_settings(
        None, environ={}, flags={"data_dir": root / "data", "runbooks": root / "runbooks"}
    )
    app = CockpitApp(settings, store, library=load_library([root / "runbooks"]))
    times = []
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        for _ in range(presses):
            start = time.perf_counter()
            await pilot.press("space")
            await pilot.pause()
            times.append(time.perf_counter() - start)
    with store.read() as session:
        committed = len(session.exec(__import__("sqlmodel").select(StepEvent)).all())
    store.close()
    assert committed >= presses, f"only {committed} ticks committed"
    return times


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


PERIOD = 0.15  # a key every 150 ms: brisk typing


class Stages:
    """First time of each stage of the press being timed (``--stages``), from when it was
    due; the UI's side of the store's write turn is told apart from the sync's by thread
    (the event loop's, or the screens' writer thread)."""

    NAMES = ("key", "turn", "committed", "shown")

    def __init__(self) -> None:
        self.due = 0.0
        self.now: dict[str, float] = {}
        self.rows: list[dict[str, float]] = []

    def mark(self, name: str) -> None:
        self.now.setdefault(name, (time.perf_counter() - self.due) * 1000)

    def install(self) -> None:
        import threading
        from contextlib import contextmanager

        from cockpit.store import engine
        from cockpit.widgets.runbook_checklist import RunbookChecklist

        request, turn = RunbookChecklist._request, engine._Turns.turn
        stages = self

        def _request(checklist: Any, action: str) -> None:
            stages.mark("key")
            request(checklist, action)

        @contextmanager
        def _turn(turns: Any, *, wait: bool = True) -> Any:
            name = threading.current_thread().name
            ui = name == "MainThread" or name.startswith("cockpit-write")
            with turn(turns, wait=wait) as ours:
                if ui and ours:
                    stages.mark("turn")
                yield ours
            if ui and ours:
                stages.mark("committed")

        RunbookChecklist._request = _request  # type: ignore[method-assign]
        engine._Turns.turn = _turn  # type: ignore[method-assign]

    def start(self, due: float) -> None:
        self.due, self.now = due, {}

    def end(self) -> None:
        self.mark("shown")
        self.rows.append(self.now)

    def report(self, label: str, first: int, last: int) -> None:
        rows = self.rows[first:last]
        parts = []
        for name in self.NAMES:
            values = sorted(row[name] for row in rows if name in row)
            if values:
                parts.append(f"{name} {statistics.median(values):.1f}/{p95(values):.1f}")
        print(f"  {label} stages, median/p95 ms from due: " + ", ".join(parts))


STAGES: Stages | None = None


async def presses(app: Any, count: int, going: Any) -> list[float]:
    """Space pressed on a fixed schedule (every PERIOD) while ``going()``, each timed from
    the moment it was due to the tick shown by the checklist. A press is due whether or
    not the app could take it then: a loop stuck for 500 ms makes the presses due in that
    time wait 500, 350, 200 ... ms, as a user's would, instead of hiding behind one slow
    press (no "coordinated omission"). Sent as the terminal would send it, not through
    Pilot's press/pause: those wait for the process to go idle, which it does not while a
    sync runs. The poll runs on the app's event loop, so its lag counts."""
    from textual import events

    from cockpit.widgets.runbook_checklist import RunbookChecklist

    checklist = app.screen.query_one(RunbookChecklist)
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < count and going():
        due = start + len(times) * PERIOD
        if due > time.perf_counter():
            await asyncio.sleep(due - time.perf_counter())
        done = checklist.view.progress[0]
        if STAGES is not None:
            STAGES.start(due)
        app._driver.send_message(events.Key("space", " "))
        while checklist.view.progress[0] == done:
            await asyncio.sleep(0.001)
            if time.perf_counter() - due > 60:
                raise SystemExit("a tick did not show within 60 s")
        times.append(time.perf_counter() - due)
        if STAGES is not None:
            STAGES.end()
    return times


async def bench_during_sync(incidents: int, count: int, root: Path, rate_limit: int = 0) -> None:
    from sync import WINDOW_DAYS, start_emulator_process

    from cockpit.app import CockpitApp
    from cockpit.config import load_settings
    from cockpit.integrations.registry import make_providers
    from cockpit.records import IncidentRecord
    from cockpit.runbooks.library import load_library
    from cockpit.store.engine import Store
    from cockpit.store.timefmt import utcnow
    from cockpit.store.upsert import upsert_incidents
    from cockpit.sync.lazy import LazySync
    from cockpit.sync.service import SyncService

    handle = start_emulator_process(incidents, 30, rate_limit)
    try:
        (root / "runbooks").mkdir()
        (root / "runbooks" / "bench.md").write_text(runbook_text(2 * count + 10))
        store = Store.open(root / "data")
        now = utcnow()
        with store.write() as session:
            record = IncidentRecord(id="PB", number=1, title="Bench", status="triggered",
                                    urgency="high", created_at=now, updated_at=now,
                                    service_name="bench")  # fmt: skip
            upsert_incidents(session, "pagerduty", [record])
        (root / "config.toml").write_text("")
        settings = load_settings(
            root / "config.toml",
            environ={
                "COCKPIT_PAGERDUTY_URL": handle.url,
                "COCKPIT_PAGERDUTY_TOKEN": handle.token,
                "COCKPIT_PAGERDUTY_CA_BUNDLE": str(handle.cert_path),
            },  # fmt: skip
            flags={
                "data_dir": root / "data",
                "runbooks": root / "runbooks",
                "sync_window_days": WINDOW_DAYS,
                "sync_interval": 3600,
            },  # fmt: skip
        )
        sync = LazySync(
            lambda: SyncService(store, make_providers(settings), window_days=WINDOW_DAYS)
        )
        app = CockpitApp(settings, store, sync, library=load_library([root / "runbooks"]))
        async with app.run_test(size=(160, 48)) as pilot:
            await pilot.pause()
            before = rss_mb()
            started = time.perf_counter()
            while not app.sync_running and time.perf_counter() - started < 10:
                await asyncio.sleep(0.01)
            during = await presses(app, count, lambda: app.sync_running)
            while app.sync_running:
                await asyncio.sleep(0.1)
            synced = time.perf_counter() - started
            await asyncio.sleep(1.5)  # the screen's once-a-second tick settles
            after = rss_mb()
            idle = await presses(app, len(during), lambda: True)
        count = store.execute("SELECT count(*) FROM timeline_events")[0][0]
        ticks = store.execute("SELECT count(*) FROM step_events WHERE kind = 'done'")[0][0]
        store.close()
    finally:
        handle.stop()
    if not during:
        raise SystemExit("the sync ended before the first press: use more --incidents")
    dm, im = statistics.median(during), statistics.median(idle)
    print(f"first sync: {synced:.1f} s, {count:,} timeline events stored; {ticks} ticks stored "
          f"for {len(during) + len(idle)} presses")  # fmt: skip
    print(f"during the sync: median {dm * 1000:.1f} ms  p95 {p95(during) * 1000:.1f} ms  "
          f"max {max(during) * 1000:.1f} ms  ({len(during)} presses)")  # fmt: skip
    print(f"idle, after it:  median {im * 1000:.1f} ms  p95 {p95(idle) * 1000:.1f} ms  "
          f"max {max(idle) * 1000:.1f} ms")  # fmt: skip
    print(f"ratio during/idle: median {dm / im:.2f}x  p95 {p95(during) / p95(idle):.2f}x "
          "(goal p95 <= 2x)")  # fmt: skip
    print(f"resident memory: {before:.0f} MB at the first frame, {after:.0f} MB after the "
          f"first sync: {after / before:.2f}x (goal <= 1.5x)")  # fmt: skip
    if STAGES is not None:
        STAGES.report("during", 0, len(during))
        STAGES.report("idle  ", len(during), len(during) + len(idle))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--presses", type=int, default=1000)
    parser.add_argument("--during-sync", action="store_true")
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--stages", action="store_true", help="with --during-sync: per stage")
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=0,
        help="with --during-sync: the emulator's requests a minute (0: none; PagerDuty: 960)",
    )
    args = parser.parse_args()
    if args.during_sync:
        if args.stages:
            global STAGES
            STAGES = Stages()
            STAGES.install()
        with tempfile.TemporaryDirectory() as folder:
            asyncio.run(
                bench_during_sync(args.incidents, args.presses, Path(folder), args.rate_limit)
            )
        return
    plain = asyncio.run(bench_checkbox(args.presses))
    with tempfile.TemporaryDirectory() as folder:
        cockpit = asyncio.run(bench_cockpit(args.presses, Path(folder)))
    pm, cm = statistics.median(plain), statistics.median(cockpit)
    print(f"Checkbox toggle:  median {pm * 1000:.2f} ms  p95 {p95(plain) * 1000:.2f} ms")
    print(f"cockpit tick:     median {cm * 1000:.2f} ms  p95 {p95(cockpit) * 1000:.2f} ms")
    print(f"ratio: median {cm / pm:.2f}x  p95 {p95(cockpit) / p95(plain):.2f}x (goal < 2x)")


if __name__ == "__main__":
    main()
