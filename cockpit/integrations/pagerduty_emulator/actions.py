"""What a write does to an incident: status changes, assignment, notes, snooze, paging.

Each action appends the log entries PagerDuty would and bumps ``updated_at`` (and
``last_status_change_at`` when the status moves). Callers hold ``state.lock``. The error
codes (1001 already resolved, 1012 not acknowledged, 1013 bad snooze duration) follow the
client libraries; the HTTP status is what a client should branch on. How a ``PUT`` combines
them (and reopens a resolved incident) is in ``updates.py``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cockpit.integrations.pagerduty_emulator.model import (
    Alert,
    Incident,
    LogEntry,
    Note,
    Service,
    to_epoch,
)

if TYPE_CHECKING:
    from cockpit.integrations.pagerduty_emulator.account import Account

from cockpit.integrations.pagerduty_emulator.account import ApiError

MAX_SNOOZE = 604_800
CHANNEL_LABEL = {
    "push_notification": "push notification",
    "sms_notification": "SMS",
    "phone_notification": "phone call",
}


def _already_resolved(incident: Incident) -> ApiError:
    return ApiError(400, "Incident Already Resolved", 1001, [f"Incident {incident.id} is resolved"])


def _epoch(value: datetime | float | None, default: float) -> float:
    if value is None:
        return default
    return to_epoch(value) if isinstance(value, datetime) else float(value)


def make_entry(
    state: Account,
    incident: Incident,
    kind: str,
    at: float,
    summary: str,
    agent: tuple[str, str] | None,
    channel: dict[str, Any] | None = None,
    **fields: Any,
) -> LogEntry:
    return LogEntry(
        id=state.new_id("R", 26),
        type=kind,
        created_at=at,
        incident_id=incident.id,
        agent=agent,
        channel=channel or {"type": "api"},
        summary=summary,
        **fields,
    )


def notify_entries(
    state: Account,
    incident: Incident,
    user_ids: list[str],
    at: float,
    spread: bool = False,
) -> list[LogEntry]:
    """One page per person: a push, and for high urgency an SMS and a phone call.

    ``spread`` (seeded history) staggers the channels 20 s apart, as PagerDuty's notification
    rules do; live writes date them all ``at`` so no entry lies in the future.
    """
    entries = []
    for user_id in user_ids:
        user = state.users[user_id]
        kinds = ["push_notification"]
        if incident.urgency == "high":
            kinds += ["sms_notification", "phone_notification"]
        for offset, kind in enumerate(kinds):
            channel = {
                "type": "notification",
                "notification": {"type": kind, "status": "success", "address": user.email},
            }
            entries.append(
                make_entry(
                    state,
                    incident,
                    "notify_log_entry",
                    at + 1 + offset * 20 if spread else at,
                    f"Notified {user.name} by {CHANNEL_LABEL[kind]}.",
                    ("service_reference", incident.service_id),
                    channel,
                    user_id=user_id,
                )
            )
    return entries


def _touch(incident: Incident, at: float, status_changed: bool, by: tuple[str, str]) -> None:
    incident.updated_at = max(incident.updated_at, at)
    if status_changed:
        incident.last_status_change_at = at
        incident.last_status_change_by = by


def _log(state: Account, entries: list[LogEntry]) -> None:
    for entry in entries:
        state.append_log(entry)
    if entries:
        state.json_cache.pop(entries[0].incident_id, None)


def new_incident(
    state: Account,
    number: int,
    title: str,
    service: Service,
    urgency: str,
    at: float,
    key: str,
    details: dict[str, Any] | str,
    *,
    severity: str | None = None,
    contexts: list[dict[str, str]] | None = None,
) -> Incident:
    """A triggered incident with its first alert (not yet stored, no log entries): shared by
    live triggers and the seeded history. ``details`` is the alert's ``body.details`` (an
    object or a string), ``contexts`` its links and images."""
    incident = Incident(
        id=state.new_id(),
        number=number,
        title=title,
        service_id=service.id,
        escalation_policy_id=service.escalation_policy_id,
        urgency=urgency,
        status="triggered",
        created_at=at,
        incident_key=key,
        updated_at=at,
        last_status_change_at=at,
        last_status_change_by=("service_reference", service.id),
    )
    incident.alerts.append(
        Alert(
            id=state.new_id(),
            created_at=at,
            summary=title,
            severity=severity or ("critical" if urgency == "high" else "warning"),
            alert_key=key,
            details=details,
            contexts=list(contexts or []),
        )
    )
    return incident


def create_incident(
    state: Account,
    *,
    title: str,
    service_id: str | None = None,
    urgency: str = "high",
    created_at: datetime | float | None = None,
    status: str = "triggered",
    details: dict[str, Any] | str | None = None,
    incident_key: str | None = None,
    severity: str | None = None,
    source: str = "emulator",
    contexts: list[dict[str, str]] | None = None,
    teams: list[str] | None = None,
) -> Incident:
    """A new incident on a service, assigned to level 1 on-call and paged to them.

    ``details`` (an object or a string) and ``contexts`` (links and images) are its alert's
    body; ``teams`` (names or ids) the teams it involves, when more than the service's own."""
    if service_id is None:
        service_id = next(iter(state.services))
    service = state.services.get(service_id)
    if service is None:
        raise ApiError(400, "Invalid Input Provided", 2001, [f"Service {service_id} not found"])
    if urgency not in ("high", "low"):
        raise ApiError(400, "Invalid Input Provided", 2001, ["urgency must be high or low"])
    team_ids = _team_ids(state, teams or [])
    at = _epoch(created_at, state.now())
    key = incident_key or uuid.UUID(int=state.rng.getrandbits(128)).hex
    body = details if isinstance(details, str) else dict(details or {})
    incident = new_incident(
        state,
        state.next_number(),
        title,
        service,
        urgency,
        at,
        key,
        body,
        severity=severity,
        contexts=contexts,
    )
    incident.team_ids = team_ids
    state.insert_incident(incident)
    assignees = state.oncall_user_ids(service.escalation_policy_id, 1, at)
    incident.assignments = [(user_id, at) for user_id in assignees]
    channel = {
        "type": "api",
        "summary": title,
        "details": body if isinstance(body, str) else dict(body),
        "client": source,
    }
    trigger = make_entry(
        state,
        incident,
        "trigger_log_entry",
        at,
        "Triggered through the API",
        ("service_reference", service.id),
        channel,
    )
    _log(state, [trigger, *notify_entries(state, incident, assignees, at)])
    by = ("user_reference", assignees[0] if assignees else state.me_id)
    if status in ("acknowledged", "resolved"):
        acknowledge(state, incident, by[1], at + 60)
    if status == "resolved":
        resolve(state, incident, by[1], at + 120)
    return incident


