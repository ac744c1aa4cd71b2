"""The cockpit screen's incident decisions, without a terminal.

Which incident keys act on the incident on screen as it is, the incident list's filters (all,
high urgency, mine, then each saved ``[filters.NAME]``), stepping through the list, which
incident stays current after a refresh, what an empty list says, and which arrivals are news.
The screen draws what these say and asks nothing else; tests drive them with plain values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cockpit.store.reads import IncidentFilter
from cockpit.view_model import IncidentRef, IncidentView, SwitcherView

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


def keep_current(view: SwitcherView, current: str | None) -> str | None:
    """The incident to show after a refresh: the one on screen while it is still listed
    (a refresh never moves the user), else the first open one, else none."""
    if current is not None and any(r.id == current for r in (*view.open, *view.resolved)):
        return current
    return view.open[0].id if view.open else None


@dataclass(frozen=True)
class EmptyLine:
    """What the list and the panel say when no incident is shown, and how loudly."""

    text: str
    tone: str  # "quiet" or "warning"


def empty_line(
    filter_name: str, every: SwitcherView, *, syncs: bool, synced: bool, sync_state: str
) -> EmptyLine:
    """Never "All quiet" while a filter hides open incidents, the first sync is still
    running, or the paging service is out of reach (``syncs``: a paging service is set up;
    ``synced``: a sync of this session has ended)."""
    count = sum(1 for ref in every.open if not ref.is_drill)
    if filter_name != "all" and count:
        return EmptyLine(
            f"no incident matches '{filter_name}'; {count} open: / to change", "warning"
        )
    if syncs and not synced:
        return EmptyLine("syncing… no open incident in the local store yet", "quiet")
    if syncs and sync_state == "offline":
        return EmptyLine(
            "No open incident in the local store, but the paging service is out "
            "of reach: it may know of more.",
            "warning",
        )
    return EmptyLine("No open incident. All quiet.", "quiet")


def news(view: SwitcherView, every: SwitcherView, last_rowid: int | None) -> list[IncidentRef]:
    """The open incidents (no drill) new to the store since the refresh that saw
    ``last_rowid`` (None: the first refresh, which announces nothing)."""
    if last_rowid is None or not view.arrived:
        return []
    return [
        ref
        for ref in every.open
        if ref.id in view.arrived and not ref.is_drill and ref.status != "resolved"
    ]
