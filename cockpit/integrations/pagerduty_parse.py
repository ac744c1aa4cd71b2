"""PagerDuty REST v2 JSON -> cockpit records.

Pure functions, no I/O. Remote strings are copied raw: escaping is the job of whoever shows them.
Missing or null fields fall back to the record defaults instead of failing, because the API
leaves many fields out depending on ``include[]`` and the account's abilities.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, cast

from cockpit.integrations.base import ProviderError
from cockpit.records import (
    AlertRecord,
    IncidentRecord,
    IncidentStatus,
    LogEntryRecord,
    NoteRecord,
    OnCallRecord,
    PersonRecord,
)

_STATUSES = ("triggered", "acknowledged", "resolved")
# Statuses seen that this client does not know; the sync reports each once per process.
UNKNOWN_STATUSES: set[str] = set()


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 timestamp as an aware UTC datetime; None for null or empty."""
    if not value or not isinstance(value, str):
        return None
    try:
        # Python 3.11 reads a trailing Z as UTC itself (and gives UTC, so no conversion).
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ProviderError(f"PagerDuty sent a malformed timestamp: {value[:40]!r}") from None
    tz = parsed.tzinfo
    if tz is UTC:
        return parsed
    if tz is None:
        return parsed.replace(tzinfo=UTC)
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


# For the client modules, which read the same loosely typed JSON.
as_dict = _obj
as_list = _list


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _ref_id(value: Any) -> str:
    if isinstance(value, dict):
        ident = value.get("id")
        if isinstance(ident, str):
            return ident
    return ""


def _ref_name(value: Any) -> str:
    if not isinstance(value, dict):
        return ""
    name = value.get("summary")
    if name and isinstance(name, str):
        return name
    name = value.get("name")
    return name if isinstance(name, str) else ""


def _flatten(details: Any) -> dict[str, str]:
    """Alert/incident details as str -> str; nested values become JSON text."""
    out: dict[str, str] = {}
    for key, value in _obj(details).items():
        if isinstance(value, str):
            out[str(key)] = value
        elif value is not None:
            out[str(key)] = json.dumps(value, sort_keys=True, default=str)
    return out


def _details_text(details: Any) -> dict[str, str]:
    """An alert's or incident's ``body.details`` as annotations: an object flattened, a string
    (the spec allows one) kept whole under ``details``."""
    if isinstance(details, str):
        return {"details": details} if details else {}
    return _flatten(details)


def _teams(teams: Any) -> str:
    """Every team of the incident, in PagerDuty's order, joined: "Payments, Storefront"."""
    if not teams or not isinstance(teams, list):
        return ""
    names = (_ref_name(team) for team in teams)
    return ", ".join(dict.fromkeys(name for name in names if name))


def _snoozed_until(pending: Any) -> datetime | None:
    """When a snooze ends: the ``at`` of the pending ``unacknowledge`` action, set by whoever
    snoozed (in PagerDuty, another tool or this cockpit)."""
    if not pending or not isinstance(pending, list):
        return None
    times = [
        at
        for action in pending
        if isinstance(action, dict) and action.get("type") == "unacknowledge"
        if (at := parse_time(action.get("at"))) is not None
    ]
    return max(times) if times else None


def _runbook_from(details: dict[str, Any], contexts: list[Any]) -> str:
    for key in ("runbook_url", "runbook", "runbook_link"):
        value = details.get(key)
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            return value
    for context in contexts:
        ctx = _obj(context)
        href = _str(ctx.get("href"))
        if (
            ctx.get("type") == "link"
            and href
            and ("runbook" in _str(ctx.get("text")).lower() or "runbook" in href.lower())
        ):
            return href
    return ""


def _required_time(raw: dict[str, Any], key: str, what: str) -> datetime:
    value = parse_time(raw.get(key))
    if value is None:
        raise ProviderError(f"PagerDuty sent a {what} without {key} (id {raw.get('id')!r})")
    return value


