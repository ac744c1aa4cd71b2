"""The cockpit screen's decisions without a terminal: which incident keys apply, the list's
filters and their cycle, stepping through the list; saved filters are checked on load."""

from __future__ import annotations

import inspect
from pathlib import Path
from types import SimpleNamespace

import pytest

from cockpit.config import ConfigError, load_settings
from cockpit.presenter.incidents import (
    EmptyLine,
    FilterCycle,
    applicable,
    empty_line,
    keep_current,
    list_filters,
    news,
    step,
)
from cockpit.runbook_choice import choose
from cockpit.runbooks.library import load_library
from cockpit.store.reads import IncidentFilter
from cockpit.view_model import IncidentRef, IncidentView, SwitcherView

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


def ref(n: int, status: str = "triggered", *, drill: bool = False) -> IncidentRef:
    return IncidentRef(f"i{n}", f"P{n}", n, f"incident {n}", status, is_drill=drill)


def test_a_refresh_keeps_the_incident_on_screen_while_it_is_listed() -> None:
    listed = SwitcherView(open=[ref(1), ref(2)], resolved=[ref(3, "resolved")])
    assert keep_current(listed, "i2") == "i2"
    assert keep_current(listed, "i3") == "i3"  # resolved, still listed: stays
    assert keep_current(listed, "i9") == "i1"  # gone (filtered out, deleted): the first open
    assert keep_current(listed, None) == "i1"
    assert keep_current(SwitcherView(open=[], resolved=[ref(3, "resolved")]), "i9") is None


def test_an_empty_list_never_says_all_quiet_when_it_may_not_be() -> None:
    two_open = SwitcherView(open=[ref(1), ref(2), ref(3, drill=True)], resolved=[])
    nothing = SwitcherView(open=[], resolved=[])
    hidden = empty_line("mine", two_open, syncs=True, synced=True, sync_state="online")
    assert hidden == EmptyLine("no incident matches 'mine'; 2 open: / to change", "warning")
    first = empty_line("all", nothing, syncs=True, synced=False, sync_state="syncing")
    assert first.text.startswith("syncing") and first.tone == "quiet"
    away = empty_line("all", nothing, syncs=True, synced=True, sync_state="offline")
    assert "out of reach" in away.text and away.tone == "warning"
    quiet = EmptyLine("No open incident. All quiet.", "quiet")
    assert empty_line("all", nothing, syncs=True, synced=True, sync_state="online") == quiet
    assert empty_line("all", nothing, syncs=False, synced=False, sync_state="local") == quiet


def test_news_is_open_real_incidents_stored_since_the_last_refresh() -> None:
    every = SwitcherView(open=[ref(1), ref(2), ref(3, drill=True)], resolved=[])
    arrived = SwitcherView(open=[], resolved=[], arrived=frozenset({"i2", "i3"}))
    assert [r.id for r in news(arrived, every, last_rowid=10)] == ["i2"]
    assert news(arrived, every, last_rowid=None) == []  # the first refresh: nothing is news
    assert news(SwitcherView(open=[], resolved=[]), every, last_rowid=10) == []


def test_incident_keys_make_the_acts_the_outbox_sends() -> None:
    from cockpit.presenter import incident_acts as acts
    from cockpit.sync import actions

    one = ref(7)
    made = [
        acts.acknowledge(one),
        acts.resolve(one),
        acts.snooze(one, "90"),
        acts.escalate(one, " 2 "),
        acts.note(one, "looked at the dashboard"),
        acts.take_baton(one),
        acts.accept_baton(one, ME),
        acts.offer_baton(one, ("pagerduty:PB", "yours, the cache is warm")),
    ]
    for act in made:
        assert act is not None and act.incident_id == "i7" and "#7" in act.done
        # A real function of the outbox, called as the screen calls it: the arguments fit.
        signature = inspect.signature(getattr(actions, act.action))
        signature.bind(None, act.incident_id, *act.args, user="", clock=None, **act.kwargs)
    snooze, escalate = made[2], made[3]
    assert snooze is not None and snooze.args == (5400,)  # a number alone is minutes
    assert snooze.done == "Snoozed #7 for 90m (1 hour 30 minutes)"
    assert escalate is not None and escalate.args == (2,)
    assert made[6] is not None and made[6].kwargs == {"by": ME}


def test_answers_that_make_no_act_send_nothing() -> None:
    from cockpit.presenter import incident_acts as acts

    one = ref(7)
    assert acts.snooze(one, None) is None and acts.snooze(one, "soon") is None
    assert acts.snooze(one, "0") is None
    assert acts.escalate(one, "0") is None and acts.escalate(one, "two") is None
    assert acts.escalate(one, "²") is None  # a digit to isdigit(), not to int()
    assert acts.note(one, "  \n ") is None and acts.note(one, None) is None
    assert acts.offer_baton(one, None) is None and acts.offer_baton(one, ("", "x")) is None


def test_resolving_with_an_open_run_settles_the_run_first() -> None:
    from cockpit.presenter import incident_acts as acts
    from cockpit.presenter.checklist import Record

    one = ref(7)
    finish, resolve = acts.resolve_with_run(one, "finish")
    assert finish == Record("finished", branch="resolved", reason="incident resolved")
    assert resolve == acts.resolve(one)
    abandon, _ = acts.resolve_with_run(one, "abandon")
    assert abandon is not None and abandon.branch == "abandoned"
    assert acts.resolve_with_run(one, "keep") == (None, acts.resolve(one))
    assert acts.resolve_with_run(one, None) == (None, None)


def test_the_baton_goes_to_anyone_but_its_holder() -> None:
    from cockpit.presenter.incident_acts import baton_receivers
    from cockpit.view_model import RosterEntry

    people = [RosterEntry(ME, "me", ""), RosterEntry("pagerduty:PB", "bo", "on call now")]
    assert [p.name for p in baton_receivers(people, ME, ME)] == ["bo"]
    assert [p.name for p in baton_receivers(people, ME, "pagerduty:PB")] == ["me", "bo"]