def _team_ids(state: Account, teams: list[str]) -> list[str]:
    by_name = {team.name.lower(): team.id for team in state.teams.values()}
    found = [t if t in state.teams else by_name.get(t.lower(), "") for t in teams]
    unknown = [t for t, ident in zip(teams, found, strict=True) if not ident]
    if unknown:
        raise ApiError(400, "Invalid Input Provided", 2001, [f"Unknown team(s): {unknown}"])
    return list(dict.fromkeys(found))


def acknowledge(state: Account, incident: Incident, user_id: str, at: float) -> None:
    """Acknowledge; acknowledging again renews it (PagerDuty logs each acknowledgement)."""
    if incident.status == "resolved":
        raise _already_resolved(incident)
    changed = incident.status != "acknowledged"
    incident.status = "acknowledged"
    incident.snoozed_until = None
    incident.acknowledgements = [a for a in incident.acknowledgements if a[0] != user_id]
    incident.acknowledgements.append((user_id, at))
    by = ("user_reference", user_id)
    _touch(incident, at, changed, by)
    name = state.users[user_id].name
    _log(
        state,
        [make_entry(state, incident, "acknowledge_log_entry", at, f"Acknowledged by {name}.", by)],
    )


def unacknowledge(state: Account, incident: Incident, user_id: str, at: float) -> None:
    if incident.status == "resolved":
        raise _already_resolved(incident)
    if incident.status == "triggered":
        return
    incident.status = "triggered"
    incident.acknowledgements = []
    incident.snoozed_until = None
    by = ("user_reference", user_id)
    _touch(incident, at, True, by)
    _log(state, [make_entry(state, incident, "unacknowledge_log_entry", at, "Unacknowledged.", by)])


def resolve(
    state: Account, incident: Incident, user_id: str, at: float, resolution: str | None = None
) -> None:
    if incident.status == "resolved":
        raise _already_resolved(incident)
    incident.status = "resolved"
    incident.resolved_at = at
    incident.assignments = []
    incident.acknowledgements = []
    incident.snoozed_until = None
    for alert in incident.alerts:
        alert.status, alert.resolved_at = "resolved", at
    by = ("user_reference", user_id)
    _touch(incident, at, True, by)
    name = state.users[user_id].name
    entry = make_entry(
        state, incident, "resolve_log_entry", at, f"Resolved by {name}.", by, note=resolution
    )
    _log(state, [entry])


def reopen(state: Account, incident: Incident) -> None:
    """Take back a resolution, as an acknowledgement of a resolved incident does (the spec:
    it reopens and is assigned to the caller). Logs nothing itself: the assign and acknowledge
    entries that ``updates`` writes next are what PagerDuty shows. Alerts stay resolved."""
    incident.status = "triggered"
    incident.resolved_at = None
    incident.acknowledgements = []
    incident.snoozed_until = None
    state.json_cache.pop(incident.id, None)


