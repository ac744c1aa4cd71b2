"""The cockpit: current incident, timeline, runbook checklist, baton, page load, status.

A refresh never moves the user: the highlighted incident and step are kept by id, scroll
positions are left alone, and focus is never reassigned by a reload. Every action captures
the incident (id and title) when its key is pressed, so a sync in between cannot redirect it.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.dom import DOMNode
from textual.message import Message
from textual.screen import Screen
from textual.widgets import OptionList

from cockpit.errors import CockpitError
from cockpit.presenter.incidents import (
    INCIDENT_ACTIONS,
    FilterCycle,
    applicable,
    empty_line,
    keep_current,
    list_filters,
    news,
    step,
)
from cockpit.runbooks.links import plain
from cockpit.screens.command_runner import CommandRunner
from cockpit.screens.host import host_of
from cockpit.screens.keys import find_binding
from cockpit.screens.messages import (
    IncidentActed,
    SyncCrashed,
    SyncFinished,
    SyncProgress,
    SyncStarted,
)
from cockpit.screens.runbook_actions import RunbookActions
from cockpit.store.reads import IncidentFilter
from cockpit.store.run_service import RunService
from cockpit.text import full_hint, safe_line
from cockpit.view_model import (
    IncidentRef,
    IncidentView,
    SwitcherView,
    load_incident,
    load_status,
    load_switcher,
    me_of,
)
from cockpit.widgets.baton import Baton
from cockpit.widgets.footer import KeyFooter
from cockpit.widgets.incident_panel import IncidentPanel
from cockpit.widgets.incident_switcher import IncidentSwitcher
from cockpit.widgets.page_load_meter import PageLoadMeter, load_page_load
from cockpit.widgets.runbook_checklist import RunbookChecklist
from cockpit.widgets.status_bar import StatusBar
from cockpit.widgets.timeline import Timeline

if TYPE_CHECKING:
    from cockpit.presenter.incident_acts import Act
    from cockpit.screens.host import HostApp
    from cockpit.screens.link_actions import LinkOffer


class CockpitScreen(RunbookActions, CommandRunner, Screen[None]):
    # The runbook's steps have the keys; focusing them first (not the first focusable
    # widget, then them) saves a rebuild of the footer at start-up, and they get the focus
    # back whenever the cockpit returns with none (a dialog closed after the terminal lost
    # the focus, say).
    AUTO_FOCUS = "#runbook-steps"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "a",
            "ack",
            "Ack",
            tooltip="Acknowledge this incident (queued when offline)",
            id="incident.ack",
        ),
        Binding(
            "R",
            "resolve",
            "Resolve",
            tooltip="Resolve this incident (asks first)",
            id="incident.resolve",
        ),
        Binding(
            "t", "take_baton", "Take", tooltip="Take the baton of this incident", id="baton.take"
        ),
        Binding(
            "A",
            "accept_baton",
            "Accept",
            tooltip="Accept a baton offered to you",
            id="baton.accept",
        ),
        Binding(
            "n",
            "note",
            "Note",
            tooltip="Add a multi-line note (queued when offline)",
            id="incident.note",
        ),
        Binding(
            "b",
            "pass_baton",
            "Pass",
            tooltip="Pass the baton to someone on the roster, with a note",
            id="baton.pass",
        ),
        Binding(
            "z",
            "snooze",
            "Snooze",
            tooltip="Snooze this incident (PagerDuty: once acknowledged)",
            id="incident.snooze",
            show=False,
        ),
        Binding(
            "e",
            "escalate",
            "Escalate",
            tooltip="Escalate to a level (asks first)",
            id="incident.escalate",
            show=False,
        ),
        Binding(
            "right_square_bracket",
            "next_incident",
            "Next",
            tooltip="Next incident",
            id="incident.next",
            show=False,
        ),
        Binding(
            "left_square_bracket",
            "prev_incident",
            "Prev",
            tooltip="Previous incident",
            id="incident.prev",
            show=False,
        ),
        Binding(
            "i",
            "focus_incidents",
            "Incidents",
            tooltip="Move to the incident list (enter goes back to the runbook)",
            id="incident.list",
            show=False,
        ),
        Binding(
            "O",
            "incident_link",
            "Inc. link",
            tooltip="Copy a link of the incident (its "
            "runbook URL, its page, an alert's link; OSC 52) and offer to open it",
            id="incident.open-link",
            show=False,
        ),
        Binding(
            "slash",
            "cycle_filter",
            "Filter",
            tooltip="Filter the incident list: all, "
            "high urgency, mine, then each saved [filters.NAME] of the settings",
            id="incident.filter",
            show=False,
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.current_id: str | None = None
        self.incident_view: IncidentView | None = None
        self._runbook_choice: dict[str, str] = {}
        self._due_notified: set[tuple[str, str]] = set()
        # The newest incident row seen (None before the first read): anything stored after it
        # is new to the store, and only that is announced, whatever the filter shows.
        self._last_rowid: int | None = None
        self._synced = False  # a sync of this session has ended (ok or not)
        self._empty = Text("No open incident. All quiet.", "dim")
        self._applies: frozenset[str] = frozenset()
        self._cold = False
        self._timeline_of = ""
        self._gc_ticks = 0
        self.filters = FilterCycle()  # all, high urgency, mine, then the saved ones

    @property
    def cockpit(self) -> HostApp:
        return host_of(self)

    @property
    def now(self) -> datetime:
        return self.cockpit.clock()

    def compose(self) -> ComposeResult:
        # Wide (120+ columns): the list over the timeline on the left, the incident over the
        # runbook on the right, which gets the room; narrow: one column in this order.
        with Horizontal(id="body"):
            yield IncidentSwitcher(id="switcher")
            with Vertical(id="incident-column"):
                yield IncidentPanel(id="incident")
                yield Baton(id="baton")
            yield RunbookChecklist(id="checklist")
            yield Timeline(id="timeline")
        # Outside the body: never scrolled away, never cut by a column.
        yield PageLoadMeter(id="meter")
        yield StatusBar(id="status")
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        store = self.cockpit.store
        assert store is not None
        self.runs = RunService(store, self.cockpit.clock)
        self.me = me_of(store, getattr(self.cockpit.settings, "user", "") or "")
        # A store never synced fills up on the first sync: that is history, not news.
        self._cold = load_status(store).last_sync is None
        self.reload(follow=True)
        self.set_interval(1, self.tick_clock)
        # At once, as the app publishes: the status bar and the list follow the sync.
        self.cockpit.store_news.subscribe(self, self.on_store_news, immediate=True)
        # Everything built so far (widgets, imported modules, the ORM's metadata) lives as
        # long as the app: taking it out of the collector's scans keeps the full collections
        # that many small per-tick objects trigger from stalling a key press (p95 halves).
        self.call_after_refresh(gc.freeze)

    # ------------------------------------------------------------------ refresh

    def reload(self, *, follow: bool = False) -> None:
        """Read the store again and redraw, keeping selection, scroll and focus."""
        store = self.cockpit.store
        assert store is not None
        try:
            self.me = me_of(store, getattr(self.cockpit.settings, "user", "") or "")
            name, where = self._filter()
            switcher_view = load_switcher(store, where=where, arrived_after=self._last_rowid)
            every = switcher_view if name == "all" else load_switcher(store)
            self._announce_new(switcher_view, every)
            self._empty = self._empty_line(name, every)
            self.current_id = keep_current(switcher_view, self.current_id)
            self.query_one(IncidentSwitcher).show(switcher_view, self.current_id, self._empty)
            self._show_incident(follow=follow)
            self._show_status()
        except CockpitError as error:
            self.notify(f"{error}", title="Cannot read the local store", severity="error")

    def _empty_line(self, name: str, every: SwitcherView) -> Text:
        line = empty_line(
            name,
            every,
            syncs=self.cockpit.sync_service is not None,
            synced=self._synced,
            sync_state=self.cockpit.sync_state,
        )
        return Text(safe_line(line.text), "yellow" if line.tone == "warning" else "dim")

    def _announce_new(self, view: SwitcherView, every: SwitcherView) -> None:
        """A notification for each open incident that is new to the store since the last
        refresh. The selection stays where the user put it: arriving is news, not a reason
        to move. A store filling up in its first sync is history, not news."""
        last, self._last_rowid = self._last_rowid, view.last_rowid
        fresh = [] if self._cold else news(view, every, last)
        urgency = every.urgency
        for ref in fresh[:3]:
            level = urgency.get(ref.id, "") or "unknown"
            body = (
                f"{safe_line(ref.label)} {safe_line(ref.title)[:160]}\n"
                f"{level} urgency, {ref.status}. ] and [ switch incidents."
            )
            self.notify(
                body,
                title=f"New {level}-urgency incident",
                severity="error" if level == "high" else "warning",
                timeout=12,
            )
        if len(fresh) > 3:
            self.notify(f"and {len(fresh) - 3} more new incidents", severity="warning")
        if any(urgency.get(ref.id) == "high" for ref in fresh):
            self.app.bell()

    def _show_incident(self, *, follow: bool = False) -> None:
        store = self.cockpit.store
        assert store is not None
        now = self.now
        view = load_incident(store, self.current_id) if self.current_id else None
        self.incident_view = view
        self.query_one(IncidentPanel).show(view, now, self._empty)
        self.query_one(Baton).show(view, self.me.id, now)
        timeline = self.query_one(Timeline)
        if follow and timeline.items and view is not None and self._timeline_of != view.ref.id:
            timeline.scroll_home(animate=False, immediate=True)  # another incident: its newest
        self._timeline_of = view.ref.id if view is not None else ""
        timeline.show(
            view.timeline if view else [], more=full_hint(view.incident.remote_id) if view else ""
        )
        self.query_one(PageLoadMeter).show(load_page_load(store, self.me.id, now))
        self.show_runbook(follow=follow)
        practice = bool(view and view.incident.is_drill)
        self.query_one(StatusBar).practice = practice
        self.set_class(practice, "-practice")
        self._update_bindings()

    # ------------------------------------------------------------------ keys that apply

    def _update_bindings(self) -> None:
        applies = self.applies()
        if applies != self._applies:
            self._applies = applies
            self.refresh_bindings()

    def applies(self) -> frozenset[str]:
        """The incident keys that act on the incident on screen as it is now."""
        return applicable(self.incident_view, self.me.id)

    def footer_shows(self, action: str) -> bool:
        """Whether the footer shows the key of ``action`` (``cockpit.widgets.footer``): the
        incident keys only when they act on this incident as it is; each still works, and
        says why when it cannot act."""
        return action not in INCIDENT_ACTIONS or action in self._applies

    def refresh_timeline(self) -> None:
        from cockpit.store.engine import driver_connection
        from cockpit.store.reads import timeline

        store = self.cockpit.store
        if store is None or self.current_id is None:
            return
        view = self.query_one(Timeline)
        # A transition adds a line or three: read the newest few and put them on top.
        with store.read() as session:
            newest = timeline(driver_connection(session), self.current_id, limit=12)
        if view.prepend(newest):
            return
        with store.read() as session:
            view.show(timeline(driver_connection(session), self.current_id, limit=200))

    def _show_status(self) -> None:
        store = self.cockpit.store
        assert store is not None
        status = load_status(store)
        bar = self.query_one(StatusBar)
        bar.now = self.now
        bar.pending = status.pending
        bar.failed = status.failed
        bar.paused = status.paused[0] if status.paused else ""
        # The last sync of this session that fully worked; before one has, the store's.
        bar.last_sync = self.cockpit.last_good_sync or status.last_sync
        bar.state = self.cockpit.sync_state
        bar.detail = status.last_error if bar.state == "offline" else ""
        bar.refresh()

    def tick_clock(self) -> None:
        """Once a second: running timers and the status bar's age, each redrawn only when
        what it shows changed (an idle cockpit draws nothing)."""
        now = self.now
        checklist = self.query_one(RunbookChecklist)
        for step_id in checklist.tick_timers(now):
            key = (self.current_id or "", step_id)
            if key not in self._due_notified:
                self._due_notified.add(key)
                view = checklist.view
                item = view.item(step_id) if view is not None else None
                body = "Check it, then tick it (space)."
                if item is not None and item.step is not None:
                    body = f"{safe_line(plain(item.step.text))[:160]}\n{body}"
                self.notify(body, title="Timer due", severity="warning", timeout=15)
                self.app.bell()
        self.query_one(StatusBar).tick(now)
        # Freeze what the last second left (O(1)): the heap the collector scans on its own
        # stays small, so no full collection lands on a key press. Every ten minutes it is
        # all thawed and collected once, so cycles that died while frozen are freed too.
        # (A sync's page responses, frozen here in reference cycles, once kept 90 MB until
        # the thaw: pagerduty_http.py now cuts the cycle.)
        self._gc_ticks += 1
        if self._gc_ticks % 600 == 0:
            gc.unfreeze()
            gc.collect()
        gc.freeze()

    def on_store_news(self, message: Message) -> None:
        bar = self.query_one(StatusBar)
        if isinstance(message, SyncStarted):
            bar.state, bar.progress = "syncing", ""
        elif isinstance(message, SyncProgress):
            total = f"/{message.total}" if message.total else ""
            # A wait (rate limit, a write in doubt) comes as done=0 with no total: words only.
            count = f" {message.done}{total}" if message.done or message.total else ""
            bar.progress = f"{message.what}{count}"
        elif isinstance(message, SyncFinished | SyncCrashed):
            bar.progress = ""
            self._synced = True
            if self._cold:
                self._cold, self._last_rowid = False, None
            self.reload()
        else:
            self.reload()
        bar.state = self.cockpit.sync_state
        bar.last_sync = self.cockpit.last_good_sync or bar.last_sync

    # ------------------------------------------------------------------ incidents

    @on(OptionList.OptionHighlighted, "#switcher")
    def _switch(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id and event.option.id != self.current_id:
            self.current_id = event.option.id
            self._show_incident(follow=True)

    @on(OptionList.OptionSelected, "#switcher")
    def _back_to_runbook(self, event: OptionList.OptionSelected) -> None:
        self.query_one(RunbookChecklist).focus_steps()

    def _step_incident(self, delta: int) -> None:
        switcher = self.query_one(IncidentSwitcher)
        target = step(switcher.ids(), self.current_id, delta)
        if target is None:
            return
        self.current_id = target
        switcher.select_id(self.current_id)
        self._show_incident(follow=True)

    def action_next_incident(self) -> None:
        self._step_incident(1)

    def action_prev_incident(self) -> None:
        self._step_incident(-1)

    def _filter(self) -> tuple[str, IncidentFilter]:
        if not self.filters.filters:  # the settings and who I am are known from mount on
            saved = getattr(self.cockpit.settings, "tables", {}).get("filters") or {}
            self.filters.filters = list_filters(saved, self.me.id)
        return self.filters.current

    def action_cycle_filter(self) -> None:
        self._filter()
        name = self.filters.next()
        switcher = self.query_one(IncidentSwitcher)
        switcher.border_title = "Incidents" if name == "all" else f"Incidents · {safe_line(name)}"
        self.reload()

    def action_focus_incidents(self) -> None:
        self.query_one(IncidentSwitcher).focus()

    def captured(self) -> IncidentRef | None:
        """The incident on screen now; actions keep this, not the row, across refreshes."""
        if self.incident_view is None:
            self.notify("No incident selected.", severity="warning")
            return None
        return self.incident_view.ref

    def act(self, act: Act | None) -> None:
        """Record an act on an incident (never waiting on the event loop for a sync's write:
        see ``store_writes``); its errors become a notification that says what to do."""
        if act is None:
            return  # the answer made no act (cancelled, empty): nothing is sent
        from cockpit.sync import actions  # the ORM: not for the first frame

        call = getattr(actions, act.action)
        store, user, clock = (
            self.cockpit.store,
            self.cockpit.settings.user or "",
            self.cockpit.clock,
        )

        def landed(_: object, error: Exception | None) -> None:
            if error is not None:
                self.notify(str(error), title="Not done", severity="error", timeout=8)
                return
            self.notify(act.done, timeout=4)
            self.reload()
            self.post_message(IncidentActed(act.action, act.incident_id))
            if self.cockpit.sync_service is not None:
                self.cockpit.start_sync()

        def write() -> object:
            return call(store, act.incident_id, *act.args, user=user, clock=clock, **act.kwargs)

        if not self.writes.run(write, landed):
            self.notify("Saving… (a sync is writing to the store)", timeout=2)

    def action_ack(self) -> None:
        from cockpit.presenter import incident_acts as acts

        ref = self.captured()
        if ref is not None:
            self.act(acts.acknowledge(ref))

    def action_resolve(self) -> None:
        from cockpit.presenter import incident_acts as acts
        from cockpit.screens.confirm import ConfirmDialog, incident_line

        ref = self.captured()
        if ref is None:
            return
        if self.resolve_with_run(ref):
            return
        body = Text("Resolve ")
        body.append_text(incident_line(ref))
        body.append("?\nThe paging service is told when online; the outbox keeps it till then.")

        def done(yes: bool | None) -> None:
            if yes:
                self.act(acts.resolve(ref))

        self.app.push_screen(ConfirmDialog("Resolve incident", body, "Resolve"), done)

    def action_snooze(self) -> None:
        from cockpit.presenter import incident_acts as acts
        from cockpit.screens.confirm import incident_line
        from cockpit.screens.input_dialog import InputDialog, check_duration, duration_meaning

        ref = self.captured()
        if ref is None:
            return
        body = Text("Snooze ")
        body.append_text(incident_line(ref))
        body.append(" for how long? (90s, 30m, 2h, 1d; a number alone is minutes)")
        dialog = InputDialog(
            "Snooze", body, value="30m", check=check_duration, meaning=duration_meaning
        )
        self.app.push_screen(dialog, lambda answer: self.act(acts.snooze(ref, answer)))

    def action_escalate(self) -> None:
        from cockpit.presenter import incident_acts as acts
        from cockpit.screens.confirm import incident_line
        from cockpit.screens.input_dialog import InputDialog, check_level

        ref = self.captured()
        if ref is None:
            return
        body = Text("Escalate ")
        body.append_text(incident_line(ref))
        body.append(" to which escalation level?")
        dialog = InputDialog("Escalate", body, value="2", check=check_level)
        self.app.push_screen(dialog, lambda answer: self.act(acts.escalate(ref, answer)))

    def action_note(self) -> None:
        from cockpit.presenter import incident_acts as acts
        from cockpit.screens.note_dialog import NoteDialog  # TextArea: not for the first frame

        ref = self.captured()
        if ref is not None:
            self.app.push_screen(NoteDialog(ref), lambda text: self.act(acts.note(ref, text)))

    def action_take_baton(self) -> None:
        from cockpit.presenter import incident_acts as acts

        ref = self.captured()
        if ref is not None:
            self.act(acts.take_baton(ref))

    def action_accept_baton(self) -> None:
        from cockpit.presenter import incident_acts as acts

        ref = self.captured()
        if ref is not None:
            self.act(acts.accept_baton(ref, self.me.id))

    def action_pass_baton(self) -> None:
        from cockpit.presenter import incident_acts as acts
        from cockpit.screens.baton_dialog import BatonDialog
        from cockpit.view_model import roster

        ref = self.captured()
        store = self.cockpit.store
        if ref is None or self.incident_view is None or store is None:
            return
        holder = self.incident_view.holder_id
        people = acts.baton_receivers(roster(store, self.now), self.me.id, holder)
        self.app.push_screen(
            BatonDialog(ref, people, holder),
            lambda answer: self.act(acts.offer_baton(ref, answer)),
        )

    # ------------------------------------------------------------------ links

    @cached_property
    def links(self) -> LinkOffer:
        from cockpit.screens.link_actions import LinkOffer

        return LinkOffer(self)

    def offer_links(self, urls: list[str], none_message: str) -> None:
        self.links.offer_links(urls, none_message)

    def action_incident_link(self) -> None:
        self.links.offer_incident_links(self.incident_view)

    def palette_links(self) -> list[tuple[str, str, Callable[[], object]]]:
        """Palette entries: each incident link that may be offered, by name."""
        return self.links.palette_entries(self.incident_view)

    # ------------------------------------------------------------------ palette

    def binding_named(self, binding_id: str) -> tuple[DOMNode, Binding] | None:
        """The screen's or the runbook checklist's binding with this id, and its node."""
        return find_binding([self, *self.query(RunbookChecklist)], binding_id)

    def run_binding(self, binding_id: str) -> None:
        """Do what the binding's key does (the palette's path), on the node that owns it."""
        found = self.binding_named(binding_id)
        if found is not None:
            node, binding = found
            self.call_next(self.app.run_action, binding.action, node)

    def go_to_incident(self, incident_id: str) -> None:
        self.current_id = incident_id
        self.query_one(IncidentSwitcher).select_id(incident_id)
        self._show_incident(follow=True)

    def use_runbook(self, path: str) -> None:
        if self.current_id is None:
            return
        if self.runs.open_runbook_id(self.current_id):
            self.notify(
                "A run is open on this incident: finish it before picking another.",
                severity="warning",
            )
            return
        self._runbook_choice[self.current_id] = path
        self.show_runbook(follow=True)
