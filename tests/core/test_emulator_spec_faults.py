"""The emulator where the spec speaks (reopening, combined updates), the faults a client's
timeouts and rate-limit reading meet (trickle, epoch resets, late success), note numbering,
unknown statuses and the write journal, all over real HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from cockpit.integrations.pagerduty_emulator import EmulatorHandle, FaultError, start_emulator

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def pd() -> Iterator[EmulatorHandle]:
    with start_emulator(incidents=20, now=NOW, seed=5) as handle:
        yield handle


def _headers(pd: EmulatorHandle, user_id: str | None = None) -> dict[str, str]:
    email = pd.state.users[user_id or pd.state.me_id].email
    return {"Authorization": f"Token token={pd.token}", "From": email}


@pytest.fixture
def client(pd: EmulatorHandle) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=pd.url, headers=_headers(pd), timeout=10) as http:
        yield http


def _other(pd: EmulatorHandle, *not_these: str) -> str:
    return next(uid for uid in pd.state.users if uid != pd.state.me_id and uid not in not_these)


def _put(client: httpx.Client, incident_id: str, **change: Any) -> httpx.Response:
    body = {"incident": {"type": "incident_reference", **change}}
    return client.put(f"/incidents/{incident_id}", json=body)


def _assign(*user_ids: str) -> list[dict[str, Any]]:
    return [{"assignee": {"id": uid, "type": "user_reference"}} for uid in user_ids]


def _entries(client: httpx.Client, incident_id: str) -> list[dict[str, Any]]:
    """The incident's log entries, oldest first."""
    found = client.get(f"/incidents/{incident_id}/log_entries", params={"limit": 100})
    return list(reversed(found.json()["log_entries"]))


def _ids(people: list[dict[str, Any]], key: str) -> list[str]:
    return [item[key]["id"] for item in people]


# -- acknowledging a resolved incident reopens it ---------------------------------------------
def test_acknowledging_a_resolved_incident_reopens_it_assigned_to_the_caller(
    client: httpx.Client, pd: EmulatorHandle
) -> None:
    incident_id = pd.state.trigger("disk full", urgency="high").id
    assert _put(client, incident_id, status="resolved").status_code == 200
    logged = len(_entries(client, incident_id))
    other = _other(pd, *(uid for uid, _ in pd.state.incidents[incident_id].assignments))
    with httpx.Client(base_url=pd.url, headers=_headers(pd, other), timeout=10) as theirs:
        answer = _put(theirs, incident_id, status="acknowledged")
    assert answer.status_code == 200
    shown = client.get(f"/incidents/{incident_id}").json()["incident"]
    assert answer.json()["incident"] == shown
    assert shown["status"] == "acknowledged" and shown["resolved_at"] is None
    assert _ids(shown["assignments"], "assignee") == [other]
    assert _ids(shown["acknowledgements"], "acknowledger") == [other]
    assert shown["assigned_via"] == "direct_assignment"
    assert shown["last_status_change_by"]["id"] == other
    new = _entries(client, incident_id)[logged:]
    assert [e["type"] for e in new] == ["assign_log_entry", "acknowledge_log_entry"]
    assert all(e["agent"]["id"] == other for e in new)
    assert [a["id"] for a in new[0]["assignees"]] == [other]
    listed = client.get("/incidents", params={"statuses[]": "acknowledged", "limit": 100})
    assert incident_id in [i["id"] for i in listed.json()["incidents"]]


def test_other_writes_to_a_resolved_incident_are_still_refused_and_change_nothing(
    client: httpx.Client, pd: EmulatorHandle
) -> None:
    incident_id = pd.state.trigger("gone").id
    _put(client, incident_id, status="resolved")
    before = client.get(f"/incidents/{incident_id}").json()["incident"]
    logged = len(_entries(client, incident_id))
    for change in (
        {"status": "resolved"},
        {"status": "triggered"},
        {"title": "renamed"},
        {"assignments": _assign(_other(pd))},
        {"escalation_level": 2},
    ):
        refused = _put(client, incident_id, **change)
        assert refused.status_code == 400 and refused.json()["error"]["code"] == 1001, change
    snooze = client.post(f"/incidents/{incident_id}/snooze", json={"duration": 60})
    assert snooze.status_code == 400 and snooze.json()["error"]["code"] == 1001
    assert client.get(f"/incidents/{incident_id}").json()["incident"] == before
    assert len(_entries(client, incident_id)) == logged


def test_snoozing_an_unacknowledged_incident_is_still_1012(
    client: httpx.Client, pd: EmulatorHandle
) -> None:
    incident_id = pd.state.trigger("not yet").id
    early = client.post(f"/incidents/{incident_id}/snooze", json={"duration": 600})
    assert early.status_code == 400 and early.json()["error"]["code"] == 1012


