"""The plain records a paging service's adapter returns and the store writes.

They sit below both ``cockpit.integrations`` (which builds them from remote JSON) and
``cockpit.store`` (which upserts them), so neither imports the other. No SQLModel, no Textual.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

# PagerDuty says more statuses may come: an unknown one is kept as received (a str).
IncidentStatus = Literal["triggered", "acknowledged", "resolved"] | str


@dataclass(frozen=True)
class PersonRecord:
    id: str
    name: str
    email: str = ""
    time_zone: str = "UTC"
    teams: tuple[str, ...] = ()


@dataclass(frozen=True)
class IncidentRecord:
    """One incident as the paging service sees it now."""

    id: str  # the remote id (PagerDuty "PXXXXXX", Alertmanager group key hash)
    title: str
    status: IncidentStatus
    created_at: datetime
    updated_at: datetime
    number: int | None = None
    urgency: str = "high"
    priority: str = ""
    service_id: str = ""
    service_name: str = ""
    escalation_policy_id: str = ""
    team: str = ""
    assignees: tuple[str, ...] = ()  # person ids
    acknowledged_at: datetime | None = None  # first acknowledgement, if known
    resolved_at: datetime | None = None
    html_url: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    runbook_url: str = ""
    incident_key: str = ""
    # When a snooze set on the service (by anyone) ends: PagerDuty's pending "unacknowledge".
    snoozed_until: datetime | None = None
    # (all, triggered) alerts, as the service counts them; None where it does not say. A
    # changed incident whose counts match the alerts the store holds needs no alert request.
    alert_counts: tuple[int, int] | None = None


@dataclass(frozen=True)
class LogEntryRecord:
    """One entry of an incident's log: trigger, notify, acknowledge, assign, annotate, resolve..."""

    id: str
    incident_id: str
    type: str  # PagerDuty type without the "_log_entry" suffix: "trigger", "notify", ...
    created_at: datetime
    summary: str = ""
    agent_id: str = ""  # who did it (person id) or "" for the system
    agent_name: str = ""
    person_id: str = ""  # for notify: who was notified; for assign: the assignee
    channel: str = ""  # notify: "push_notification", "phone", "sms", "email"; else channel type
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AlertRecord:
    id: str
    incident_id: str
    summary: str
    status: str  # "triggered" | "resolved"
    created_at: datetime
    severity: str = ""
    fingerprint: str = ""
    updated_at: datetime | None = None
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    runbook_url: str = ""
    generator_url: str = ""


@dataclass(frozen=True)
class NoteRecord:
    id: str
    incident_id: str
    content: str
    created_at: datetime
    author_id: str = ""
    author_name: str = ""


@dataclass(frozen=True)
class OnCallRecord:
    person_id: str
    escalation_policy_id: str
    escalation_level: int
    start: datetime | None  # None: permanently on call
    end: datetime | None
    schedule_id: str = ""
    schedule_name: str = ""
    escalation_policy_name: str = ""


@dataclass(frozen=True)
class ChangePage:
    """One page of changes since a watermark; ``watermark`` is where the next pull starts."""

    incidents: list[IncidentRecord]
    log_entries: list[LogEntryRecord]
    watermark: datetime
    complete: bool = True
