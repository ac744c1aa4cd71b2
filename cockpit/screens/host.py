"""What the screens ask of the app that hosts them. ``cockpit.app.CockpitApp`` is one; the
screens sit below the app (it imports them), so they know it by this protocol, never by its
class. ``tests/ui/test_host.py`` checks that the app still has every member named here."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, cast, runtime_checkable

from cockpit.view_model import Clock

if TYPE_CHECKING:
    from textual.app import App
    from textual.message import Message
    from textual.signal import Signal

    from cockpit.config import Settings
    from cockpit.runbooks.model import Runbook
    from cockpit.screens.store_writes import StoreWrites
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
    def library(self) -> list[Runbook]: ...

    @property
    def writes(self) -> StoreWrites: ...

    def reload_library(self) -> None: ...

    def start_sync(self) -> None: ...

    def action_handoff(self) -> None: ...

    def action_stats(self) -> None: ...

    def action_drill(self) -> None: ...


if TYPE_CHECKING:

    class HostApp(App[None], CockpitHost):
        """For the checker: a Textual app that is a cockpit host (``CockpitApp`` is one)."""


class HasApp(Protocol):
    """A node, a command provider: anything that knows its app."""

    @property
    def app(self) -> App[Any]: ...


def host_of(node: HasApp) -> HostApp:
    """The app running ``node``, as the cockpit host it is (the screens never import
    ``cockpit.app``: it imports them)."""
    return cast("HostApp", node.app)


def store_or_say(app: HostApp, what: str) -> Store | None:
    """The app's local store; without one (the welcome screen: no account yet), a toast that
    says ``what`` needs one and how to get it, and None."""
    if app.store is None:
        app.notify(
            f"{what} needs the local store: connect a paging service first "
            "(see the welcome screen), or try `cockpit demo`.",
            severity="warning",
        )
    return app.store
