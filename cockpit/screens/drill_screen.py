"""Practice mode: the cockpit on a drill's made-up incident, timed, then debriefed.

The screen is the cockpit itself (same keys, same checklist) pinned to the drill incident,
under a banner that never goes away. Safety does not rest on this screen: drill incidents
never reach the outbox (``cockpit.sync.actions``), ``cockpit drill`` runs the app with a
:class:`~cockpit.drills.PracticeProvider` that refuses every write, and a command runs only
when :func:`~cockpit.drills.may_execute` says so, which it never does in a drill. The run
service times every tick and decision; ``U`` marks a step unclear (the flag is recorded
with the step's tick as ``details["unclear"]``); when the run finishes, or on ``E``, the
drill is finished and the debrief opens. ``x`` is refused before any parameter is asked.

A replay (``cockpit drill replay``, or ``D`` then "Replay a past incident") is the same
screen: once a second the clock delivers what the real incident's alerts, status changes and
notes did next (:class:`cockpit.drills.replay.Replay`), and the banner says how far it is.

| Key | Action |
| :- | :- |
| U | Mark the highlighted step unclear (asks what was unclear) |
| E | End the drill now and open the debrief |
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from cockpit.drills import may_execute
from cockpit.drills.replay import Replay, replay_of
from cockpit.drills.service import analyse_drill, finish_drill, last_drilled, participant_name
from cockpit.durations import age
from cockpit.errors import CockpitError
from cockpit.metrics.stats import format_seconds
from cockpit.runbooks.links import plain
from cockpit.runbooks.model import Runbook
from cockpit.screens.choice_dialog import ChoiceDialog
from cockpit.screens.cockpit_screen import CockpitScreen
from cockpit.screens.host import store_or_say
from cockpit.store.models import Drill, Incident
from cockpit.text import safe_line
from cockpit.view_model import IncidentRef
from cockpit.widgets.incident_panel import IncidentPanel
from cockpit.widgets.runbook_checklist import RunbookChecklist

if TYPE_CHECKING:
    from cockpit.screens.host import HostApp

BANNER = "PRACTICE MODE — nothing is sent, no command runs"
TICKS = ("done", "skipped", "failed", "decided")
BANNER_LINES = 3  # cockpit.tcss: #practice-banner { max-height: 3 }
REFUSED = "Commands never run in a drill: copy it (c) and read it instead."
REPLAY = "__replay__"
_CUTS = re.compile(r"(?<=[.;!?]) |(?<=,) | · | — ")


def fit(text: str, width: int, lines: int, measure: Any) -> str:
    """``text`` whole when it fits in ``lines`` lines of ``width``; else cut after the last
    sentence or clause (else word) that fits, with ``…`` (glued to the last word, so it is
    never wrapped alone): never in the middle of a word. ``measure(text, width)`` counts the
    lines a text wraps to."""
    if lines <= 0 or width <= 0:
        return ""
    if measure(text, width) <= lines:
        return text
    ends = [m.start() for m in _CUTS.finditer(text)]
    for end in reversed(ends):
        head = text[:end].rstrip(" ,;·—") + "…"
        if measure(head, width) <= lines:
            return head
    words = text.split(" ")
    while len(words) > 1:
        words.pop()
        head = " ".join(words) + "…"
        if measure(head, width) <= lines:
            return head
    return "…"


class DrillScreen(CockpitScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "U",
            "unclear",
            "Unclear",
            tooltip="Mark the highlighted step unclear (asks "
            "what); recorded with its tick for the debrief",
            id="drill.unclear",
        ),
        Binding(
            "E",
            "end_drill",
            "End drill",
            tooltip="End the drill now and open the "
            "debrief (unticked steps are listed as not reached)",
            id="drill.end",
        ),
    ]

    def __init__(self, drill: Drill, runbook: Runbook, *, exit_after: bool = False) -> None:
        super().__init__()
        self.drill = drill
        self.runbook = runbook
        self.exit_after = exit_after
        self.unclear: dict[str, str] = {}  # step id -> what was unclear, until its tick
        self.finished = False
        self._finishing = False  # the drill's end is being saved
        self.current_id = drill.incident_id
        self.replay: Replay | None = None  # a replay of a real incident: what comes next
        self._age_shown = ""
        self._banner_shown: Text | None = None

    @property
    def incident_id(self) -> str:
        return self.drill.incident_id

    def compose(self) -> ComposeResult:
        store = self.cockpit.store
        if store is not None:
            self.replay = replay_of(store, self.drill)
        yield Static(self.banner(), id="practice-banner")
        yield from super().compose()

    def _lines_of(self, text: str, width: int) -> int:
        return len(Text(text).wrap(self.app.console, width))

    def banner(self, width: int = 0) -> Text:
        """The banner, fit to its ``BANNER_LINES``: the safety line first, the runbook's
        title only when it fits beside it, the symptoms whole or cut after a sentence or a
        clause (the whole scenario is in the timeline)."""
        width = width or max(20, self.app.size.width - 2)
        scenario = self.drill.scenario or {}
        extra = f"drill #{self.drill.id}"
        detail = f": {safe_line(self.runbook.title)}"
        difficulty = safe_line(str(scenario["difficulty"])) if scenario.get("difficulty") else ""
        tail = f" ({difficulty})" if difficulty else ""
        progress = f" {self._replay_progress()}" if self.replay is not None else ""
        # The longest that fits on the safety line's own line, else the shortest.
        heads = [f"{extra}{detail}{tail}{progress}", f"{extra}{tail}{progress}"]
        if self.replay is not None:
            heads.append(f"×{self.replay.speed:g}{self._replay_progress(short=True)}")
        head = next(
            (f" {BANNER}   {h}" for h in heads if self._lines_of(f" {BANNER}   {h}", width) == 1),
            f" {BANNER}   {heads[-1]}",
        )
        text = Text(f" {BANNER} ", "bold")
        text.append(head[len(BANNER) + 2 :])
        used = self._lines_of(head, width)
        unclear = ""
        if self.unclear:
            unclear = fit(
                "marked unclear: "
                + "; ".join(safe_line(self._item_name(item_id)) for item_id in self.unclear),
                width,
                1,
                self._lines_of,
            )
            used += 1
        symptoms = [safe_line(str(s)) for s in scenario.get("symptoms", [])][:3]
        if symptoms:
            shown = fit(
                "symptoms: " + " · ".join(symptoms), width, BANNER_LINES - used, self._lines_of
            )
            if shown:
                text.append("\n" + shown)
        if unclear:
            text.append("\n" + unclear)
        return text

    def _item_name(self, item_id: str) -> str:
        step = self.runbook.step(item_id)
        if step is not None:
            return plain(step.text) or item_id
        decision = self.runbook.decision(item_id)
        return decision.question if decision is not None else item_id

    def _replay_progress(self, *, short: bool = False) -> str:
        replay = self.replay
        if replay is None:
            return ""
        upcoming = replay.next_due()
        if upcoming is None:
            return (
                f" · all {len(replay.events)} in"
                if short
                else f"· all {len(replay.events)} events arrived"
            )
        wait = format_seconds(max(0.0, (upcoming - self.now).total_seconds()))
        if short:
            return f" · {replay.delivered}/{len(replay.events)}, next {wait}"
        return f"· {replay.delivered}/{len(replay.events)} arrived, next in {wait}"

    def _show_banner(self) -> None:
        text = self.banner(self.query_one("#practice-banner", Static).size.width or 0)
        if self._banner_shown is None or text.plain != self._banner_shown.plain:
            self._banner_shown = text
            self.query_one("#practice-banner", Static).update(text)

    def on_resize(self) -> None:
        self.call_after_refresh(self._show_banner)

    def on_mount(self) -> None:
        self.set_class(True, "-practice")
        super().on_mount()
        self.call_after_refresh(self._show_banner)

    def tick_clock(self) -> None:
        """Also: deliver what the replay has due, and keep the incident's age moving (the
        cockpit redraws the panel on a reload only, so a drill's age stayed at its start)."""
        super().tick_clock()
        now = self.now
        live = self.replay is not None and not self.finished  # the debrief ends the replay
        arrived = self.replay.advance(now) if self.replay is not None and live else []
        if arrived:
            self._show_incident()
            for event in [e for e in arrived if e.kind in ("note", "alert")][:3]:
                what = "Note" if event.kind == "note" else "Alert"
                who = f" from {safe_line(event.actor)}" if event.actor else ""
                self.notify(
                    f"{safe_line(event.summary)[:160]}",
                    title=f"{what}{who} (then +{format_seconds(event.offset)})",
                    timeout=8,
                )
        view = self.incident_view
        shown = age(view.incident.created_at, now) if view is not None else ""
        if shown != self._age_shown and view is not None and not arrived:
            self.query_one(IncidentPanel).show(view, now)
        self._age_shown = shown
        if live:
            self._show_banner()

    def _library(self) -> list[Runbook]:
        library = super()._library()
        if all(r.id != self.runbook.id for r in library):
            library.append(self.runbook)  # a runbook file drilled from outside the library
        return library

    def reload(self, *, follow: bool = False) -> None:
        self.current_id = self.incident_id
        super().reload(follow=follow)

    # The drill stays on its incident: a live incident is never one key away in practice.
    def _stay(self) -> None:
        self.notify(
            "Practice mode stays on the drill incident: end the drill (E) first.",
            severity="warning",
        )

    def _step_incident(self, delta: int) -> None:
        self._stay()

    def action_focus_incidents(self) -> None:
        self._stay()

    def go_to_incident(self, incident_id: str) -> None:
        if incident_id != self.incident_id:
            self._stay()

    # ------------------------------------------------------------------ timing hooks

    def _transition(
        self,
        runbook: Runbook,
        ref: IncidentRef,
        kind: str,
        *,
        then: Callable[[bool], None] | None = None,
        **kwargs: Any,
    ) -> None:
        step_id = kwargs.get("step_id", "")
        why = self.unclear.pop(step_id, None) if kind in TICKS else None
        if why is not None:
            kwargs["details"] = {**(kwargs.get("details") or {}), "unclear": True}
            kwargs["reason"] = f"unclear: {why}" if why else "unclear"

        def landed(done: bool) -> None:
            if not done and why is not None:
                self.unclear[step_id] = why
            self._show_banner()
            if done and not self.finished and not self.runs.open_runbook_id(self.incident_id):
                self.call_after_refresh(self.finish)
            if then is not None:
                then(done)

        super()._transition(runbook, ref, kind, then=landed, **kwargs)

    def on_runbook_checklist_requested(self, event: RunbookChecklist.Requested) -> None:
        """``x`` is refused here, before the cockpit asks for the command's parameters."""
        if event.action == "run" and not self._may_execute():
            event.stop()
            event.prevent_default()  # the cockpit's own handler (parameters first) never runs
            self.notify(REFUSED, title="Practice mode", severity="warning")

    def _use_command(
        self, how: str, runbook: Runbook, ref: IncidentRef, step_id: str, command: str
    ) -> None:
        if how != "copy" and not self._may_execute():
            self.notify(REFUSED, title="Practice mode", severity="warning")
            return
        super()._use_command(how, runbook, ref, step_id, command)

    def _may_execute(self) -> bool:
        from cockpit.store.runs import open_run

        store = self.cockpit.store
        assert store is not None
        with store.read() as session:
            return may_execute(
                open_run(session, self.incident_id), session.get(Incident, self.incident_id)
            )

    # ------------------------------------------------------------------ actions

    def action_unclear(self) -> None:
        from cockpit.screens.input_dialog import InputDialog

        checklist = self.query_one(RunbookChecklist)
        view = checklist.view
        if view is None:
            return
        item_id = checklist.highlighted or view.current
        item = view.item(item_id)
        if item is None:
            self.notify("Highlight a step first (↑↓).", severity="warning")
            return
        if item_id in view.status:
            self.notify(
                "Already ticked: undo it (u), mark it unclear, then tick it again.",
                severity="warning",
            )
            return
        name = (
            item.step.text if item.step else (item.decision.question if item.decision else item_id)
        )
        body = Text("What was unclear in:\n")
        body.append(safe_line(name), "bold")
        body.append("\n(optional; enter to mark it)", "dim")

        def done(value: str | None) -> None:
            if value is not None:
                self.unclear[item_id] = value.strip()
                self._show_banner()
                self.notify("Marked unclear: recorded with the step's tick.", timeout=4)

        self.app.push_screen(InputDialog("Unclear step", body), done)

    def action_end_drill(self) -> None:
        from cockpit.screens.confirm import ConfirmDialog

        body = Text("End the drill now and open the debrief?\n")
        body.append(
            "Steps not ticked yet are listed as not reached (no edit is suggested for them).", "dim"
        )

        def done(yes: bool | None) -> None:
            if yes:
                self.finish()

        self.app.push_screen(ConfirmDialog("End drill", body, "End"), done)

    def finish(self) -> None:
        """Close the run and the made-up incident, store the report, open the debrief."""
        if self._finishing:
            self.notify("Still saving the end of the drill: a moment.", severity="warning")
            return  # the last tick and E can both ask while the first is being saved
        if self.finished:
            return
        store = self.cockpit.store
        assert store is not None and self.drill.id is not None
        drill_id, runbook, clock = self.drill.id, self.runbook, self.cockpit.clock

        def write() -> Drill:
            return finish_drill(store, drill_id, runbook, clock=clock)

        def landed(drill: Drill | None, error: Exception | None) -> None:
            self._finishing = False
            if drill is None:
                self.notify(f"{error}", title="Debrief", severity="error")
                return
            self._debrief(drill)

        self._finishing = True
        if not self.writes.run(write, landed):
            self.notify("Saving… (a sync is writing to the store)", timeout=2)

    def _debrief(self, drill: Drill) -> None:
        from cockpit.screens.debrief_screen import DebriefScreen

        store = self.cockpit.store
        assert store is not None
        try:
            analysis = analyse_drill(store, drill, self.runbook)
            who = participant_name(store, drill)
        except CockpitError as error:
            self.notify(str(error), title="Debrief", severity="error")
            return
        if self.finished:
            return
        self.finished = True
        self.drill = drill

        def leave(_: None) -> None:
            if self.exit_after:
                self.app.exit()
            else:
                self.dismiss(None)

        self.app.push_screen(
            DebriefScreen(
                drill, analysis, self.runbook.title, participant=who, runbook=self.runbook
            ),
            leave,
        )


