"""One sync: push the outbox, then pull each provider. Network trouble is reported, never
raised, so the TUI's worker and ``cockpit sync --watch`` keep going when the VPN drops."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from cockpit.errors import StoreError
from cockpit.integrations.base import PagingProvider, ProgressCallback, ProviderError
from cockpit.integrations.pagerduty_parse import UNKNOWN_STATUSES
from cockpit.redact import redact
from cockpit.store.engine import Store
from cockpit.store.models import SyncState
from cockpit.store.timefmt import utcnow
from cockpit.sync.identity import Me, get_me, set_me
from cockpit.sync.pull import PullResult, pull_provider
from cockpit.sync.push import push_outbox

Puller = Callable[..., Awaitable[PullResult]]


def _pull_log(
    store: Store, provider: PagingProvider, *, window_days: int, progress: ProgressCallback | None
) -> Awaitable[PullResult]:
    return pull_provider(store, provider, window_days=window_days, progress=progress)


def _pull_snapshot(
    store: Store, provider: PagingProvider, *, window_days: int, progress: ProgressCallback | None
) -> Awaitable[PullResult]:
    # Imported here: only a service that pulls by snapshot (Alertmanager) needs it.
    from cockpit.sync.pull_alertmanager import pull_alertmanager

    return pull_alertmanager(store, provider, progress=progress)  # type: ignore[arg-type]


# One pull strategy per Capabilities.pull value; a new service picks one, it adds none.
PULLERS: dict[str, Puller] = {"log": _pull_log, "snapshot": _pull_snapshot}


@dataclass
class SyncReport:
    online: bool = True
    pulled_incidents: int = 0
    pulled_entries: int = 0
    new_entries: int = 0  # of the entries read, those not in the store before
    sent: int = 0
    failed: int = 0
    superseded: int = 0
    pending: int = 0
    errors: list[str] = field(default_factory=list)
    reconciled: list[str] = field(default_factory=list)
    paused: list[str] = field(default_factory=list)  # services whose writes wait for a token
    alerts: list[str] = field(default_factory=list)  # loud: a write did more than was asked
    finished_at: datetime = field(default_factory=utcnow)

    @property
    def changed(self) -> bool:
        """Whether this sync brought something new or sent a write: what ``cockpit sync
        --watch`` backs off on. An incremental pull re-reads a short overlap of entries it
        already has (and their incidents), so entries *read* are no change; only entries new
        to the store are. A snapshot pull (Alertmanager) reads no log entries and counts
        only the incidents it wrote because they changed, so its incidents count."""
        snapshot_changes = self.pulled_incidents and not self.pulled_entries
        return bool(self.new_entries or snapshot_changes or self.sent or self.failed)


class SyncService:
    def __init__(
        self,
        store: Store,
        providers: Mapping[str, PagingProvider],
        *,
        window_days: int = 30,
    ) -> None:
        self.store = store
        self.providers = dict(providers)
        self.window_days = window_days
        self._reported_statuses: set[str] = set()

    async def push(self, progress: ProgressCallback | None = None) -> SyncReport:
        report = SyncReport()
        if not self.providers:
            return report
        try:
            result = await push_outbox(self.store, self.providers, progress=progress)
        except ProviderError as error:
            report.online = False
            report.errors.append(redact(str(error)))
            return report
        report.sent, report.failed = result.sent, result.failed
        report.superseded, report.pending = result.superseded, result.pending
        report.errors += [redact(e) for e in result.errors]
        report.reconciled += result.reconciled
        report.paused += result.paused
        report.alerts += result.alerts
        report.online = not result.interrupted
        return report

    async def pull(self, progress: ProgressCallback | None = None) -> SyncReport:
        report = SyncReport()
        for name, provider in self.providers.items():
            try:
                puller = PULLERS[provider.capabilities.pull]
                result = await puller(
                    self.store, provider, window_days=self.window_days, progress=progress
                )
            except ProviderError as error:
                report.online = report.online and not error.retryable
                report.errors.append(f"{name}: {redact(str(error))}")
                self._note_error(name, str(error))
                continue
            self._note_error(name, "")  # a pull that worked clears the last one's error
            for status in sorted(UNKNOWN_STATUSES - self._reported_statuses):
                self._reported_statuses.add(status)
                report.reconciled.append(
                    f"{name} sent an incident status this cockpit does not know ({status!r}): "
                    "kept as received"
                )
            report.pulled_incidents += result.incidents
            report.pulled_entries += result.log_entries
            report.new_entries += result.new_entries
            report.reconciled += result.reconciled
        return report

    async def learn_me(self) -> None:
        """Learn who "me" is (pages, baton, actor names) from the first provider that can say."""
        with self.store.read() as session:
            if not get_me(session).id.startswith("local:"):
                return
        for name, provider in self.providers.items():
            if not provider.capabilities.real_people:
                continue  # the practice provider's person is made up
            try:
                person = await provider.whoami()
            except ProviderError:
                continue
            with self.store.write() as session:
                set_me(session, Me(f"{name}:{person.id}", person.name, person.email))
            return

    async def sync_once(self, progress: ProgressCallback | None = None) -> SyncReport:
        """Push then pull. Raises only StoreError (the local store itself is failing)."""
        if progress is not None:
            self._say_waits(progress)
        pushed = await self.push(progress)
        if not pushed.online:
            pushed.finished_at = utcnow()
            return pushed
        pulled = await self.pull(progress)
        if pulled.online:
            await self.learn_me()
        pulled.sent, pulled.failed = pushed.sent, pushed.failed
        pulled.superseded, pulled.pending = pushed.superseded, pushed.pending
        pulled.errors = pushed.errors + pulled.errors
        pulled.reconciled = pushed.reconciled + pulled.reconciled
        pulled.paused, pulled.alerts = pushed.paused, pushed.alerts
        pulled.online = pulled.online and pushed.online
        pulled.finished_at = utcnow()
        return pulled

    def _say_waits(self, progress: ProgressCallback) -> None:
        """A rate-limit wait is said where the sync's progress is shown, never sat out mute."""
        for provider in self.providers.values():
            budget = getattr(provider, "budget", None)
            if budget is not None and hasattr(budget, "on_wait"):
                budget.on_wait = lambda wait: progress(0, None, str(wait))

    def _note_error(self, name: str, message: str) -> None:
        # Kept in the store and shown in the status bar: no token, no user:password@ in it.
        message = redact(message)
        try:
            with self.store.write() as session:
                key = f"{name}:status"
                row = session.get(SyncState, key)
                if row is None and not message or row is not None and row.last_error == message:
                    return
                row = row or SyncState(key=key)
                row.last_error = message
                row.updated_at = utcnow()
                session.add(row)
        except StoreError:
            pass

    async def aclose(self) -> None:
        for provider in self.providers.values():
            await provider.aclose()
