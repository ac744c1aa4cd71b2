"""A generated but believable account history, deterministic for a seed and a ``now``.

Twelve people in six time zones, four teams, eight services with two-level escalation
policies, weekly rotations covering the window and the next two weeks, and incidents whose
log entries tell a consistent story: trigger, pages, acknowledgement, sometimes escalation or
reassignment, notes, resolution. Incidents are spread over the whole day, so some page people
at night in their own zone.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from cockpit.integrations.pagerduty_emulator import actions, render
from cockpit.integrations.pagerduty_emulator.model import (
    EscalationPolicy,
    Incident,
    LogEntry,
    Note,
    Schedule,
    Service,
    Shift,
    Team,
    User,
    to_epoch,
)
from cockpit.integrations.pagerduty_emulator.state import EmulatorState

WEEK = 7 * 86_400
TEAMS = ("Storefront", "Payments", "Platform", "Data")
PEOPLE = (
    ("Ada Okafor", "America/New_York", 0),
    ("Jonas Weber", "Europe/Berlin", 0),
    ("Priya Raman", "Asia/Kolkata", 0),
    ("Liam Chen", "Australia/Sydney", 1),
    ("Maya Brooks", "America/Los_Angeles", 1),
    ("Oliver Hughes", "Europe/London", 1),
    ("Sofia Rossi", "Europe/Berlin", 2),
    ("Arjun Mehta", "Asia/Kolkata", 2),
    ("Emma Wilson", "America/New_York", 2),
    ("Noah Taylor", "Australia/Sydney", 3),
    ("Chloe Martin", "Europe/London", 3),
    ("Diego Alvarez", "America/Los_Angeles", 3),
)
SERVICES = (
    ("product-api", 0),
    ("checkout", 0),
    ("search", 0),
    ("payments-db", 1),
    ("ledger", 1),
    ("auth", 2),
    ("cdn-edge", 2),
    ("queue-workers", 3),
)
# (service, title template, the shipped sample runbook (runbooks/*.md) it is for, or "");
# {n} is a host number. tests/core/test_demo_seeds_match.py holds each kind to its runbook:
# the matcher must pick it from the title and service alone, and from the alert's runbook URL.
TITLES = (
    ("product-api", "High latency on product-api", "cache-stampede.md"),
    ("product-api", "5xx spike on product page", "cache-stampede.md"),
    ("auth", "Pod crash looping in auth", ""),
    ("checkout", "Error budget burn rate high for checkout", "error-budget-burn.md"),
    ("checkout", "Checkout conversion dropped below threshold", ""),
    ("search", "Cache hit ratio low on search", ""),
    ("search", "High latency on search", ""),
    ("payments-db", "Disk usage above 90% on payments-db-{n}", "disk-full.md"),
    ("payments-db", "Replication lag on payments-db-{n}", ""),
    ("ledger", "Ledger reconciliation job failed", ""),
    ("auth", "Elevated login failures on auth", ""),
    ("auth", "TLS certificate for api.example.com expires in 7 days", "certificate-expiry.md"),
    ("cdn-edge", "Origin errors on cdn-edge", ""),
    ("queue-workers", "Queue backlog on queue-workers", "queue-backlog.md"),
)
# Where the alerts' runbook links point: the sample runbooks' files in a team's repository
# (the matcher picks a runbook whose file name the URL ends with).
RUNBOOK_BASE = "https://git.example.com/sre/runbooks/blob/main/"
DASHBOARD_BASE = "https://grafana.example.com/d/"
NOTES = (
    "Looking at the dashboards now.",
    "Rolled back the last deploy.",
    "Scaled the deployment from 6 to 10 replicas.",
    "Root cause looks like a noisy neighbour; watching.",
    "Error rate back under 1%.",
    "Opened a follow-up ticket for the alert threshold.",
)


def build_account(state: EmulatorState, now: float) -> None:
    """Teams, people, schedules, escalation policies, services and weekly shifts."""
    rng = state.rng
    teams = [Team(id=state.new_id(), name=name) for name in TEAMS]
    for team in teams:
        state.add_team(team)
    members: list[list[User]] = [[] for _ in teams]
    for index, (name, zone, team_index) in enumerate(PEOPLE):
        first, last = name.lower().split()
        user = User(
            id=state.new_id(),
            name=name,
            email=f"{first}.{last}@example.com",
            time_zone=zone,
            team_ids=[teams[team_index].id],
            role="admin" if index == 0 else "user",
            color=("green", "purple", "teal", "orange")[team_index],
        )
        state.add_user(user)
        members[team_index].append(user)
    # Rotations hand over on Mondays 09:00 UTC, starting well before the history window.
    today = datetime.fromtimestamp(now, UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    monday = today - timedelta(days=today.weekday())
    first_week = to_epoch(monday) - 200 * 86_400 // WEEK * WEEK - WEEK
    shifts: list[Shift] = []
    for team_index, team in enumerate(teams):
        schedules = [
            Schedule(id=state.new_id(), name=f"{team.name} {level}", time_zone="UTC")
            for level in ("Primary", "Secondary")
        ]
        for schedule in schedules:
            state.add_schedule(schedule)
        policy = EscalationPolicy(
            id=state.new_id(),
            name=f"{team.name} Escalation Policy",
            team_id=team.id,
            schedule_ids=[s.id for s in schedules],
        )
        state.add_policy(policy)
        people = members[team_index]
        start, week = first_week, 0
        while start < now + 14 * 86_400:
            for level, schedule in enumerate(schedules, start=1):
                user = people[(week + team_index + level - 1) % len(people)]
                shifts.append(Shift(user.id, policy.id, schedule.id, level, start, start + WEEK))
            start += WEEK
            week += 1
        for name, owner in SERVICES:
            if owner == team_index:
                state.add_service(
                    Service(
                        id=state.new_id(),
                        name=name,
                        escalation_policy_id=policy.id,
                        team_id=team.id,
                        routing_key=uuid.UUID(int=rng.getrandbits(128)).hex,
                        description=f"The {name} service",
                    )
                )
    state.add_shifts(shifts)


class _Story:
    """Builds one incident's history without touching the state's indexes (bulk speed)."""

    def __init__(self, state: EmulatorState, rng: random.Random, incident: Incident) -> None:
        self.state, self.rng, self.incident = state, rng, incident

    def entry(
        self,
        kind: str,
        at: float,
        summary: str,
        agent: tuple[str, str] | None,
        channel: dict[str, Any] | None = None,
        **fields: Any,
    ) -> LogEntry:
        entry = actions.make_entry(
            self.state, self.incident, kind, at, summary, agent, channel, **fields
        )
        self.incident.log_entries.append(entry)
        return entry

    def page(self, user_ids: list[str], at: float) -> None:
        self.incident.log_entries.extend(
            actions.notify_entries(self.state, self.incident, user_ids, at, spread=True)
        )


def _incident_history(
    state: EmulatorState,
    rng: random.Random,
    number: int,
    at: float,
    now: float,
    target: int,
    keep: str = "",
) -> Incident:
    service_name, template, runbook = TITLES[rng.randrange(len(TITLES))]
    service = next(s for s in state.services.values() if s.name == service_name)
    title = template.format(n=rng.randint(1, 4))
    urgency = "high" if rng.random() < 0.7 else "low"
    key = uuid.UUID(int=rng.getrandbits(128)).hex
    details: dict[str, Any] = {"source": f"{service_name}-{rng.randint(1, 9)}.prod"}
    contexts = _contexts(service_name, number)
    if runbook and rng.random() < 0.6:
        # As monitors send it: half in the details, half as an Events API link.
        if number % 2:
            details["runbook_url"] = RUNBOOK_BASE + runbook
        else:
            contexts.append({"type": "link", "href": RUNBOOK_BASE + runbook, "text": "Runbook"})
    incident = actions.new_incident(
        state, number, title, service, urgency, at, key, details, contexts=contexts
    )
    story = _Story(state, rng, incident)
    story.entry(
        "trigger_log_entry",
        at,
        "Triggered through the API",
        ("service_reference", service.id),
        {"type": "api", "summary": title, "details": details, "client": "Prometheus"},
    )
    assignees = state.oncall_user_ids(service.escalation_policy_id, 1, at) or [state.me_id]
    incident.assignments = [(uid, at) for uid in assignees]
    story.page(assignees, at)
    age = now - at
    t = at + rng.randint(60, 900)
    if keep == "triggered" or t >= now or (age < 4 * 3600 and rng.random() < 0.5):
        return incident  # still triggered
    responder = assignees[0]
    if rng.random() < 0.15:  # nobody answered: escalate to level 2
        second = state.oncall_user_ids(service.escalation_policy_id, 2, t) or assignees
        story.entry(
            "escalate_log_entry",
            t,
            "Escalated to level 2.",
            None,
            {"type": "timeout"},
            assignee_ids=second,
        )
        incident.escalation_level = 2
        incident.assignments = [(uid, t) for uid in second]
        story.page(second, t)
        responder = second[0]
        t += rng.randint(60, 600)
    _status(incident, "acknowledged", t, responder)
    incident.acknowledgements = [(responder, t)]
    story.entry(
        "acknowledge_log_entry",
        t,
        f"Acknowledged by {state.users[responder].name}.",
        ("user_reference", responder),
        {"type": "website"},
    )
    if rng.random() < 0.1:
        team = state.users[responder].team_ids[0]
        others = [u.id for u in state.users.values() if team in u.team_ids and u.id != responder]
        t += rng.randint(60, 900)
        story.entry(
            "assign_log_entry",
            t,
            "Reassigned.",
            ("user_reference", responder),
            {"type": "website"},
            assignee_ids=[others[0]],
        )
        incident.assignments, incident.acknowledgements = [(others[0], t)], []
        incident.assigned_via = "direct_assignment"
        incident.status = "triggered"
        story.page([others[0]], t)
        t += rng.randint(60, 600)
        responder = others[0]
        _status(incident, "acknowledged", t, responder)
        incident.acknowledgements = [(responder, t)]
        story.entry(
            "acknowledge_log_entry",
            t,
            f"Acknowledged by {state.users[responder].name}.",
            ("user_reference", responder),
            {"type": "mobile"},
        )
    resolve_at = t + rng.randint(600, 7200)
    while len(incident.log_entries) < target - 1 and t + 120 < resolve_at:
        t += rng.randint(60, max(61, int((resolve_at - t) / 3)))
        if t >= min(resolve_at, now):
            break
        content = NOTES[rng.randrange(len(NOTES))]
        incident.notes.append(Note(state.note_id(incident), responder, content, t))
        story.entry(
            "annotate_log_entry",
            t,
            "Note added",
            ("user_reference", responder),
            {"type": "note"},
            note=content,
        )
        incident.updated_at = t
    if keep or resolve_at >= now or (age < 6 * 3600 and rng.random() < 0.4):
        return incident  # still acknowledged
    _status(incident, "resolved", resolve_at, responder)
    incident.resolved_at = resolve_at
    incident.assignments, incident.acknowledgements = [], []
    incident.alerts[0].status, incident.alerts[0].resolved_at = "resolved", resolve_at
    story.entry(
        "resolve_log_entry",
        resolve_at,
        f"Resolved by {state.users[responder].name}.",
        ("user_reference", responder),
        {"type": "website"},
    )
    return incident


def _contexts(service_name: str, number: int) -> list[dict[str, str]]:
    """An alert's links and images (``body.contexts``): a dashboard, and on some a graph."""
    dashboard = f"{DASHBOARD_BASE}{service_name}"
    found = [{"type": "link", "href": dashboard, "text": f"{service_name} dashboard"}]
    if number % 3 == 0:
        found.append(
            {
                "type": "image",
                "src": f"https://grafana.example.com/render/d/{service_name}.png",
                "href": dashboard,
                "text": f"{service_name} error rate, last hour",
            }
        )
    return found


