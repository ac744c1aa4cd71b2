"""The cockpit screen's decisions without a terminal: which incident keys apply, the list's
filters and their cycle, stepping through the list; saved filters are checked on load."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from cockpit.config import ConfigError, load_settings
from cockpit.presenter import FilterCycle, applicable, list_filters, step
from cockpit.runbook_choice import choose
from cockpit.runbooks.library import load_library
from cockpit.store.reads import IncidentFilter
from cockpit.view_model import IncidentView

ME = "pagerduty:PME"


def view(status: str, holder: str = ME, offered_to: str | None = None) -> IncidentView:
    offer = SimpleNamespace(to_person=offered_to) if offered_to else None
    return IncidentView(
        incident=SimpleNamespace(status=status),  # type: ignore[arg-type]
        alerts=[],
        paged=[],
        assignees=[],
        timeline=[],
        holder_id=holder,
        holder_name="",
        holder_since=None,
        offer=offer,  # type: ignore[arg-type]
        offer_to_name="",
    )


def test_what_applies_follows_the_incident_as_it_is() -> None:
    assert applicable(None, ME) == frozenset()
    assert applicable(view("resolved"), ME) == {"note", "incident_link"}
    assert "ack" in applicable(view("triggered"), ME)
    assert "ack" not in applicable(view("acknowledged"), ME)
    assert "take_baton" not in applicable(view("triggered"), ME)  # I hold it
    assert "take_baton" in applicable(view("triggered", holder="pagerduty:PBOB"), ME)
    assert "accept_baton" in applicable(view("acknowledged", offered_to=ME), ME)
    assert "accept_baton" not in applicable(view("acknowledged", offered_to="x"), ME)


def test_filters_all_high_mine_then_saved_by_name_and_the_cycle_wraps() -> None:
    saved = {"zeta": {"service": "db"}, "alpha": {"urgency": "low", "mine": True}}
    filters = list_filters(saved, ME)
    assert [name for name, _ in filters] == ["all", "high urgency", "mine", "alpha", "zeta"]
    assert filters[3][1] == IncidentFilter(urgency="low", assignee=ME)
    cycle = FilterCycle(filters)
    assert cycle.current[0] == "all"
    assert [cycle.next() for _ in range(5)] == ["high urgency", "mine", "alpha", "zeta", "all"]
    assert FilterCycle().current == ("all", IncidentFilter())


def test_step_wraps_and_starts_from_the_first() -> None:
    ids = ["a", "b", "c"]
    assert step(ids, "a", 1) == "b"
    assert step(ids, "c", 1) == "a"
    assert step(ids, "a", -1) == "c"
    assert step(ids, None, 1) == "a" and step(ids, "gone", -1) == "a"
    assert step([], "a", 1) is None


@pytest.mark.parametrize(
    ("table", "said"),
    [
        ('[filters.db]\nservise = "db"\n', "[filters.db] unknown key 'servise'"),
        ("[filters.db]\nmine = 1\n", "[filters.db] mine must be bool, got 1"),
        ('[filters]\ndb = "x"\n', "[filters.db] must be a table"),
    ],
)
def test_a_bad_saved_filter_is_refused_naming_it(tmp_path: Path, table: str, said: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[cockpit]\nsync_interval = 30\n\n" + table)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert str(path) in str(caught.value) and said in str(caught.value)


def _incident_view(title: str, service: str) -> IncidentView:
    incident = SimpleNamespace(
        id="pagerduty:P1",
        title=title,
        service_name=service,
        urgency="high",
        priority="",
        labels={},
        runbook_url="",
    )
    return IncidentView(
        incident=incident,  # type: ignore[arg-type]
        alerts=[],
        paged=[],
        assignees=[],
        timeline=[],
        holder_id=ME,
        holder_name="",
        holder_since=None,
        offer=None,
        offer_to_name="",
    )


def test_the_runbook_shown_is_the_open_runs_then_the_pick_then_the_best_match() -> None:
    library = load_library([Path(__file__).parents[2] / "runbooks"])
    view = _incident_view("High latency on product-api /product", "product-api")
    best, why, matches = choose(library, view, None, None)
    assert best is not None and best.id == "product-cache-stampede"
    assert why.startswith("matches ") and matches[0].runbook is best
    other = next(r for r in library if r.id == "disk-full")
    picked, why, _ = choose(library, view, None, other.path)
    assert picked is other and why == "picked by you"
    kept, why, matches = choose(library, view, "disk-full", None)  # a run keeps its runbook
    assert kept is other and "does not match now" in why and matches == []
    nothing = _incident_view("Something nobody wrote a runbook for", "nowhere")
    assert choose(library, nothing, None, None)[:2] == (None, "")
