"""The in-memory PagerDuty account: records, time-ordered indexes, counters and faults.

Below the modules that act on it (``actions``, ``render``, ``updates``); ``state.py`` adds,
above them, the Python API tests and the demo drive it with.

Every public method takes the state's lock, so the HTTP threads and a test thread can use it
at once. Incidents and log entries are kept in lists sorted by ``created_at`` next to parallel
lists of keys, so a window is found with ``bisect`` and a page costs O(limit · log n).
"""

from __future__ import annotations

import bisect
import random
import threading
import time
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from cockpit.integrations.pagerduty_emulator.faults import Fault, FaultBox
from cockpit.integrations.pagerduty_emulator.journal import WriteJournal, make_record
from cockpit.integrations.pagerduty_emulator.model import (
    EscalationPolicy,
    Incident,
    LogEntry,
    Schedule,
    Service,
    Shift,
    Team,
    User,
    iso,
    new_id,
    to_epoch,
)

KNOWN_STATUSES = frozenset({"triggered", "acknowledged", "resolved"})
# "global": every note id unique in the account (PagerDuty's); "per_incident": "1", "2", ...
# restarting for each incident, as some servers number them.
NOTE_ID_MODES = ("global", "per_incident")

# Log entry types PagerDuty's ``is_overview=true`` keeps: state changes, not notifications.
OVERVIEW_TYPES = frozenset(
    {
        "trigger_log_entry",
        "acknowledge_log_entry",
        "unacknowledge_log_entry",
        "resolve_log_entry",
        "assign_log_entry",
        "escalate_log_entry",
        "snooze_log_entry",
        "annotate_log_entry",
        "urgency_change_log_entry",
    }
)


class ApiError(Exception):
    """An error the REST API answers with ``{"error": {"message", "code", "errors"}}``."""

    def __init__(
        self, status: int, message: str, code: int = 2001, errors: list[str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.errors = errors or []

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "code": self.code, "errors": self.errors}}