# -- assignments and acknowledgement in one body ----------------------------------------------
def test_reassign_and_acknowledge_in_one_put(client: httpx.Client, pd: EmulatorHandle) -> None:
    incident = pd.state.trigger("queue lag", urgency="high")
    other = _other(pd, *(uid for uid, _ in incident.assignments))
    logged = len(_entries(client, incident.id))
    answer = _put(client, incident.id, assignments=_assign(other), status="acknowledged")
    assert answer.status_code == 200
    shown = answer.json()["incident"]
    assert shown["status"] == "acknowledged"
    assert _ids(shown["assignments"], "assignee") == [other]
    assert _ids(shown["acknowledgements"], "acknowledger") == [pd.state.me_id]
    new = _entries(client, incident.id)[logged:]
    types = [e["type"] for e in new]
    # High urgency: push, SMS and phone call to the new assignee, between assign and ack.
    assert types == ["assign_log_entry"] + ["notify_log_entry"] * 3 + ["acknowledge_log_entry"]
    assert {e["user"]["id"] for e in new[1:4]} == {other}
    assert new[-1]["agent"]["id"] == pd.state.me_id


def test_reassign_and_acknowledge_reopens_a_resolved_incident_for_the_new_assignee(
    client: httpx.Client, pd: EmulatorHandle
) -> None:
    incident_id = pd.state.trigger("flapping", urgency="low").id
    _put(client, incident_id, status="resolved")
    logged = len(_entries(client, incident_id))
    other = _other(pd)
    answer = _put(client, incident_id, assignments=_assign(other), status="acknowledged")
    assert answer.status_code == 200
    assert answer.json()["incident"]["status"] == "acknowledged"
    assert _ids(answer.json()["incident"]["assignments"], "assignee") == [other]
    types = [e["type"] for e in _entries(client, incident_id)[logged:]]
    assert types == ["assign_log_entry", "notify_log_entry", "acknowledge_log_entry"]


def test_a_refused_combined_update_changes_nothing(
    client: httpx.Client, pd: EmulatorHandle
) -> None:
    incident_id = pd.state.trigger("half applied?").id
    before = client.get(f"/incidents/{incident_id}").json()["incident"]
    refused = _put(client, incident_id, assignments=_assign("PNOBODY"), status="acknowledged")
    assert refused.status_code == 400
    bad_level = _put(client, incident_id, title="new title", escalation_level=99)
    assert bad_level.status_code == 400
    good = {"id": incident_id, "type": "incident_reference", "status": "acknowledged"}
    bulk = client.put("/incidents", json={"incidents": [good, {"id": incident_id}]})
    assert bulk.status_code == 400
    assert client.get(f"/incidents/{incident_id}").json()["incident"] == before


# -- faults: trickle, epoch resets, late success ----------------------------------------------
def test_trickle_sends_the_whole_body_a_byte_at_a_time(
    client: httpx.Client, pd: EmulatorHandle
) -> None:
    pd.state.inject({"kind": "trickle", "delay": 0.005, "path": "/incidents/PNOPE00"})
    started = time.monotonic()
    answer = client.get("/incidents/PNOPE00", timeout=httpx.Timeout(0.3))
    assert answer.status_code == 404 and answer.json()["error"]["code"] == 2100
    assert time.monotonic() - started >= 0.005 * len(answer.content)


def test_trickle_outlasts_a_per_read_timeout_and_blocks_nobody_else(
    client: httpx.Client, pd: EmulatorHandle
) -> None:
    incident_id = pd.state.trigger("slow reader").id
    pd.state.inject({"kind": "trickle", "delay": 0.02, "path": f"/incidents/{incident_id}"})
    received = 0
    with client.stream("GET", f"/incidents/{incident_id}", timeout=httpx.Timeout(0.5)) as r:
        assert r.status_code == 200
        length = int(r.headers["content-length"])
        deadline = time.monotonic() + 1.5
        for chunk in r.iter_raw():
            received += len(chunk)
            if received == len(chunk):  # meanwhile, another connection is served at once
                asked = time.monotonic()
                other = httpx.get(f"{pd.url}/users/me", headers=_headers(pd), timeout=2)
                assert other.status_code == 200 and time.monotonic() - asked < 1
            if time.monotonic() > deadline:
                break
    # Past three read timeouts and still going: only a total deadline would stop it.
    assert 10 < received < length
    assert client.get(f"/incidents/{incident_id}").status_code == 200  # disarmed after one


def test_a_trickle_needs_a_delay(pd: EmulatorHandle, client: httpx.Client) -> None:
    with pytest.raises(FaultError):
        pd.state.inject({"kind": "trickle"})
    assert client.post("/_emulator/faults", json={"kind": "trickle"}).status_code == 400


