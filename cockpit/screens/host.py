"""What the screens ask of the app that hosts them. ``cockpit.app.CockpitApp`` is one; the
screens sit below the app (it imports them), so they know it by this protocol, never by its
class. ``tests/ui/test_host.py`` checks that the app still has every member named here."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from cockpit.view_model import Clock

if TYPE_CHECKING:
    from textual.message import Message
    from textual.signal import Signal

    from cockpit.config import Settings
    from cockpit.store.engine import Store


@runtime_checkable
class CockpitHost(Protocol):
    settings: Settings
    store: Store | None
    sync_service: Any  # a SyncService or LazySync, None without a paging service
    clock: Clock
    sync_state: str  # local, practice, syncing, online, offline
    last_good_sync: datetime | None
    store_news: Signal[Message]  # published by the app; see CockpitApp

    @property
    def library(self) -> list[Any]: ...

    def reload_library(self) -> None: ...

    def start_sync(self) -> None: ...