class DrillChoice(ChoiceDialog):
    """The drill picker: "Replay a past incident" on top, the runbooks under it; the first
    runbook is highlighted, so enter still starts the usual drill."""

    def __init__(
        self, title: Text, body: Text, choices: list[tuple[str, Text]], highlight: int = 0
    ) -> None:
        super().__init__(title, body, choices)
        self.first_highlight = highlight

    def on_mount(self) -> None:
        # The dialog's own on_mount (run after this one) highlights the first entry.
        self.call_after_refresh(self._highlight)

    def _highlight(self) -> None:
        from textual.widgets import OptionList

        self.query_one(OptionList).highlighted = min(self.first_highlight, len(self.choices) - 1)


def start_drill_flow(app: HostApp) -> None:
    """From a key or the palette: pick a runbook (never or long-ago drilled first), start a
    drill on a made-up incident from its trigger, and open practice mode; or replay a past
    incident (the entry on top)."""
    from textual.screen import ModalScreen

    store = store_or_say(app, "A drill")
    if store is None:
        return
    if isinstance(app.screen, DrillScreen | ModalScreen):
        return
    try:
        library = [r for r in app.library if r.steps]
    except CockpitError as error:
        app.notify(str(error), title="Runbooks", severity="error")
        return
    if not library:
        app.notify(
            "No runbooks to drill: put Markdown runbooks in your runbooks folder.",
            severity="warning",
        )
        return
    last = last_drilled(store)
    now = app.clock()
    library.sort(key=lambda r: (r.id in last, last.get(r.id) or now, r.title))
    replay = Text("⟲ Replay a past incident", "bold")
    replay.append("  its alerts, status changes and notes as they came", "dim")
    choices = [(REPLAY, replay)]
    for runbook in library:
        label = Text(safe_line(runbook.title), "bold")
        when = last.get(runbook.id)
        label.append(
            "  never drilled" if when is None else f"  last drilled {(now - when).days} days ago",
            "yellow" if when is None or (now - when).days > 90 else "dim",
        )
        choices.append((runbook.id, label))
    by_id = {r.id: r for r in library}

    def chosen(runbook_id: str | None) -> None:
        if runbook_id == REPLAY:
            start_replay_flow(app)
        elif runbook_id:
            open_drill(app, by_id[runbook_id])

    app.push_screen(
        DrillChoice(
            Text("Start a drill", "bold"),
            Text(
                "A made-up incident from the runbook's trigger, in practice mode: nothing is sent, "
                "no command runs, every step is timed. Or, on top: replay a real incident.",
                "dim",
            ),
            choices,
            highlight=1,
        ),
        chosen,
    )


