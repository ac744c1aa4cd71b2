"""The JSON shapes of the REST API v2, as the published spec gives them.

Rendering with the defaults (UTC, no ``include[]``) is cached as JSON text per record in
``state.json_cache``; actions drop an incident's entry when they change it. Log entries never
change after they are written, except for the incident title they echo (see ``forget``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from cockpit.integrations.pagerduty_emulator.model import (
    Alert,
    EscalationPolicy,
    Incident,
    LogEntry,
    Note,
    Service,
    Shift,
    Team,
    User,
    iso,
)

if TYPE_CHECKING:
    from cockpit.integrations.pagerduty_emulator.account import Account

HTML = "https://cockpit-emulator.pagerduty.com"
API = "https://api.pagerduty.com"
Fmt = Callable[[float], str]

_PATHS = {
    "user": "users",
    "service": "services",
    "escalation_policy": "escalation_policies",
    "team": "teams",
    "schedule": "schedules",
    "incident": "incidents",
}


def formatter(time_zone: str | None) -> Fmt:
    """How timestamps are written: UTC ``Z`` by default, else the zone's offset."""
    if not time_zone or time_zone in ("UTC", "Etc/UTC"):
        return iso
    zone = ZoneInfo(time_zone)
    return lambda epoch: datetime.fromtimestamp(int(epoch), zone).isoformat()


@functools.lru_cache(maxsize=65_536)
def ref(kind: str, record_id: str, summary: str) -> dict[str, Any]:
    """A ``*_reference`` object: ``kind`` is ``user``, ``service``, ``incident``…

    Cached and shared between renderings: callers copy it before changing it.
    """
    path = _PATHS.get(kind, kind + "s")
    html_path = "service-directory" if kind == "service" else path
    return {
        "id": record_id,
        "type": f"{kind}_reference",
        "summary": summary,
        "self": f"{API}/{path}/{record_id}",
        "html_url": f"{HTML}/{html_path}/{record_id}",
    }


def agent_ref(state: Account, agent: tuple[str, str] | None) -> dict[str, Any] | None:
    if agent is None:
        return None
    kind, record_id = agent
    if kind == "user_reference" and record_id in state.users:
        return ref("user", record_id, state.users[record_id].name)
    if kind == "service_reference" and record_id in state.services:
        return ref("service", record_id, state.services[record_id].name)
    return {"id": record_id, "type": kind, "summary": record_id, "self": None, "html_url": None}


def incident_summary(incident: Incident) -> str:
    return f"[#{incident.number}] {incident.title}"


def user_json(user: User, state: Account) -> dict[str, Any]:
    body = dict(ref("user", user.id, user.name))
    body.update(
        type="user",
        name=user.name,
        email=user.email,
        time_zone=user.time_zone,
        color=user.color,
        role=user.role,
        avatar_url="https://pd-static-assets.pagerduty.com/users/blank-avatar.png",
        description=None,
        invitation_sent=False,
        job_title=user.job_title,
        contact_methods=[],
        notification_rules=[],
        teams=[ref("team", tid, state.teams[tid].name) for tid in user.team_ids],
    )
    return body


def team_json(team: Team) -> dict[str, Any]:
    body = dict(ref("team", team.id, team.name))
    body.update(type="team", name=team.name, description=None, parent=None)
    return body


def service_json(service: Service, state: Account) -> dict[str, Any]:
    policy = state.policies[service.escalation_policy_id]
    body = dict(ref("service", service.id, service.name))
    body.update(
        type="service",
        name=service.name,
        description=service.description,
        status="active",
        auto_resolve_timeout=None,
        acknowledgement_timeout=None,
        created_at="2024-01-01T00:00:00Z",
        escalation_policy=ref("escalation_policy", policy.id, policy.name),
        teams=[ref("team", service.team_id, state.teams[service.team_id].name)],
        incident_urgency_rule={"type": "constant", "urgency": "high"},
        alert_creation="create_alerts_and_incidents",
        integrations=[],
    )
    return body


