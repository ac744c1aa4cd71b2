"""The local store: SQLModel over SQLite (WAL), versioned schema, the queries the app needs.

Names are loaded on first use (PEP 562): importing a light module of the package, such as
``cockpit.store.records`` for the cockpit's first frame, must not import the ORM with it.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
    from cockpit.store.timefmt import as_utc, utcnow

_HOME = {
    "Store": "engine",
    "open_store": "engine",
    "as_utc": "timefmt",
    "utcnow": "timefmt",
}

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


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = import_module(f"cockpit.store.{_HOME.get(name, 'models')}")
    return getattr(module, name)
