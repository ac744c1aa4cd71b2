"""The screens' store writes (a tick, an undo, an ack, a note, the baton), which never wait
on the event loop for another writer's lock.

A write is tried at once (:meth:`Store.at_once`): when nothing holds the store it is done
there and then, as before, in a few milliseconds. When a sync's batch (or another process)
holds the write lock, it is handed to one writer thread instead, which waits for the lock
as long as any write may; later writes queue behind it so they land in the order they were
made. Either way ``landed`` is called on the event loop with the result or the error, so
the screen shows the change, or says the write failed: nothing the user did is dropped.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from cockpit.errors import CockpitError
from cockpit.store.engine import Store, StoreBusy

T = TypeVar("T")
Landed = Callable[[T | None, Exception | None], None]


class StoreWrites:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.queued = 0  # writes handed to the thread and not landed yet
        self._pool: ThreadPoolExecutor | None = None

    def run(self, call: Callable[[], T], landed: Landed[T]) -> bool:
        """Do ``call`` (one write transaction) now if the store is free and nothing waits
        before it, else queue it; ``landed(result, error)`` follows on the event loop.
        Returns whether it was done now (and ``landed`` already called)."""
        if not self.queued:
            try:
                with self.store.at_once():
                    result = call()
            except StoreBusy:
                pass  # held by another writer: the thread waits for it, the loop does not
            except CockpitError as error:
                landed(None, error)
                return True
            else:
                landed(result, None)
                return True
        loop = asyncio.get_running_loop()
        if self._pool is None:
            # One thread: queued writes land in the order they were made. Its thread is
            # joined at exit, so a write queued when the app quits is still made.
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cockpit-write")
        self.queued += 1
        future = self._pool.submit(call)
        # Landed in the context it was asked in (Textual's active app is a context variable:
        # a screen dismissed meanwhile still finds its app to say what happened).
        context = contextvars.copy_context()

        def done(finished: Future[T]) -> None:
            try:
                loop.call_soon_threadsafe(self._land, finished, landed, context=context)
            except RuntimeError:
                pass  # the app has closed: the write is in the store, no screen to tell

        future.add_done_callback(done)
        return False

    def _land(self, finished: Future[T], landed: Landed[T]) -> None:
        self.queued -= 1
        error = finished.exception()
        if error is not None:
            landed(None, error if isinstance(error, Exception) else RuntimeError(str(error)))
        else:
            landed(finished.result(), None)
