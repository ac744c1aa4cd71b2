"""The PagerDuty REST v2 adapter: a PagingProvider over httpx.

Requests follow the published spec (``limit``/``offset``/``more`` pagination, ``From`` on every
write). What the spec leaves out and this module handles: ``offset + limit`` may not pass
10,000, so a window that holds more is narrowed and continued; ``/incidents`` windows are at most
6 months; 429 answers carry ``ratelimit-reset``. The token never appears in a message.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from cockpit.integrations import pagerduty_parse as parse
from cockpit.integrations.base import (
    WRITES,
    AuthError,
    Capabilities,
    InvalidRequest,
    MissingSetting,
    NotFound,
    ProgressCallback,
    ProviderError,
)
from cockpit.integrations.pagerduty_http import (
    REQUEST_DEADLINE,
    PagerDutyHTTP,
    Sleep,
    check_base_url,
    check_from,
)
from cockpit.integrations.pagerduty_parse import as_dict, as_list
from cockpit.integrations.ratelimit import RequestBudget
from cockpit.records import (
    AlertRecord,
    ChangePage,
    IncidentRecord,
    LogEntryRecord,
    NoteRecord,
    OnCallRecord,
    PersonRecord,
)

PAGE = 100
OFFSET_CAP = 10_000  # offset + limit may not pass this (400, code 2001)
MAX_WINDOW = timedelta(days=180)  # /incidents refuses since/until > 6 months apart
WATERMARK_OVERLAP = timedelta(seconds=5)  # re-read a little: clocks skew, upserts are idempotent
MAX_SNOOZE = 604_800

Window = tuple[datetime | None, datetime | None]


class PagerDutyProvider:
    """PagerDuty REST v2.

    Args:
        base_url: ``https://api.pagerduty.com`` or the emulator's loopback URL.
        token: a REST API token, sent as ``Authorization: Token token=...``.
        from_email: sent as ``From`` on writes; empty: the email of ``/users/me``, fetched once.
        budget: the request budget shared with the user's other cockpit processes.
        timeout: seconds for each request.
        max_retries: retries after a 429, a 5xx, a timeout or a network error.
        transport: an httpx transport (tests only).
        verify: TLS verification, or a CA bundle path (the emulator's self-signed certificate).
        sleep: awaited for every wait (tests pass one that does not really wait).
        backoff_base, backoff_cap: full-jitter exponential backoff bounds, in seconds.
        deadline: the most one attempt may take, answer included (``REQUEST_DEADLINE``).
    """

    name: ClassVar[str] = "pagerduty"
    capabilities: ClassVar[Capabilities] = Capabilities(writes=WRITES, pull="log")

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        from_email: str = "",
        budget: RequestBudget | None = None,
        timeout: float = 10.0,
        max_retries: int = 5,
        transport: httpx.AsyncBaseTransport | None = None,
        verify: bool | str = True,
        sleep: Sleep = asyncio.sleep,
        backoff_base: float = 0.5,
        backoff_cap: float = 8.0,
        deadline: float = REQUEST_DEADLINE,
    ) -> None:
        self._http = PagerDutyHTTP(
            base_url,
            token,
            budget=budget,
            timeout=timeout,
            max_retries=max_retries,
            transport=transport,
            verify=verify,
            sleep=sleep,
            backoff_base=backoff_base,
            backoff_cap=backoff_cap,
            deadline=deadline,
        )
        self.base_url = self._http.base_url
        self.budget = budget
        self._from = from_email
        self._from_lock = asyncio.Lock()

    @property
    def request_deadline(self) -> float:
        """Seconds after which no request of this provider is still in flight (the sync
        layer waits this long before re-checking a write in doubt)."""
        return self._http.deadline

    @property
    def request_count(self) -> int:
        """HTTP requests sent so far, retries included."""
        return self._http.request_count

    def __repr__(self) -> str:
        return f"PagerDutyProvider({self.base_url!r})"

    async def __aenter__(self) -> PagerDutyProvider:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # ------------------------------------------------------------ reads

    async def whoami(self) -> PersonRecord:
        body = await self._request("GET", "/users/me")
        me = parse.person(as_dict(body.get("user")))
        if not self._from and me.email:
            self._from = me.email
        return me

    async def get_incident(self, incident_id: str) -> IncidentRecord:
        body = await self._request("GET", f"/incidents/{_seg(incident_id)}")
        return parse.incident(as_dict(body.get("incident")))

    async def list_incidents(
        self,
        since: datetime,
        until: datetime | None = None,
        progress: ProgressCallback | None = None,
    ) -> AsyncIterator[IncidentRecord]:
        """Incidents created in [since, until), oldest first, in windows of at most 6 months."""
        # `since` alone would mean one month, so the end is always given
        end = until or datetime.now(UTC) + timedelta(minutes=1)
        params = {"sort_by": "created_at:asc"}
        rows = self._windowed("/incidents", "incidents", params, since, end)
        async for raw in _counted(rows, progress, "incidents"):
            yield parse.incident(raw)

    async def log_entries(
        self,
        since: datetime,
        until: datetime | None = None,
        progress: ProgressCallback | None = None,
    ) -> AsyncIterator[LogEntryRecord]:
        params = {"is_overview": "false"}
        rows = self._windowed("/log_entries", "log_entries", params, since, until)
        async for raw in _counted(rows, progress, "log entries"):
            yield parse.log_entry(raw)

    async def changes_since(
        self, watermark: datetime, progress: ProgressCallback | None = None
    ) -> ChangePage:
        """Account-wide log entries since ``watermark`` and the incidents they touch.

        One request per 100 changes: each entry carries its incident (``include[]=incidents``),
        and only incidents missing from the answer are fetched one by one. The new watermark is
        the newest entry seen minus a few seconds of overlap (the sync upserts, so re-reading is
        harmless); with no entries it stays where it was, so no change is ever skipped.
        """
        params = {"is_overview": "false", "include[]": "incidents"}
        entries: list[LogEntryRecord] = []
        incidents: dict[str, IncidentRecord] = {}
        async for raw in self._windowed("/log_entries", "log_entries", params, watermark, None):
            entry = parse.log_entry(raw)
            entries.append(entry)
            if parse.is_full_incident(raw.get("incident")):
                incidents[entry.incident_id] = parse.incident(as_dict(raw["incident"]))
            if progress and len(entries) % PAGE == 0:
                progress(len(entries), None, "changes")
        missing = sorted({e.incident_id for e in entries if e.incident_id} - set(incidents))
        for incident_id in missing:
            try:
                incidents[incident_id] = await self.get_incident(incident_id)
            except NotFound:
                continue  # deleted or merged away since the entry was written
        newest = max((e.created_at for e in entries), default=None)
        mark = max(watermark, newest - WATERMARK_OVERLAP) if newest else watermark
        if progress:
            progress(len(entries), len(entries), "changes")
        return ChangePage(list(incidents.values()), entries, mark, complete=True)

    async def incident_log_entries(self, incident_id: str) -> list[LogEntryRecord]:
        path = f"/incidents/{_seg(incident_id)}/log_entries"
        params = {"is_overview": "false"}
        return [parse.log_entry(raw) async for raw in self._pages(path, "log_entries", params)]

    async def alerts(self, incident_id: str) -> list[AlertRecord]:
        path = f"/incidents/{_seg(incident_id)}/alerts"
        params = {"sort_by": "created_at:asc"}
        return [parse.alert(raw, incident_id) async for raw in self._pages(path, "alerts", params)]

    async def notes(self, incident_id: str) -> list[NoteRecord]:
        body = await self._request("GET", f"/incidents/{_seg(incident_id)}/notes")
        return [parse.note(as_dict(raw), incident_id) for raw in as_list(body.get("notes"))]

    async def oncalls(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        *,
        earliest: bool | None = None,
    ) -> list[OnCallRecord]:
        """On-call entries overlapping [since, until) (default: now); ``earliest`` keeps only
        the first one per escalation policy, level and user (default: only when asking about
        now, since over a window it would drop every later shift of the same person)."""
        if earliest is None:
            earliest = since is None and until is None
        params: dict[str, Any] = {"earliest": "true" if earliest else "false"}
        if since:
            params["since"] = parse.format_time(since)
        if until:
            params["until"] = parse.format_time(until)
        return [parse.oncall(raw) async for raw in self._pages("/oncalls", "oncalls", params)]

    async def people(self) -> list[PersonRecord]:
        params = {"include[]": "teams"}
        return [parse.person(raw) async for raw in self._pages("/users", "users", params)]

    # ------------------------------------------------------------ writes
    #
    # Only resolve is retried here after a timeout or a 5xx: resolving twice changes nothing.
    # The others are "in doubt" when their answer is lost and go back to the outbox, which
    # reads the remote state before sending again (cockpit.sync.push, rule 4): a second
    # escalation or reassignment pages people again, a second snooze restarts its timer, and
    # a second acknowledgement would reopen an incident resolved in the meantime.

    async def acknowledge(self, incident_id: str) -> IncidentRecord:
        return await self._update(incident_id, {"status": "acknowledged"}, idempotent=False)

    async def resolve(self, incident_id: str) -> IncidentRecord:
        return await self._update(incident_id, {"status": "resolved"})

    async def reassign(
        self, incident_id: str, person_id: str, *, acknowledge: bool = False
    ) -> IncidentRecord:
        """Reassign. PagerDuty sends a reassigned incident back to ``triggered`` and notifies
        the assignee; with ``acknowledge`` the same PUT also acknowledges it (the spec's
        ``status`` and ``assignments`` in one body), as the caller in ``From``."""
        assignee = {"id": person_id, "type": "user_reference"}
        fields: dict[str, Any] = {"assignments": [{"assignee": assignee}]}
        if acknowledge:
            fields["status"] = "acknowledged"
        return await self._update(incident_id, fields, idempotent=False)

    async def escalate(self, incident_id: str, level: int) -> IncidentRecord:
        return await self._update(incident_id, {"escalation_level": level}, idempotent=False)

    async def snooze(self, incident_id: str, seconds: int) -> IncidentRecord:
        """Snooze for ``seconds`` (1 to 604,800). Not retried blindly: a second snooze would
        restart the timer from a later moment."""
        if not 1 <= seconds <= MAX_SNOOZE:
            raise InvalidRequest(
                f"snooze duration must be 1 to {MAX_SNOOZE} seconds, not {seconds}"
            )
        path = f"/incidents/{_seg(incident_id)}/snooze"
        body = await self._request(
            "POST", path, json={"duration": seconds}, write=True, idempotent=False
        )
        return parse.incident(as_dict(body.get("incident")))

    async def add_note(self, incident_id: str, content: str) -> NoteRecord:
        """Add a note. Not idempotent, so never retried blindly.

        A timeout, a dropped connection or a 5xx after the request went out raises
        Unavailable at once: the note may or may not exist. The sync layer's outbox must look
        at the incident's notes before sending again. Only failures where the request surely
        did not arrive (connection refused, 429) are retried here.
        """
        path = f"/incidents/{_seg(incident_id)}/notes"
        body = await self._request(
            "POST", path, json={"note": {"content": content}}, write=True, idempotent=False
        )
        return parse.note(as_dict(body.get("note")), incident_id)

    async def _update(
        self, incident_id: str, fields: dict[str, Any], *, idempotent: bool = True
    ) -> IncidentRecord:
        payload = {"incident": {"type": "incident_reference", **fields}}
        path = f"/incidents/{_seg(incident_id)}"
        body = await self._request("PUT", path, json=payload, write=True, idempotent=idempotent)
        return parse.incident(as_dict(body.get("incident")))

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        write: bool = False,
        idempotent: bool = True,
    ) -> dict[str, Any]:
        headers = {"From": await self._from_header()} if write else None
        return await self._http.request(
            method, path, params=params, json=json, headers=headers, idempotent=idempotent
        )

    async def _from_header(self) -> str:
        """The ``From`` of a write: ``from_email``, else the email of ``/users/me`` (asked once).

        An account-level API key cannot ask ``/users/me``, so its writes need ``pagerduty_from``:
        without it they raise AuthError, which pauses writes (nothing is lost) until the user
        says whom to write as; the message names the setting and the commands that set it.
        A token refused everywhere raises ``/users/me``'s own error, which does not.
        """
        set_it = (
            "set pagerduty_from to your PagerDuty email: `cockpit config set pagerduty_from "
            "you@example.com` or `cockpit auth login pagerduty --from-email you@example.com`"
        )
        async with self._from_lock:
            if not self._from:
                try:
                    me = await self.whoami()
                except (AuthError, InvalidRequest) as error:
                    if error.status not in (400, 401, 403):
                        raise
                    try:
                        # A key that still reads /users is an account-level key; one that
                        # does not is simply refused, and must be reported as that.
                        await self._http.request("GET", "/users", params={"limit": 1})
                    except ProviderError:
                        raise error from None
                    raise MissingSetting(
                        f"{error}; writes need a From email, and an account-level API key "
                        f"cannot ask /users/me for it: {set_it}",
                        status=error.status,
                        code=error.code,
                    ) from None
                if not me.email:
                    raise InvalidRequest(
                        f"PagerDuty /users/me has no email to send as From: {set_it}"
                    )
            # Checked here as well as when settings load: a From from code or from /users/me
            # would otherwise reach httpx, which raises UnicodeEncodeError on non-ASCII.
            return check_from(self._from)

    # ------------------------------------------------------------ pagination

    async def _windowed(
        self,
        path: str,
        key: str,
        params: dict[str, Any],
        since: datetime,
        until: datetime | None,
    ) -> AsyncIterator[dict[str, Any]]:
        """``_pages`` over [since, until) cut into spans of at most 6 months, each id once."""
        seen: set[str] = set()
        for span in _spans(since, until, datetime.now(UTC)):
            async for raw in self._pages(path, key, params, span, seen):
                yield raw

    async def _pages(
        self,
        path: str,
        key: str,
        params: dict[str, Any],
        window: Window | None = None,
        seen: set[str] | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Every object of a paginated list, each id once.

        With a time ``window``, a window that holds more than the 10,000 the offset can reach is
        narrowed: when the answers come sorted by ``created_at``, the rest of the window after
        (or before) the last object seen; otherwise the two halves of the window. Overlaps are
        deduplicated by id. Without a window, reaching the cap is an error, never a silent stop.

        From the second page on, the page after the next is asked for before this one is
        used, so the server prepares one while the client decodes another (two in flight).
        A window wastes at most that one request: the one asked past its last page.
        """
        seen = set() if seen is None else seen
        windows: list[Window] = [window or (None, None)]
        while windows:
            since, until = windows.pop()
            offset = 0
            first: datetime | None = None
            low: datetime | None = None
            high: datetime | None = None
            ahead: dict[int, asyncio.Future[dict[str, Any]]] = {}
            try:
                while True:
                    body = await (
                        ahead.pop(offset, None) or self._page(path, params, offset, since, until)
                    )
                    items = [as_dict(item) for item in as_list(body.get(key))]
                    more = bool(body.get("more")) and bool(items)
                    following = offset + len(items)
                    if more and len(items) == PAGE and following + 2 * PAGE <= OFFSET_CAP:
                        beyond = following + PAGE  # a full page that says more: it exists
                        if following not in ahead:
                            ahead[following] = self._page_soon(
                                path, params, following, since, until
                            )
                        ahead[beyond] = self._page_soon(path, params, beyond, since, until)
                    for item in items:
                        stamp = parse.parse_time(item.get("created_at"))
                        if stamp is not None:
                            first = first or stamp
                            low = stamp if low is None or stamp < low else low
                            high = stamp if high is None or stamp > high else high
                        ident = item.get("id")
                        if isinstance(ident, str) and ident:
                            if ident in seen:
                                continue
                            seen.add(ident)
                        yield item
                    if not more:
                        _let_finish(ahead)
                        break
                    offset = following
                    if offset + PAGE <= OFFSET_CAP:
                        continue
                    windows.extend(_narrow(path, since, until, first, low, high, items))
                    break
            finally:
                for pending in ahead.values():
                    pending.cancel()

    def _page(
        self,
        path: str,
        params: dict[str, Any],
        offset: int,
        since: datetime | None,
        until: datetime | None,
    ) -> Coroutine[Any, Any, dict[str, Any]]:
        query = {k: v for k, v in params.items() if v is not None}
        query.update(limit=PAGE, offset=offset)
        if since is not None:
            query["since"] = parse.format_time(since)
        if until is not None:
            query["until"] = parse.format_time(until)
        return self._request("GET", path, params=query)

    def _page_soon(
        self,
        path: str,
        params: dict[str, Any],
        offset: int,
        since: datetime | None,
        until: datetime | None,
    ) -> asyncio.Future[dict[str, Any]]:
        return asyncio.ensure_future(self._page(path, params, offset, since, until))

    # ------------------------------------------------------------ HTTP


def _let_finish(ahead: dict[int, asyncio.Future[dict[str, Any]]]) -> None:
    """Let the page asked past the last one finish unused: cancelling it mid-answer would
    close its connection, and a new one costs a TLS handshake."""
    for pending in ahead.values():
        pending.add_done_callback(_ignore_outcome)
    ahead.clear()


def _ignore_outcome(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()  # retrieved: an unused page's failure is nobody's error


def _narrow(
    path: str,
    since: datetime | None,
    until: datetime | None,
    first: datetime | None,
    low: datetime | None,
    high: datetime | None,
    page: list[dict[str, Any]],
) -> list[Window]:
    """What is left of a window whose offset reached the cap; popped last-in, first-out."""
    last = parse.parse_time(page[-1].get("created_at")) if page else None
    if first is not None and last is not None and last >= first and last == high:
        rest: list[Window] = [(last, until)]  # ascending: carry on after the newest seen
        shrunk = since is None or last > since
    elif first is not None and last is not None and last == low:
        rest = [(since, last + timedelta(seconds=1))]  # descending: before the oldest seen
        shrunk = until is None or last + timedelta(seconds=1) < until
    elif since is not None:
        end = until or datetime.now(UTC) + timedelta(minutes=1)
        middle = since + (end - since) / 2
        rest = [(middle, end), (since, middle)]
        shrunk = end - since > timedelta(seconds=2)
    else:
        shrunk = False
    if not shrunk:
        raise ProviderError(
            f"PagerDuty {path}: more than {OFFSET_CAP} objects in one window that cannot be "
            "narrowed further; nothing was skipped silently, but the list is incomplete"
        )
    return rest


def _spans(since: datetime, until: datetime | None, now: datetime) -> list[Window]:
    """[since, until) as windows of at most MAX_WINDOW; an open, recent window stays open so
    an incremental pull is one plain request."""
    if until is None:
        if now - since <= MAX_WINDOW:
            return [(since, None)]
        until = now + timedelta(minutes=1)
    spans: list[Window] = []
    start = since
    while start < until:
        stop = min(start + MAX_WINDOW, until)
        spans.append((start, stop))
        start = stop
    return spans


def _seg(value: str) -> str:
    return quote(value, safe="")


__all__ = ["PagerDutyProvider", "check_base_url"]


async def _counted(
    rows: AsyncIterator[dict[str, Any]], progress: ProgressCallback | None, what: str
) -> AsyncIterator[dict[str, Any]]:
    """``rows`` as they come, saying how many so far once a page (and the total at the end)."""
    done = 0
    async for row in rows:
        done += 1
        if progress and done % PAGE == 0:
            progress(done, None, what)
        yield row
    if progress:
        progress(done, done, what)
