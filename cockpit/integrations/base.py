"""The paging-service protocol every integration implements.

Adapters return the plain records of :mod:`cockpit.records` (no SQLModel, no Textual types);
``cockpit.sync`` maps them into the store. What a service can do is one :class:`Capabilities`
value on its class, in the manner of harlequin's adapters; the sync layer reads it (through
:mod:`cockpit.integrations.catalog`) and never branches on a service's name.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

from cockpit.errors import CockpitError
from cockpit.records import (
    AlertRecord,
    ChangePage,
    IncidentRecord,
    IncidentStatus,
    LogEntryRecord,
    NoteRecord,
    OnCallRecord,
    PersonRecord,
)

# ---------------------------------------------------------------- capabilities

WRITES = frozenset({"acknowledge", "resolve", "snooze", "escalate", "note", "reassign"})


@dataclass(frozen=True)
class Capabilities:
    """What a paging service does, read by the sync layer.

    ``writes``: the actions the outbox delivers to it (the rest stay local, never lost: e.g.
    Alertmanager has no notes or assignment). ``comments``: its writes carry the user's note as
    a comment (an Alertmanager silence's comment) and take ``comment=``. ``pull``: how it is
    read: ``"log"`` (changes since a watermark, then the incidents they touch) or
    ``"snapshot"`` (the whole current state, reconciled with the store). ``real_people``:
    ``whoami`` names a real person (the practice provider makes one up).
    """

    writes: frozenset[str] = frozenset()
    comments: bool = False
    pull: Literal["log", "snapshot"] = "log"
    real_people: bool = True

    def __post_init__(self) -> None:
        unknown = self.writes - WRITES
        if unknown:
            raise ValueError(f"unknown write actions {sorted(unknown)}; known: {sorted(WRITES)}")


# ---------------------------------------------------------------- errors


class ProviderError(CockpitError):
    """A paging service refused or failed a request. The message never holds a secret."""

    retryable: ClassVar[bool] = False

    def __init__(self, message: str, *, status: int | None = None, code: int | None = None):
        super().__init__(message)
        self.status = status
        self.code = code


class AuthError(ProviderError):
    """The token is missing, wrong or lacks the permission (401/403)."""


class MissingSetting(AuthError):
    """The credentials work, but a setting the write needs is missing (an account-level key
    has no ``From`` email); the message names the setting and how to set it."""


class NotFound(ProviderError):
    """The incident (or other object) does not exist remotely (404)."""


class InvalidRequest(ProviderError):
    """The service refused the request as malformed (400, 413...)."""


class AlreadyInState(ProviderError):
    """A write found the incident already in the state asked for, or beyond it.

    PagerDuty answers some writes on a resolved incident with 400 and a code (1001 already
    resolved, 1002 already acknowledged). The sender treats it as delivered-by-someone-else.
    """

    def __init__(self, message: str, state: IncidentStatus, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.state = state


class RateLimited(ProviderError):
    """429 after the retries the client allows; ``reset_after`` seconds until the budget refills."""

    retryable = True

    def __init__(self, message: str, reset_after: float, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.reset_after = reset_after


class Unavailable(ProviderError):
    """Network error, timeout or 5xx after bounded retries; the outbox keeps the write."""

    retryable = True


class InsecureURL(ProviderError):
    """Plain http:// to a host other than loopback."""


# ---------------------------------------------------------------- protocol

ProgressCallback = Callable[[int, int | None, str], None]
"""progress(done, total_or_None, what): called by long pulls so a CLI or the TUI can show a bar."""


@runtime_checkable
class PagingProvider(Protocol):
    """A paging service. Reads return records; writes raise ProviderError subclasses.

    ``capabilities`` says what it does; a write it does not list is never sent to it.
    ``request_deadline`` is the longest one request may take: a write whose answer was lost is
    not sent again before that has passed (cockpit.sync.push, rule 4).
    """

    name: ClassVar[str]  # "pagerduty", "alertmanager", "practice"
    capabilities: ClassVar[Capabilities]

    @property
    def request_deadline(self) -> float: ...

    async def whoami(self) -> PersonRecord:
        """The user the credentials belong to. Raises AuthError on a bad token."""
        ...

    def list_incidents(
        self,
        since: datetime,
        until: datetime | None = None,
        progress: ProgressCallback | None = None,
    ) -> AsyncIterator[IncidentRecord]:
        """Every incident created in [since, until), paging and splitting windows as needed."""
        ...

    async def changes_since(
        self, watermark: datetime, progress: ProgressCallback | None = None
    ) -> ChangePage:
        """What changed since ``watermark``: account-wide log entries and their incidents."""
        ...

    def log_entries(
        self,
        since: datetime,
        until: datetime | None = None,
        progress: ProgressCallback | None = None,
    ) -> AsyncIterator[LogEntryRecord]:
        """Account-wide log entries (with notify entries) in [since, until)."""
        ...

    async def incident_log_entries(self, incident_id: str) -> list[LogEntryRecord]: ...

    async def get_incident(self, incident_id: str) -> IncidentRecord: ...

    async def alerts(self, incident_id: str) -> list[AlertRecord]: ...

    async def notes(self, incident_id: str) -> list[NoteRecord]: ...

    async def oncalls(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> list[OnCallRecord]:
        """Shifts overlapping [since, until]; with neither, who is on call now."""
        ...

    async def people(self) -> list[PersonRecord]: ...

    async def acknowledge(self, incident_id: str) -> IncidentRecord: ...

    async def resolve(self, incident_id: str) -> IncidentRecord: ...

    async def reassign(
        self, incident_id: str, person_id: str, *, acknowledge: bool = False
    ) -> IncidentRecord:
        """Assign to ``person_id``; with ``acknowledge``, in the same request, acknowledged by
        the caller, so an incident that was acknowledged stays so under its new owner."""
        ...

    async def escalate(self, incident_id: str, level: int) -> IncidentRecord: ...

    async def snooze(self, incident_id: str, seconds: int) -> IncidentRecord: ...

    async def add_note(self, incident_id: str, content: str) -> NoteRecord: ...

    async def aclose(self) -> None: ...
