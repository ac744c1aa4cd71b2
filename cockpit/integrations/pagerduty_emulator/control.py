"""The ``/_emulator/`` control endpoints: faults, the write journal, stats, trigger, status,
options and reset. They need no token and are never counted, rate limited or faulted.

``POST /_emulator/faults``      arm one fault object or a list (see ``faults.py``)
``GET|DELETE /_emulator/faults`` list or disarm them
``GET /_emulator/writes``       the write journal (see ``journal.py``)
``GET /_emulator/stats``, ``POST /_emulator/reset`` counters, and clearing them
``POST /_emulator/trigger``     a new incident: ``{"title": ..., "urgency": ...}``
``POST /_emulator/status``      ``{"incident_id": ..., "status": "investigating"}``
``GET|PUT /_emulator/options``  ``{"note_ids": "global" | "per_incident"}``
"""

from __future__ import annotations

from typing import Any

from cockpit.integrations.pagerduty_emulator import actions, render
from cockpit.integrations.pagerduty_emulator.account import ApiError
from cockpit.integrations.pagerduty_emulator.faults import Fault, FaultError
from cockpit.integrations.pagerduty_emulator.routes import dumps
from cockpit.integrations.pagerduty_emulator.state import EmulatorState


def control(
    state: EmulatorState, method: str, path: str, query: dict[str, list[str]], body: Any
) -> tuple[int, str]:
    """One control request: (status, JSON text)."""
    try:
        if path == "/_emulator/faults" and method == "POST":
            items = body if isinstance(body, list) else [body]
            armed = [state.inject(Fault.from_json(item)) for item in items]
            return 201, dumps({"faults": [fault.to_json() for fault in armed]})
        if path == "/_emulator/faults" and method == "GET":
            return 200, dumps({"faults": [f.to_json() for f in state.faults.armed()]})
        if path == "/_emulator/faults" and method == "DELETE":
            state.faults.clear()
            return 200, dumps({"faults": []})
        if path == "/_emulator/writes" and method == "GET":
            with state.lock:
                return 200, dumps({"writes": list(state.writes)})
        if path == "/_emulator/stats" and method == "GET":
            return 200, dumps(state.stats())
        if path == "/_emulator/reset" and method == "POST":
            state.reset_counters()
            return 200, dumps(state.stats())
        if path == "/_emulator/trigger" and method == "POST":
            fields = body if isinstance(body, dict) else {}
            allowed = {"title", "service_id", "urgency", "details", "incident_key", "status"}
            if "title" not in fields or set(fields) - allowed:
                raise FaultError(f"trigger takes {sorted(allowed)} and needs a title")
            with state.lock:
                incident = actions.create_incident(state, **fields)
                return 201, dumps({"incident": render.incident_json(incident, state)})
        if path == "/_emulator/status" and method == "POST":
            fields = body if isinstance(body, dict) else {}
            incident_id, status = fields.get("incident_id"), fields.get("status")
            if not isinstance(incident_id, str) or not isinstance(status, str):
                raise FaultError('status takes {"incident_id": "...", "status": "..."}')
            incident = state.set_status(incident_id, status)
            with state.lock:
                return 200, dumps({"incident": render.incident_json(incident, state)})
        if path == "/_emulator/options" and method in ("GET", "PUT"):
            fields = body if isinstance(body, dict) and method == "PUT" else {}
            if set(fields) - {"note_ids"}:
                raise FaultError("options are: note_ids")
            if "note_ids" in fields:
                state.note_ids = fields["note_ids"]
            return 200, dumps({"note_ids": state.note_ids})
    except (FaultError, TypeError, ValueError) as error:
        return 400, dumps(ApiError(400, str(error), 2001).body())
    except ApiError as error:
        return error.status, dumps(error.body())
    return 404, dumps(ApiError(404, "Not Found", 2100, [f"{method} {path}"]).body())
