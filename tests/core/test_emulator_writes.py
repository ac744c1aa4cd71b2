"""Writes over HTTP leave the log entries PagerDuty would; the Events API opens incidents."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from cockpit.integrations.pagerduty_emulator import EmulatorHandle, start_emulator

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def pd() -> Iterator[EmulatorHandle]:
    with start_emulator(incidents=40, now=NOW, seed=3) as handle:
        yield handle


@pytest.fixture
def client(pd: EmulatorHandle) -> Iterator[httpx.Client]:
    me = pd.state.users[pd.state.me_id].email
    headers = {"Authorization": f"Token token={pd.token}", "From": me}
    with httpx.Client(base_url=pd.url, headers=headers, timeout=10) as http:
        yield http


def _open_incident(pd: EmulatorHandle, title: str = "Checkout 5xx [red]boom[/red]") -> str:
    return pd.state.trigger(title, urgency="high").id


def _types(client: httpx.Client, incident_id: str) -> list[str]:
    entries = client.get(f"/incidents/{incident_id}/log_entries", params={"limit": 100})
    return [entry["type"] for entry in reversed(entries.json()["log_entries"])]


def _put(client: httpx.Client, incident_id: str, **change: Any) -> httpx.Response:
    body = {"incident": {"type": "incident_reference", **change}}
    return client.put(f"/incidents/{incident_id}", json=body)


def test_writes_need_a_from_header_of_a_known_user(pd: EmulatorHandle) -> None:
    incident_id = _open_incident(pd)
    body = {"incident": {"type": "incident_reference", "status": "acknowledged"}}
    auth = {"Authorization": f"Token token={pd.token}"}
    missing = httpx.put(f"{pd.url}/incidents/{incident_id}", json=body, headers=auth)
    assert missing.status_code == 400 and "From" in missing.json()["error"]["errors"][0]
    stranger = httpx.put(
        f"{pd.url}/incidents/{incident_id}", json=body, headers={**auth, "From": "x@evil.test"}
    )
    assert stranger.status_code == 400
    assert pd.state.incidents[incident_id].status == "triggered"


def test_acknowledge_then_resolve(client: httpx.Client, pd: EmulatorHandle) -> None:
    incident_id = _open_incident(pd)
    before = pd.state.incidents[incident_id].updated_at
    acked = _put(client, incident_id, status="acknowledged")
    assert acked.status_code == 200
    assert acked.json()["incident"]["status"] == "acknowledged"
    assert acked.json()["incident"]["acknowledgements"][0]["acknowledger"]["id"] == pd.state.me_id
    assert pd.state.incidents[incident_id].updated_at >= before
    again = _put(client, incident_id, status="acknowledged")
    assert again.status_code == 200  # re-acknowledging is allowed and logged
    resolved = _put(client, incident_id, status="resolved", resolution="rolled back")
    assert resolved.json()["incident"]["status"] == "resolved"
    assert resolved.json()["incident"]["resolved_at"] is not None
    types = _types(client, incident_id)
    assert types[0] == "trigger_log_entry"
    assert types.count("acknowledge_log_entry") == 2 and types[-1] == "resolve_log_entry"
    again_resolved = _put(client, incident_id, status="resolved")
    assert again_resolved.status_code == 400 and again_resolved.json()["error"]["code"] == 1001
    # The spec: acknowledging a resolved incident reopens it (test_emulator_spec_faults.py).
    reopened = _put(client, incident_id, status="acknowledged")
    assert reopened.status_code == 200 and reopened.json()["incident"]["status"] == "acknowledged"


def test_note_snooze_reassign_and_escalate(client: httpx.Client, pd: EmulatorHandle) -> None:
    incident_id = _open_incident(pd)
    note = client.post(f"/incidents/{incident_id}/notes", json={"note": {"content": "a [b]"}})
    assert note.status_code == 200 and note.json()["note"]["content"] == "a [b]"
    notes = client.get(f"/incidents/{incident_id}/notes").json()["notes"]
    assert [n["content"] for n in notes] == ["a [b]"]
    early = client.post(f"/incidents/{incident_id}/snooze", json={"duration": 600})
    assert early.status_code == 400 and early.json()["error"]["code"] == 1012
    _put(client, incident_id, status="acknowledged")
    for bad in (0, 604_801, "60"):
        wrong = client.post(f"/incidents/{incident_id}/snooze", json={"duration": bad})
        assert wrong.status_code == 400 and wrong.json()["error"]["code"] == 1013
    snoozed = client.post(f"/incidents/{incident_id}/snooze", json={"duration": 3600})
    assert snoozed.status_code == 201
    assert snoozed.json()["incident"]["pending_actions"][0]["type"] == "unacknowledge"
    other = next(uid for uid in pd.state.users if uid != pd.state.me_id)
    assignment = [{"assignee": {"id": other, "type": "user_reference"}}]
    moved = _put(client, incident_id, assignments=assignment)
    assert moved.status_code == 200
    assert [a["assignee"]["id"] for a in moved.json()["incident"]["assignments"]] == [other]
    assert moved.json()["incident"]["status"] == "triggered"
    escalated = _put(client, incident_id, escalation_level=2)
    assert escalated.status_code == 200
    assert _put(client, incident_id, escalation_level=9).status_code == 400
    types = _types(client, incident_id)
    for expected in (
        "annotate_log_entry",
        "snooze_log_entry",
        "assign_log_entry",
        "escalate_log_entry",
    ):
        assert expected in types
    notified = [
        e
        for e in pd.state.all_log_entries()
        if e.incident_id == incident_id and e.type == "notify_log_entry"
    ]
    assert other in {e.user_id for e in notified}


def test_bulk_update_and_its_limit(client: httpx.Client, pd: EmulatorHandle) -> None:
    ids = [_open_incident(pd, f"bulk {n}") for n in range(3)]
    body = {
        "incidents": [{"id": i, "type": "incident_reference", "status": "resolved"} for i in ids]
    }
    response = client.put("/incidents", json=body)
    assert response.status_code == 200
    assert {i["status"] for i in response.json()["incidents"]} == {"resolved"}
    too_many = {"incidents": [{"id": ids[0], "type": "incident_reference"}] * 251}
    assert client.put("/incidents", json=too_many).status_code == 413


def test_writes_are_recorded_without_the_token(client: httpx.Client, pd: EmulatorHandle) -> None:
    pd.state.reset_counters()
    incident_id = _open_incident(pd)
    _put(client, incident_id, status="acknowledged")
    client.get("/incidents")
    assert pd.state.request_count == 2
    assert pd.state.path_counts[f"PUT /incidents/{incident_id}"] == 1
    (write,) = pd.state.writes
    assert write["method"] == "PUT" and write["body"]["incident"]["status"] == "acknowledged"
    assert write["status"] == 200
    assert not any(name.lower() == "authorization" for name in write["headers"])
    over_http = client.get("/_emulator/writes").json()["writes"]
    assert over_http == pd.state.writes
    assert client.get("/_emulator/stats").json()["request_count"] == 2


def test_events_api_trigger_pages_the_on_call_people(
    client: httpx.Client, pd: EmulatorHandle
) -> None:
    service = next(s for s in pd.state.services.values() if s.name == "checkout")
    event = {
        "routing_key": service.routing_key,
        "event_action": "trigger",
        "dedup_key": "checkout/5xx",
        "payload": {
            "summary": "5xx on checkout",
            "source": "lb-1",
            "severity": "critical",
            "custom_details": {"runbook_url": "https://runbooks.example.com/x"},
        },
    }
    response = httpx.post(f"{pd.url}/v2/enqueue", json=event)
    assert response.status_code == 202
    assert response.json() == {
        "status": "success",
        "message": "Event processed",
        "dedup_key": "checkout/5xx",
    }
    assert httpx.post(f"{pd.url}/v2/enqueue", json=event).status_code == 202  # de-duplicated
    found = client.get("/incidents", params={"incident_key": "checkout/5xx"}).json()["incidents"]
    assert len(found) == 1 and found[0]["urgency"] == "high"
    incident_id = found[0]["id"]
    entries = client.get(f"/incidents/{incident_id}/log_entries").json()["log_entries"]
    notify = [e for e in entries if e["type"] == "notify_log_entry"]
    oncall = {
        o["user"]["id"]
        for o in client.get("/oncalls").json()["oncalls"]
        if o["escalation_level"] == 1
        and o["escalation_policy"]["id"] == service.escalation_policy_id
    }
    assert notify and {e["user"]["id"] for e in notify} == oncall
    assert {e["channel"]["notification"]["type"] for e in notify} >= {"push_notification"}
    alert = client.get(f"/incidents/{incident_id}/alerts").json()["alerts"][0]
    assert alert["body"]["details"]["runbook_url"] == "https://runbooks.example.com/x"
    resolve = {
        "routing_key": service.routing_key,
        "event_action": "resolve",
        "dedup_key": "checkout/5xx",
    }
    assert httpx.post(f"{pd.url}/v2/enqueue", json=resolve).status_code == 202
    assert pd.state.incidents[incident_id].status == "resolved"


def test_events_api_rejects_bad_events(pd: EmulatorHandle) -> None:
    service = next(iter(pd.state.services.values()))
    bad = [
        {
            "routing_key": "nope",
            "event_action": "trigger",
            "payload": {"summary": "s", "source": "h", "severity": "critical"},
        },
        {
            "routing_key": service.routing_key,
            "event_action": "trigger",
            "payload": {"summary": "s", "source": "h", "severity": "fatal"},
        },
        {"routing_key": service.routing_key, "event_action": "resolve"},
    ]
    for event in bad:
        response = httpx.post(f"{pd.url}/v2/enqueue", json=event)
        assert response.status_code == 400
        assert response.json()["status"] == "invalid event" and response.json()["errors"]


def test_control_trigger_creates_an_incident(client: httpx.Client, pd: EmulatorHandle) -> None:
    created = client.post(
        "/_emulator/trigger", json={"title": "Drill \x1b]0;x\x07", "urgency": "low"}
    )
    assert created.status_code == 201
    incident_id = created.json()["incident"]["id"]
    assert pd.state.incidents[incident_id].title == "Drill \x1b]0;x\x07"
    assert client.post("/_emulator/trigger", json={"nope": 1}).status_code == 400
