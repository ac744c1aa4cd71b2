"""Rows of the store as plain frozen records, read with ``sqlite3`` (no ORM).

The cockpit screen reads the store on every refresh and draws its first frame from it; these
records carry the same fields, names and types as the SQLModel tables in ``models.py`` (a
test keeps the two in step), so what renders an ``Incident`` renders an ``IncidentRow``.
A record is read-only: changes go through the ORM in ``Store.write``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Generic, TypeVar

from cockpit.store.timefmt import from_db_text

R = TypeVar("R")


@dataclass(frozen=True)
class IncidentRow:
    id: str
    source: str
    remote_id: str
    number: int | None
    title: str
    status: str
    urgency: str
    priority: str
    service_id: str
    service_name: str
    team: str
    escalation_policy_id: str
    assignees: list[str]
    html_url: str
    runbook_url: str
    incident_key: str
    labels: dict[str, str]
    annotations: dict[str, str]
    created_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    snoozed_until: datetime | None
    is_drill: bool
    synced_at: datetime | None


@dataclass(frozen=True)
class AlertRow:
    id: str
    incident_id: str
    summary: str
    status: str
    severity: str
    fingerprint: str
    labels: dict[str, str]
    annotations: dict[str, str]
    runbook_url: str
    generator_url: str
    created_at: datetime
    updated_at: datetime | None


@dataclass(frozen=True)
class PersonRow:
    id: str
    source: str
    name: str
    email: str
    time_zone: str
    teams: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ShiftRow:
    id: int
    source: str
    person_id: str
    escalation_policy_id: str
    escalation_policy_name: str
    escalation_level: int
    schedule_id: str
    schedule_name: str
    start: datetime | None
    end: datetime | None


@dataclass(frozen=True)
class BatonRow:
    id: int
    incident_id: str
    from_person: str
    to_person: str
    note: str
    offered_at: datetime
    accepted_at: datetime | None
    state: str
    handoff_id: int | None


@dataclass(frozen=True)
class RunRow:
    id: int
    incident_id: str
    runbook_id: str
    runbook_path: str
    runbook_hash: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str | None
    started_by: str
    is_drill: bool


@dataclass(frozen=True)
class StepRow:
    id: int
    run_id: int
    seq: int
    at: datetime
    kind: str
    step_id: str
    branch: str
    reason: str
    actor: str
    details: dict[str, Any]


def _json(value: Any) -> Any:
    return json.loads(value) if value else None


def _decoder(annotation: str) -> Callable[[Any], Any] | None:
    if "datetime" in annotation:
        return from_db_text
    if annotation.startswith(("list", "dict")):
        return _json
    if annotation == "bool":
        return bool
    return None


def _empty(annotation: str) -> Any:
    if annotation.startswith("list"):
        return []
    if annotation.startswith("dict"):
        return {}
    return None


class Table(Generic[R]):
    """How to read one record type: its columns, in order, and a decoder per column."""

    def __init__(self, record: type[R], name: str) -> None:
        self.record: Callable[..., R] = record
        self.name = name
        found = fields(record)  # type: ignore[arg-type]
        self.columns = ", ".join(f'"{f.name}"' for f in found)
        self._decoders = [_decoder(str(f.type)) for f in found]
        # An empty JSON column reads as the field's empty value, as the ORM gives it.
        self._empty: list[Any] = [_empty(str(f.type)) for f in found]

    def of(self, row: Iterable[Any]) -> R:
        values = []
        for value, decode, empty in zip(row, self._decoders, self._empty, strict=True):
            if decode is not None and value is not None:
                value = decode(value)
            if value is None and empty is not None:
                value = type(empty)()  # a fresh one: records are shared, lists are not
            values.append(value)
        return self.record(*values)

    def select(self, conn: sqlite3.Connection, where: str, params: Any = ()) -> list[R]:
        sql = f"SELECT {self.columns} FROM {self.name} {where}"
        return [self.of(row) for row in conn.execute(sql, params)]

    def first(self, conn: sqlite3.Connection, where: str, params: Any = ()) -> R | None:
        found = self.select(conn, f"{where} LIMIT 1", params)
        return found[0] if found else None


INCIDENTS = Table(IncidentRow, "incidents")
ALERTS = Table(AlertRow, "alerts")
PEOPLE = Table(PersonRow, "people")
SHIFTS = Table(ShiftRow, "oncall_shifts")
BATONS = Table(BatonRow, "baton_passes")
RUNS = Table(RunRow, "runbook_runs")
STEPS = Table(StepRow, "step_events")

TABLES = (INCIDENTS, ALERTS, PEOPLE, SHIFTS, BATONS, RUNS, STEPS)
