"""The Prometheus Alertmanager API v2 adapter: a PagingProvider over httpx.

Reads ``GET /api/v2/alerts/groups``, ``/api/v2/silences`` and ``/api/v2/status``. The API has no
"since" filter, so every read lists what fires now (one request per list); the sync layer
(``cockpit.sync.pull_alertmanager``) writes only what changed, by fingerprint and ``updatedAt``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from cockpit.durations import compact
from cockpit.integrations import alertmanager_parse as parse
from cockpit.integrations import urls
from cockpit.integrations.alertmanager_parse import GROUP_TAG, Group, Silence
from cockpit.integrations.base import (
    AlreadyInState,
    AuthError,
    Capabilities,
    InvalidRequest,
    NotFound,
    ProgressCallback,
    ProviderError,
    Unavailable,
)
from cockpit.integrations.pagerduty_http import REQUEST_DEADLINE
from cockpit.records import (
    AlertRecord,
    ChangePage,
    IncidentRecord,
    LogEntryRecord,
    NoteRecord,
    OnCallRecord,
    PersonRecord,
)

ACK_SECONDS = 4 * 3600  # acknowledge = a silence this long; re-acknowledge to extend it
MAX_SILENCE = 604_800  # the same 7-day ceiling as a PagerDuty snooze
ACK_COMMENT = "acknowledged in cockpit"

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class Snapshot:
    """What Alertmanager holds at one moment."""

    groups: list[Group]
    silences: list[Silence]  # every silence cockpit created (createdBy == creator), any state
    uptime: datetime | None  # when the server process started (``/status``)
    fetched_at: datetime


class GroupCleared(AlreadyInState, NotFound):
    """The alert group is no longer listed: its alerts cleared, so it is resolved.

    Both "not found" (it cannot be read) and "already resolved" (a write on it is moot): the
    outbox sender takes it as delivered-by-someone-else, readers as a 404.
    """

    def __init__(self, incident_id: str, what: str) -> None:
        super().__init__(
            f"Alertmanager alert group {incident_id} no longer fires (already resolved): {what}",
            state="resolved",
            status=404,
        )


def check_base_url(base_url: str, *, secret: bool = False) -> str:
    """The base URL; see :func:`cockpit.integrations.urls.check_base_url`.

    Alertmanager serves plain http without login by default, so plain http to any host is
    allowed while no password or token is configured; with one, only to this machine.
    """
    return urls.check_base_url(
        base_url,
        "alertmanager_url",
        "the Alertmanager password or token (alertmanager_token, COCKPIT_ALERTMANAGER_TOKEN "
        "or `cockpit auth login alertmanager`)",
        secret=secret,
    )


class AlertmanagerProvider:
    """Prometheus Alertmanager (API v2) as a paging source.

    An incident is one alert group (receiver + group labels), with a stable short-hash id.
    Alertmanager has no acknowledge, notes, assignment or escalation, so ``CAN_ACKNOWLEDGE`` is
    False: the cockpit *silences* instead. ``acknowledge`` creates a silence of ``ACK_SECONDS``
    (4 h) and ``snooze`` one of the given length, each matching exactly the group's labels
    (equality matchers), created by ``creator`` with the note as comment. ``resolve`` expires
    the silences cockpit made for the group, so the alert pages again if it still fires.
    A group all of whose alerts are muted by a silence of ours reads as "acknowledged".

    Every write first looks for a live silence of ours with the same matchers, so an outbox
    retry never makes a second one. Each comment ends with ``[cockpit group <id>]`` so that a
    silence is found again even after its group has cleared and its labels are gone. Notes,
    baton and runbook runs stay in the local store.

    Args:
        base_url: e.g. ``https://alertmanager.example.com`` (``/api/v2`` is appended).
        user: basic-auth user; with ``token`` as its password.
        token: the basic-auth password, or a bearer token when ``user`` is empty.
        creator: ``createdBy`` of the silences cockpit makes (the user); also how ours are told
            apart from other people's.
        also_ours: other ``createdBy`` names whose silences are ours too (the OS user name,
            used before the cockpit learned who "me" is).
        timeout: seconds for each read or connect (httpx's timeout).
        transport: an httpx transport (tests only).
        deadline: the longest one attempt may take as a whole, the answer's last byte
            included (a trickling server never trips the timeout); a write that is not
            idempotent ends within it altogether. See ``pagerduty_http.REQUEST_DEADLINE``.
    """

    name: ClassVar[str] = "alertmanager"
    # Acknowledge and snooze become a silence carrying the user's note; resolve expires it.
    capabilities: ClassVar[Capabilities] = Capabilities(
        writes=frozenset({"acknowledge", "resolve", "snooze"}), comments=True, pull="snapshot"
    )

    def __init__(
        self,
        base_url: str,
        *,
        user: str = "",
        token: str = "",
        creator: str = "cockpit",
        also_ours: tuple[str, ...] = (),
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        max_retries: int = 2,
        sleep: Sleep = asyncio.sleep,
        deadline: float = REQUEST_DEADLINE,
    ) -> None:
        if not deadline > 0:
            raise ValueError("deadline must be more than 0 seconds")
        self.deadline = deadline
        self.base_url = check_base_url(base_url, secret=bool(token))
        # What messages and repr show: a user:password@ in the URL never reaches a screen.
        self._shown_url = urls.shown(self.base_url)
        self.creator = creator or "cockpit"
        self._ours = {self.creator, *also_ours}
        self.max_retries = max_retries
        self._secret = token
        self._sleep = sleep
        self.request_count = 0
        auth: httpx.Auth | None = None
        headers = {"Accept": "application/json"}
        if user:
            auth = httpx.BasicAuth(user, token)
        elif token:
            headers["Authorization"] = f"Bearer {token}"
        self._client = httpx.AsyncClient(
            base_url=self.base_url + "/api/v2",
            headers=headers,
            auth=auth,
            timeout=httpx.Timeout(timeout),
            transport=transport,
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"AlertmanagerProvider({self._shown_url!r})"

    @property
    def request_deadline(self) -> float:
        """Seconds after which no request of this provider is still in flight (the sync
        layer waits this long before re-checking a write in doubt)."""
        return self.deadline

    async def __aenter__(self) -> AlertmanagerProvider:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    # ------------------------------------------------------------ reads

    async def snapshot(self, now: datetime | None = None) -> Snapshot:
        """Groups, our silences and the server's start time, read together."""
        now = now or datetime.now(UTC)
        status, raw_silences, raw_groups = await asyncio.gather(
            self._request("GET", "/status"),
            self._request("GET", "/silences"),
            self._request("GET", "/alerts/groups"),
        )
        silences = [parse.silence(s) for s in _list(raw_silences) if isinstance(s, dict)]
        ours = [s for s in silences if s.created_by in self._ours]
        live = {s.id: s for s in ours if s.live}
        groups = [parse.group(g, live, now) for g in _list(raw_groups) if isinstance(g, dict)]
        uptime = parse.parse_time(status.get("uptime")) if isinstance(status, dict) else None
        return Snapshot(groups, ours, uptime, now)

    async def server_version(self) -> str:
        """The server's version from ``GET /status`` (a read that needs the credentials)."""
        status = await self._request("GET", "/status")
        info = status.get("versionInfo") if isinstance(status, dict) else None
        version = info.get("version") if isinstance(info, dict) else None
        return str(version) if version else "unknown version"

    async def whoami(self) -> PersonRecord:
        return PersonRecord(id=self.creator, name=self.creator)

    async def get_incident(self, incident_id: str) -> IncidentRecord:
        return (await self._group(incident_id)).incident

    async def list_incidents(
        self,
        since: datetime,
        until: datetime | None = None,
        progress: ProgressCallback | None = None,
    ) -> AsyncIterator[IncidentRecord]:
        """Groups firing now whose newest alert update falls in [since, until)."""
        snap = await self.snapshot()
        found = [
            g.incident
            for g in snap.groups
            if g.incident.updated_at >= since and (until is None or g.incident.updated_at < until)
        ]
        if progress:
            progress(len(found), len(found), "alert groups")
        for record in found:
            yield record

    async def changes_since(
        self, watermark: datetime, progress: ProgressCallback | None = None
    ) -> ChangePage:
        """Groups updated since ``watermark``. Alertmanager keeps no log, so no entries: the
        sync layer derives trigger and resolve events by comparing snapshots."""
        snap = await self.snapshot()
        found = [g.incident for g in snap.groups if g.incident.updated_at >= watermark]
        if progress:
            progress(len(found), len(found), "alert groups")
        return ChangePage(found, [], snap.fetched_at, complete=True)

    async def log_entries(
        self,
        since: datetime,
        until: datetime | None = None,
        progress: ProgressCallback | None = None,
    ) -> AsyncIterator[LogEntryRecord]:
        empty: list[LogEntryRecord] = []  # Alertmanager keeps no log
        for entry in empty:
            yield entry

    async def incident_log_entries(self, incident_id: str) -> list[LogEntryRecord]:
        return []

    async def alerts(self, incident_id: str) -> list[AlertRecord]:
        return list((await self._group(incident_id)).alerts)

    async def notes(self, incident_id: str) -> list[NoteRecord]:
        return []  # notes stay local

    async def oncalls(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> list[OnCallRecord]:
        return []

    async def people(self) -> list[PersonRecord]:
        return []

    # ------------------------------------------------------------ writes

    async def acknowledge(self, incident_id: str, *, comment: str = "") -> IncidentRecord:
        """Silence the group for ``ACK_SECONDS``; an existing silence of ours is kept as is."""
        return await self._silence(incident_id, ACK_SECONDS, comment or ACK_COMMENT, False)

    async def snooze(self, incident_id: str, seconds: int, *, comment: str = "") -> IncidentRecord:
        """Silence the group for ``seconds`` from now; an existing silence of ours is moved to
        end then (a retry only restarts the same timer)."""
        if not 1 <= seconds <= MAX_SILENCE:
            raise InvalidRequest(
                f"snooze duration must be 1 to {MAX_SILENCE} seconds, not {seconds}"
            )
        text = comment or f"snoozed for {compact(seconds)} in cockpit"
        return await self._silence(incident_id, seconds, text, True)

    async def resolve(self, incident_id: str) -> IncidentRecord:
        """Expire our silences of the group. Alertmanager cannot resolve an alert (Prometheus
        does, when it clears): if the group still fires, it is returned as triggered.

        Raises:
            GroupCleared: the group no longer fires (it is resolved); our silences are gone.
        """
        snap = await self.snapshot()
        found = _find(snap, incident_id)
        await self._expire(_ours_for(snap, incident_id, found))
        if found is None:
            raise GroupCleared(incident_id, "our silences for it are expired")
        return dataclasses.replace(found.incident, status="triggered", acknowledged_at=None)

    async def expire_silences(self, incident_id: str, snap: Snapshot | None = None) -> list[str]:
        """Expire every live silence of ours for a group (found by matchers or by tag)."""
        snap = snap or await self.snapshot()
        silences = _ours_for(snap, incident_id, _find(snap, incident_id))
        await self._expire(silences)
        return [s.id for s in silences]

    async def reassign(
        self, incident_id: str, person_id: str, *, acknowledge: bool = False
    ) -> IncidentRecord:
        raise InvalidRequest("Alertmanager has no assignment: the baton stays local")

    async def escalate(self, incident_id: str, level: int) -> IncidentRecord:
        raise InvalidRequest("Alertmanager has no escalation levels")

    async def add_note(self, incident_id: str, content: str) -> NoteRecord:
        raise InvalidRequest("Alertmanager has no notes: notes stay in the local store")

    async def _group(self, incident_id: str) -> Group:
        found = _find(await self.snapshot(), incident_id)
        if found is None:
            raise GroupCleared(incident_id, "it is no longer listed")
        return found

    async def _silence(
        self, incident_id: str, seconds: int, comment: str, move_end: bool
    ) -> IncidentRecord:
        snap = await self.snapshot()
        found = _find(snap, incident_id)
        if found is None:
            raise GroupCleared(incident_id, "nothing to silence")
        matchers = found.matchers
        if not matchers:
            raise InvalidRequest(
                f"Alertmanager alert group {incident_id} has no labels to build a silence from"
            )
        now = datetime.now(UTC)
        end = now + timedelta(seconds=seconds)
        existing = [s for s in _ours_for(snap, incident_id, found) if s.matchers == matchers]
        tagged = f"{comment} {GROUP_TAG.format(incident_id)}"
        body: dict[str, Any] = {
            "matchers": [m.to_json() for m in sorted(matchers, key=lambda m: m.name)],
            "startsAt": parse.format_time(now),
            "endsAt": parse.format_time(end),
            "createdBy": self.creator,
            "comment": tagged,
        }
        if existing:
            current = max(existing, key=lambda s: s.ends_at)
            started = current.starts_at
            if not move_end:
                return _acknowledged(found, started)
            body.update(id=current.id, startsAt=parse.format_time(current.starts_at))
        else:
            started = now
        await self._request("POST", "/silences", json=body, idempotent=False)
        return _acknowledged(found, started)

    async def _expire(self, silences: list[Silence]) -> None:
        for item in silences:
            try:
                await self._request("DELETE", f"/silence/{quote(item.id, safe='')}")
            except NotFound:
                continue  # gone already: what we wanted
            except Unavailable as error:
                # 0.25 answers 500 for a silence that expired between the list and the delete.
                if "already expired" not in str(error):
                    raise

    # ------------------------------------------------------------ HTTP

    async def _request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        idempotent: bool = True,
    ) -> Any:
        attempt = 0
        what = f"Alertmanager {method} /api/v2{path}"
        # A write that must not arrive twice has one deadline for everything, so that whoever
        # holds the lock guarding it knows when it is over.
        ends_at = None if idempotent else time.monotonic() + self.deadline
        while True:
            limit = self.deadline if ends_at is None else ends_at - time.monotonic()
            if limit <= 0:
                raise Unavailable(
                    f"{what} ({self._shown_url}): not sent, its {self.deadline:g} s deadline "
                    "passed while it waited"
                )
            try:
                self.request_count += 1
                async with asyncio.timeout(limit):
                    response = await self._client.request(method, path, json=json)
            except TimeoutError:
                # Our deadline, not httpx's timeout: the answer as a whole came too slowly.
                late = (
                    f"{what} ({self._shown_url}): no complete answer within the "
                    f"{self.deadline:g} s deadline"
                )
                if not idempotent:
                    raise Unavailable(
                        f"{late}; not retried because the write may have arrived: check the "
                        "silences before sending it again"
                    ) from None
                if attempt >= self.max_retries:
                    raise Unavailable(f"{late} after {attempt + 1} tries") from None
                await self._sleep(0.2 * 2**attempt)
                attempt += 1
                continue
            except httpx.TransportError as error:
                surely_unsent = isinstance(error, httpx.ConnectError | httpx.ConnectTimeout)
                if attempt >= self.max_retries or not (idempotent or surely_unsent):
                    raise Unavailable(
                        f"{what} ({self._shown_url}): {type(error).__name__} "
                        f"after {attempt + 1} tries"
                    ) from None
                pause = 0.2 * 2**attempt
                if ends_at is not None:
                    pause = min(pause, max(ends_at - time.monotonic(), 0.0))
                await self._sleep(pause)
                attempt += 1
                continue
            status = response.status_code
            if status >= 500:
                detail = self._scrub(parse.error_text(response.content))
                if attempt >= self.max_retries or not idempotent or "already expired" in detail:
                    raise Unavailable(f"{what} failed ({status}): {detail}", status=status)
                await self._sleep(0.2 * 2**attempt)
                attempt += 1
                continue
            if status >= 400 or status < 200:
                raise self._error(response, what)
            if not response.content:
                return {}
            try:
                return response.json()
            except ValueError:
                raise ProviderError(
                    f"{what} answered {status} with a body that is not JSON", status=status
                ) from None

    def _error(self, response: httpx.Response, what: str) -> ProviderError:
        status = response.status_code
        detail = self._scrub(parse.error_text(response.content) or response.reason_phrase)
        if status in (401, 403):
            return AuthError(
                f"Alertmanager at {self._shown_url} refused the credentials ({status}): {detail}",
                status=status,
            )
        if status == 404:
            return NotFound(f"{what}: not found (404): {detail}", status=404)
        return InvalidRequest(f"{what} refused ({status}): {detail}", status=status)

    def _scrub(self, text: str) -> str:
        return text.replace(self._secret, "***") if self._secret else text


def _find(snap: Snapshot, incident_id: str) -> Group | None:
    return next((g for g in snap.groups if g.id == incident_id), None)


def _ours_for(snap: Snapshot, incident_id: str, found: Group | None) -> list[Silence]:
    """Our live silences for a group: tagged with its id, or with exactly its matchers."""
    tag = GROUP_TAG.format(incident_id)
    matchers = found.matchers if found is not None else None
    return [
        s
        for s in snap.silences
        if s.live and (tag in s.comment or (matchers and s.matchers == matchers))
    ]


def _acknowledged(found: Group, started: datetime) -> IncidentRecord:
    return dataclasses.replace(
        found.incident,
        status="acknowledged",
        acknowledged_at=found.incident.acknowledged_at or started,
    )


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


__all__ = ["ACK_SECONDS", "AlertmanagerProvider", "GroupCleared", "Snapshot", "check_base_url"]
