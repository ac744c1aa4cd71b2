"""PagerDuty REST v2 JSON -> cockpit records.

Pure functions, no I/O. Remote strings are copied raw: escaping is the job of whoever shows them.
Missing or null fields fall back to the record defaults instead of failing, because the API
leaves many fields out depending on ``include[]`` and the account's abilities.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, cast

from cockpit.integrations.base import (
    AlertRecord,
    IncidentRecord,
    IncidentStatus,
    LogEntryRecord,
    NoteRecord,
    OnCallRecord,
    PersonRecord,
    ProviderError,
)

_STATUSES = ("triggered", "acknowledged", "resolved")


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 timestamp as an aware UTC datetime; None for null or empty."""
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ProviderError(f"PagerDuty sent a malformed timestamp: {value[:40]!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_time(value: datetime) -> str:
    """UTC ISO 8601 with a Z, the form PagerDuty documents for ``since``/``until``."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: the core uses aware UTC datetimes")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _obj(value: Any) -> dict[str, Any]:
    return cast(dict[str, Any], value) if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _ref_id(value: Any) -> str:
    return _str(_obj(value).get("id"))


def _ref_name(value: Any) -> str:
    ref = _obj(value)
    return _str(ref.get("summary")) or _str(ref.get("name"))


def _flatten(details: Any) -> dict[str, str]:
    """Alert/incident details as str -> str; nested values become JSON text."""
    out: dict[str, str] = {}
    for key, value in _obj(details).items():
        if isinstance(value, str):
            out[str(key)] = value
        elif value is not None:
            out[str(key)] = json.dumps(value, sort_keys=True, default=str)
    return out


def _runbook_from(details: dict[str, Any], contexts: list[Any]) -> str:
    for key in ("runbook_url", "runbook", "runbook_link"):
        value = details.get(key)
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            return value
    for context in contexts:
        ctx = _obj(context)
        href = _str(ctx.get("href"))
        if ctx.get("type") == "link" and href and (
            "runbook" in _str(ctx.get("text")).lower() or "runbook" in href.lower()
        ):
            return href
    return ""


def _required_time(raw: dict[str, Any], key: str, what: str) -> datetime:
    value = parse_time(raw.get(key))
    if value is None:
        raise ProviderError(f"PagerDuty sent a {what} without {key} (id {raw.get('id')!r})")
    return value


def incident(raw: dict[str, Any]) -> IncidentRecord:
    """An Incident object (or an incident included in a log entry) as a record."""
    status = _str(raw.get("status"))
    if status not in _STATUSES:
        raise ProviderError(f"PagerDuty sent incident {raw.get('id')!r} with status {status!r}")
    created = _required_time(raw, "created_at", "incident")
    last_change = parse_time(raw.get("last_status_change_at"))
    updated = parse_time(raw.get("updated_at")) or last_change or created
    acks = [parse_time(_obj(a).get("at")) for a in _list(raw.get("acknowledgements"))]
    ack_times = [a for a in acks if a is not None]
    acknowledged_at = min(ack_times) if ack_times else None
    if acknowledged_at is None and status == "acknowledged":
        acknowledged_at = last_change  # the latest ack; the log holds the first one
    resolved_at = parse_time(raw.get("resolved_at"))
    if resolved_at is None and status == "resolved":
        resolved_at = last_change
    body = _obj(raw.get("body"))
    details = _obj(body.get("details"))
    teams = _list(raw.get("teams"))
    priority = _obj(raw.get("priority"))
    number = raw.get("incident_number")
    labels: dict[str, str] = {}
    incident_type = _str(_obj(raw.get("incident_type")).get("name"))
    if incident_type:
        labels["incident_type"] = incident_type
    return IncidentRecord(
        id=_str(raw.get("id")),
        title=_str(raw.get("title")) or _str(raw.get("summary")),
        status=cast(IncidentStatus, status),
        created_at=created,
        updated_at=updated,
        number=number if isinstance(number, int) else None,
        urgency=_str(raw.get("urgency")) or "high",
        priority=_str(priority.get("summary")) or _str(priority.get("name")),
        service_id=_ref_id(raw.get("service")),
        service_name=_ref_name(raw.get("service")),
        escalation_policy_id=_ref_id(raw.get("escalation_policy")),
        team=_ref_name(teams[0]) if teams else "",
        assignees=tuple(
            ident
            for ident in (_ref_id(_obj(a).get("assignee")) for a in _list(raw.get("assignments")))
            if ident
        ),
        acknowledged_at=acknowledged_at,
        resolved_at=resolved_at,
        html_url=_str(raw.get("html_url")),
        labels=labels,
        annotations=_flatten(details),
        runbook_url=_runbook_from(details, _list(body.get("contexts"))),
        incident_key=_str(raw.get("incident_key")),
    )


def is_full_incident(raw: Any) -> bool:
    """True for an included Incident object, False for a bare incident_reference."""
    obj = _obj(raw)
    return bool(obj.get("id")) and "status" in obj and "created_at" in obj


_NOTIFY_CHANNELS = {
    "sms_notification": "sms",
    "phone_notification": "phone",
    "email_notification": "email",
    "push_notification": "push_notification",
}


def log_entry(raw: dict[str, Any]) -> LogEntryRecord:
    kind = _str(raw.get("type")).removesuffix("_log_entry")
    agent = _obj(raw.get("agent"))
    agent_is_person = _str(agent.get("type")) in ("user_reference", "user")
    channel = _obj(raw.get("channel"))
    person_id = ""
    channel_name = _str(channel.get("type"))
    assignees = [_ref_id(a) for a in _list(raw.get("assignees"))]
    if kind == "notify":
        person_id = _ref_id(raw.get("user"))
        # PagerDuty nests it in the channel; older payloads put it beside the channel.
        notification = _obj(channel.get("notification")) or _obj(raw.get("notification"))
        kind_of = _str(notification.get("type")) or channel_name
        channel_name = _NOTIFY_CHANNELS.get(kind_of, kind_of)
    elif kind == "assign" and assignees:
        person_id = assignees[0]
    details: dict[str, Any] = {}
    for key in ("note", "event_details", "contexts", "changeset"):
        if raw.get(key):
            details[key] = raw[key]
    if channel:
        details["channel"] = channel
    if raw.get("notification"):
        details["notification"] = raw["notification"]
    if assignees:
        details["assignees"] = assignees
    if agent:
        details["agent_type"] = _str(agent.get("type"))
    service_id = _ref_id(raw.get("service"))
    if service_id:
        details["service_id"] = service_id
    return LogEntryRecord(
        id=_str(raw.get("id")),
        incident_id=_ref_id(raw.get("incident")),
        type=kind,
        created_at=_required_time(raw, "created_at", "log entry"),
        summary=_str(raw.get("summary")),
        agent_id=_str(agent.get("id")) if agent_is_person else "",
        agent_name=_ref_name(agent),
        person_id=person_id,
        channel=channel_name,
        details=details,
    )


def alert(raw: dict[str, Any], incident_id: str) -> AlertRecord:
    body = _obj(raw.get("body"))
    details = _obj(body.get("details"))
    generator = details.get("generator_url") or body.get("client_url")
    return AlertRecord(
        id=_str(raw.get("id")),
        incident_id=_ref_id(raw.get("incident")) or incident_id,
        summary=_str(raw.get("summary")),
        status=_str(raw.get("status")) or "triggered",
        created_at=_required_time(raw, "created_at", "alert"),
        severity=_str(raw.get("severity")),
        fingerprint=_str(raw.get("alert_key")),
        updated_at=parse_time(raw.get("resolved_at")),
        labels={"service_id": _ref_id(raw.get("service"))} if raw.get("service") else {},
        annotations=_flatten(details),
        runbook_url=_runbook_from(details, _list(body.get("contexts"))),
        generator_url=generator if isinstance(generator, str) else "",
    )


def note(raw: dict[str, Any], incident_id: str) -> NoteRecord:
    user = _obj(raw.get("user"))
    return NoteRecord(
        id=_str(raw.get("id")),
        incident_id=incident_id,
        content=_str(raw.get("content")),
        created_at=_required_time(raw, "created_at", "note"),
        author_id=_str(user.get("id")),
        author_name=_ref_name(user),
    )


def oncall(raw: dict[str, Any]) -> OnCallRecord:
    level = raw.get("escalation_level")
    return OnCallRecord(
        person_id=_ref_id(raw.get("user")),
        escalation_policy_id=_ref_id(raw.get("escalation_policy")),
        escalation_level=level if isinstance(level, int) else 1,
        start=parse_time(raw.get("start")),
        end=parse_time(raw.get("end")),
        schedule_id=_ref_id(raw.get("schedule")),
        schedule_name=_ref_name(raw.get("schedule")),
        escalation_policy_name=_ref_name(raw.get("escalation_policy")),
    )


def person(raw: dict[str, Any]) -> PersonRecord:
    return PersonRecord(
        id=_str(raw.get("id")),
        name=_str(raw.get("name")) or _str(raw.get("summary")),
        email=_str(raw.get("email")),
        time_zone=_str(raw.get("time_zone")) or "UTC",
        teams=tuple(n for n in (_ref_name(t) for t in _list(raw.get("teams"))) if n),
    )


def error_detail(body: Any) -> tuple[str, int | None]:
    """(message, code) of ``{"error": {"message", "code", "errors": [...]}}``, or ("", None)."""
    error = _obj(_obj(body).get("error"))
    message = _str(error.get("message"))
    extra = [e for e in _list(error.get("errors")) if isinstance(e, str)]
    if extra:
        message = f"{message}: {'; '.join(extra)}" if message else "; ".join(extra)
    code = error.get("code")
    if isinstance(code, str) and code.isdigit():
        code = int(code)
    return message, code if isinstance(code, int) else None


__all__ = [
    "alert",
    "error_detail",
    "format_time",
    "incident",
    "is_full_incident",
    "log_entry",
    "note",
    "oncall",
    "parse_time",
    "person",
]