def open_drill(app: HostApp, runbook: Runbook, scenario: Any = None) -> DrillScreen | None:
    from cockpit.drills import scenario_from_runbook, start_drill
    from cockpit.view_model import me_of

    store = store_or_say(app, "A drill")
    if store is None:
        return None
    me = me_of(store, getattr(app.settings, "user", "") or "")
    try:
        drill = start_drill(
            store,
            runbook,
            scenario or scenario_from_runbook(runbook),
            participant=me.id,
            clock=app.clock,
        )
    except CockpitError as error:
        app.notify(str(error), title="Drill", severity="error")
        return None
    screen = DrillScreen(drill, runbook)
    app.push_screen(screen)
    return screen


# ---------------------------------------------------------------------- replay


def _when(at: datetime, now: datetime) -> str:
    days = (now - at).days
    return "today" if days <= 0 else ("yesterday" if days == 1 else f"{days} days ago")


def start_replay_flow(app: HostApp) -> None:
    """Pick a past incident, then its runbook (the one that ran then or matches it, first),
    then the speed; the drill opens on the replay."""
    from cockpit.drills.replay import load_history, past_incidents

    store = store_or_say(app, "A replay")
    if store is None:
        return
    incidents = past_incidents(store)
    if not incidents:
        app.notify(
            "No resolved incident in the local store to replay: sync first.", severity="warning"
        )
        return
    now = app.clock()
    choices = []
    for incident in incidents:
        label = Text(
            f"#{incident.number} "
            if incident.number is not None
            else f"{safe_line(incident.remote_id)} ",
            "bold",
        )
        title = safe_line(incident.title)
        label.append(title if len(title) <= 50 else title[:49] + "…")
        took = (
            (incident.resolved_at - incident.created_at).total_seconds()
            if incident.resolved_at
            else None
        )
        label.append(
            f"  {_when(incident.created_at, now)}"
            + (f" · took {format_seconds(took)}" if took is not None else ""),
            "dim",
        )
        choices.append((incident.id, label))

    def chosen(incident_id: str | None) -> None:
        if not incident_id:
            return
        try:
            history = load_history(store, incident_id)
        except CockpitError as error:
            app.notify(str(error), title="Replay", severity="error")
            return
        _pick_replay_runbook(app, history)

    app.push_screen(
        ChoiceDialog(
            Text("Replay a past incident", "bold"),
            Text(
                "Its alerts, status changes and notes arrive as they did (faster if you like) "
                "while you run its runbook in practice mode; the debrief compares you with then.",
                "dim",
            ),
            choices,
        ),
        chosen,
    )


