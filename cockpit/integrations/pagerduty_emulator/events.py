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
from cockpit.integrations.pagerduty_emulator.account import ApiError
from cockpit.integrations.pagerduty_emulator.state import EmulatorState

SEVERITIES = ("critical", "error", "warning", "info")


def _bad(errors: list[str]) -> tuple[int, str]:
    body = {"status": "invalid event", "message": "Event object is invalid", "errors": errors}
    return 400, json.dumps(body)


def contexts(links: Any, images: Any) -> list[dict[str, str]]:
    """The event's ``links`` and ``images`` as the alert's ``body.contexts``, where PagerDuty
    shows them: ``{"type": "link", "href", "text"}`` and ``{"type": "image", "src", "href",
    "text"}`` (an image's ``alt`` is the context's ``text``, per the spec's Context)."""
    out: list[dict[str, str]] = []
    for link in links if isinstance(links, list) else []:
        if isinstance(link, dict) and isinstance(link.get("href"), str) and link["href"]:
            item = {"type": "link", "href": link["href"]}
            if isinstance(link.get("text"), str):
                item["text"] = link["text"]
            out.append(item)
    for image in images if isinstance(images, list) else []:
        if isinstance(image, dict) and isinstance(image.get("src"), str) and image["src"]:
            item = {"type": "image", "src": image["src"]}
            if isinstance(image.get("href"), str):
                item["href"] = image["href"]
            if isinstance(image.get("alt"), str):
                item["text"] = image["alt"]
            out.append(item)
    return out


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
            custom = payload.get("custom_details")
            details: dict[str, Any] | str = (
                custom if isinstance(custom, str) else dict(custom or {})
            )
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
                contexts=contexts(body.get("links"), body.get("images")),
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
