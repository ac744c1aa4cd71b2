"""The local store: SQLModel over SQLite (WAL), versioned schema, the queries the app needs."""

from __future__ import annotations

from cockpit.store.engine import Store, open_store
from cockpit.store.models import (
    Alert,
    BatonPass,
    ChangeEvent,
    Drill,
    Handoff,
    Incident,
    Insight,
    Note,
    OnCallShift,
    OutboxItem,
    Person,
    RunbookRun,
    StepEvent,
    SyncState,
    TimelineEvent,
)
from cockpit.store.types import as_utc, utcnow

__all__ = [
    "Alert",
    "BatonPass",
    "ChangeEvent",
    "Drill",
    "Handoff",
    "Incident",
    "Insight",
    "Note",
    "OnCallShift",
    "OutboxItem",
    "Person",
    "RunbookRun",
    "StepEvent",
    "Store",
    "SyncState",
    "TimelineEvent",
    "as_utc",
    "open_store",
    "utcnow",
]