def policy_json(policy: EscalationPolicy, state: Account) -> dict[str, Any]:
    body = dict(ref("escalation_policy", policy.id, policy.name))
    rules = []
    for level, schedule_id in enumerate(policy.schedule_ids, start=1):
        schedule = state.schedules[schedule_id]
        rules.append(
            {
                "id": f"{policy.id}L{level}",
                "escalation_delay_in_minutes": 30,
                "targets": [ref("schedule", schedule.id, schedule.name)],
            }
        )
    body.update(
        type="escalation_policy",
        name=policy.name,
        description="",
        num_loops=policy.num_loops,
        on_call_handoff_notifications="if_has_services",
        escalation_rules=rules,
        services=[
            ref("service", s.id, s.name)
            for s in state.services.values()
            if s.escalation_policy_id == policy.id
        ],
        teams=[ref("team", policy.team_id, state.teams[policy.team_id].name)],
    )
    return body


def oncall_json(shift: Shift, state: Account, fmt: Fmt, include: set[str]) -> dict[str, Any]:
    user = state.users[shift.user_id]
    policy = state.policies[shift.escalation_policy_id]
    schedule = state.schedules[shift.schedule_id]
    return {
        "user": user_json(user, state) if "users" in include else ref("user", user.id, user.name),
        "schedule": ref("schedule", schedule.id, schedule.name),
        "escalation_policy": policy_json(policy, state)
        if "escalation_policies" in include
        else ref("escalation_policy", policy.id, policy.name),
        "escalation_level": shift.level,
        "start": fmt(shift.start),
        "end": fmt(shift.end),
    }


def _user_ref_or_full(state: Account, user_id: str, full: bool) -> dict[str, Any]:
    user = state.users[user_id]
    return user_json(user, state) if full else ref("user", user.id, user.name)


def incident_json(
    incident: Incident, state: Account, fmt: Fmt = iso, include: frozenset[str] = frozenset()
) -> dict[str, Any]:
    service = state.services[incident.service_id]
    policy = state.policies[incident.escalation_policy_id]
    teams = [state.teams[tid] for tid in incident.team_ids or [service.team_id]]
    first = incident.log_entries[0] if incident.log_entries else None
    users_full = "users" in include
    body = dict(ref("incident", incident.id, incident_summary(incident)))
    body.update(
        type="incident",
        incident_number=incident.number,
        title=incident.title,
        created_at=fmt(incident.created_at),
        updated_at=fmt(incident.updated_at),
        status=incident.status,
        incident_key=incident.incident_key,
        service=service_json(service, state)
        if "services" in include
        else ref("service", service.id, service.name),
        assignments=[
            {
                "at": fmt(at),
                "assignee": _user_ref_or_full(state, uid, users_full or "assignees" in include),
            }
            for uid, at in incident.assignments
        ],
        assigned_via=incident.assigned_via,
        last_status_change_at=fmt(incident.last_status_change_at),
        resolved_at=fmt(incident.resolved_at) if incident.resolved_at is not None else None,
        first_trigger_log_entry=(
            log_entry_json(first, state, fmt, frozenset())
            if first is not None and "first_trigger_log_entries" in include
            else ref_log(first, incident)
        ),
        alert_counts={
            "all": len(incident.alerts),
            "triggered": sum(1 for a in incident.alerts if a.status == "triggered"),
            "resolved": sum(1 for a in incident.alerts if a.status == "resolved"),
        },
        is_mergeable=True,
        incident_type={"name": "incident_default"},
        escalation_policy=policy_json(policy, state)
        if "escalation_policies" in include
        else ref("escalation_policy", policy.id, policy.name),
        teams=[team_json(t) if "teams" in include else ref("team", t.id, t.name) for t in teams],
        pending_actions=_pending(incident, fmt),
        acknowledgements=[
            {
                "at": fmt(at),
                "acknowledger": _user_ref_or_full(
                    state, uid, users_full or "acknowledgers" in include
                ),
            }
            for uid, at in incident.acknowledgements
        ],
        alert_grouping=None,
        last_status_change_by=agent_ref(state, incident.last_status_change_by),
        priority=None,
        resolve_reason=None,
        incidents_responders=[],
        responder_requests=[],
        urgency=incident.urgency,
    )
    if "conference_bridge" in include:
        body["conference_bridge"] = None
    return body


def _pending(incident: Incident, fmt: Fmt) -> list[dict[str, Any]]:
    if incident.status == "acknowledged" and incident.snoozed_until is not None:
        return [{"type": "unacknowledge", "at": fmt(incident.snoozed_until)}]
    return []