def test_epoch_reset_is_a_429_whose_reset_is_an_epoch(
    client: httpx.Client, pd: EmulatorHandle
) -> None:
    client.post("/_emulator/faults", json={"kind": "epoch_reset", "reset": 30, "method": "GET"})
    before = time.time()
    refused = client.get("/incidents")
    assert refused.status_code == 429 and refused.json()["error"]["code"] == 2020
    assert refused.headers["ratelimit-remaining"] == "0"
    epoch = int(refused.headers["ratelimit-reset"])
    assert int(before) + 30 <= epoch <= int(time.time()) + 30
    assert client.get("/incidents").status_code == 200


def test_epoch_header_on_a_success(client: httpx.Client, pd: EmulatorHandle) -> None:
    incident_id = pd.state.trigger("noted").id
    pd.state.inject({"kind": "epoch_header", "reset": 3600, "method": "POST"})
    before = time.time()
    answer = client.post(f"/incidents/{incident_id}/notes", json={"note": {"content": "hi"}})
    assert answer.status_code == 200 and answer.json()["note"]["content"] == "hi"
    assert answer.headers["ratelimit-remaining"] == "0"
    assert int(before) + 3600 <= int(answer.headers["ratelimit-reset"]) <= time.time() + 3600
    assert [n.content for n in pd.state.incidents[incident_id].notes] == ["hi"]
    after = client.get("/users/me")
    assert int(after.headers["ratelimit-reset"]) <= 60  # back to seconds


@pytest.mark.parametrize("write", ["acknowledge", "snooze"])
def test_late_success_applies_puts_and_snoozes_before_the_client_gives_up(
    client: httpx.Client, pd: EmulatorHandle, write: str
) -> None:
    incident_id = pd.state.trigger(f"late {write}").id
    if write == "snooze":
        _put(client, incident_id, status="acknowledged")
    method = "PUT" if write == "acknowledge" else "POST"
    pd.state.inject({"kind": "late_success", "delay": 0.6, "method": method})
    with pytest.raises(httpx.ReadTimeout):
        if write == "acknowledge":
            body = {"incident": {"type": "incident_reference", "status": "acknowledged"}}
            client.put(f"/incidents/{incident_id}", json=body, timeout=0.2)
        else:
            client.post(f"/incidents/{incident_id}/snooze", json={"duration": 600}, timeout=0.2)
    incident = pd.state.incidents[incident_id]
    assert incident.status == "acknowledged"
    if write == "snooze":
        assert incident.snoozed_until is not None
    (record,) = pd.state.writes.matching(action=write, incident_id=incident_id)
    assert record["status"] == (200 if write == "acknowledge" else 201)


# -- note ids ----------------------------------------------------------------------------------
def test_note_ids_numbered_per_incident() -> None:
    with start_emulator(incidents=20, now=NOW, seed=5, note_ids="per_incident") as pd:
        seeded = [i for i in pd.state.incidents.values() if i.notes]
        assert seeded and all(
            [n.id for n in i.notes] == [str(k) for k in range(1, len(i.notes) + 1)] for i in seeded
        )
        first, second = pd.state.trigger("one").id, pd.state.trigger("two").id
        with httpx.Client(base_url=pd.url, headers=_headers(pd), timeout=10) as http:
            ids = [
                http.post(f"/incidents/{target}/notes", json={"note": {"content": text}}).json()[
                    "note"
                ]["id"]
                for target, text in ((first, "a"), (first, "b"), (second, "c"))
            ]
            assert ids == ["1", "2", "1"]
            listed = http.get(f"/incidents/{first}/notes").json()["notes"]
            assert [(n["id"], n["content"]) for n in listed] == [("1", "a"), ("2", "b")]
            pd.state.note_ids = "global"
            unique = http.post(f"/incidents/{first}/notes", json={"note": {"content": "d"}})
            assert unique.json()["note"]["id"] not in ("1", "2", "3")
            assert http.put("/_emulator/options", json={"note_ids": "per_incident"}).json() == {
                "note_ids": "per_incident"
            }
            assert http.put("/_emulator/options", json={"note_ids": "odd"}).status_code == 400
        assert pd.state.note_ids == "per_incident"


def test_note_ids_are_unique_by_default_and_the_mode_is_checked(pd: EmulatorHandle) -> None:
    ids = [n.id for i in pd.state.incidents.values() for n in i.notes]
    assert ids and len(set(ids)) == len(ids) and pd.state.note_ids == "global"
    with pytest.raises(ValueError):
        pd.state.note_ids = "sequential"


