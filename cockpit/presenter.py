"""The cockpit screen's decisions, without a terminal.

Which incident keys act on the incident on screen as it is, the incident list's filters (all,
high urgency, mine, then each saved ``[filters.NAME]``), and stepping through the list. The
screen draws what these say and asks nothing else; tests drive them with plain values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cockpit.store.reads import IncidentFilter
from cockpit.view_model import IncidentView

# The actions that act on one incident: the footer shows their keys only when they act on
# the incident on screen as it is now (each still works, and says why when it cannot).
INCIDENT_ACTIONS = frozenset(
    {
        "ack",
        "resolve",
        "take_baton",
        "accept_baton",
        "pass_baton",
        "note",
        "snooze",
        "escalate",
        "incident_link",
    }
)


def applicable(view: IncidentView | None, me_id: str) -> frozenset[str]:
    """The incident actions that act on ``view``'s incident as it is, for ``me_id``."""
    if view is None:
        return frozenset()
    status = view.incident.status
    found = {"note", "incident_link"}
    if status == "resolved":
        return frozenset(found)
    found |= {"resolve", "pass_baton", "snooze", "escalate"}
    if status == "triggered":
        found.add("ack")
    if view.holder_id != me_id:
        found.add("take_baton")
    if view.offer is not None and view.offer.to_person == me_id:
        found.add("accept_baton")
    return frozenset(found)


def saved_filter(saved: Mapping[str, Any], me_id: str) -> IncidentFilter:
    """One ``[filters.NAME]`` table (validated when the settings were read) as a filter."""
    return IncidentFilter(
        urgency=str(saved.get("urgency", "")),
        assignee=me_id if saved.get("mine") else "",
        team=str(saved.get("team", "")),
        service=str(saved.get("service", "")),
    )


def list_filters(saved: Mapping[str, Any], me_id: str) -> list[tuple[str, IncidentFilter]]:
    """All, high urgency, mine, then the saved filters by name."""
    found = [
        ("all", IncidentFilter()),
        ("high urgency", IncidentFilter(urgency="high")),
        ("mine", IncidentFilter(assignee=me_id)),
    ]
    for name, table in sorted(saved.items()):
        if isinstance(table, Mapping):
            found.append((str(name), saved_filter(table, me_id)))
    return found


@dataclass
class FilterCycle:
    """The incident list's filter, cycled by one key; it survives refreshes."""

    filters: list[tuple[str, IncidentFilter]] = field(default_factory=list)
    index: int = 0

    @property
    def current(self) -> tuple[str, IncidentFilter]:
        if not self.filters:
            return "all", IncidentFilter()
        return self.filters[self.index % len(self.filters)]

    def next(self) -> str:
        """Move to the next filter; its name."""
        self.index = (self.index + 1) % max(len(self.filters), 1)
        return self.current[0]


def step(ids: Sequence[str], current: str | None, delta: int) -> str | None:
    """The incident ``delta`` places from ``current`` in ``ids``, wrapping around; from no
    incident (or one no longer listed), the first."""
    if not ids:
        return None
    index = ids.index(current) if current in ids else -delta
    return ids[(index + delta) % len(ids)]
