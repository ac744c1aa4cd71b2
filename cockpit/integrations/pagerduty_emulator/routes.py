"""The REST API v2 operations: each takes the parsed request and returns (status, JSON text).

Callers hold ``state.lock``. Lists answer ``{"<name>": [...], "limit", "offset", "more",
"total"}`` with ``total`` null unless ``total=true``. Incidents come oldest first (``sort_by``
changes that); log entries come newest first, as PagerDuty lists them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from cockpit.integrations.pagerduty_emulator import actions, render, updates
from cockpit.integrations.pagerduty_emulator.account import KNOWN_STATUSES, OVERVIEW_TYPES, ApiError
from cockpit.integrations.pagerduty_emulator.model import Incident, LogEntry
from cockpit.integrations.pagerduty_emulator.params import (
    Query,
    flag,
    invalid,
    one,
    page,
    values,
    window,
    zone,
)
from cockpit.integrations.pagerduty_emulator.state import EmulatorState

Result = tuple[int, str]
MAX_BULK = 250
_URGENCY_RANK = {"low": 0, "high": 1}


def dumps(body: Any) -> str:
    return json.dumps(body, separators=(",", ":"))


def listing(
    name: str, items: Sequence[str], limit: int, offset: int, more: bool, total: int | None
) -> str:
    """A page envelope around already-rendered JSON items."""
    head = dumps({"limit": limit, "offset": offset, "more": more, "total": total})
    return f'{head[:-1]},"{name}":[{",".join(items)}]}}'


def _plain(query: Query) -> tuple[render.Fmt, frozenset[str], bool]:
    """Timestamp format, include set, and whether the cached default rendering applies."""
    time_zone = zone(query)
    include = frozenset(values(query, "include"))
    return render.formatter(time_zone), include, time_zone is None and not include


def incident_text(state: EmulatorState, incident: Incident, query: Query) -> str:
    fmt, include, plain = _plain(query)
    if plain:
        return render.cached(state, incident.id, lambda: render.incident_json(incident, state))
    return dumps(render.incident_json(incident, state, fmt, include))


def _entries_text(state: EmulatorState, entries: Sequence[LogEntry], query: Query) -> list[str]:
    fmt, include, plain = _plain(query)
    if plain:
        return [
            render.cached(state, e.id, lambda e=e: render.log_entry_json(e, state))  # type: ignore[misc]
            for e in entries
        ]
    return [dumps(render.log_entry_json(e, state, fmt, include)) for e in entries]


# -- incidents ----------------------------------------------------------------------------
def _sort_key(spec: str) -> tuple[Callable[[Incident], Any], bool]:
    field, _, direction = spec.partition(":")
    keys: dict[str, Callable[[Incident], Any]] = {
        "created_at": lambda i: (i.created_at, i.number),
        "incident_number": lambda i: i.number,
        "resolved_at": lambda i: (i.resolved_at or 0.0, i.number),
        "urgency": lambda i: (_URGENCY_RANK[i.urgency], i.number),
    }
    if field not in keys or direction not in ("", "asc", "desc"):
        raise invalid(f"sort_by {spec!r} is not supported")
    return keys[field], direction == "desc"


def list_incidents(state: EmulatorState, query: Query) -> Result:
    limit, offset = page(query)
    since, until = window(query, state.now())
    found: Sequence[Incident] = state.incidents_between(since, until)
    statuses = set(values(query, "statuses"))
    urgencies = set(values(query, "urgencies"))
    service_ids = set(values(query, "service_ids"))
    team_ids = set(values(query, "team_ids"))
    user_ids = set(values(query, "user_ids"))
    key = one(query, "incident_key")
    if statuses - KNOWN_STATUSES - state.extra_statuses or urgencies - {"high", "low"}:
        raise invalid("statuses[] or urgencies[] holds an unknown value")
    if statuses or urgencies or service_ids or team_ids or user_ids or key:
        found = [
            i
            for i in found
            if (not statuses or i.status in statuses)
            and (not urgencies or i.urgency in urgencies)
            and (not service_ids or i.service_id in service_ids)
            and (
                not team_ids
                or not team_ids.isdisjoint(i.team_ids or [state.services[i.service_id].team_id])
            )
            and (not user_ids or any(uid in user_ids for uid, _ in i.assignments))
            and (not key or i.incident_key == key)
        ]
    sorts = values(query, "sort_by")
    if sorts and sorts[0] != "created_at" and sorts[0] != "created_at:asc":
        sort_key, reverse = _sort_key(sorts[0])
        found = sorted(found, key=sort_key, reverse=reverse)
    chosen = found[offset : offset + limit]
    total = len(found) if flag(query, "total") else None
    texts = [incident_text(state, i, query) for i in chosen]
    return 200, listing("incidents", texts, limit, offset, offset + limit < len(found), total)


def get_incident(state: EmulatorState, incident_id: str, query: Query) -> Result:
    incident = state.incident(incident_id)
    return 200, '{"incident":' + incident_text(state, incident, query) + "}"


def update_incident(state: EmulatorState, incident_id: str, body: Any, user_id: str) -> Result:
    incident = state.incident(incident_id)
    if not isinstance(body, dict) or not isinstance(body.get("incident"), dict):
        raise invalid('The body must be {"incident": {...}}')
    change = updates.parse_change(state, incident, body["incident"])
    updates.apply_change(state, incident, change, user_id)
    return 200, '{"incident":' + incident_text(state, incident, {}) + "}"


def update_incidents(state: EmulatorState, body: Any, user_id: str) -> Result:
    changes = body.get("incidents") if isinstance(body, dict) else None
    if not isinstance(changes, list):
        raise invalid('The body must be {"incidents": [...]}')
    if len(changes) > MAX_BULK:
        raise ApiError(
            413,
            "Request Entity Too Large",
            2001,
            [f"At most {MAX_BULK} incidents can be updated at once"],
        )
    targets = [state.incident(str(c.get("id") if isinstance(c, dict) else None)) for c in changes]
    # Every item is checked before any is applied: a refused bulk update changes nothing.
    checked = [updates.parse_change(state, i, c) for i, c in zip(targets, changes, strict=True)]
    for incident, change in zip(targets, checked, strict=True):
        updates.apply_change(state, incident, change, user_id)
    texts = [incident_text(state, i, {}) for i in targets]
    return 200, listing("incidents", texts, len(texts), 0, False, None)


# -- log entries, alerts, notes, snooze -------------------------------------------------------
def list_log_entries(state: EmulatorState, query: Query) -> Result:
    limit, offset = page(query)
    since, until = window(query, state.now())
    items, low, high = state.log_window(since, until, flag(query, "is_overview"))
    size = high - low
    # Newest first: position p from the top is items[high - 1 - p].
    chosen = [items[high - 1 - p] for p in range(offset, min(offset + limit, size))]
    total = size if flag(query, "total") else None
    texts = _entries_text(state, chosen, query)
    return 200, listing("log_entries", texts, limit, offset, offset + limit < size, total)


def incident_log_entries(state: EmulatorState, incident_id: str, query: Query) -> Result:
    incident = state.incident(incident_id)
    limit, offset = page(query)
    since, until = window(query, state.now(), default=False)
    overview = flag(query, "is_overview")
    found = [
        e
        for e in reversed(incident.log_entries)
        if since <= e.created_at < until and (not overview or e.type in OVERVIEW_TYPES)
    ]
    total = len(found) if flag(query, "total") else None
    texts = _entries_text(state, found[offset : offset + limit], query)
    return 200, listing("log_entries", texts, limit, offset, offset + limit < len(found), total)


def get_log_entry(state: EmulatorState, entry_id: str, query: Query) -> Result:
    entry = state.log_entry(entry_id)
    return 200, '{"log_entry":' + _entries_text(state, [entry], query)[0] + "}"


def list_alerts(state: EmulatorState, incident_id: str, query: Query) -> Result:
    incident = state.incident(incident_id)
    limit, offset = page(query)
    fmt = render.formatter(zone(query))
    statuses = set(values(query, "statuses"))
    found = [a for a in incident.alerts if not statuses or a.status in statuses]
    texts = [
        dumps(render.alert_json(a, incident, state, fmt)) for a in found[offset : offset + limit]
    ]
    total = len(found) if flag(query, "total") else None
    return 200, listing("alerts", texts, limit, offset, offset + limit < len(found), total)


def list_notes(state: EmulatorState, incident_id: str, query: Query) -> Result:
    incident = state.incident(incident_id)
    fmt = render.formatter(zone(query))
    return 200, dumps({"notes": [render.note_json(n, state, fmt) for n in incident.notes]})


def add_note(state: EmulatorState, incident_id: str, body: Any, user_id: str) -> Result:
    incident = state.incident(incident_id)
    note = body.get("note") if isinstance(body, dict) else None
    if not isinstance(note, dict) or "content" not in note:
        raise invalid('The body must be {"note": {"content": "..."}}')
    created = actions.add_note(state, incident, user_id, note["content"], state.now())
    return 200, dumps({"note": render.note_json(created, state, render.iso)})


def snooze(state: EmulatorState, incident_id: str, body: Any, user_id: str) -> Result:
    incident = state.incident(incident_id)
    duration = body.get("duration") if isinstance(body, dict) else None
    actions.snooze(state, incident, duration, user_id, state.now())
    return 201, '{"incident":' + incident_text(state, incident, {}) + "}"


# -- people, services, on-call ---------------------------------------------------------------
def _simple_list(name: str, items: list[dict[str, Any]], query: Query) -> Result:
    limit, offset = page(query)
    total = len(items) if flag(query, "total") else None
    texts = [dumps(item) for item in items[offset : offset + limit]]
    return 200, listing(name, texts, limit, offset, offset + limit < len(items), total)


def list_users(state: EmulatorState, query: Query) -> Result:
    text = (one(query, "query") or "").lower()
    team_ids = set(values(query, "team_ids"))
    users = [
        render.user_json(u, state)
        for u in state.users.values()
        if (text in u.name.lower() or text in u.email.lower())
        and (not team_ids or team_ids & set(u.team_ids))
    ]
    return _simple_list("users", users, query)


def get_user(state: EmulatorState, user_id: str) -> Result:
    if user_id == "me":
        user_id = state.me_id
    user = state.users.get(user_id)
    if user is None:
        raise ApiError(404, "Not Found", 2100, [f"User {user_id} not found"])
    return 200, dumps({"user": render.user_json(user, state)})


def list_services(state: EmulatorState, query: Query) -> Result:
    team_ids = set(values(query, "team_ids"))
    found = [
        render.service_json(s, state)
        for s in state.services.values()
        if not team_ids or s.team_id in team_ids
    ]
    return _simple_list("services", found, query)


def list_policies(state: EmulatorState, query: Query) -> Result:
    user_ids = set(values(query, "user_ids"))
    found = []
    for policy in state.policies.values():
        members = {s.user_id for s in state.shifts if s.escalation_policy_id == policy.id}
        if not user_ids or user_ids & members:
            found.append(render.policy_json(policy, state))
    return _simple_list("escalation_policies", found, query)


def list_teams(state: EmulatorState, query: Query) -> Result:
    return _simple_list("teams", [render.team_json(t) for t in state.teams.values()], query)


def list_oncalls(state: EmulatorState, query: Query) -> Result:
    fmt = render.formatter(zone(query))
    include = set(values(query, "include"))
    now = state.now()
    if one(query, "since") or one(query, "until"):
        since, until = window(query, now)
        if until - since > 90 * 86_400:
            raise invalid("The since and until parameters must be at most 90 days apart")
    else:
        since = until = now
    policy_ids = set(values(query, "escalation_policy_ids"))
    user_ids = set(values(query, "user_ids"))
    schedule_ids = set(values(query, "schedule_ids"))
    shifts = [
        s
        for s in state.oncall_shifts(since, until)
        if (not policy_ids or s.escalation_policy_id in policy_ids)
        and (not user_ids or s.user_id in user_ids)
        and (not schedule_ids or s.schedule_id in schedule_ids)
    ]
    shifts.sort(key=lambda s: (s.escalation_policy_id, s.level, s.start))
    if flag(query, "earliest"):
        seen: set[tuple[str, str, int]] = set()
        earliest = []
        for shift in shifts:
            key = (shift.user_id, shift.escalation_policy_id, shift.level)
            if key not in seen:
                seen.add(key)
                earliest.append(shift)
        shifts = earliest
    return _simple_list(
        "oncalls", [render.oncall_json(s, state, fmt, include) for s in shifts], query
    )


# -- routing -----------------------------------------------------------------------------
_ID = r"([A-Za-z0-9]+)"
READS: list[tuple[re.Pattern[str], Callable[..., Result]]] = [
    (re.compile(r"/incidents"), list_incidents),
    (re.compile(rf"/incidents/{_ID}"), get_incident),
    (re.compile(rf"/incidents/{_ID}/log_entries"), incident_log_entries),
    (re.compile(rf"/incidents/{_ID}/alerts"), list_alerts),
    (re.compile(rf"/incidents/{_ID}/notes"), list_notes),
    (re.compile(r"/log_entries"), list_log_entries),
    (re.compile(rf"/log_entries/{_ID}"), get_log_entry),
    (re.compile(r"/users"), list_users),
    (re.compile(r"/services"), list_services),
    (re.compile(r"/escalation_policies"), list_policies),
    (re.compile(r"/teams"), list_teams),
    (re.compile(r"/oncalls"), list_oncalls),
]
WRITES: list[tuple[str, re.Pattern[str], Callable[..., Result]]] = [
    ("PUT", re.compile(r"/incidents"), update_incidents),
    ("PUT", re.compile(rf"/incidents/{_ID}"), update_incident),
    ("POST", re.compile(rf"/incidents/{_ID}/notes"), add_note),
    ("POST", re.compile(rf"/incidents/{_ID}/snooze"), snooze),
]
_USER = re.compile(rf"/users/{_ID}")


def dispatch(
    state: EmulatorState, method: str, path: str, query: Query, body: Any, sender: str | None
) -> Result:
    """Route one authenticated REST request; raises :class:`ApiError`."""
    path = path.rstrip("/") or "/"
    if method == "GET":
        match = _USER.fullmatch(path)
        if match:
            return get_user(state, match.group(1))
        for pattern, handler in READS:
            match = pattern.fullmatch(path)
            if match:
                return handler(state, *match.groups(), query)
    else:
        for verb, pattern, handler in WRITES:
            match = pattern.fullmatch(path)
            if match and verb == method:
                user = state.user_by_email(sender)
                return handler(state, *match.groups(), body, user.id)
            if match:
                raise ApiError(405, "Method Not Allowed", 2001, [f"{method} {path}"])
    raise ApiError(404, "Not Found", 2100, [f"No route for {method} {path}"])
