"""Who is sending an outbox item, and whether that sender is still alive.

An item is marked ``sending`` with its holder, ``host:pid:start``, before its request goes
out. A pid alone is not enough: after a crash the pid may be reused by an unrelated process,
so the process's start time (``/proc/<pid>/stat`` field 22, in clock ticks since boot) is part
of the name. When the holder is on this host and that process is gone, its item is taken back
at once; the in-doubt rules of :mod:`cockpit.sync.push` then decide whether to re-send.

Within one process, a sync that was cancelled (the TUI's worker stopped mid-delivery) leaves
its item marked with this very process; :data:`IN_FLIGHT` tells such a leftover from an item
this process is really sending now.
"""

from __future__ import annotations

import os
import socket
from functools import cache

IN_FLIGHT: set[int] = set()  # outbox ids this process is delivering at this moment


def _start_time(pid: int) -> str:
    """The process's start time as the kernel counts it, or "" where /proc is not there."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            raw = stat.read()
    except OSError:
        return ""
    # The command name (field 2) may hold spaces and parentheses: split after its last ")".
    fields = raw[raw.rfind(b")") + 2 :].split()
    return fields[19].decode() if len(fields) > 19 else ""


@cache
def _host() -> str:
    return socket.gethostname().replace(":", "_")


def me() -> str:
    """This process, as it is written in ``outbox.holder``."""
    pid = os.getpid()
    return f"{_host()}:{pid}:{_start_time(pid)}"


def is_alive(holder: str) -> bool | None:
    """True or False for a holder on this host; None when it cannot be told (another host
    sharing the data folder, or an old row with no holder): then only the lease decides."""
    parts = holder.rsplit(":", 2)
    if len(parts) != 3 or parts[0] != _host():
        return None
    try:
        pid = int(parts[1])
    except ValueError:
        return None
    if pid == os.getpid():
        return parts[2] == _start_time(pid)
    started = _start_time(pid)
    if started:
        return started == parts[2]
    if parts[2]:
        return False  # /proc works here (the holder recorded a start) and the pid is gone
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
