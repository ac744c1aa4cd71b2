"""The emulated account as tests and the demo hold it: the :class:`Account` plus a Python API
to trigger incidents and force a status, which goes through the same ``actions`` and
``render`` as the HTTP API (so those modules import the account, never this one).
"""

from __future__ import annotations

from typing import Any

from cockpit.integrations.pagerduty_emulator import actions, render
from cockpit.integrations.pagerduty_emulator.account import KNOWN_STATUSES, Account
from cockpit.integrations.pagerduty_emulator.model import Incident


class EmulatorState(Account):
    """The account, and writes through the Python API (tests, the demo)."""

    def add_incident(self, **fields: Any) -> Incident:
        """Create an incident as if triggered, with trigger and notify log entries.

        Accepts the keywords of :func:`actions.create_incident` (title, service_id, urgency,
        created_at, status, details, incident_key).
        """
        with self.lock:
            return actions.create_incident(self, **fields)

    def trigger(
        self, title: str, service_id: str | None = None, urgency: str = "high", **fields: Any
    ) -> Incident:
        """Trigger a new incident now on ``service_id`` (default: the first service)."""
        return self.add_incident(title=title, service_id=service_id, urgency=urgency, **fields)

    def set_status(self, incident_id: str, status: str) -> Incident:
        """Force an incident's ``status`` field, e.g. ``"investigating"``, a status a client
        may not know yet (the spec says more may come). Nothing else changes and nothing is
        logged; the API returns the value as is, and ``statuses[]`` may filter on it."""
        if not isinstance(status, str) or not status:
            raise ValueError("status must be a non-empty string")
        with self.lock:
            incident = self.incident(incident_id)
            incident.status = status
            if status not in KNOWN_STATUSES:
                self.extra_statuses.add(status)
            render.forget(self, incident)
            return incident
