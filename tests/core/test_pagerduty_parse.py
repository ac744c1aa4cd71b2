"""PagerDuty JSON (shapes from the published spec) -> records, remote strings kept raw."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cockpit.integrations import pagerduty_parse as parse
from cockpit.integrations.base import ProviderError


def ref(kind: str, ident: str, summary: str) -> dict[str, str]:
    return {"id": ident, "type": f"{kind}_reference", "summary": summary}


INCIDENT = {
    "id": "PT4KHLK",
    "type": "incident",
    "summary": "[#1234] The server is on fire.",
    "incident_number": 1234,
    "title": "The server \x1b]52;c;aGk=\x07 is [bold]on fire[/]",
    "created_at": "2015-10-06T21:30:42Z",
    "updated_at": "2015-10-06T21:40:23Z",
    "status": "acknowledged",
    "incident_key": "baf7cf21b1da41b4b0221008339ff357",
    "service": ref("service", "PIJ90N7", "My Mail Service"),
    "assignments": [
        {"at": "2015-11-10T00:31:52Z", "assignee": ref("user", "PXPGF42", "Earline Greenholt")}
    ],
    "acknowledgements": [
        {"at": "2015-11-10T00:32:52Z", "acknowledger": ref("user", "PXPGF42", "E")},
        {"at": "2015-11-10T00:31:59-05:00", "acknowledger": ref("user", "PXPGF43", "F")},
    ],
    "last_status_change_at": "2015-10-06T21:38:23Z",
    "escalation_policy": ref("escalation_policy", "PT20YPA", "Another Escalation Policy"),
    "teams": [ref("team", "PQ9K7I8", "Engineering")],
    "priority": {"id": "P53ZZH5", "type": "priority", "summary": "P2", "name": "P2"},
    "urgency": "high",
    "resolved_at": None,
    "html_url": "https://subdomain.pagerduty.com/incidents/PT4KHLK",
    "incident_type": {"name": "incident_default"},
    "body": {
        "details": {"runbook_url": "https://wiki.example.com/rb/mail", "count": 3, "host": "m1"}
    },
}


def test_incident_fields() -> None:
    record = parse.incident(INCIDENT)
    assert record.id == "PT4KHLK"
    assert record.title == INCIDENT["title"]  # raw: escaping is the viewer's job
    assert record.status == "acknowledged"
    assert record.number == 1234
    assert record.created_at == datetime(2015, 10, 6, 21, 30, 42, tzinfo=UTC)
    assert record.updated_at == datetime(2015, 10, 6, 21, 40, 23, tzinfo=UTC)
    assert record.priority == "P2"
    assert (record.service_id, record.service_name) == ("PIJ90N7", "My Mail Service")
    assert record.escalation_policy_id == "PT20YPA"
    assert record.team == "Engineering"
    assert record.assignees == ("PXPGF42",)
    # the first acknowledgement, offsets normalised to UTC
    assert record.acknowledged_at == datetime(2015, 11, 10, 0, 32, 52, tzinfo=UTC)
    assert record.resolved_at is None
    assert record.runbook_url == "https://wiki.example.com/rb/mail"
    assert record.annotations == {
        "runbook_url": "https://wiki.example.com/rb/mail",
        "count": "3",
        "host": "m1",
    }
    assert record.labels == {"incident_type": "incident_default"}
    assert record.incident_key == "baf7cf21b1da41b4b0221008339ff357"
    assert record.html_url.endswith("/PT4KHLK")


def test_resolved_incident_derives_times_from_last_status_change() -> None:
    raw = dict(INCIDENT, status="resolved", acknowledgements=[], priority=None, body=None)
    record = parse.incident(raw)
    assert record.resolved_at == datetime(2015, 10, 6, 21, 38, 23, tzinfo=UTC)
    assert record.acknowledged_at is None  # the log says; a resolved incident lists no acks
    assert record.priority == "" and record.runbook_url == ""


def test_acknowledged_without_acknowledgements_uses_last_status_change() -> None:
    record = parse.incident(dict(INCIDENT, acknowledgements=[]))
    assert record.acknowledged_at == datetime(2015, 10, 6, 21, 38, 23, tzinfo=UTC)


def test_an_unknown_status_is_kept_as_received_and_remembered() -> None:
    # The spec says statuses may be added: one unknown value must not stop a sync.
    record = parse.incident(dict(INCIDENT, status="investigating"))
    assert record.status == "investigating"
    assert record.id == INCIDENT["id"]
    assert "investigating" in parse.UNKNOWN_STATUSES
    assert parse.incident(dict(INCIDENT, status=None)).status == "unknown"


def test_bad_timestamps_are_provider_errors() -> None:
    with pytest.raises(ProviderError, match="malformed timestamp"):
        parse.incident(dict(INCIDENT, created_at="yesterday"))
    with pytest.raises(ProviderError, match="without created_at"):
        parse.incident(dict(INCIDENT, created_at=None))


def test_is_full_incident() -> None:
    assert parse.is_full_incident(INCIDENT)
    assert not parse.is_full_incident(ref("incident", "PT4KHLK", "x"))
    assert not parse.is_full_incident(None)


def entry(kind: str, **extra: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": "Q02JTSNZWHSEKV",
        "type": kind,
        "summary": "something happened",
        "created_at": "2015-11-07T00:14:20Z",
        "agent": ref("user", "PXPGF42", "Earline Greenholt"),
        "channel": {"type": "web_ui"},
        "incident": ref("incident", "PT4KHLK", "[#1234] The server is on fire."),
        "service": ref("service", "PIJ90N7", "My Mail Service"),
    }
    base.update(extra)
    return base


def test_log_entry_types_lose_their_suffix_and_keep_the_agent() -> None:
    record = parse.log_entry(entry("acknowledge_log_entry"))
    assert record.type == "acknowledge"
    assert record.incident_id == "PT4KHLK"
    assert (record.agent_id, record.agent_name) == ("PXPGF42", "Earline Greenholt")
    assert record.channel == "web_ui"
    assert record.details["service_id"] == "PIJ90N7"


def test_a_service_agent_is_not_a_person() -> None:
    record = parse.log_entry(
        entry("trigger_log_entry", agent=ref("service", "PIJ90N7", "Mail"), note="n")
    )
    assert record.agent_id == "" and record.agent_name == "Mail"
    assert record.details["note"] == "n"


@pytest.mark.parametrize(
    ("notification", "channel"),
    [
        ("sms_notification", "sms"),
        ("phone_notification", "phone"),
        ("email_notification", "email"),
        ("push_notification", "push_notification"),
    ],
)
def test_notify_entries_name_the_person_and_the_channel(notification: str, channel: str) -> None:
    raw = entry(
        "notify_log_entry",
        agent=ref("service", "PIJ90N7", "Mail"),
        channel={"type": "notification", "notification": {"type": notification}},
        user=ref("user", "PAM4FGS", "Kyler Kuhn"),
    )
    record = parse.log_entry(raw)
    assert (record.type, record.person_id, record.channel) == ("notify", "PAM4FGS", channel)


def test_assign_entries_name_the_assignee() -> None:
    raw = entry(
        "assign_log_entry",
        assignees=[ref("user", "PAM4FGS", "Kyler"), ref("user", "PXPGF42", "Earline")],
    )
    record = parse.log_entry(raw)
    assert record.person_id == "PAM4FGS"
    assert record.details["assignees"] == ["PAM4FGS", "PXPGF42"]


def test_an_annotate_entry_without_note_takes_its_text_from_the_channel() -> None:
    raw = entry("annotate_log_entry", channel={"type": "note", "summary": "Scaled to 10 pods"})
    assert parse.log_entry(raw).details["note"] == "Scaled to 10 pods"
    raw = entry("annotate_log_entry", note="the note", channel={"type": "note", "summary": "x"})
    assert parse.log_entry(raw).details["note"] == "the note"


def test_entry_details_keep_channel_text_but_not_its_nested_objects() -> None:
    payload = {"host": "m1", "blob": "x" * 1000}
    raw = entry(
        "trigger_log_entry",
        channel={"type": "api", "summary": "Disk full", "details": payload},
    )
    details = parse.log_entry(raw).details
    assert details["channel"] == {"summary": "Disk full"}
    notify = entry(
        "notify_log_entry",
        channel={
            "type": "notification",
            "notification": {"type": "sms_notification", "status": "failed", "address": "+1"},
        },
        user=ref("user", "PAM4FGS", "Kyler Kuhn"),
    )
    record = parse.log_entry(notify)
    assert record.channel == "sms"
    assert record.details["notification_status"] == "failed"
    assert "channel" not in record.details and "notification" not in record.details


def test_alert_runbook_from_details_or_a_context_link() -> None:
    raw = {
        "id": "PT4KHLK",
        "type": "alert",
        "summary": "The server is on fire.",
        "created_at": "2015-10-06T21:30:42Z",
        "status": "resolved",
        "alert_key": "baf7cf21b1da41b4b0221008339ff357",
        "severity": "critical",
        "resolved_at": "2015-10-06T22:00:00Z",
        "incident": ref("incident", "PT4KHLK", "x"),
        "service": ref("service", "PIJ90N7", "Mail"),
        "body": {
            "contexts": [
                {"type": "link", "href": "https://grafana.example.com/d/1", "text": "Graph"},
                {"type": "link", "href": "https://wiki.example.com/x", "text": "Runbook"},
            ],
            "details": {"customKey": "my_value", "nested": {"a": 1}},
        },
    }
    record = parse.alert(raw, "PT4KHLK")
    assert record.runbook_url == "https://wiki.example.com/x"
    assert record.fingerprint == "baf7cf21b1da41b4b0221008339ff357"
    # The other link is kept (as the alert's source link, and among its annotations).
    assert record.annotations == {
        "customKey": "my_value",
        "nested": '{"a": 1}',
        "link: Graph": "https://grafana.example.com/d/1",
    }
    assert record.generator_url == "https://grafana.example.com/d/1"
    assert record.labels == {"severity": "critical", "service": "Mail"}
    assert record.severity == "critical" and record.status == "resolved"
    assert record.updated_at == datetime(2015, 10, 6, 22, 0, tzinfo=UTC)
    raw["body"] = {"details": {"runbook_url": "https://rb.example.com/a"}}
    assert parse.alert(raw, "PT4KHLK").runbook_url == "https://rb.example.com/a"
    raw["body"] = {"details": {"runbook_url": "javascript:alert(1)"}}
    assert parse.alert(raw, "PT4KHLK").runbook_url == ""


def test_note_oncall_person() -> None:
    note = parse.note(
        {
            "id": "PWL7QXS",
            "user": ref("user", "PXPGF42", "Earline"),
            "content": "Firefighters are on the scene.",
            "created_at": "2013-03-06T15:28:51-05:00",
        },
        "PT4KHLK",
    )
    assert note.created_at == datetime(2013, 3, 6, 20, 28, 51, tzinfo=UTC)
    assert (note.author_id, note.author_name, note.incident_id) == ("PXPGF42", "Earline", "PT4KHLK")

    oncall = parse.oncall(
        {
            "user": ref("user", "PT23IWX", "Tim Wright"),
            "schedule": ref("schedule", "PI7DH85", "Daily Engineering Rotation"),
            "escalation_policy": ref("escalation_policy", "PT20YPA", "Engineering Escalation"),
            "escalation_level": 2,
            "start": "2015-03-06T15:28:51-05:00",
            "end": None,
        }
    )
    assert (oncall.person_id, oncall.escalation_level, oncall.schedule_name) == (
        "PT23IWX",
        2,
        "Daily Engineering Rotation",
    )
    assert oncall.end is None and oncall.start is not None

    person = parse.person(
        {
            "id": "PXPGF42",
            "name": "Earline Greenholt",
            "email": "125.greenholt.earline@graham.name",
            "time_zone": "America/Lima",
            "teams": [ref("team", "PQ9K7I8", "Engineering")],
        }
    )
    assert person.time_zone == "America/Lima" and person.teams == ("Engineering",)


def test_error_detail_and_time_format() -> None:
    body = {"error": {"message": "Invalid Input Provided", "code": 2001, "errors": ["bad id"]}}
    assert parse.error_detail(body) == ("Invalid Input Provided: bad id", 2001)
    assert parse.error_detail("nope") == ("", None)
    assert parse.format_time(datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2024-01-02T03:04:05Z"
    with pytest.raises(ValueError):
        parse.format_time(datetime(2024, 1, 2))
