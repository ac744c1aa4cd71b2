"""Records of the emulated PagerDuty account, and the time and id helpers they share.

Times are stored as float epoch seconds (UTC): comparisons and ``bisect`` on floats are what
make a page O(limit · log n); they become ISO 8601 strings only when rendered.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def new_id(rng: random.Random, prefix: str = "P", length: int = 7) -> str:
    """A PagerDuty-looking id: ``P`` plus upper-case letters and digits."""
    return prefix + "".join(rng.choices(_ID_ALPHABET, k=length - len(prefix)))


def to_epoch(moment: datetime) -> float:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def iso(epoch: float) -> str:
    """UTC ISO 8601 with a ``Z``, as PagerDuty renders without ``time_zone``."""
    # time.gmtime + time.strftime is ~5x cheaper than a datetime round trip, and rendering
    # 100,000 log entries calls this several times each.
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(epoch)))


@dataclass(slots=True)
class Team:
    id: str
    name: str


@dataclass(slots=True)
class User:
    id: str
    name: str
    email: str
    time_zone: str
    team_ids: list[str]
    role: str = "user"
    job_title: str = "Site Reliability Engineer"
    color: str = "green"


@dataclass(slots=True)
class EscalationPolicy:
    id: str
    name: str
    team_id: str
    schedule_ids: list[str]  # index = escalation level - 1
    num_loops: int = 0


@dataclass(slots=True)
class Schedule:
    id: str
    name: str
    time_zone: str


@dataclass(slots=True)
class Service:
    id: str
    name: str
    escalation_policy_id: str
    team_id: str
    routing_key: str  # the Events API v2 integration key
    description: str = ""


@dataclass(slots=True)
class Shift:
    """One on-call period of one user on one level of one escalation policy."""

    user_id: str
    escalation_policy_id: str
    schedule_id: str
    level: int
    start: float
    end: float


@dataclass(slots=True)
class Alert:
    id: str
    created_at: float
    summary: str
    severity: str
    alert_key: str
    details: dict[str, Any] | str  # the spec: an object or a string
    status: str = "triggered"
    resolved_at: float | None = None
    # body.contexts: the Events API's links ({"type": "link", "href", "text"}) and images
    # ({"type": "image", "src", "href", "text"}), where PagerDuty shows them.
    contexts: list[dict[str, str]] = field(default_factory=list)


@dataclass(slots=True)
class Note:
    id: str
    user_id: str
    content: str
    created_at: float


@dataclass(slots=True)
class LogEntry:
    id: str
    type: str  # e.g. "trigger_log_entry"
    created_at: float
    incident_id: str
    agent: tuple[str, str] | None  # (reference type, id): ("user_reference", "PABC123")
    channel: dict[str, Any]
    summary: str
    user_id: str | None = None  # notify entries: the person paged
    assignee_ids: list[str] = field(default_factory=list)
    note: str | None = None
    event_details: dict[str, Any] | None = None
    seq: int = 0  # tie-break for entries with the same second


@dataclass(slots=True)
class Incident:
    id: str
    number: int
    title: str
    service_id: str
    escalation_policy_id: str
    urgency: str
    status: str
    created_at: float
    incident_key: str
    updated_at: float = 0.0
    last_status_change_at: float = 0.0
    last_status_change_by: tuple[str, str] | None = None
    resolved_at: float | None = None
    assignments: list[tuple[str, float]] = field(default_factory=list)
    acknowledgements: list[tuple[str, float]] = field(default_factory=list)
    escalation_level: int = 1
    assigned_via: str = "escalation_policy"
    snoozed_until: float | None = None
    alerts: list[Alert] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    log_entries: list[LogEntry] = field(default_factory=list)  # ascending created_at
    body_details: dict[str, Any] | None = None
    priority: str | None = None
    team_ids: list[str] = field(default_factory=list)  # empty: the service's team
