"""Events API v2 (``POST /v2/enqueue``): alerts from monitoring become incidents.

A ``trigger`` with a ``dedup_key`` that matches an open incident on the same service adds
nothing new (PagerDuty de-duplicates); otherwise it opens an incident, assigns it to level 1
on-call and pages them. ``acknowledge`` and ``resolve`` act on the open incident with that
key, and are accepted (202) even when there is none, as PagerDuty does.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from cockpit.integrations.pagerduty_emulator import actions
from cockpit.integrations.pagerduty_emulator.state import ApiError, EmulatorState

SEVERITIES = ("critical", "error", "warning", "info")


def _bad(errors: list[str]) -> tuple[int, str]:
    body = {"status": "invalid event", "message": "Event object is invalid", "errors": errors}
    return 400, json.dumps(body)


def enqueue(state: EmulatorState, body: Any) -> tuple[int, str]:
    """Handle one event; returns (status, JSON text) in the Events API's own shapes."""
    if not isinstance(body, dict):
        return _bad(["JSON parse error"])
    routing_key = body.get("routing_key")
    action = body.get("event_action")
    dedup_key = body.get("dedup_key")
    errors = []
    service = next((s for s in state.services.values() if s.routing_key == routing_key), None)
    if not isinstance(routing_key, str) or service is None:
        errors.append("'routing_key' is invalid")
    if action not in ("trigger", "acknowledge", "resolve"):
        errors.append("'event_action' must be one of trigger, acknowledge, resolve")
    if action in ("acknowledge", "resolve") and not isinstance(dedup_key, str):
        errors.append("'dedup_key' is required for acknowledge and resolve")
    payload = body.get("payload")
    if action == "trigger":
        if not isinstance(payload, dict):
            errors.append("'payload' is missing or not an object")
        else:
            for field in ("summary", "source", "severity"):
                if not isinstance(payload.get(field), str) or not payload.get(field):
                    errors.append(f"'payload.{field}' is missing or blank")
            if payload.get("severity") not in SEVERITIES:
                errors.append(f"'payload.severity' must be one of {', '.join(SEVERITIES)}")
            if len(str(payload.get("summary", ""))) > 1024:
                errors.append("'payload.summary' is longer than 1024 characters")
    if errors or service is None:
        return _bad(errors)
    key = dedup_key if isinstance(dedup_key, str) and dedup_key else uuid.uuid4().hex
    with state.lock:
        open_incident = next(
            (
                i
                for i in reversed(state.incidents_between(float("-inf"), float("inf")))
                if i.service_id == service.id and i.incident_key == key and i.status != "resolved"
            ),
            None,
        )
        if action == "trigger" and open_incident is None:
            assert isinstance(payload, dict)
            details = dict(payload.get("custom_details") or {})
            links = body.get("links") or []
            if links and isinstance(links[0], dict) and "runbook_url" not in details:
                details.setdefault("links", links)
            severity = payload["severity"]
            actions.create_incident(
                state,
                title=payload["summary"],
                service_id=service.id,
                urgency="high" if severity in ("critical", "error") else "low",
                details=details,
                incident_key=key,
                severity=severity,
                source=str(body.get("client") or payload.get("source")),
            )
        elif open_incident is not None and action in ("acknowledge", "resolve"):
            by = open_incident.assignments[0][0] if open_incident.assignments else state.me_id
            try:
                if action == "acknowledge" and open_incident.status == "triggered":
                    actions.acknowledge(state, open_incident, by, state.now())
                elif action == "resolve":
                    actions.resolve(state, open_incident, by, state.now())
            except ApiError:
                pass  # the Events API does not report state conflicts
    return 202, json.dumps({"status": "success", "message": "Event processed", "dedup_key": key})