def _pick_replay_runbook(app: HostApp, history: Any) -> None:
    from cockpit.runbooks.match import match_runbooks

    try:
        library = [r for r in app.library if r.steps]
    except CockpitError as error:
        app.notify(str(error), title="Runbooks", severity="error")
        return
    first: list[tuple[Runbook, str]] = []
    ran = next((r for r in library if r.id == history.runbook_id), None)
    if ran is not None:
        first.append((ran, "ran then"))
    first += [
        (m.runbook, "matches")
        for m in match_runbooks(library, history.facts)
        if m.runbook is not ran
    ]
    seen = {r.id for r, _ in first}
    ordered = first + [(r, "") for r in sorted(library, key=lambda r: r.title) if r.id not in seen]
    choices = []
    for runbook, why in ordered:
        label = Text(safe_line(runbook.title), "bold")
        if why:
            label.append(f"  {why}", "green")
        choices.append((runbook.id, label))
    by_id = {r.id: r for r in library}
    body = Text(f"For {history.label} ", "dim")
    body.append(safe_line(history.title)[:80])
    body.append("" if first else "\nNo runbook matches it: pick the one to practise.", "yellow")

    def chosen(runbook_id: str | None) -> None:
        if runbook_id:
            _pick_replay_speed(app, history, by_id[runbook_id])

    app.push_screen(ChoiceDialog(Text("Which runbook?", "bold"), body, choices), chosen)


