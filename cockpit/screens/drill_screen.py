"""Practice mode: the cockpit on a drill's made-up incident, timed, then debriefed.

The screen is the cockpit itself (same keys, same checklist) pinned to the drill incident,
under a banner that never goes away. Safety does not rest on this screen: drill incidents
never reach the outbox (``cockpit.sync.actions``), ``cockpit drill`` runs the app with a
:class:`~cockpit.drills.PracticeProvider` that refuses every write, and a command runs only
when :func:`~cockpit.drills.may_execute` says so, which it never does in a drill. The run
service times every tick and decision; ``U`` marks a step unclear (the flag is recorded
with the step's tick as ``details["unclear"]``); when the run finishes, or on ``E``, the
drill is finished and the debrief opens.

| Key | Action |
| :- | :- |
| U | Mark the highlighted step unclear (asks what was unclear) |
| E | End the drill now and open the debrief |
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from cockpit.drills import may_execute
from cockpit.drills.service import analyse_drill, finish_drill, last_drilled
from cockpit.errors import CockpitError
from cockpit.runbooks.model import Runbook
from cockpit.screens.cockpit_screen import CockpitScreen
from cockpit.screens.view_model import IncidentRef
from cockpit.store.models import Drill, Incident
from cockpit.text import safe_line
from cockpit.widgets.runbook_checklist import RunbookChecklist

BANNER = "PRACTICE MODE — nothing is sent, no command runs"
TICKS = ("done", "skipped", "failed", "decided")


class DrillScreen(CockpitScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("U", "unclear", "Unclear", tooltip="Mark the highlighted step unclear (asks "
                "what); recorded with its tick for the debrief", id="drill.unclear"),
        Binding("E", "end_drill", "End drill", tooltip="End the drill now and open the "
                "debrief (unticked steps count as not reached)", id="drill.end"),
    ]

    def __init__(self, drill: Drill, runbook: Runbook, *, exit_after: bool = False) -> None:
        super().__init__()
        self.drill = drill
        self.runbook = runbook
        self.exit_after = exit_after
        self.unclear: dict[str, str] = {}  # step id -> what was unclear, until its tick
        self.finished = False
        self.current_id = drill.incident_id

    @property
    def incident_id(self) -> str:
        return self.drill.incident_id

    def compose(self) -> ComposeResult:
        yield Static(self.banner(), id="practice-banner")
        yield from super().compose()

    def banner(self) -> Text:
        scenario = self.drill.scenario or {}
        text = Text(f" {BANNER} ", "bold")
        text.append(f"  drill #{self.drill.id}: {safe_line(self.runbook.title)}")
        if scenario.get("difficulty"):
            text.append(f" ({safe_line(str(scenario['difficulty']))})")
        symptoms = [safe_line(str(s)) for s in scenario.get("symptoms", [])][:3]
        if symptoms:
            text.append("\nsymptoms: " + " · ".join(symptoms))
        if self.unclear:
            text.append("\nmarked unclear (recorded with its tick): "
                        + ", ".join(safe_line(s) for s in self.unclear))
        return text

    def on_mount(self) -> None:
        self.set_class(True, "-practice")
        super().on_mount()

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
        self.notify("Practice mode stays on the drill incident: end the drill (E) first.",
                    severity="warning")

    def _step_incident(self, delta: int) -> None:
        self._stay()

    def action_focus_incidents(self) -> None:
        self._stay()

    def go_to_incident(self, incident_id: str) -> None:
        if incident_id != self.incident_id:
            self._stay()

    # ------------------------------------------------------------------ timing hooks

    def _transition(self, runbook: Runbook, ref: IncidentRef, kind: str, **kwargs: Any) -> bool:
        step_id = kwargs.get("step_id", "")
        why = self.unclear.pop(step_id, None) if kind in TICKS else None
        if why is not None:
            kwargs["details"] = {**(kwargs.get("details") or {}), "unclear": True}
            kwargs["reason"] = f"unclear: {why}" if why else "unclear"
        done = super()._transition(runbook, ref, kind, **kwargs)
        if not done and why is not None:
            self.unclear[step_id] = why
        self.query_one("#practice-banner", Static).update(self.banner())
        if done and not self.finished and not self.runs.open_runbook_id(self.incident_id):
            self.call_after_refresh(self.finish)
        return done

    def _use_command(self, how: str, runbook: Runbook, ref: IncidentRef, step_id: str,
                     command: str) -> None:
        if how != "copy" and not self._may_execute():
            self.notify("Commands never run in a drill: copy it (c) and read it instead.",
                        title="Practice mode", severity="warning")
            return
        super()._use_command(how, runbook, ref, step_id, command)

    def _may_execute(self) -> bool:
        from cockpit.store.runs import open_run

        store = self.cockpit.store
        assert store is not None
        with store.read() as session:
            return may_execute(open_run(session, self.incident_id),
                               session.get(Incident, self.incident_id))

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
            self.notify("Already ticked: undo it (u), mark it unclear, then tick it again.",
                        severity="warning")
            return
        name = item.step.text if item.step else (item.decision.question if item.decision
                                                  else item_id)
        body = Text("What was unclear in:\n")
        body.append(safe_line(name), "bold")
        body.append("\n(optional; enter to mark it)", "dim")

        def done(value: str | None) -> None:
            if value is not None:
                self.unclear[item_id] = value.strip()
                self.query_one("#practice-banner", Static).update(self.banner())
                self.notify("Marked unclear: recorded with the step's tick.", timeout=4)

        self.app.push_screen(InputDialog("Unclear step", body), done)

    def action_end_drill(self) -> None:
        from cockpit.screens.confirm import ConfirmDialog

        body = Text("End the drill now and open the debrief?\n")
        body.append("Steps not ticked yet count as not reached.", "dim")

        def done(yes: bool | None) -> None:
            if yes:
                self.finish()

        self.app.push_screen(ConfirmDialog("End drill", body, "End"), done)

    def finish(self) -> None:
        """Close the run and the made-up incident, store the report, open the debrief."""
        from cockpit.screens.debrief_screen import DebriefScreen

        if self.finished:
            return
        store = self.cockpit.store
        assert store is not None and self.drill.id is not None
        try:
            drill = finish_drill(store, self.drill.id, self.runbook, clock=self.cockpit.clock)
            analysis = analyse_drill(store, drill, self.runbook)
        except CockpitError as error:
            self.notify(str(error), title="Debrief", severity="error")
            return
        self.finished = True
        self.drill = drill

        def leave(_: None) -> None:
            if self.exit_after:
                self.app.exit()
            else:
                self.dismiss(None)

        self.app.push_screen(DebriefScreen(drill, analysis, self.runbook.title), leave)


def start_drill_flow(app: Any) -> None:
    """From a key or the palette: pick a runbook (never or long-ago drilled first), start a
    drill on a made-up incident from its trigger, and open practice mode."""
    from textual.screen import ModalScreen

    from cockpit.screens.choice_dialog import ChoiceDialog

    store = app.store
    if store is None:
        app.notify("No local store yet: connect a paging service first.", severity="warning")
        return
    if isinstance(app.screen, DrillScreen | ModalScreen):
        return
    try:
        library = [r for r in app.library if r.steps]
    except CockpitError as error:
        app.notify(str(error), title="Runbooks", severity="error")
        return
    if not library:
        app.notify("No runbooks to drill: put Markdown runbooks in your runbooks folder.",
                   severity="warning")
        return
    last = last_drilled(store)
    now = app.clock()
    library.sort(key=lambda r: (r.id in last, last.get(r.id) or now, r.title))
    choices = []
    for runbook in library:
        label = Text(safe_line(runbook.title), "bold")
        when = last.get(runbook.id)
        label.append("  never drilled" if when is None
                     else f"  last drilled {(now - when).days} days ago",
                     "yellow" if when is None or (now - when).days > 90 else "dim")
        choices.append((runbook.id, label))
    by_id = {r.id: r for r in library}

    def chosen(runbook_id: str | None) -> None:
        if runbook_id:
            open_drill(app, by_id[runbook_id])

    app.push_screen(ChoiceDialog(Text("Start a drill", "bold"), Text(
        "A made-up incident from the runbook's trigger, in practice mode: nothing is sent, "
        "no command runs, every step is timed.", "dim"), choices), chosen)


def open_drill(app: Any, runbook: Runbook, scenario: Any = None) -> DrillScreen | None:
    from cockpit.drills import scenario_from_runbook, start_drill
    from cockpit.screens.view_model import me_of

    store = app.store
    me = me_of(store, getattr(app.settings, "user", "") or "")
    try:
        drill = start_drill(store, runbook, scenario or scenario_from_runbook(runbook),
                            participant=me.id, clock=app.clock)
    except CockpitError as error:
        app.notify(str(error), title="Drill", severity="error")
        return None
    screen = DrillScreen(drill, runbook)
    app.push_screen(screen)
    return screen