def ref_log(entry: LogEntry | None, incident: Incident) -> dict[str, Any] | None:
    if entry is None:
        return None
    return {
        "id": entry.id,
        "type": f"{entry.type}_reference",
        "summary": entry.summary,
        "self": f"{API}/log_entries/{entry.id}?incident_id={incident.id}",
        "html_url": f"{HTML}/incidents/{incident.id}/log_entries/{entry.id}",
    }


def log_entry_json(
    entry: LogEntry, state: Account, fmt: Fmt = iso, include: frozenset[str] = frozenset()
) -> dict[str, Any]:
    incident = state.incidents[entry.incident_id]
    service = state.services[incident.service_id]
    teams = [state.teams[tid] for tid in incident.team_ids or [service.team_id]]
    body: dict[str, Any] = {
        "id": entry.id,
        "type": entry.type,
        "summary": entry.summary,
        "self": f"{API}/log_entries/{entry.id}?incident_id={incident.id}",
        "html_url": f"{HTML}/incidents/{incident.id}/log_entries/{entry.id}",
        "created_at": fmt(entry.created_at),
        "agent": agent_ref(state, entry.agent),
        "channel": entry.channel,
        "service": service_json(service, state)
        if "services" in include
        else ref("service", service.id, service.name),
        "incident": incident_json(incident, state, fmt)
        if "incidents" in include
        else ref("incident", incident.id, incident_summary(incident)),
        "teams": [team_json(t) if "teams" in include else ref("team", t.id, t.name) for t in teams],
        "contexts": [],
    }
    if entry.type == "trigger_log_entry":
        body["event_details"] = {"description": incident.title}
    if entry.user_id is not None:
        user = state.users[entry.user_id]
        body["user"] = ref("user", user.id, user.name)
    if entry.assignee_ids:
        body["assignees"] = [ref("user", uid, state.users[uid].name) for uid in entry.assignee_ids]
    if entry.note is not None:
        body["note"] = entry.note
    return body


def alert_json(alert: Alert, incident: Incident, state: Account, fmt: Fmt) -> dict[str, Any]:
    service = state.services[incident.service_id]
    body = dict(ref("alert", alert.id, alert.summary))
    body.update(
        type="alert",
        self=f"{API}/alerts/{alert.id}",
        html_url=f"{HTML}/alerts/{alert.id}",
        created_at=fmt(alert.created_at),
        status=alert.status,
        alert_key=alert.alert_key,
        service=ref("service", service.id, service.name),
        body={"type": "alert_body", "contexts": list(alert.contexts), "details": alert.details},
        incident=ref("incident", incident.id, incident_summary(incident)),
        suppressed=False,
        severity=alert.severity,
        integration=None,
        resolved_at=fmt(alert.resolved_at) if alert.resolved_at is not None else None,
    )
    return body


def note_json(note: Note, state: Account, fmt: Fmt) -> dict[str, Any]:
    user = state.users[note.user_id]
    return {
        "id": note.id,
        "user": ref("user", user.id, user.name),
        "channel": {"summary": "The PagerDuty website or APIs"},
        "content": note.content,
        "created_at": fmt(note.created_at),
        "updated_at": fmt(note.created_at),
    }


def cached(state: Account, key: str, build: Callable[[], dict[str, Any]]) -> str:
    """The JSON text of a default rendering, built once until an action forgets it."""
    text = state.json_cache.get(key)
    if text is None:
        text = json.dumps(build(), separators=(",", ":"))
        state.json_cache[key] = text
    return text


def prerender(state: Account, incidents: Iterable[Incident]) -> None:
    """Fill the cache for ``incidents`` and their log entries (the seeder calls this).

    Rendering is most of what a cold list page costs (~10 ms for 100 incidents); doing it at
    seed time keeps it out of every client's measured first sync.
    """
    cache = state.json_cache
    for incident in incidents:
        if incident.id not in cache:
            cache[incident.id] = json.dumps(incident_json(incident, state), separators=(",", ":"))
        for entry in incident.log_entries:
            if entry.id not in cache:
                body = log_entry_json(entry, state)
                cache[entry.id] = json.dumps(body, separators=(",", ":"))


def forget(state: Account, incident: Incident) -> None:
    """Drop cached JSON of an incident and of log entries that echo its title."""
    state.json_cache.pop(incident.id, None)
    for entry in incident.log_entries:
        state.json_cache.pop(entry.id, None)