def check_assignees(state: Account, user_ids: list[str]) -> None:
    unknown = [uid for uid in user_ids if uid not in state.users]
    if unknown or not user_ids:
        raise ApiError(400, "Invalid Input Provided", 2001, [f"Unknown assignee(s): {unknown}"])


def reassign(
    state: Account,
    incident: Incident,
    user_ids: list[str],
    by_id: str,
    at: float,
    *,
    notify: bool = True,
) -> None:
    """Direct assignment: replaces the assignees, re-triggers an acknowledged incident.

    ``notify=False`` is for an assignment the caller acknowledges in the same request
    (reopening): nobody is paged for an incident already acknowledged."""
    if incident.status == "resolved":
        raise _already_resolved(incident)
    check_assignees(state, user_ids)
    changed = incident.status != "triggered"
    incident.status = "triggered"
    incident.acknowledgements = []
    incident.assignments = [(uid, at) for uid in dict.fromkeys(user_ids)]
    incident.assigned_via = "direct_assignment"
    by = ("user_reference", by_id)
    _touch(incident, at, changed, by)
    names = ", ".join(state.users[uid].name for uid in user_ids)
    entry = make_entry(
        state,
        incident,
        "assign_log_entry",
        at,
        f"Assigned to {names} by {state.users[by_id].name}.",
        by,
        assignee_ids=list(user_ids),
    )
    paged = notify_entries(state, incident, list(dict.fromkeys(user_ids)), at) if notify else []
    _log(state, [entry, *paged])


def check_level(state: Account, incident: Incident, level: Any) -> int:
    if not isinstance(level, int) or isinstance(level, bool):
        raise ApiError(400, "Invalid Input Provided", 2001, ["escalation_level must be an integer"])
    levels = len(state.policies[incident.escalation_policy_id].schedule_ids)
    if not 1 <= level <= levels:
        raise ApiError(
            400,
            "Invalid Input Provided",
            2001,
            [f"escalation_level must be between 1 and {levels}"],
        )
    return level


def escalate(state: Account, incident: Incident, level: int, by_id: str, at: float) -> None:
    if incident.status == "resolved":
        raise _already_resolved(incident)
    check_level(state, incident, level)
    assignees = state.oncall_user_ids(incident.escalation_policy_id, level, at)
    changed = incident.status != "triggered"
    incident.status = "triggered"
    incident.acknowledgements = []
    incident.escalation_level = level
    incident.assignments = [(uid, at) for uid in assignees]
    incident.assigned_via = "escalation_policy"
    by = ("user_reference", by_id)
    _touch(incident, at, changed, by)
    entry = make_entry(
        state,
        incident,
        "escalate_log_entry",
        at,
        f"Escalated to level {level}.",
        by,
        assignee_ids=list(assignees),
    )
    _log(state, [entry, *notify_entries(state, incident, assignees, at)])


def add_note(state: Account, incident: Incident, user_id: str, content: str, at: float) -> Note:
    if not isinstance(content, str) or not content.strip():
        raise ApiError(400, "Invalid Input Provided", 2001, ["Note content must not be empty"])
    if len(content) > 25_000:
        raise ApiError(400, "Invalid Input Provided", 2001, ["Note content is too long"])
    note = Note(id=state.note_id(incident), user_id=user_id, content=content, created_at=at)
    incident.notes.append(note)
    by = ("user_reference", user_id)
    _touch(incident, at, False, by)
    entry = make_entry(
        state, incident, "annotate_log_entry", at, "Note added", by, {"type": "note"}, note=content
    )
    _log(state, [entry])
    return note


def snooze(state: Account, incident: Incident, duration: Any, user_id: str, at: float) -> None:
    if (
        isinstance(duration, bool)
        or not isinstance(duration, int)
        or not 1 <= duration <= MAX_SNOOZE
    ):
        raise ApiError(
            400,
            "Invalid Input Provided",
            1013,
            [f"duration must be an integer number of seconds from 1 to {MAX_SNOOZE}"],
        )
    if incident.status == "resolved":
        raise _already_resolved(incident)
    if incident.status != "acknowledged":
        raise ApiError(
            400, "Incident Not Acknowledged", 1012, ["Only acknowledged incidents can be snoozed"]
        )
    incident.snoozed_until = at + duration
    by = ("user_reference", user_id)
    _touch(incident, at, False, by)
    hours = duration / 3600
    summary = f"Snoozed for {hours:g} hours by {state.users[user_id].name}."
    _log(state, [make_entry(state, incident, "snooze_log_entry", at, summary, by)])
