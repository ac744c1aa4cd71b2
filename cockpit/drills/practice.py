"""The practice provider: a PagingProvider that reads nothing real and refuses every write.

A drill talks to this provider, never to PagerDuty or Alertmanager, so even a bug in the UI
cannot page, acknowledge or annotate a real incident: the refusal is here, below the UI.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import ClassVar, NoReturn

from cockpit.integrations.base import Capabilities, ProgressCallback, ProviderError
from cockpit.records import (
    AlertRecord,
    ChangePage,
    IncidentRecord,
    LogEntryRecord,
    NoteRecord,
    OnCallRecord,
    PersonRecord,
)


class PracticeWriteRefused(ProviderError):
    """A write reached the practice provider: drills never change anything remote."""


class PracticeProvider:
    """Reads answer empty; writes raise :class:`PracticeWriteRefused` naming the write."""

    name: ClassVar[str] = "practice"
    capabilities: ClassVar[Capabilities] = Capabilities(real_people=False)  # every write refused

    @property
    def request_deadline(self) -> float:
        return 1.0

    def __init__(self, participant: str = "practice") -> None:
        self.participant = participant
        self.refused: list[str] = []  # what was asked for, for the debrief and the tests

    def _refuse(self, what: str, incident_id: str) -> NoReturn:
        self.refused.append(f"{what} {incident_id}")
        raise PracticeWriteRefused(
            f"practice mode: {what} on {incident_id} was not sent; a drill never writes to "
            "the paging service"
        )

    # -- reads -------------------------------------------------------------------------
    async def whoami(self) -> PersonRecord:
        return PersonRecord(id=f"practice:{self.participant}", name=self.participant)

    async def list_incidents(
        self,
        since: datetime,
        until: datetime | None = None,
        progress: ProgressCallback | None = None,
    ) -> AsyncIterator[IncidentRecord]:
        nothing: tuple[IncidentRecord, ...] = ()
        for record in nothing:
            yield record

    async def changes_since(
        self, watermark: datetime, progress: ProgressCallback | None = None
    ) -> ChangePage:
        return ChangePage([], [], watermark or datetime.now(UTC))

    async def log_entries(
        self,
        since: datetime,
        until: datetime | None = None,
        progress: ProgressCallback | None = None,
    ) -> AsyncIterator[LogEntryRecord]:
        nothing: tuple[LogEntryRecord, ...] = ()
        for record in nothing:
            yield record

    async def incident_log_entries(self, incident_id: str) -> list[LogEntryRecord]:
        return []

    async def get_incident(self, incident_id: str) -> IncidentRecord:
        from cockpit.integrations.base import NotFound

        raise NotFound(f"practice mode: {incident_id} exists only in the local store")

    async def alerts(self, incident_id: str) -> list[AlertRecord]:
        return []

    async def notes(self, incident_id: str) -> list[NoteRecord]:
        return []

    async def oncalls(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> list[OnCallRecord]:
        return []

    async def people(self) -> list[PersonRecord]:
        return []

    # -- writes: all refused -------------------------------------------------------------
    async def acknowledge(self, incident_id: str) -> IncidentRecord:
        self._refuse("acknowledge", incident_id)

    async def resolve(self, incident_id: str) -> IncidentRecord:
        self._refuse("resolve", incident_id)

    async def reassign(
        self, incident_id: str, person_id: str, *, acknowledge: bool = False
    ) -> IncidentRecord:
        self._refuse("reassign", incident_id)

    async def escalate(self, incident_id: str, level: int) -> IncidentRecord:
        self._refuse("escalate", incident_id)

    async def snooze(self, incident_id: str, seconds: int) -> IncidentRecord:
        self._refuse("snooze", incident_id)

    async def add_note(self, incident_id: str, content: str) -> NoteRecord:
        self._refuse("add_note", incident_id)

    async def aclose(self) -> None:
        return None
