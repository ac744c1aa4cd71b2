"""What one ``PUT /incidents/{id}`` body (or one item of a bulk ``PUT /incidents``) does.

A body is checked whole before anything changes, so a refused update leaves the incident as
it was. Then, in this order, all dated the same second (log entries keep this order):

1. ``status: acknowledged`` on a resolved incident reopens it, as the spec says: when the
   body has no ``assignments`` it is assigned to the caller (the ``From`` user): an
   ``assign_log_entry``, nobody paged, since the caller acknowledges it at once.
2. ``title`` and ``urgency`` change (no log entry).
3. ``assignments`` replace the assignees: ``assign_log_entry`` then one ``notify_log_entry``
   per channel per new assignee, and the incident goes back to ``triggered``.
4. ``escalation_level`` escalates: ``escalate_log_entry`` and the notify entries.
5. ``status``: ``acknowledged`` by the caller (``acknowledge_log_entry``), ``resolved``
   (``resolve_log_entry``, with ``resolution`` as its note) or ``triggered``
   (``unacknowledge_log_entry``).

So ``assignments`` with ``status: acknowledged`` leaves the incident acknowledged by the
caller and assigned to the new assignees, logged assign, notify..., acknowledge. Any other
change to a resolved incident is 400 with code 1001.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cockpit.integrations.pagerduty_emulator import actions, render
from cockpit.integrations.pagerduty_emulator.model import Incident
from cockpit.integrations.pagerduty_emulator.params import invalid

if TYPE_CHECKING:
    from cockpit.integrations.pagerduty_emulator.account import Account

STATUSES = ("acknowledged", "resolved", "triggered")


@dataclass(slots=True)
class Change:
    """A checked update body."""

    status: str | None
    title: str | None
    urgency: str | None
    assignees: list[str] | None
    level: int | None
    resolution: str | None


def _assignees(raw: Any) -> list[str]:
    if not isinstance(raw, list):
        raise invalid("assignments must be a list")
    found = []
    for item in raw:
        assignee = item.get("assignee") if isinstance(item, dict) else None
        if not isinstance(assignee, dict) or not assignee.get("id"):
            raise invalid('each assignment must be {"assignee": {"id": ..., "type": ...}}')
        found.append(str(assignee["id"]))
    return found


def parse_change(state: Account, incident: Incident, change: Any) -> Change:
    """Check a body against the incident as it is now; raises :class:`ApiError`."""
    if not isinstance(change, dict) or change.get("type") not in ("incident", "incident_reference"):
        raise invalid("incident.type must be incident or incident_reference")
    status = change.get("status")
    if status is not None and status not in STATUSES:
        raise invalid(f"status {status!r} is not acknowledged, resolved or triggered")
    urgency = change.get("urgency")
    if urgency is not None and urgency not in ("high", "low"):
        raise invalid("urgency must be high or low")
    assignees = _assignees(change["assignments"]) if "assignments" in change else None
    if assignees is not None:
        actions.check_assignees(state, assignees)
    level = change.get("escalation_level")
    if "escalation_level" in change:
        level = actions.check_level(state, incident, level)
    title, resolution = change.get("title"), change.get("resolution")
    parsed = Change(
        status=status,
        title=None if title is None else str(title),
        urgency=urgency,
        assignees=assignees,
        level=level,
        resolution=None if resolution is None else str(resolution),
    )
    reopens = incident.status == "resolved" and status == "acknowledged"
    acts = any(value is not None for value in (status, title, urgency, assignees, level))
    if incident.status == "resolved" and acts and not reopens:
        raise actions._already_resolved(incident)
    return parsed


def apply_change(state: Account, incident: Incident, change: Change, user_id: str) -> None:
    """Apply a checked change in the order the module docstring gives."""
    at = state.now()
    if incident.status == "resolved" and change.status == "acknowledged":
        actions.reopen(state, incident)
        if change.assignees is None:
            actions.reassign(state, incident, [user_id], user_id, at, notify=False)
    if change.title is not None or change.urgency is not None:
        incident.title = change.title if change.title is not None else incident.title
        incident.urgency = change.urgency or incident.urgency
        incident.updated_at = at
        render.forget(state, incident)
    if change.assignees is not None:
        actions.reassign(state, incident, change.assignees, user_id, at)
    if change.level is not None:
        actions.escalate(state, incident, change.level, user_id, at)
    if change.status == "acknowledged":
        actions.acknowledge(state, incident, user_id, at)
    elif change.status == "resolved":
        actions.resolve(state, incident, user_id, at, change.resolution)
    elif change.status == "triggered":
        actions.unacknowledge(state, incident, user_id, at)
    state.json_cache.pop(incident.id, None)