def _status(incident: Incident, status: str, at: float, user_id: str) -> None:
    incident.status = status
    incident.updated_at = incident.last_status_change_at = at
    incident.last_status_change_by = ("user_reference", user_id)


def seed_history(
    state: EmulatorState,
    incidents: int = 10_000,
    log_entries_per_incident: int = 10,
    *,
    days: int = 30,
    now: datetime | None = None,
    seed: int | None = 1,
) -> None:
    """Fill ``state`` with an account (if empty) and ``incidents`` incidents over ``days``.

    Notes pad each resolved incident's history towards ``log_entries_per_incident``.
    """
    moment = to_epoch(now) if now is not None else state.now()
    if not state.users:
        build_account(state, moment)
    rng = random.Random(seed)
    span = days * 86_400
    start = moment - span
    times = sorted(start + rng.random() * (span - 600) for _ in range(incidents))
    first = state.next_number()
    # The newest few stay open whatever the dice say, so every seed has work to do.
    opens = {incidents - 1: "triggered", incidents - 2: "triggered", incidents - 3: "acknowledged"}
    seeded = [
        _incident_history(
            state,
            rng,
            first + i,
            float(int(at)),
            moment,
            log_entries_per_incident,
            opens.get(i, ""),
        )
        for i, at in enumerate(times)
    ]
    state.load_incidents(seeded)
    with state.lock:
        render.prerender(state, seeded)
