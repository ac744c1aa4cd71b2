"""HTTP to PagerDuty REST v2: headers, the request budget, retries, and errors as
ProviderError subclasses whose messages never hold the token."""

from __future__ import annotations

import asyncio
import random
import ssl
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from cockpit.integrations import pagerduty_parse as parse
from cockpit.integrations import urls
from cockpit.integrations.base import (
    AlreadyInState,
    AuthError,
    InsecureURL,
    InvalidRequest,
    NotFound,
    ProviderError,
    RateLimited,
    Unavailable,
)
from cockpit.integrations.pagerduty_parse import as_dict
from cockpit.integrations.ratelimit import MAX_WAIT, RequestBudget, header_wait

ACCEPT = "application/vnd.pagerduty+json;version=2"
# The longest one attempt at a request may take, from its first byte sent to the last byte of
# the answer (``deadline`` changes it per client). httpx's timeout is per read, so a server
# that trickles a byte every few seconds never trips it; this does. A request that is not
# idempotent (a note) ends within it altogether, waits and retries included, so a sender's
# lock or lease must outlive REQUEST_DEADLINE (plus whatever the sender reads before
# sending): then it never expires while the write may still be on its way. A read is retried
# after a deadline like after a timeout: at most (max_retries + 1) deadlines plus its waits.
REQUEST_DEADLINE = 30.0
_WRITE_MAY_HAVE_ARRIVED = (
    "not retried because the write may have arrived: check the incident before sending it again"
)

Sleep = Callable[[float], Awaitable[None]]
_READ = httpx.ByteStream(b"")  # what a read response's stream is replaced with


def check_base_url(base_url: str) -> str:
    """The base URL; see :func:`cockpit.integrations.urls.check_base_url`."""
    return urls.check_base_url(base_url, "pagerduty_url", "the token")


