"""The journal of write requests (``state.writes``): what PagerDuty was asked to do.

Every POST, PUT, PATCH and DELETE outside ``/_emulator/`` is recorded when it arrives, before
authentication, rate limiting or faults, so a refused, dropped or late-answered write is
there too. One record is a JSON-ready dict:

``method``, ``path``
    as sent (``path`` without the query string).
``body``
    the parsed JSON body; the raw text when it is not JSON; ``None`` when empty.
``headers``
    every header except ``Authorization``; ``from`` is the ``From`` header (any case) or None.
``time``
    when it arrived, ISO 8601 on the emulator's clock.
``status``
    the HTTP status answered; ``None`` when no answer was sent (``drop``) or not yet.
``incident_ids``
    the incidents the write names: from the path, or each ``incidents[].id`` of a bulk PUT.
``actions``
    what the write asks for, in the order the emulator applies it: ``title``, ``urgency``,
    ``reassign``, ``escalate``, then ``acknowledge``, ``resolve`` or ``unacknowledge``
    (per incident of a bulk PUT), ``note``, ``snooze``, or ``event_<event_action>`` for the
    Events API.

So "how many times did PagerDuty get this note" is
``len(state.writes.matching(action="note", incident_id=incident_id))``, or the same filter
over ``GET /_emulator/writes``.
"""

from __future__ import annotations

import re
from typing import Any

_INCIDENT_PATH = re.compile(r"/incidents/([A-Za-z0-9]+)(?:/(notes|snooze))?/?")
_STATUS_ACTION = {
    "acknowledged": "acknowledge",
    "resolved": "resolve",
    "triggered": "unacknowledge",
}


def _change_actions(change: Any) -> list[str]:
    if not isinstance(change, dict):
        return []
    # The order updates.apply_change uses, so a record reads like the log it leaves.
    found = [name for name in ("title", "urgency") if name in change]
    if "assignments" in change:
        found.append("reassign")
    if "escalation_level" in change:
        found.append("escalate")
    if change.get("status") in _STATUS_ACTION:
        found.append(_STATUS_ACTION[change["status"]])
    return found


def describe(method: str, path: str, body: Any) -> tuple[list[str], list[str]]:
    """(incident ids, actions) of a write, read from its path and body."""
    trimmed = path.rstrip("/")
    if trimmed in ("/v2/enqueue", "/enqueue"):
        action = body.get("event_action") if isinstance(body, dict) else None
        return [], [f"event_{action}"] if isinstance(action, str) else []
    if method == "PUT" and trimmed == "/incidents":
        changes = body.get("incidents") if isinstance(body, dict) else None
        if not isinstance(changes, list):
            return [], []
        ids = [str(c["id"]) for c in changes if isinstance(c, dict) and "id" in c]
        return ids, [action for change in changes for action in _change_actions(change)]
    match = _INCIDENT_PATH.fullmatch(path)
    if match is None:
        return [], []
    incident_id, tail = match.groups()
    if tail == "notes":
        return [incident_id], ["note"]
    if tail == "snooze":
        return [incident_id], ["snooze"]
    change = body.get("incident") if isinstance(body, dict) else None
    return [incident_id], _change_actions(change) if method == "PUT" else []


class WriteJournal(list[dict[str, Any]]):
    """A plain list of write records (see the module docstring), with a filter."""

    def matching(
        self,
        *,
        method: str | None = None,
        path: str | None = None,
        action: str | None = None,
        incident_id: str | None = None,
        status: int | None = None,
    ) -> list[dict[str, Any]]:
        """The records that match every given field (``path`` exactly, ``action`` as one of
        the record's actions)."""
        return [
            record
            for record in list(self)
            if (method is None or record["method"] == method.upper())
            and (path is None or record["path"] == path)
            and (action is None or action in record["actions"])
            and (incident_id is None or incident_id in record["incident_ids"])
            and (status is None or record["status"] == status)
        ]


def make_record(
    method: str, path: str, body: Any, headers: dict[str, str], at: str
) -> dict[str, Any]:
    incident_ids, actions = describe(method, path, body)
    sender = next((v for k, v in headers.items() if k.lower() == "from"), None)
    return {
        "method": method,
        "path": path,
        "body": body,
        "headers": {k: v for k, v in headers.items() if k.lower() != "authorization"},
        "from": sender,
        "time": at,
        "status": None,
        "incident_ids": incident_ids,
        "actions": actions,
    }
