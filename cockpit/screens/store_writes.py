"""The screens' store writes (a tick, an undo, an ack, a note, the baton), which never wait
on the event loop for another writer's lock.

A write is tried at once (:meth:`Store.at_once`): when nothing holds the store it is done
there and then, as before, in a few milliseconds. When a sync's batch holds the write lock,
it is tried again on the loop every millisecond for a while (the batch ends in a few, and
the sync then steps aside for the key: ``cockpit/sync/courtesy.py``); a thread woken for it
waited ~5 ms more for the GIL during a first sync. When the store stays busy (another
process), it is handed to one writer thread, which waits for the lock as long as any write
may. Later writes queue behind it so they land in the order they were made. Either way
``landed`` is called on the event loop with the result or the error, so the screen shows
the change, or says the write failed: nothing the user did is dropped.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from cockpit.errors import CockpitError
from cockpit.store.engine import Store, StoreBusy

T = TypeVar("T")
Landed = Callable[[T | None, Exception | None], None]


# A write found the store busy is tried again on the loop this often, for this long, before
# it goes to the thread: a sync's batch holds the lock a few milliseconds and then steps
# aside for the key (cockpit/sync/courtesy.py), so the write usually gets in on the loop,
# without a thread's wake-up and its wait for the GIL (~5 ms during a first sync).
RETRY_EVERY = 0.001
RETRY_FOR = 0.03


class StoreWrites:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._pool: ThreadPoolExecutor | None = None
        self._in_thread = 0  # handed to the thread and not landed yet
        self._waiting: deque[tuple[Callable[[], Any], Landed[Any], contextvars.Context]] = deque()
        self._deadline = 0.0
        self._retrying: asyncio.TimerHandle | None = None
        self._closing = False  # the app is quitting: writes are still made, no screen told

    @property
    def queued(self) -> int:
        """Writes not landed yet: waiting on the loop, or in the thread."""
        return len(self._waiting) + self._in_thread

    def run(self, call: Callable[[], T], landed: Landed[T]) -> bool:
        """Do ``call`` (one write transaction) now if the store is free and nothing waits
        before it, else queue it; ``landed(result, error)`` follows on the event loop.
        Returns whether it was done now (and ``landed`` already called)."""
        if not self.queued:
            done, result, error = self._try(call)
            if done:
                landed(result, error)
                return True
        context = contextvars.copy_context()
        if self._in_thread:  # behind a write in the thread: after it, in order
            self._to_thread(call, landed, context)
            return False
        self._waiting.append((call, landed, context))
        if self._retrying is None:
            loop = asyncio.get_running_loop()
            self._deadline = loop.time() + RETRY_FOR
            self._retrying = loop.call_later(RETRY_EVERY, self._retry)
        return False

    def _try(self, call: Callable[[], T]) -> tuple[bool, T | None, Exception | None]:
        """(done, result, error): not done when another writer holds the store."""
        try:
            with self.store.at_once():
                return True, call(), None
        except StoreBusy:
            return False, None, None  # the loop never waits for the lock
        except CockpitError as error:
            return True, None, error

    def _retry(self) -> None:
        self._retrying = None
        try:
            while self._waiting:
                call, landed, context = self._waiting[0]
                try:
                    done, result, error = context.run(self._try, call)
                except Exception as failure:  # noqa: BLE001 - said, as the thread's would be
                    done, result, error = True, None, failure  # never tried twice
                if not done:
                    break
                self._waiting.popleft()
                context.run(landed, result, error)
        finally:
            if self._waiting and self._retrying is None:
                loop = asyncio.get_running_loop()
                if loop.time() < self._deadline:
                    self._retrying = loop.call_later(RETRY_EVERY, self._retry)
                else:
                    self.flush()

    def flush(self) -> None:
        """Hand every write still waiting on the loop to the thread, in order (the store
        stays busy)."""
        if self._retrying is not None:
            self._retrying.cancel()
            self._retrying = None
        while self._waiting:
            self._to_thread(*self._waiting.popleft())

    def close(self) -> None:
        """The app is quitting: what still waits on the loop goes to the thread (joined at
        exit, so every write is still made), and no screen is told any more (they are
        gone)."""
        self.flush()
        self._closing = True

    def _to_thread(
        self, call: Callable[[], T], landed: Landed[T], context: contextvars.Context
    ) -> None:
        loop = asyncio.get_running_loop()
        if self._pool is None:
            # One thread: queued writes land in the order they were made. Its thread is
            # joined at exit, so a write queued when the app quits is still made.
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cockpit-write")
        self._in_thread += 1
        future = self._pool.submit(call)

        # Landed in the context it was asked in (Textual's active app is a context variable:
        # a screen dismissed meanwhile still finds its app to say what happened).
        def done(finished: Future[T]) -> None:
            try:
                loop.call_soon_threadsafe(self._land, finished, landed, context=context)
            except RuntimeError:
                pass  # the app has closed: the write is in the store, no screen to tell

        future.add_done_callback(done)

    def _land(self, finished: Future[T], landed: Landed[T]) -> None:
        self._in_thread -= 1
        if self._closing:
            return
        error = finished.exception()
        if error is not None:
            landed(None, error if isinstance(error, Exception) else RuntimeError(str(error)))
        else:
            landed(finished.result(), None)
