"""The tables of the local store.

Ids of remote objects are qualified by their source (``pagerduty:P1X2Y3Z``) so that two
paging services never collide. Every timestamp is aware UTC (see ``types.UTCDateTime``).
The schema itself is created by ``migrations.py``; ``tests/core/test_store_schema.py``
checks that these models and the migrated schema agree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from cockpit.store.timefmt import utcnow
from cockpit.store.types import JSONText, UTCDateTime


def _dt(**kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kwargs)


def _json(**kwargs: Any) -> Any:
    return Field(sa_type=JSONText, **kwargs)


class Person(SQLModel, table=True):
    __tablename__ = "people"

    id: str = Field(primary_key=True)  # "pagerduty:PABC123", "local:alice"
    source: str
    name: str
    email: str = ""
    time_zone: str = "UTC"
    teams: list[str] = _json(default_factory=list)


class Incident(SQLModel, table=True):
    __tablename__ = "incidents"
    __table_args__ = (
        Index("ix_incidents_status_created", "status", "created_at"),
        Index("ix_incidents_status_drill", "status", "is_drill", "created_at"),
        Index("ix_incidents_updated", "updated_at"),
        Index("ix_incidents_created_drill", "created_at", "is_drill"),
        Index("ix_incidents_service", "service_name", "created_at"),
        Index("ix_incidents_remote", "remote_id", "created_at"),
        Index("ix_incidents_number", "number", "created_at"),
        # Partial: open drills only (0005_open_drills.sql; reads.drill_refs).
        Index(
            "ix_incidents_open_drills",
            "created_at",
            sqlite_where=text("is_drill = 1 AND status IN ('triggered', 'acknowledged')"),
        ),
        # Partial: every drill (0006_stats_weeks.sql; the stats' list of drills to leave out).
        Index("ix_incidents_drills", "id", sqlite_where=text("is_drill = 1")),
    )

    id: str = Field(primary_key=True)
    source: str  # "pagerduty", "alertmanager", "drill"
    remote_id: str
    number: int | None = None
    title: str
    status: str  # triggered | acknowledged | resolved
    urgency: str = "high"
    priority: str = ""
    service_id: str = ""
    service_name: str = ""
    team: str = ""
    escalation_policy_id: str = ""
    assignees: list[str] = _json(default_factory=list)
    html_url: str = ""
    runbook_url: str = ""
    incident_key: str = ""
    labels: dict[str, str] = _json(default_factory=dict)
    annotations: dict[str, str] = _json(default_factory=dict)
    created_at: datetime = _dt()
    updated_at: datetime = _dt()
    acknowledged_at: datetime | None = _dt(default=None)
    resolved_at: datetime | None = _dt(default=None)
    snoozed_until: datetime | None = _dt(default=None)
    is_drill: bool = False
    synced_at: datetime | None = _dt(default=None)


class Alert(SQLModel, table=True):
    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_incident", "incident_id"),)

    id: str = Field(primary_key=True)  # source-qualified
    incident_id: str = Field(foreign_key="incidents.id", ondelete="CASCADE")
    summary: str
    status: str
    severity: str = ""
    fingerprint: str = ""
    labels: dict[str, str] = _json(default_factory=dict)
    annotations: dict[str, str] = _json(default_factory=dict)
    runbook_url: str = ""
    generator_url: str = ""
    created_at: datetime = _dt()
    updated_at: datetime | None = _dt(default=None)


class TimelineEvent(SQLModel, table=True):
    """What happened to an incident: remote log entries and local acts (ticks, baton, commands)."""

    __tablename__ = "timeline_events"
    __table_args__ = (
        Index("ix_timeline_incident_at", "incident_id", "at"),
        Index("ix_timeline_kind_at", "kind", "at"),
        Index("ix_timeline_person_at", "person_id", "at"),
        UniqueConstraint("remote_id", name="uq_timeline_remote_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    incident_id: str = Field(foreign_key="incidents.id", ondelete="CASCADE")
    at: datetime = _dt()
    kind: str  # trigger, notify, acknowledge, resolve, assign, escalate, annotate, snooze,
    # note, runbook, baton, command, sync, drill ...
    summary: str = ""
    actor: str = ""  # person id or name
    person_id: str = ""  # notify: who was paged
    channel: str = ""
    remote_id: str | None = None  # source-qualified log entry id; None for local events
    is_drill: bool = False
    details: dict[str, Any] = _json(default_factory=dict)


class Note(SQLModel, table=True):
    __tablename__ = "notes"
    __table_args__ = (
        Index("ix_notes_incident", "incident_id", "created_at"),
        UniqueConstraint("remote_id", name="uq_notes_remote_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    incident_id: str = Field(foreign_key="incidents.id", ondelete="CASCADE")
    content: str
    author: str = ""
    created_at: datetime = _dt(default_factory=utcnow)
    remote_id: str | None = None
    # local: never leaves this machine (Alertmanager, drills); pending/sent/failed: outbox state
    state: str = "local"
    outbox_id: int | None = None


class OnCallShift(SQLModel, table=True):
    __tablename__ = "oncall_shifts"
    __table_args__ = (
        Index("ix_oncall_person_start", "person_id", "start"),
        Index("ix_oncall_start_end", "start", "end"),
        UniqueConstraint(
            "source",
            "person_id",
            "escalation_policy_id",
            "escalation_level",
            "start",
            name="uq_oncall_shift",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    source: str
    person_id: str
    escalation_policy_id: str = ""
    escalation_policy_name: str = ""
    escalation_level: int = 1
    schedule_id: str = ""
    schedule_name: str = ""
    start: datetime | None = _dt(default=None)
    end: datetime | None = _dt(default=None)


class BatonPass(SQLModel, table=True):
    """Who owns an incident. An offer becomes ownership only when the receiver accepts it."""

    __tablename__ = "baton_passes"
    __table_args__ = (Index("ix_baton_incident", "incident_id", "offered_at"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: str = Field(foreign_key="incidents.id", ondelete="CASCADE")
    from_person: str = ""
    to_person: str
    note: str = ""
    offered_at: datetime = _dt(default_factory=utcnow)
    accepted_at: datetime | None = _dt(default=None)
    state: str = "offered"  # offered | accepted | declined | withdrawn
    handoff_id: int | None = None


class RunbookRun(SQLModel, table=True):
    __tablename__ = "runbook_runs"
    __table_args__ = (Index("ix_runs_incident", "incident_id", "started_at"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: str = Field(foreign_key="incidents.id", ondelete="CASCADE")
    runbook_id: str
    runbook_path: str = ""
    runbook_hash: str = ""
    started_at: datetime = _dt(default_factory=utcnow)
    finished_at: datetime | None = _dt(default=None)
    outcome: str | None = None  # resolved | rolled_back | abandoned
    started_by: str = ""
    is_drill: bool = False


class StepEvent(SQLModel, table=True):
    """One transition of a runbook run; the run's state is the replay of these rows."""

    __tablename__ = "step_events"
    __table_args__ = (UniqueConstraint("run_id", "seq", name="uq_step_event_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="runbook_runs.id", ondelete="CASCADE")
    seq: int
    at: datetime = _dt()
    kind: str
    step_id: str = ""
    branch: str = ""
    reason: str = ""
    actor: str = ""
    details: dict[str, Any] = _json(default_factory=dict)


class Drill(SQLModel, table=True):
    __tablename__ = "drills"
    __table_args__ = (Index("ix_drills_runbook", "runbook_id", "started_at"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int | None = Field(default=None, foreign_key="runbook_runs.id")
    incident_id: str = Field(foreign_key="incidents.id", ondelete="CASCADE")
    runbook_id: str
    scenario: dict[str, Any] = _json(default_factory=dict)
    expected_branch: str = ""
    started_at: datetime = _dt(default_factory=utcnow)
    finished_at: datetime | None = _dt(default=None)
    participant: str = ""
    report_md: str = ""


class Handoff(SQLModel, table=True):
    __tablename__ = "handoffs"

    id: int | None = Field(default=None, primary_key=True)
    from_person: str
    to_person: str = ""
    created_at: datetime = _dt(default_factory=utcnow)
    signed_at: datetime | None = _dt(default=None)
    accepted_at: datetime | None = _dt(default=None)
    shift_start: datetime | None = _dt(default=None)
    shift_end: datetime | None = _dt(default=None)
    body_md: str = ""
    draft: dict[str, Any] = _json(default_factory=dict)


class Insight(SQLModel, table=True):
    """The flywheel: one insight and one guardrail left behind by an incident."""

    __tablename__ = "insights"
    __table_args__ = (Index("ix_insights_created", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: str = Field(foreign_key="incidents.id", ondelete="CASCADE")
    text: str = ""
    whys: list[str] = _json(default_factory=list)
    guardrail: str = ""
    guardrail_owner: str = ""
    runbook_draft: str = ""
    created_at: datetime = _dt(default_factory=utcnow)


class ChangeEvent(SQLModel, table=True):
    __tablename__ = "change_events"
    __table_args__ = (Index("ix_changes_service_at", "service_name", "at"),)

    id: str = Field(primary_key=True)
    source: str
    service_name: str = ""
    summary: str = ""
    at: datetime = _dt()


class OutboxItem(SQLModel, table=True):
    """A write to the paging service, queued in the same transaction as its local effect."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_state", "state", "id"),
        Index("ix_outbox_incident", "incident_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source: str  # which provider delivers it
    incident_id: str = Field(foreign_key="incidents.id", ondelete="CASCADE")
    action: str  # acknowledge, resolve, note, reassign, escalate, snooze
    payload: dict[str, Any] = _json(default_factory=dict)
    created_at: datetime = _dt(default_factory=utcnow)
    # pending -> sending -> sent | failed | superseded | discarded
    state: str = "pending"
    attempts: int = 0
    last_error: str = ""
    last_attempt_at: datetime | None = _dt(default=None)
    sent_at: datetime | None = _dt(default=None)
    remote_ref: str = ""
    holder: str = ""  # host:pid:start of the process sending it (cockpit.sync.holder)
    not_before: datetime | None = _dt(default=None)  # in doubt: checked again from then on
    warning: str = ""  # what the delivered write did beyond what was asked (a reopen)


class SyncState(SQLModel, table=True):
    __tablename__ = "sync_state"

    key: str = Field(primary_key=True)  # "pagerduty:log_entries", "alertmanager:alerts"
    watermark: datetime | None = _dt(default=None)
    updated_at: datetime = _dt(default_factory=utcnow)
    last_ok_at: datetime | None = _dt(default=None)
    last_error: str = ""
    cursor: dict[str, Any] = _json(default_factory=dict)


class StatsWeek(SQLModel, table=True):
    """One UTC week's partial stats report (``cockpit.metrics.weeks``), deleted by the
    triggers of migration 0006 whenever something it was computed from changes."""

    __tablename__ = "stats_weeks"

    week: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    data: str


ALL_TABLES = [
    Person,
    Incident,
    Alert,
    TimelineEvent,
    Note,
    OnCallShift,
    BatonPass,
    RunbookRun,
    StepEvent,
    Drill,
    Handoff,
    Insight,
    ChangeEvent,
    OutboxItem,
    SyncState,
    StatsWeek,
]
