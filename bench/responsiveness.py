"""Responsiveness: key press -> runbook tick committed to the store and shown, over 1,000
presses in a Pilot run, as median and p95 ratios to toggling a plain Textual Checkbox.

Goal: under 2x. Run: python bench/responsiveness.py [--presses 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

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
    from cockpit.app import make_app
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
    app = make_app(settings, store, library=load_library([root / "runbooks"]))
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--presses", type=int, default=1000)
    args = parser.parse_args()
    plain = asyncio.run(bench_checkbox(args.presses))
    with tempfile.TemporaryDirectory() as folder:
        cockpit = asyncio.run(bench_cockpit(args.presses, Path(folder)))
    pm, cm = statistics.median(plain), statistics.median(cockpit)
    print(f"Checkbox toggle:  median {pm * 1000:.2f} ms  p95 {p95(plain) * 1000:.2f} ms")
    print(f"cockpit tick:     median {cm * 1000:.2f} ms  p95 {p95(cockpit) * 1000:.2f} ms")
    print(f"ratio: median {cm / pm:.2f}x  p95 {p95(cockpit) / p95(plain):.2f}x (goal < 2x)")


if __name__ == "__main__":
    main()
