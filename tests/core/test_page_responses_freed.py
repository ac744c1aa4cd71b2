"""A page's HTTP response is freed with its last reference, not by the collector.

httpx's response and its stream refer to each other; only the cyclic collector freed them.
The TUI's clock freezes the heap every second (gc.freeze, to keep full collections off key
presses), and a frozen cycle waits for the ten-minute thaw: a first sync at PagerDuty's rate
ended with ~700 page bodies (90 MB) kept. The client cuts the cycle once a body is read.
"""

from __future__ import annotations

import gc
from datetime import UTC, datetime, timedelta

import httpx

from cockpit.integrations.pagerduty import PagerDutyProvider
from cockpit.integrations.pagerduty_emulator import start_emulator


async def test_read_responses_need_no_collector_to_be_freed() -> None:
    with start_emulator(incidents=60, days=3, seed=3) as emulator:
        provider = PagerDutyProvider(emulator.url, emulator.token, timeout=5.0)
        try:
            since = datetime.now(UTC) - timedelta(days=4)
            gc.collect()
            gc.disable()  # what the collector would free is left where it is
            try:
                incidents = [i async for i in provider.list_incidents(since)]
                entries = [e async for e in provider.log_entries(since)]
                alive = [o for o in gc.get_objects() if isinstance(o, httpx.Response)]
            finally:
                gc.enable()
        finally:
            await provider.aclose()
    assert incidents and len(entries) > 100  # several pages were read
    assert alive == []
