"""`cockpit sync --watch` while nothing changes: requests per interval.

The real `cockpit` command (the entry point next to this interpreter, providers as the
registry builds them) against the emulator (in this process, its own thread): a first sync,
one incident triggered and synced, so the watermark sits just before recent entries (each
pass re-reads them: the overlap), then ``sync --watch --interval I`` for S seconds of
quiet, ended with SIGINT. Requests are the emulator's count over those S seconds.

Goal: at most 1 request per interval while nothing changes.
Run: python bench/watch.py [--interval 2] [--seconds 30]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cockpit.integrations.pagerduty_emulator import start_emulator


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--interval", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    cockpit = Path(sys.executable).parent / "cockpit"
    with (
        tempfile.TemporaryDirectory() as folder,
        start_emulator(incidents=20, days=2, seed=7) as handle,
    ):
        env = dict(
            os.environ,
            COCKPIT_DATA_DIR=folder,
            COCKPIT_PAGERDUTY_URL=handle.url,
            COCKPIT_PAGERDUTY_TOKEN=handle.token,
            XDG_CONFIG_HOME=f"{folder}/config",
            PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        )
        subprocess.run([str(cockpit), "sync"], env=env, check=True, capture_output=True)
        handle.state.trigger("Disk usage above 90% on payments-db-2")
        subprocess.run([str(cockpit), "sync"], env=env, check=True, capture_output=True)
        handle.state.reset_counters()
        watch = subprocess.Popen(
            [str(cockpit), "sync", "--watch", "--interval", str(args.interval)],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        time.sleep(args.seconds)
        stats = handle.state.stats()
        watch.send_signal(signal.SIGINT)  # our own child, by its handle
        output, _ = watch.communicate(timeout=30)
    intervals = args.seconds / args.interval
    passes = len([line for line in output.splitlines() if line.startswith("online")])
    print(
        f"{args.seconds:.0f} s of quiet at --interval {args.interval}: {passes} syncs, "
        f"{stats['request_count']} requests {stats['paths']}"
    )
    print(f"requests per interval: {stats['request_count'] / intervals:.2f} (goal <= 1)")


if __name__ == "__main__":
    main()