def _pick_replay_speed(app: HostApp, history: Any, runbook: Runbook) -> None:
    from cockpit.drills.replay import SPEEDS

    events = history.events
    span = max((e.offset for e in events), default=0.0)
    choices = []
    for speed in SPEEDS:
        label = Text(f"×{speed:g}", "bold")
        label.append("  as it happened" if speed == 1 else f"  {speed:g} times faster", "")
        label.append(f"  ({format_seconds(span / speed)} for all of it)", "dim")
        choices.append((f"{speed:g}", label))

    def chosen(value: str | None) -> None:
        if value:
            open_replay(app, history, runbook, float(value))

    app.push_screen(
        ChoiceDialog(
            Text("Replay speed", "bold"),
            Text(
                "The debrief compares you with then on the incident's clock: at ×10, 30 seconds "
                "here are 5 minutes then (and a 5-minute wait counts as waited out).",
                "dim",
            ),
            choices,
        ),
        chosen,
    )


def open_replay(app: HostApp, history: Any, runbook: Runbook, speed: float) -> DrillScreen | None:
    from cockpit.drills.replay import start_replay
    from cockpit.view_model import me_of

    store = store_or_say(app, "A replay")
    if store is None:
        return None
    me = me_of(store, getattr(app.settings, "user", "") or "")
    try:
        drill = start_replay(
            store, history, runbook, speed=speed, participant=me.id, clock=app.clock
        )
    except CockpitError as error:
        app.notify(str(error), title="Replay", severity="error")
        return None
    screen = DrillScreen(drill, runbook)
    app.push_screen(screen)
    return screen
