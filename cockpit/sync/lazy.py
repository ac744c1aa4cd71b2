"""A sync service built on its first use, off the UI thread.

Building one imports the ORM, httpx and the OS keyring (a fifth of a second for the keyring
alone): none of it is needed to draw the cockpit's first frame from the local store. The
TUI gets this stand-in instead and the real service is built in a worker thread when the
first sync starts, just after that frame.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cockpit.sync.service import SyncReport, SyncService


class LazySync:
    def __init__(self, build: Callable[[], SyncService]) -> None:
        self._build = build
        self._service: SyncService | None = None
        self._lock = asyncio.Lock()

    async def service(self) -> SyncService:
        async with self._lock:
            if self._service is None:
                self._service = await asyncio.to_thread(self._build)
            return self._service

    async def sync_once(self, **kwargs: Any) -> SyncReport:
        return await (await self.service()).sync_once(**kwargs)

    async def aclose(self) -> None:
        if self._service is not None:
            await self._service.aclose()
