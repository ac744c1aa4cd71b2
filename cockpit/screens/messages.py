"""App-wide messages. Workers post these and never touch widgets themselves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message


@dataclass
class SyncStarted(Message):
    """A sync began; the status bar shows it."""


@dataclass
class SyncProgress(Message):
    """A pull reported progress: ``done`` of ``total`` (None when unknown) ``what``."""

    done: int
    total: int | None
    what: str

    def can_replace(self, message: Message) -> bool:
        # A flood of progress ticks collapses into the latest one.
        return isinstance(message, SyncProgress)


@dataclass
class SyncFinished(Message):
    """A sync ended. ``report`` is the sync service's SyncReport (online, errors, counts)."""

    report: Any


@dataclass
class SyncCrashed(Message):
    """The sync service raised: shown as a notification, the app keeps working offline."""

    error: str


@dataclass
class StoreChanged(Message):
    """Something wrote to the store (an action, a tick): the screen reloads what it shows."""

    incident_id: str = ""


@dataclass
class CommandFinished(Message):
    """A runbook command ran (in a thread) and its output was kept in the timeline."""

    incident_id: str
    step_id: str
    exit_code: int | None
    output: str
    command: str = ""
    runbook_id: str = ""


@dataclass
class IncidentActed(Message):
    """An action on an incident was written to the store (``action`` is the name of the
    ``cockpit.sync.actions`` function: ``resolve``, ``acknowledge``...). After a resolve the
    app asks for the flywheel's insight."""

    action: str
    incident_id: str