class Account:
    """The account: people, teams, services, schedules, incidents and their log entries."""

    def __init__(
        self,
        *,
        now: datetime | None = None,
        rng_seed: int | None = 1,
        rate_limit_per_minute: int = 960,
        note_ids: str = "global",
    ) -> None:
        self.lock = threading.RLock()
        self.rng = random.Random(rng_seed)
        self._fixed_now = to_epoch(now) if now is not None else None
        self._started = time.monotonic()
        self.teams: dict[str, Team] = {}
        self.users: dict[str, User] = {}
        self.users_by_email: dict[str, User] = {}
        self.schedules: dict[str, Schedule] = {}
        self.policies: dict[str, EscalationPolicy] = {}
        self.services: dict[str, Service] = {}
        self.shifts: list[Shift] = []
        self.incidents: dict[str, Incident] = {}
        self.me_id: str = ""
        self._inc_sorted: list[Incident] = []
        self._inc_keys: list[float] = []
        self._log_all: list[LogEntry] = []
        self._log_keys: list[float] = []
        self._log_overview: list[LogEntry] = []
        self._overview_keys: list[float] = []
        self._log_by_id: dict[str, LogEntry] = {}
        self._seq = 0
        self._next_number = 1
        self.rate_limit_per_minute = rate_limit_per_minute
        self._rate: dict[str, tuple[float, int]] = {}
        self.writes = WriteJournal()
        self._note_ids = "global"
        self.note_ids = note_ids
        # Statuses set_status introduced: statuses[] may filter on them.
        self.extra_statuses: set[str] = set()
        self.request_count = 0
        self.path_counts: Counter[str] = Counter()
        self.faults = FaultBox()
        # Rendered JSON of records nobody changed since, keyed by id; see render.py.
        self.json_cache: dict[str, str] = {}

    # -- time ----------------------------------------------------------------------------
    def now(self) -> float:
        """Epoch seconds; with a fixed ``now`` the clock still moves forward from it."""
        if self._fixed_now is None:
            return time.time()
        return self._fixed_now + (time.monotonic() - self._started)

    # -- building the account ------------------------------------------------------------
    def new_id(self, prefix: str = "P", length: int = 7) -> str:
        return new_id(self.rng, prefix, length)

    @property
    def note_ids(self) -> str:
        """How note ids are numbered: ``"global"`` (default) or ``"per_incident"``."""
        return self._note_ids

    @note_ids.setter
    def note_ids(self, mode: str) -> None:
        if mode not in NOTE_ID_MODES:
            raise ValueError(f"note_ids must be one of {', '.join(NOTE_ID_MODES)}, not {mode!r}")
        self._note_ids = mode

    def note_id(self, incident: Incident) -> str:
        """The id of the next note on ``incident``."""
        # Drawn in both modes so a seeded history is the same whatever the numbering.
        drawn = self.new_id()
        return str(len(incident.notes) + 1) if self._note_ids == "per_incident" else drawn

    def add_user(self, user: User) -> None:
        with self.lock:
            self.users[user.id] = user
            self.users_by_email[user.email.lower()] = user
            if not self.me_id:
                self.me_id = user.id

    def add_team(self, team: Team) -> None:
        with self.lock:
            self.teams[team.id] = team

    def add_schedule(self, schedule: Schedule) -> None:
        with self.lock:
            self.schedules[schedule.id] = schedule

    def add_policy(self, policy: EscalationPolicy) -> None:
        with self.lock:
            self.policies[policy.id] = policy

    def add_service(self, service: Service) -> None:
        with self.lock:
            self.services[service.id] = service

    def add_shifts(self, shifts: Iterable[Shift]) -> None:
        with self.lock:
            self.shifts.extend(shifts)
            self.shifts.sort(key=lambda shift: shift.start)

    def load_incidents(self, incidents: Iterable[Incident]) -> None:
        """Bulk load (the seeder): append everything, then sort the indexes once."""
        with self.lock:
            for incident in incidents:
                self.incidents[incident.id] = incident
                self._next_number = max(self._next_number, incident.number + 1)
                for entry in incident.log_entries:
                    self._seq += 1
                    entry.seq = self._seq
                    self._log_by_id[entry.id] = entry
                    self._log_all.append(entry)
            self._reindex()

    def _reindex(self) -> None:
        self._inc_sorted = sorted(self.incidents.values(), key=lambda i: (i.created_at, i.number))
        self._inc_keys = [incident.created_at for incident in self._inc_sorted]
        self._log_all.sort(key=lambda entry: (entry.created_at, entry.seq))
        self._log_keys = [entry.created_at for entry in self._log_all]
        self._log_overview = [e for e in self._log_all if e.type in OVERVIEW_TYPES]
        self._overview_keys = [entry.created_at for entry in self._log_overview]

    def next_number(self) -> int:
        with self.lock:
            number = self._next_number
            self._next_number += 1
            return number

    def insert_incident(self, incident: Incident) -> None:
        with self.lock:
            self.incidents[incident.id] = incident
            self._next_number = max(self._next_number, incident.number + 1)
            position = bisect.bisect_right(self._inc_keys, incident.created_at)
            self._inc_keys.insert(position, incident.created_at)
            self._inc_sorted.insert(position, incident)

    def append_log(self, entry: LogEntry) -> LogEntry:
        """Add a log entry to its incident and to the account-wide indexes."""
        with self.lock:
            self._seq += 1
            entry.seq = self._seq
            self._log_by_id[entry.id] = entry
            incident = self.incidents[entry.incident_id]
            self._insort(incident.log_entries, [e.created_at for e in incident.log_entries], entry)
            self._insort(self._log_all, self._log_keys, entry, keys_are_index=True)
            if entry.type in OVERVIEW_TYPES:
                self._insort(self._log_overview, self._overview_keys, entry, keys_are_index=True)
            return entry

    @staticmethod
    def _insort(
        items: list[LogEntry], keys: list[float], entry: LogEntry, keys_are_index: bool = False
    ) -> None:
        position = bisect.bisect_right(keys, entry.created_at)
        items.insert(position, entry)
        if keys_are_index:
            keys.insert(position, entry.created_at)

    # -- look-ups --------------------------------------------------------------------------
    def incident(self, incident_id: str) -> Incident:
        found = self.incidents.get(incident_id)
        if found is None:
            raise ApiError(404, "Not Found", 2100, [f"Incident {incident_id} not found"])
        return found

    def log_entry(self, entry_id: str) -> LogEntry:
        found = self._log_by_id.get(entry_id)
        if found is None:
            raise ApiError(404, "Not Found", 2100, [f"Log entry {entry_id} not found"])
        return found

    def user_by_email(self, email: str | None) -> User:
        if not email:
            raise ApiError(
                400,
                "Invalid Input Provided",
                2001,
                [
                    'You must specify a user\'s email address in the "From" header to perform '
                    "this action."
                ],
            )
        user = self.users_by_email.get(email.strip().lower())
        if user is None:
            raise ApiError(
                400, "Invalid Input Provided", 2001, ['The "From" header must be a valid user.']
            )
        return user

    def incidents_between(self, since: float, until: float) -> list[Incident]:
        """Incidents created in ``[since, until)``, ascending."""
        low = bisect.bisect_left(self._inc_keys, since)
        high = bisect.bisect_left(self._inc_keys, until)
        return self._inc_sorted[low:high]

    def log_window(
        self, since: float, until: float, overview: bool
    ) -> tuple[list[LogEntry], int, int]:
        """The sorted list and the ``[low, high)`` slice of entries created in the window."""
        items, keys = (
            (self._log_overview, self._overview_keys)
            if overview
            else (self._log_all, self._log_keys)
        )
        return items, bisect.bisect_left(keys, since), bisect.bisect_left(keys, until)

    def oncall_shifts(self, since: float, until: float) -> list[Shift]:
        """Shifts overlapping ``[since, until]`` (a shift covering a moment when both equal)."""
        return [s for s in self.shifts if s.start <= until and s.end > since]

    def oncall_user_ids(self, policy_id: str, level: int, at: float) -> list[str]:
        return [
            s.user_id
            for s in self.shifts
            if s.escalation_policy_id == policy_id and s.level == level and s.start <= at < s.end
        ]

    # -- counters, writes, rate limit, faults -----------------------------------------------
    def count_request(self, method: str, path: str) -> None:
        with self.lock:
            self.request_count += 1
            self.path_counts[f"{method} {path}"] += 1

    def record_write(
        self, method: str, path: str, body: Any, headers: dict[str, str]
    ) -> dict[str, Any]:
        """Journal one write as it arrives; the server fills in ``status`` when it answers."""
        record = make_record(method, path, body, headers, iso(self.now()))
        with self.lock:
            self.writes.append(record)
        return record

    def reset_counters(self) -> None:
        with self.lock:
            self.request_count = 0
            self.path_counts.clear()
            self.writes.clear()

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "request_count": self.request_count,
                "paths": dict(self.path_counts),
                "writes": len(self.writes),
                "incidents": len(self.incidents),
                "log_entries": len(self._log_all),
                "faults": [fault.to_json() for fault in self.faults.armed()],
            }

    def inject(self, fault: Fault | dict[str, Any]) -> Fault:
        """Arm a fault, e.g. ``{"kind": "429", "count": 2, "reset": 5}``."""
        return self.faults.inject(fault)

    def take_rate(self, token: str) -> tuple[int, int, int, bool]:
        """Spend one request of ``token``'s minute: (limit, remaining, reset seconds, allowed)."""
        limit = self.rate_limit_per_minute
        moment = time.monotonic()
        with self.lock:
            start, used = self._rate.get(token, (moment, 0))
            if moment - start >= 60:
                start, used = moment, 0
            allowed = used < limit
            if allowed:
                used += 1
            self._rate[token] = (start, used)
        reset = max(1, int(60 - (moment - start) + 0.999))
        return limit, max(0, limit - used), reset, allowed

    def all_log_entries(self) -> list[LogEntry]:
        with self.lock:
            return list(self._log_all)
