"""Start-up: launch to the first full frame of the cockpit on a 100,000-incident store, as a
ratio to a bare Textual app (Header, DataTable, Footer) measured in the same run.

Each sample is a fresh Python process, so imports count. Goal: under 1.5x.
Run: python bench/startup.py [--incidents 100000] [--runs 5] [--no-runbooks]

The cockpit side takes the path `cockpit` takes (``cli/tui_cmd.build_app``): settings with a
PagerDuty token, the store, the sample runbooks, the sync service that is built after the
first frame. "First full frame" is timed, on both sides, as the first frame the app hands
its driver (``App._display``; headless, so nothing is written) that shows the data: the
title of the most urgent open incident for the cockpit, the first row for the bare app.
Waiting for the app to go idle instead would time the first sync as well.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cockpit.runbooks.library import samples_dir

# Both children time their first frame the same way; MARK is what it must show.
FIRST_FRAME = """
import time; t0 = time.perf_counter()
import sys
from textual.app import App
_display = App._display
shown = []
def _timed(self, screen, renderable):
    if not shown and renderable is not None:
        text = "".join(s.text for s in self.console.render(renderable, self.console.options)) \
            if not hasattr(renderable, "render_segments") else renderable.render_segments(
                self.console)
        if MARK in text:
            shown.append(time.perf_counter() - t0)
            self.exit()
    return _display(self, screen, renderable)
App._display = _timed
"""

CHILD_COCKPIT = FIRST_FRAME + """
from cockpit.startup import hold_collector; hold_collector()  # as `cockpit` does
import asyncio
from cockpit.cli.tui_cmd import build_app
from cockpit.config import load_settings
root, runbooks, MARK = sys.argv[1:4]
environ = {"COCKPIT_PAGERDUTY_TOKEN": "bench", "COCKPIT_PAGERDUTY_URL": "http://127.0.0.1:9"}
settings = load_settings(None, environ=environ, flags={"data_dir": root, "runbooks": runbooks})
app, store = build_app(settings)
async def main():
    async with app.run_test(size=(160, 48)) as pilot:
        while not shown:
            await pilot.pause(0.01)
asyncio.run(main())
print(shown[0])
"""

CHILD_BARE = FIRST_FRAME + """
import asyncio
from textual.widgets import DataTable, Footer, Header
MARK = "incident 0"
class Bare(App):
    def compose(self):
        yield Header(); yield DataTable(); yield Footer()
    def on_mount(self):
        table = self.query_one(DataTable)
        table.add_columns("id", "title", "status")
        for n in range(50):
            table.add_row(str(n), f"incident {n}", "triggered")
async def main():
    async with Bare().run_test(size=(160, 48)) as pilot:
        while not shown:
            await pilot.pause(0.01)
asyncio.run(main())
print(shown[0])
"""


def build_store(root: Path, count: int) -> None:
    from cockpit.integrations.base import IncidentRecord
    from cockpit.store.engine import Store
    from cockpit.store.upsert import upsert_incidents

    store = Store.open(root)
    now = datetime.now(UTC)
    statuses = ("resolved",) * 97 + ("triggered", "acknowledged", "triggered")
    batch: list[IncidentRecord] = []
    for n in range(count):
        created = now - timedelta(minutes=n * 5)
        status = statuses[n % len(statuses)]
        batch.append(IncidentRecord(
            id=f"P{n:07d}", number=n + 1, title=f"Incident {n} on service-{n % 40}",
            status=status, created_at=created, updated_at=created,  # type: ignore[arg-type]
            urgency="high" if n % 3 else "low", service_name=f"service-{n % 40}"))
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
        title = reads.open_refs(conn, limit=1)[0][3]
    store.close()
    return title


def sample(code: str, *args: str) -> float:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                         check=True)
    return float(out.stdout.strip().splitlines()[-1])


def byte_compile() -> None:
    """Compile the package as an installed one is. Python writes these on a module's first
    import, except where PYTHONDONTWRITEBYTECODE is set (as on this box): then every start
    would compile cockpit from source (~65 ms) while the bare app's Textual, installed with
    its byte code, would not."""
    import compileall

    import cockpit

    compileall.compile_dir(str(Path(cockpit.__file__).parent), quiet=1)


def main() -> None:
    byte_compile()
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-runbooks", action="store_true",
                        help="an empty runbooks folder instead of the eight samples")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        started = time.perf_counter()
        build_store(root, args.incidents)
        print(f"store of {args.incidents} incidents built in {time.perf_counter() - started:.1f} s")
        mark = top_title(root)
        runbooks = str(root / "no-runbooks") if args.no_runbooks else str(samples_dir())
        bare, cockpit = [], []
        for _ in range(args.runs):  # interleaved, so machine load hits both alike
            bare.append(sample(CHILD_BARE))
            cockpit.append(sample(CHILD_COCKPIT, str(root), runbooks, mark))
    b, c = statistics.median(bare), statistics.median(cockpit)
    print(f"bare Textual app (Header, DataTable, Footer): median {b * 1000:.0f} ms")
    print(f"cockpit, {args.incidents} incidents:            median {c * 1000:.0f} ms")
    print(f"ratio: {c / b:.2f}x (goal < 1.5x)")


if __name__ == "__main__":
    main()
