"""The collector during the TUI's start-up.

Start-up builds some 200,000 objects that live as long as the app (modules, classes, the
ORM's metadata, CSS rules, widgets). With the collector on, it walks that growing heap again
and again while nothing can be freed yet: about a tenth of the time to the first frame
(bench/startup.py). So the commands that start the TUI switch it off first, and the app
switches it back on once the first frame is drawn, with everything built so far frozen out
of its scans.
"""

from __future__ import annotations

import gc


def hold_collector() -> None:
    gc.disable()


def release_collector() -> None:
    gc.freeze()
    gc.enable()
