"""The token never shows: not in errors of any kind, their reprs or their tracebacks; plain
http:// is refused except to loopback. httpx.MockTransport is used only for answers the
emulator cannot be asked to give (a body that is not JSON, an error echoing the token, 403,
413, the 1002 hint)."""

from __future__ import annotations

import traceback
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest

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
from cockpit.integrations.pagerduty import PagerDutyProvider, check_base_url
from cockpit.integrations.pagerduty_emulator import EmulatorHandle, start_emulator

TOKEN = "u+Sekr3t-T0KEN-zz91"
WRONG = "u+Wr0ng-T0KEN-qq17"


async def no_wait(seconds: float) -> None:
    return None


@pytest.fixture
def emulator() -> Iterator[EmulatorHandle]:
    with start_emulator(incidents=10, days=3, token=TOKEN) as handle:
        yield handle


def assert_secret_free(error: BaseException, *secrets: str) -> None:
    shown = [str(error), repr(error), "".join(traceback.format_exception(error))]
    for secret in secrets:
        for text in shown:
            assert secret not in text


async def caught(action: Callable[[], Awaitable[Any]]) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        await action()
    return info.value


async def test_no_error_kind_shows_the_token(emulator: EmulatorHandle) -> None:
    async with PagerDutyProvider(
        emulator.url, TOKEN, sleep=no_wait, max_retries=1, timeout=0.5
    ) as pd:
        assert TOKEN not in repr(pd)
        incident = emulator.state.trigger("secrets")
        errors: list[ProviderError] = [
            await caught(lambda: pd.get_incident("PNOSUCH")),
            await caught(lambda: pd.snooze(incident.id, 60)),
        ]
        await pd.resolve(incident.id)
        errors.append(await caught(lambda: pd.resolve(incident.id)))
        for kind in ("429", "500", "drop"):
            emulator.state.inject({"kind": kind, "count": 5, "reset": 1})
            errors.append(await caught(pd.whoami))
            emulator.state.faults.clear()
    async with PagerDutyProvider(emulator.url, WRONG, sleep=no_wait) as wrong:
        auth = await caught(wrong.whoami)
    errors.append(auth)
    with start_emulator(incidents=1, days=1) as gone:
        url = gone.url
    async with PagerDutyProvider(url, TOKEN, sleep=no_wait, max_retries=1) as pd:
        errors.append(await caught(pd.whoami))
    errors.append(await caught(_insecure))
    kinds = [type(e) for e in errors]
    assert kinds == [
        NotFound,
        InvalidRequest,
        AlreadyInState,
        RateLimited,
        Unavailable,
        Unavailable,
        AuthError,
        Unavailable,
        InsecureURL,
    ]
    for error in errors:
        assert_secret_free(error, TOKEN, WRONG)
    assert str(auth).startswith("PagerDuty refused the token (401): Unauthorized")


async def _insecure() -> None:
    PagerDutyProvider("http://pagerduty.example.com:8080", TOKEN)


@pytest.mark.parametrize(
    "url",
    [
        "https://api.pagerduty.com",
        "https://api.eu.pagerduty.com/",
        "http://127.0.0.1:9999",
        "http://127.8.9.10",
        "http://localhost:8080/pd",
        "http://[::1]:8080",
    ],
)
def test_https_anywhere_and_plain_http_to_loopback_are_allowed(url: str) -> None:
    assert check_base_url(url) == url.rstrip("/")


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://api.pagerduty.com", "api.pagerduty.com"),
        ("http://10.0.0.8:8080", "10.0.0.8"),
        ("http://localhost.evil.example", "localhost.evil.example"),
        ("http://[::2]", "::2"),
    ],
)
def test_plain_http_elsewhere_is_refused_naming_the_host(url: str, host: str) -> None:
    with pytest.raises(InsecureURL) as info:
        check_base_url(url)
    assert f"plain http:// to {host}" in str(info.value)


def test_other_schemes_and_missing_tokens_are_refused() -> None:
    with pytest.raises(InsecureURL, match="not an https:// URL"):
        check_base_url("ftp://api.pagerduty.com")
    with pytest.raises(AuthError, match="cockpit auth login pagerduty"):
        PagerDutyProvider("https://api.pagerduty.com", "")


def mock(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == f"Token token={TOKEN}"
        assert request.headers["Accept"] == "application/vnd.pagerduty+json;version=2"
        if isinstance(body, bytes):
            return httpx.Response(status, content=body, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    return httpx.MockTransport(handler)


def error_body(message: str, code: int, *errors: str) -> dict[str, Any]:
    return {"error": {"message": message, "code": code, "errors": list(errors)}}


@pytest.mark.parametrize(
    ("status", "body", "kind", "text"),
    [
        (200, b"<html>proxy login</html>", ProviderError, "not JSON"),
        (403, error_body("Forbidden", 2010, "Access Denied"), AuthError, "(403): Forbidden"),
        (413, error_body("Request Entity Too Large", 2001), InvalidRequest, "(413)"),
        (400, error_body("Invalid Input", 2001, f"bad token {TOKEN}"), InvalidRequest, "***"),
        (400, error_body("Incident Already Acknowledged", 1002), AlreadyInState, "(400)"),
        (400, error_body("Arguments Caused Error", 0, "already resolved"), AlreadyInState, ""),
        (402, b"", InvalidRequest, "(402)"),
    ],
)
async def test_answers_the_emulator_cannot_give(
    status: int, body: Any, kind: type[ProviderError], text: str
) -> None:
    async with PagerDutyProvider(
        "https://api.pagerduty.com",
        TOKEN,
        from_email="me@example.com",
        transport=mock(status, body),
    ) as pd:
        with pytest.raises(kind) as info:
            await pd.acknowledge("PT4KHLK")
    assert text in str(info.value)
    assert_secret_free(info.value, TOKEN)


async def test_code_1002_means_acknowledged_and_1001_resolved() -> None:
    for code, state in ((1002, "acknowledged"), (1001, "resolved")):
        async with PagerDutyProvider(
            "https://api.pagerduty.com",
            TOKEN,
            from_email="me@example.com",
            transport=mock(400, error_body("Invalid Input Provided", code)),
        ) as pd:
            with pytest.raises(AlreadyInState) as info:
                await pd.acknowledge("PT4KHLK")
        assert info.value.state == state and info.value.code == code


async def test_a_code_on_a_non_400_status_is_only_a_hint() -> None:
    async with PagerDutyProvider(
        "https://api.pagerduty.com",
        TOKEN,
        from_email="me@example.com",
        transport=mock(404, error_body("Not Found", 1001)),
    ) as pd:
        with pytest.raises(NotFound):
            await pd.resolve("PT4KHLK")


async def test_retry_after_is_the_fallback_for_a_429_without_ratelimit_reset() -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    transport = mock(429, error_body("Rate Limit Exceeded", 2020), {"Retry-After": "4"})
    async with PagerDutyProvider(
        "https://api.pagerduty.com", TOKEN, transport=transport, sleep=sleep, max_retries=1
    ) as pd:
        with pytest.raises(RateLimited) as info:
            await pd.whoami()
    assert waits == [4.0] and info.value.reset_after == 4.0