# -- statuses a client does not know ------------------------------------------------------------
def test_an_unknown_status_is_returned_as_is(client: httpx.Client, pd: EmulatorHandle) -> None:
    incident_id = pd.state.trigger("new kind of status").id
    pd.state.set_status(incident_id, "investigating")
    one = client.get(f"/incidents/{incident_id}").json()["incident"]
    assert one["status"] == "investigating"
    listed = client.get("/incidents", params={"limit": 100}).json()["incidents"]
    assert {i["id"]: i["status"] for i in listed}[incident_id] == "investigating"
    only = client.get("/incidents", params={"statuses[]": "investigating"}).json()["incidents"]
    assert [i["id"] for i in only] == [incident_id]
    params: dict[str, str | int] = {"include[]": "incidents", "limit": 100}
    for path in (f"/incidents/{incident_id}/log_entries", "/log_entries"):
        entries = client.get(path, params=params).json()["log_entries"]
        mine = [e for e in entries if e["incident"]["id"] == incident_id]
        assert mine and {e["incident"]["status"] for e in mine} == {"investigating"}
    changed = client.post(
        "/_emulator/status", json={"incident_id": incident_id, "status": "mitigated"}
    )
    assert changed.status_code == 200 and changed.json()["incident"]["status"] == "mitigated"
    assert client.get(f"/incidents/{incident_id}").json()["incident"]["status"] == "mitigated"
    missing = client.post("/_emulator/status", json={"incident_id": "PNOPE00", "status": "x"})
    assert missing.status_code == 404
    acked = _put(client, incident_id, status="acknowledged")
    assert acked.json()["incident"]["status"] == "acknowledged"  # writes still apply


# -- the write journal --------------------------------------------------------------------------
def test_every_write_is_journaled_with_method_path_body_and_from(
    client: httpx.Client, pd: EmulatorHandle
) -> None:
    pd.state.reset_counters()
    incident_id = pd.state.trigger("journal").id
    me = pd.state.users[pd.state.me_id].email
    note = {"note": {"content": "checked the dashboards"}}
    client.post(f"/incidents/{incident_id}/notes", json=note)
    client.post(f"/incidents/{incident_id}/notes", json=note)
    _put(client, incident_id, escalation_level=2)
    _put(client, incident_id, status="acknowledged")
    client.post(f"/incidents/{incident_id}/snooze", json={"duration": 600})
    pd.state.inject({"kind": "drop", "method": "POST"})
    with pytest.raises(httpx.TransportError):
        client.post(f"/incidents/{incident_id}/snooze", json={"duration": 900})
    bulk = {"incidents": [{"id": incident_id, "type": "incident", "status": "resolved"}]}
    client.put("/incidents", json=bulk)
    httpx.put(f"{pd.url}/incidents/{incident_id}", json={}, headers={"From": me})  # no token
    client.patch(f"/incidents/{incident_id}", json={"incident": {}})
    client.get("/incidents")  # reads are not journaled
    journal = pd.state.writes
    assert [(w["method"], w["status"]) for w in journal] == [
        ("POST", 200),
        ("POST", 200),
        ("PUT", 200),
        ("PUT", 200),
        ("POST", 201),
        ("POST", None),  # dropped: arrived, never answered
        ("PUT", 200),
        ("PUT", 401),
        ("PATCH", 405),
    ]
    assert all(w["from"] == me and w["incident_ids"] == [incident_id] for w in journal)
    assert len(journal.matching(action="note", incident_id=incident_id)) == 2
    assert [w["body"]["duration"] for w in journal.matching(action="snooze")] == [600, 900]
    assert len(journal.matching(action="escalate")) == 1
    assert len(journal.matching(action="resolve", path="/incidents")) == 1
    assert len(journal.matching(method="POST", status=201)) == 1
    assert journal[0]["path"] == f"/incidents/{incident_id}/notes" and journal[0]["body"] == note
    assert journal[0]["headers"]["From"] == me
    assert not any("authorization" in (k.lower() for k in w["headers"]) for w in journal)
    assert client.get("/_emulator/writes").json()["writes"] == journal


def test_events_and_unparsable_writes_are_journaled_too(
    client: httpx.Client, pd: EmulatorHandle
) -> None:
    pd.state.reset_counters()
    service = next(iter(pd.state.services.values()))
    event = {
        "routing_key": service.routing_key,
        "event_action": "trigger",
        "payload": {"summary": "cpu", "source": "web-1", "severity": "critical"},
    }
    assert client.post("/v2/enqueue", json=event).status_code == 202
    incident_id = pd.state.trigger("raw").id
    raw = client.put(f"/incidents/{incident_id}", content=b"{not json")
    assert raw.status_code == 400
    events, broken = pd.state.writes
    assert events["actions"] == ["event_trigger"] and events["status"] == 202
    assert broken["body"] == "{not json" and broken["actions"] == [] and broken["status"] == 400
