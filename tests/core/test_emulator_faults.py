"""Injected faults, the rate limit and TLS, seen by a real HTTP client."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from cockpit.integrations.pagerduty_emulator import EmulatorHandle, FaultError, start_emulator

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def pd() -> Iterator[EmulatorHandle]:
    with start_emulator(incidents=20, now=NOW, rate_limit_per_minute=50) as handle:
        yield handle


@pytest.fixture
def client(pd: EmulatorHandle) -> Iterator[httpx.Client]:
    headers = {
        "Authorization": f"Token token={pd.token}",
        "From": pd.state.users[pd.state.me_id].email,
    }
    with httpx.Client(base_url=pd.url, headers=headers, timeout=10) as http:
        yield http


def test_every_response_carries_rate_limit_headers(client: httpx.Client) -> None:
    first = client.get("/incidents")
    second = client.get("/incidents/PNOPE00")
    assert first.headers["ratelimit-limit"] == "50"
    assert (
        int(second.headers["ratelimit-remaining"]) == int(first.headers["ratelimit-remaining"]) - 1
    )
    assert 0 < int(first.headers["ratelimit-reset"]) <= 60


def test_over_budget_is_429_until_the_minute_resets(client: httpx.Client) -> None:
    statuses = [client.get("/users/me").status_code for _ in range(52)]
    assert statuses[:50] == [200] * 50 and statuses[50:] == [429, 429]
    refused = client.get("/users/me")
    assert refused.headers["ratelimit-remaining"] == "0"
    assert int(refused.headers["ratelimit-reset"]) >= 1
    assert refused.json()["error"]["message"] == "Rate Limit Exceeded"


def test_injected_429_and_500_for_count_requests_on_a_path(
    client: httpx.Client, pd: EmulatorHandle
) -> None:
    pd.state.inject({"kind": "429", "count": 2, "reset": 7, "path": "/incidents"})
    assert client.get("/users/me").status_code == 200  # other paths unaffected
    limited = client.get("/incidents")
    assert limited.status_code == 429 and limited.headers["ratelimit-reset"] == "7"
    assert client.get("/incidents").status_code == 429
    assert client.get("/incidents").status_code == 200
    client.post("/_emulator/faults", json={"kind": "500", "count": 1, "method": "PUT"})
    assert client.get("/incidents").status_code == 200
    incident_id = pd.state.trigger("x").id
    body = {"incident": {"type": "incident_reference", "status": "acknowledged"}}
    failed = client.put(f"/incidents/{incident_id}", json=body)
    assert failed.status_code == 500 and "error" in failed.json()
    assert pd.state.incidents[incident_id].status == "triggered"  # a 500 applies nothing
    assert client.put(f"/incidents/{incident_id}", json=body).status_code == 200


def test_drop_closes_the_connection_without_an_answer(
    client: httpx.Client, pd: EmulatorHandle
) -> None:
    client.post("/_emulator/faults", json={"kind": "drop", "count": 1})
    with pytest.raises(httpx.TransportError):
        client.get("/incidents")
    assert client.get("/incidents").status_code == 200


def test_slow_answers_after_the_delay(client: httpx.Client, pd: EmulatorHandle) -> None:
    pd.state.inject({"kind": "slow", "delay": 0.5, "count": 1})
    with pytest.raises(httpx.ReadTimeout):
        client.get("/incidents", timeout=0.1)
    assert client.get("/incidents", timeout=5).status_code == 200


def test_late_success_applies_the_write_before_the_client_gives_up(
    client: httpx.Client, pd: EmulatorHandle
) -> None:
    incident_id = pd.state.trigger("late").id
    pd.state.inject({"kind": "late_success", "delay": 0.5, "count": 1, "method": "POST"})
    with pytest.raises(httpx.ReadTimeout):
        client.post(
            f"/incidents/{incident_id}/notes", json={"note": {"content": "sent once"}}, timeout=0.2
        )
    notes = client.get(f"/incidents/{incident_id}/notes").json()["notes"]
    assert [note["content"] for note in notes] == ["sent once"]


def test_bad_fault_descriptions_are_refused(client: httpx.Client, pd: EmulatorHandle) -> None:
    with pytest.raises(FaultError):
        pd.state.inject({"kind": "meteor"})
    assert client.post("/_emulator/faults", json={"kind": "500", "count": 0}).status_code == 400
    client.post("/_emulator/faults", json=[{"kind": "500", "count": 3}])
    assert len(client.get("/_emulator/faults").json()["faults"]) == 1
    client.delete("/_emulator/faults")
    assert client.get("/incidents").status_code == 200


def test_tls_with_the_self_signed_certificate() -> None:
    with start_emulator(incidents=5, now=NOW, tls=True) as pd:
        assert pd.url.startswith("https://127.0.0.1:") and pd.cert_path is not None
        headers = {"Authorization": f"Token token={pd.token}"}
        trust = ssl.create_default_context(cafile=str(pd.cert_path))
        with httpx.Client(verify=trust, headers=headers) as http:
            assert http.get(f"{pd.url}/users/me").status_code == 200
        with pytest.raises(httpx.ConnectError), httpx.Client() as untrusting:
            untrusting.get(f"{pd.url}/users/me", headers=headers)