class PagerDutyHTTP:
    """One httpx client with PagerDuty's headers, the shared budget and bounded retries.

    A 429 waits ``ratelimit-reset`` (else ``Retry-After``, else 1 s; at most ``MAX_WAIT``, an
    epoch or a date read as the time it names) and tells the budget, so the user's other
    processes hold off too; with a budget the wait is the budget's, reported through its
    ``waiting`` / ``on_wait``. A 5xx, a timeout or a network error backs off
    exponentially with full jitter. Non-idempotent requests are retried only when they surely
    never arrived (connection refused, 429), and only within their deadline.

    Every attempt ends within ``deadline`` seconds (see :data:`REQUEST_DEADLINE`); a request
    that is not idempotent ends within it altogether.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
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
        self.base_url = check_base_url(base_url)
        if not token:
            raise AuthError("no PagerDuty token: run `cockpit auth login pagerduty`")
        if not deadline > 0:
            raise ValueError("deadline must be more than 0 seconds")
        self._token = token
        self.budget = budget
        self.max_retries = max_retries
        self.deadline = deadline
        self._sleep = sleep
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._random = random.Random()
        self.request_count = 0  # HTTP requests sent, retries included
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            headers={
                "Authorization": f"Token token={token}",
                "Accept": ACCEPT,
                "Content-Type": "application/json",
            },
            timeout=httpx.Timeout(timeout),
            transport=transport,
            verify=_tls(verify),
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"PagerDutyHTTP({self.base_url!r})"

    async def aclose(self) -> None:
        await self._client.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        idempotent: bool = True,
    ) -> dict[str, Any]:
        """The JSON object PagerDuty answered; raises a ProviderError subclass otherwise."""
        for name, value in (headers or {}).items():
            _check_header(name, value)
        # A write that must not arrive twice has one deadline for everything, so that whoever
        # holds the lock guarding it knows when it is over (see REQUEST_DEADLINE).
        ends_at = None if idempotent else time.monotonic() + self.deadline
        attempt = 0
        while True:
            if self.budget is not None:
                await self._acquire(self.budget, method, path, ends_at)
            limit = self.deadline if ends_at is None else ends_at - time.monotonic()
            if limit <= 0:
                raise Unavailable(
                    f"PagerDuty {method} {path}: not sent, its {self.deadline:g} s deadline "
                    "passed while it waited"
                )
            try:
                self.request_count += 1
                async with asyncio.timeout(limit):
                    response = await self._client.request(
                        method, path, params=params, json=json, headers=headers
                    )
            except TimeoutError:
                # Our deadline, not httpx's timeout: the server answered too slowly as a whole
                # (a trickle). Whatever was sent may have arrived, as after a read timeout.
                what = (
                    f"PagerDuty {method} {path}: no complete answer within the "
                    f"{self.deadline:g} s deadline"
                )
                if not idempotent:
                    raise Unavailable(f"{what}; {_WRITE_MAY_HAVE_ARRIVED}") from None
                if attempt >= self.max_retries:
                    raise Unavailable(f"{what} after {attempt + 1} tries") from None
                await self._backoff(attempt)
                attempt += 1
                continue
            except httpx.TransportError as error:
                if _untrusted_certificate(error):
                    # Retrying cannot help, and it is not the network being down.
                    raise InsecureURL(
                        f"PagerDuty {method} {path}: the server's TLS certificate is not "
                        f"trusted ({self._client.base_url.host}); for a private CA or the "
                        "emulator's --tls, set pagerduty_ca_bundle to its certificate file"
                    ) from None
                surely_unsent = isinstance(error, httpx.ConnectError | httpx.ConnectTimeout)
                what = f"PagerDuty {method} {path}: {type(error).__name__}"
                if not idempotent and not surely_unsent:
                    raise Unavailable(f"{what}; {_WRITE_MAY_HAVE_ARRIVED}") from None
                if attempt >= self.max_retries:
                    raise Unavailable(f"{what} after {attempt + 1} tries") from None
                await self._backoff(attempt, ends_at)
                attempt += 1
                continue
            # The body is read and the stream closed, but the stream still refers back to
            # the response: a reference cycle only the collector frees, which kept each
            # page's ~150 KB body alive until it ran, or for good once the screen's clock had
            # frozen it (gc.freeze). Cut, the response goes with its last reference.
            response.stream = _READ
            if self.budget is not None:
                self.budget.observe(response.headers)
            status = response.status_code
            if status == 429:
                wait = _reset_after(response.headers)
                past_deadline = ends_at is not None and time.monotonic() + wait >= ends_at
                if attempt >= self.max_retries or past_deadline:
                    if self.budget is not None:
                        self.budget.pause(wait)  # the user's other processes hold off too
                    raise RateLimited(
                        f"PagerDuty rate limit: {method} {path} still refused (429) after "
                        f"{attempt + 1} tries; the budget refills in {wait:g}s",
                        reset_after=wait,
                        status=429,
                    )
                attempt += 1
                if self.budget is not None:
                    # The budget sits the pause out at the top of the loop (saying why), and
                    # waits longer if another process was told a later reset meanwhile.
                    self.budget.pause(wait)
                else:
                    await self._sleep(wait)
                continue
            if status >= 500:
                what = f"PagerDuty {method} {path} failed ({status})"
                if not idempotent:
                    raise Unavailable(f"{what}; {_WRITE_MAY_HAVE_ARRIVED}", status=status)
                if attempt >= self.max_retries:
                    raise Unavailable(f"{what} after {attempt + 1} tries", status=status)
                await self._backoff(attempt)
                attempt += 1
                continue
            if status >= 400 or status < 200:
                raise self._error(response, method, path)
            if not response.content:
                return {}
            try:
                return as_dict(response.json())
            except ValueError:
                raise ProviderError(
                    f"PagerDuty {method} {path} answered {status} with a body that is not JSON",
                    status=status,
                ) from None

    async def _acquire(
        self, budget: RequestBudget, method: str, path: str, ends_at: float | None
    ) -> None:
        """Spend one request of the shared budget, waiting for it only within ``ends_at``."""
        left = None if ends_at is None else max(ends_at - time.monotonic(), 0.0)
        if await budget.acquire(max_wait=left):
            return
        wait = budget.wait_needed()
        seconds = wait.seconds if wait else 0.0
        raise RateLimited(
            f"PagerDuty rate limit: {method} {path} not sent, the wait "
            f"{wait.reason if wait else ''} ({seconds:.0f} s) would pass its "
            f"{self.deadline:g} s deadline",
            reset_after=seconds,
        )

    async def _backoff(self, attempt: int, ends_at: float | None = None) -> None:
        ceiling = min(self._backoff_cap, self._backoff_base * (2**attempt))
        pause = self._random.uniform(0, ceiling)
        if ends_at is not None:
            pause = min(pause, max(ends_at - time.monotonic(), 0.0))  # never past a deadline
        await self._sleep(pause)

    def _error(self, response: httpx.Response, method: str, path: str) -> ProviderError:
        """The ProviderError for a 4xx: the HTTP status decides, ``error.code`` is a hint."""
        status = response.status_code
        try:
            message, code = parse.error_detail(response.json())
        except ValueError:
            message, code = "", None
        message = self._scrub(message or response.reason_phrase or "no detail")
        if status in (401, 403):
            return AuthError(
                f"PagerDuty refused the token ({status}): {message}", status=status, code=code
            )
        if status == 404:
            return NotFound(f"PagerDuty {method} {path}: not found (404): {message}", status=404)
        text = f"PagerDuty {method} {path} refused ({status}): {message}"
        lowered = message.lower()
        if status == 400 and (code == 1001 or "already resolved" in lowered):
            return AlreadyInState(text, state="resolved", status=status, code=code)
        if status == 400 and (code == 1002 or "already acknowledged" in lowered):
            return AlreadyInState(text, state="acknowledged", status=status, code=code)
        return InvalidRequest(text, status=status, code=code)

    def _scrub(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text


MAX_RESET_WAIT = MAX_WAIT  # the old name of the cap, kept for importers


def _reset_after(headers: httpx.Headers) -> float:
    """Seconds a 429 asks for. Capped (see ``header_wait``): a wrong header (an epoch, say)
    would pause every cockpit process, because the wait is shared through the budget."""
    now = time.time()
    for name in ("ratelimit-reset", "retry-after"):
        wait = header_wait(headers.get(name), now)
        if wait is not None:
            return wait
    return 1.0


def check_from(email: str) -> str:
    """``email`` if it can be sent as the ``From`` header; InvalidRequest naming the setting.

    Settings are checked when they load; this catches the rest (a provider built in code, a
    ``/users/me`` email that is not ASCII) before httpx would raise UnicodeEncodeError or the
    HTTP library refuse a CR/LF as a protocol error that reads as being offline.
    """
    local, at, domain = email.rpartition("@")
    if _header_problem(email) or " " in email or not (local and at and domain):
        raise InvalidRequest(
            f"PagerDuty From {email!r} cannot be sent: it must be one ASCII email address; "
            "set pagerduty_from to your PagerDuty user's address "
            "(`cockpit config set pagerduty_from you@example.com`)"
        )
    return email


def _check_header(name: str, value: str) -> None:
    problem = _header_problem(value)
    if problem:
        if name.lower() == "from":
            check_from(value)
        raise InvalidRequest(f"PagerDuty header {name} cannot be sent: {problem}")


def _header_problem(value: str) -> str | None:
    """Why ``value`` cannot be an HTTP header value (ASCII, no CR/LF or other controls)."""
    if not value.isascii():
        return "it is not ASCII"
    if not value.isprintable():
        return "it holds a line break or another control character"
    return None


def _tls(verify: bool | str) -> bool | ssl.SSLContext:
    """A CA bundle path as an SSL context (httpx deprecates ``verify=<path>``)."""
    if isinstance(verify, str):
        return ssl.create_default_context(cafile=verify)
    return verify


__all__ = ["ACCEPT", "REQUEST_DEADLINE", "PagerDutyHTTP", "check_base_url", "check_from"]


def _untrusted_certificate(error: BaseException) -> bool:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return "CERTIFICATE_VERIFY_FAILED" in str(error)
