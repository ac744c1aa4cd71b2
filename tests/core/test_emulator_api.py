"""The emulator's read API over real HTTP: pagination, windows, filters, errors, auth."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from cockpit.integrations.pagerduty_emulator import EmulatorHandle, start_emulator

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def pd() -> Iterator[EmulatorHandle]:
    with start_emulator(incidents=120, now=NOW, seed=7) as handle:
        yield handle


@pytest.fixture
def client(pd: EmulatorHandle) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Token token={pd.token}"}
    with httpx.Client(base_url=pd.url, headers=headers, timeout=10) as http:
        yield http


def test_incident_pages_walk_the_whole_window_without_gaps(client: httpx.Client) -> None:
    seen: list[str] = []
    offset, more = 0, True
    while more:
        body = client.get("/incidents", params={"limit": 50, "offset": offset}).json()
        assert body["limit"] == 50 and body["offset"] == offset
        assert body["total"] is None
        seen += [incident["id"] for incident in body["incidents"]]
        more = body["more"]
        offset += 50
    assert len(seen) == len(set(seen)) == 120
    default = client.get("/incidents").json()
    assert default["limit"] == 25 and len(default["incidents"]) == 25 and default["more"]
    created = [i["created_at"] for i in default["incidents"]]
    assert created == sorted(created)


def test_total_only_when_asked_and_limit_is_clamped(client: httpx.Client) -> None:
    body = client.get("/incidents", params={"total": "true", "limit": 500}).json()
    assert body["total"] == 120
    assert body["limit"] == 100 and len(body["incidents"]) == 100


def test_offset_plus_limit_over_10000_is_the_documented_400(client: httpx.Client) -> None:
    for path in ("/incidents", "/log_entries"):
        response = client.get(path, params={"offset": 9_950, "limit": 100})
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == 2001
        assert error["message"] == "Offset+limit exceeds maximum allowed value of 10000"
    assert client.get("/log_entries", params={"offset": 9_900, "limit": 100}).status_code == 200


def test_since_until_validation(client: httpx.Client) -> None:
    far = {"since": "2025-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}
    response = client.get("/incidents", params=far)
    assert response.status_code == 400
    assert "6 months" in response.json()["error"]["errors"][0]
    backwards = {"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}
    assert client.get("/incidents", params=backwards).status_code == 400
    assert client.get("/incidents", params={"since": "yesterday"}).status_code == 400
    # since alone runs to now; a narrow window returns only incidents created inside it.
    since = (NOW - timedelta(days=3)).isoformat()
    recent = client.get("/incidents", params={"since": since, "limit": 100}).json()["incidents"]
    assert recent and all(i["created_at"] >= since[:19] for i in recent)
    everything = client.get("/incidents", params={"date_range": "all", "total": "true"}).json()
    assert everything["total"] == 120


def test_filters_by_status_urgency_service_and_assignee(client: httpx.Client) -> None:
    params = {"statuses[]": ["triggered", "acknowledged"], "limit": 100}
    open_ones = client.get("/incidents", params=params).json()["incidents"]
    assert open_ones and {i["status"] for i in open_ones} <= {"triggered", "acknowledged"}
    high = client.get("/incidents", params={"urgencies[]": "high", "limit": 100}).json()
    assert {i["urgency"] for i in high["incidents"]} == {"high"}
    service_id = open_ones[0]["service"]["id"]
    same = client.get("/incidents", params={"service_ids[]": service_id, "limit": 100}).json()
    assert {i["service"]["id"] for i in same["incidents"]} == {service_id}
    assignee = next(i for i in open_ones if i["assignments"])["assignments"][0]["assignee"]["id"]
    mine = client.get("/incidents", params={"user_ids[]": assignee, "limit": 100}).json()
    assert mine["incidents"] and all(
        assignee in [a["assignee"]["id"] for a in i["assignments"]] for i in mine["incidents"]
    )


def test_sort_include_and_time_zone(client: httpx.Client) -> None:
    params = {"sort_by": "incident_number:desc", "limit": 5}
    numbers = [
        i["incident_number"] for i in client.get("/incidents", params=params).json()["incidents"]
    ]
    assert numbers == sorted(numbers, reverse=True) and numbers[0] == 120
    params = {"include[]": ["services", "first_trigger_log_entries"], "limit": 1}
    incident = client.get("/incidents", params=params).json()["incidents"][0]
    assert incident["service"]["type"] == "service"
    assert incident["first_trigger_log_entry"]["type"] == "trigger_log_entry"
    tokyo = client.get("/incidents", params={"time_zone": "Asia/Tokyo", "limit": 1}).json()
    assert tokyo["incidents"][0]["created_at"].endswith("+09:00")
    assert client.get("/incidents", params={"time_zone": "Mars/Base"}).status_code == 400


def test_log_entries_newest_first_overview_and_include(client: httpx.Client) -> None:
    body = client.get("/log_entries", params={"limit": 100, "total": "true"}).json()
    created = [entry["created_at"] for entry in body["log_entries"]]
    assert created == sorted(created, reverse=True)
    assert body["total"] > 120 and body["more"]
    overview = client.get("/log_entries", params={"is_overview": "true", "limit": 100}).json()
    assert "notify_log_entry" not in {entry["type"] for entry in overview["log_entries"]}
    with_incident = client.get(
        "/log_entries", params={"include[]": "incidents", "limit": 1}
    ).json()["log_entries"][0]
    assert with_incident["incident"]["type"] == "incident"


def test_incident_detail_alerts_notes_and_404(client: httpx.Client) -> None:
    incident = client.get("/incidents", params={"limit": 1}).json()["incidents"][0]
    detail = client.get(f"/incidents/{incident['id']}").json()["incident"]
    assert detail["id"] == incident["id"]
    entries = client.get(f"/incidents/{incident['id']}/log_entries").json()["log_entries"]
    assert entries[-1]["type"] == "trigger_log_entry"
    alerts = client.get(f"/incidents/{incident['id']}/alerts").json()["alerts"]
    assert alerts and alerts[0]["body"]["details"]
    assert "notes" in client.get(f"/incidents/{incident['id']}/notes").json()
    missing = client.get("/incidents/PNOPE00")
    assert missing.status_code == 404 and "error" in missing.json()


def test_wrong_or_missing_token_is_401(pd: EmulatorHandle) -> None:
    wrong = httpx.get(f"{pd.url}/incidents", headers={"Authorization": "Token token=nope"})
    assert wrong.status_code == 401 and wrong.json()["error"]["message"] == "Unauthorized"
    assert httpx.get(f"{pd.url}/users/me").status_code == 401


def test_people_services_policies_and_oncalls(client: httpx.Client) -> None:
    me = client.get("/users/me").json()["user"]
    assert me["email"].endswith("@example.com") and me["time_zone"]
    users = client.get("/users", params={"limit": 100}).json()["users"]
    assert len(users) == 12 and len({u["time_zone"] for u in users}) >= 5
    assert client.get(f"/users/{users[3]['id']}").json()["user"]["id"] == users[3]["id"]
    services = client.get("/services").json()["services"]
    assert {"product-api", "payments-db", "queue-workers"} <= {s["name"] for s in services}
    policies = client.get("/escalation_policies").json()["escalation_policies"]
    assert policies and all(len(p["escalation_rules"]) == 2 for p in policies)
    now_oncall = client.get("/oncalls").json()["oncalls"]
    assert {o["escalation_level"] for o in now_oncall} == {1, 2}
    policy_id = policies[0]["id"]
    window = {
        "since": (NOW - timedelta(days=14)).isoformat(),
        "until": (NOW + timedelta(days=14)).isoformat(),
        "escalation_policy_ids[]": policy_id,
    }
    shifts = client.get("/oncalls", params=window).json()["oncalls"]
    assert len(shifts) > len([o for o in now_oncall if o["escalation_policy"]["id"] == policy_id])
    assert {o["escalation_policy"]["id"] for o in shifts} == {policy_id}
    earliest = client.get("/oncalls", params={**window, "earliest": "true"}).json()["oncalls"]
    keys = [(o["user"]["id"], o["escalation_level"]) for o in earliest]
    assert len(keys) == len(set(keys)) < len(shifts)