def _dict(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def incident(raw: dict[str, Any]) -> IncidentRecord:
    """An Incident object (or an incident included in a log entry) as a record."""
    # Hot path of a first sync (10k+ incidents): plain dict.get, no helper calls per field.
    get = raw.get
    status = get("status")
    if status not in _STATUSES:
        # The spec says statuses may be added: keep the incident, its status as received.
        status = status if isinstance(status, str) and status else "unknown"
        UNKNOWN_STATUSES.add(status)
    created = _required_time(raw, "created_at", "incident")
    last_change = parse_time(get("last_status_change_at"))
    updated = parse_time(get("updated_at")) or last_change or created
    acknowledged_at = None
    acks = get("acknowledgements")
    if acks and isinstance(acks, list):
        ack_times = [t for a in acks if (t := parse_time(_obj(a).get("at"))) is not None]
        acknowledged_at = min(ack_times) if ack_times else None
    if acknowledged_at is None and status == "acknowledged":
        acknowledged_at = last_change  # the latest ack; the log holds the first one
    resolved_at = parse_time(get("resolved_at"))
    if resolved_at is None and status == "resolved":
        resolved_at = last_change
    body = _dict(get("body"))
    raw_details = body.get("details") if body is not None else None
    details = _dict(raw_details)
    contexts = body.get("contexts") if body is not None else None
    priority = _dict(get("priority"))
    number = get("incident_number")
    labels: dict[str, str] = {}
    incident_type = _dict(get("incident_type"))
    if incident_type is not None:
        type_name = _str(incident_type.get("name"))
        if type_name:
            labels["incident_type"] = type_name
    service = get("service")
    assignees: list[str] = []
    for assignment in _list(get("assignments")):
        ident = _ref_id(assignment.get("assignee")) if isinstance(assignment, dict) else ""
        if ident:
            assignees.append(ident)
    return IncidentRecord(
        id=_str(get("id")),
        title=_str(get("title")) or _str(get("summary")),
        status=cast(IncidentStatus, status),
        created_at=created,
        updated_at=updated,
        number=number if isinstance(number, int) else None,
        urgency=_str(get("urgency")) or "high",
        priority=(
            (_str(priority.get("summary")) or _str(priority.get("name"))) if priority else ""
        ),
        service_id=_ref_id(service),
        service_name=_ref_name(service),
        escalation_policy_id=_ref_id(get("escalation_policy")),
        team=_teams(get("teams")),
        assignees=tuple(assignees),
        acknowledged_at=acknowledged_at,
        resolved_at=resolved_at,
        html_url=_str(get("html_url")),
        labels=labels,
        annotations=_details_text(raw_details) if raw_details else {},
        runbook_url=_runbook_from(details or {}, _list(contexts)) if details or contexts else "",
        incident_key=_str(get("incident_key")),
        snoozed_until=_snoozed_until(get("pending_actions")),
        alert_counts=_alert_counts(get("alert_counts")),
    )


def _alert_counts(raw: Any) -> tuple[int, int] | None:
    counts = _dict(raw)
    if counts is None:
        return None
    every, triggered = counts.get("all"), counts.get("triggered")
    if not isinstance(every, int) or not isinstance(triggered, int) or isinstance(every, bool):
        return None
    return every, triggered


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


_PERSON_AGENTS = ("user_reference", "user")
_EMPTY: dict[str, Any] = {}


def log_entry(raw: dict[str, Any]) -> LogEntryRecord:
    """A LogEntry as a record. ``details`` keeps what the timeline reads and small extras.

    Hot path of a first sync (~100k entries): plain ``dict.get`` instead of helpers per field,
    and ``details`` (stored as JSON on every timeline row) holds no copy of nested objects
    the row already has as columns: the channel's type is ``channel``, a notification's type
    is mapped into it, the agent is ``actor``/``agent_name``, the incident is ``incident_id``.
    """
    get = raw.get
    kind = get("type")
    kind = kind.removesuffix("_log_entry") if isinstance(kind, str) else ""
    agent = get("agent")
    if not isinstance(agent, dict):
        agent = _EMPTY
    channel = get("channel")
    if not isinstance(channel, dict):
        channel = _EMPTY
    channel_type = channel.get("type")
    channel_name = channel_type if isinstance(channel_type, str) else ""
    details: dict[str, Any] = {}
    person_id = ""
    raw_assignees = get("assignees")
    if raw_assignees and isinstance(raw_assignees, list):
        assignees = [_ref_id(a) for a in raw_assignees]
        details["assignees"] = assignees
        if kind == "assign":
            person_id = assignees[0]
    if kind == "notify":
        person_id = _ref_id(get("user"))
        # PagerDuty nests it in the channel; older payloads put it beside the channel.
        notification = _obj(channel.get("notification")) or _obj(get("notification"))
        kind_of = _str(notification.get("type")) or channel_name
        channel_name = _NOTIFY_CHANNELS.get(kind_of, kind_of)
        status = notification.get("status")
        if status and isinstance(status, str):
            details["notification_status"] = status
    for key in ("note", "event_details", "contexts", "changeset"):
        value = get(key)
        if value:
            details[key] = value
    if len(channel) > 1:
        # What the channel says beyond its type (an annotate's text, an email's subject,
        # an API trigger's summary); its nested objects (the alert payload, which the
        # incident and alert records carry; the notification, read above) are left out.
        extra = {k: v for k, v in channel.items() if k != "type" and isinstance(v, str) and v}
        if extra:
            details["channel"] = extra
            if kind == "annotate" and "note" not in details:
                text = extra.get("content") or extra.get("summary")
                if text:
                    details["note"] = text  # where the timeline reads a note's text
    agent_type = agent.get("type")
    if agent:
        details["agent_type"] = agent_type if isinstance(agent_type, str) else ""
    service = get("service")
    service_id = service.get("id") if isinstance(service, dict) else None
    if service_id and isinstance(service_id, str):
        details["service_id"] = service_id
    agent_id = agent.get("id") if agent_type in _PERSON_AGENTS else ""
    created = parse_time(get("created_at"))
    if created is None:
        raise ProviderError(f"PagerDuty sent a log entry without created_at (id {get('id')!r})")
    summary = get("summary")
    return LogEntryRecord(
        id=_str(get("id")),
        incident_id=_ref_id(get("incident")),
        type=kind,
        created_at=created,
        summary=summary if isinstance(summary, str) else "",
        agent_id=agent_id if isinstance(agent_id, str) else "",
        agent_name=_ref_name(agent) if agent else "",
        person_id=person_id,
        channel=channel_name,
        details=details,
    )


def _web_url(value: Any) -> str:
    return value if isinstance(value, str) and value.startswith(("http://", "https://")) else ""


def _context_annotations(contexts: list[Any], runbook_url: str) -> dict[str, str]:
    """An alert's contexts (the Events API's ``links`` and ``images``) as annotations:
    ``link: <text>`` -> its href, ``image: <text>`` -> its src (or href). The runbook link is
    the alert's ``runbook_url`` already."""
    out: dict[str, str] = {}
    for number, context in enumerate(contexts, start=1):
        ctx = _obj(context)
        kind = _str(ctx.get("type"))
        if kind == "link":
            url = _str(ctx.get("href"))
        elif kind == "image":
            url = _str(ctx.get("src")) or _str(ctx.get("href"))
        else:
            continue
        if not url or url == runbook_url:
            continue
        name = " ".join((_str(ctx.get("text")) or _str(ctx.get("alt"))).split())[:80]
        key = f"{kind}: {name or number}"
        while key in out:
            key += "'"
        out[key] = url
    return out


def _alert_labels(raw: dict[str, Any], details: dict[str, Any]) -> dict[str, str]:
    """What runbook matching and the panel read as labels: the alert name when the details
    carry one (Prometheus and most monitors send it), the severity and the service."""
    labels: dict[str, str] = {}
    for key in ("alertname", "alert_name"):
        name = details.get(key)
        if isinstance(name, str) and name:
            labels["alertname"] = name
            break
    severity = _str(raw.get("severity"))
    if severity:
        labels["severity"] = severity
    service = _ref_name(raw.get("service"))
    if service:
        labels["service"] = service
    return labels


def alert(raw: dict[str, Any], incident_id: str) -> AlertRecord:
    """An Alert as a record. ``body.details`` may be an object or a string (the spec says
    so): a string is kept whole as the ``details`` annotation. ``body.contexts`` (links and
    images) become annotations, a link named runbook the ``runbook_url``, and the first other
    link the ``generator_url`` when the details name none."""
    body = _obj(raw.get("body"))
    raw_details = body.get("details")
    details = _obj(raw_details)
    contexts = _list(body.get("contexts"))
    runbook_url = _runbook_from(details, contexts)
    annotations = _details_text(raw_details)
    annotations.update(
        (k, v)
        for k, v in _context_annotations(contexts, runbook_url).items()
        if k not in annotations
    )
    generator = _web_url(details.get("generator_url")) or _web_url(body.get("client_url"))
    if not generator:
        generator = next(
            (
                href
                for ctx in map(_obj, contexts)
                if ctx.get("type") == "link"
                and (href := _web_url(ctx.get("href")))
                and href != runbook_url
            ),
            "",
        )
    return AlertRecord(
        id=_str(raw.get("id")),
        incident_id=_ref_id(raw.get("incident")) or incident_id,
        summary=_str(raw.get("summary")),
        status=_str(raw.get("status")) or "triggered",
        created_at=_required_time(raw, "created_at", "alert"),
        severity=_str(raw.get("severity")),
        fingerprint=_str(raw.get("alert_key")),
        updated_at=parse_time(raw.get("resolved_at")),
        labels=_alert_labels(raw, details),
        annotations=annotations,
        runbook_url=runbook_url,
        generator_url=generator,
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
