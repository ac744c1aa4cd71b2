"""The cockpit screen's runbook side: which runbook, and every checklist transition.

A mixin of :class:`CockpitScreen`, kept apart so that each module holds one idea. Every
transition goes through :class:`RunService` (one write transaction with its timeline line).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, assert_never

from rich.text import Text

from cockpit.durations import compact
from cockpit.errors import CockpitError
from cockpit.runbook_choice import LibraryWatch, choose, facts_of
from cockpit.runbooks.library import default_runbook_dirs
from cockpit.runbooks.match import RunbookMatch, match_runbooks
from cockpit.runbooks.model import Runbook
from cockpit.runbooks.run_view import ChecklistKey, Item, RunView
from cockpit.screens.host import host_of
from cockpit.store.run_service import RunService
from cockpit.text import safe, safe_line
from cockpit.view_model import IncidentRef, IncidentView
from cockpit.widgets.runbook_checklist import RunbookChecklist, fill

if TYPE_CHECKING:
    from datetime import datetime

    from textual.screen import Screen

    from cockpit.presenter.checklist import (
        AskReason,
        ConfirmEarlyTick,
        ConfirmRisky,
        Move,
        UseCommand,
    )
    from cockpit.presenter.incident_acts import Act
    from cockpit.screens.host import HostApp
    from cockpit.screens.store_writes import StoreWrites
    from cockpit.sync.identity import Me

    class _Screen(Screen[None]):
        """What the mixin needs of the cockpit screen it is mixed into, for the checker."""

        current_id: str | None

        @property
        def now(self) -> datetime: ...
        def _show_incident(self, *, follow: bool = False) -> None: ...
        def offer_links(self, urls: list[str], none_message: str) -> None: ...
        def allowed_to_run(self, run: RunView | None, ref: IncidentRef) -> bool: ...
        def _use_command(
            self, how: str, runbook: Runbook, ref: IncidentRef, step_id: str, command: str
        ) -> None: ...
        def act(self, act: Act | None) -> None: ...
        def captured(self) -> IncidentRef | None: ...
        def refresh_timeline(self) -> None: ...

else:
    _Screen = object


# The item_id of a checklist key replayed after a save: the step highlighted by then.
AT_HIGHLIGHT = "\x00highlighted"
_SAVING = " · saving…"  # the checklist's border while a transition waits for the store


class RunbookActions(_Screen):
    """Needs from the screen: cockpit, runs, me, now, incident_view, notify, query_one, act."""

    runs: RunService
    me: Me
    incident_view: IncidentView | None
    _runbook_choice: dict[str, str]

    @property
    def cockpit(self) -> HostApp:
        return host_of(self)

    def _library(self) -> list[Runbook]:
        """The library, read again when one of its files or folders changed since it was
        read (so a runbook changed mid-run is seen, and the run records what changed)."""
        try:
            watch: LibraryWatch | None = getattr(self, "_library_watch", None)
            if watch is None:
                watch = self._library_watch = LibraryWatch()
            roots = default_runbook_dirs(self.cockpit.settings)
            if watch.changed(self.cockpit.library, roots):
                self.cockpit.reload_library()
                watch.changed(self.cockpit.library, roots)
            return list(self.cockpit.library)
        except CockpitError as error:
            self.notify(str(error), title="Runbooks", severity="error")
            return []

    def choose_runbook(self, view: IncidentView) -> tuple[Runbook | None, str, list[RunbookMatch]]:
        """(runbook, why, matches): the open run's runbook, the user's pick, else the best match."""
        return choose(
            self._library(),
            view,
            self.runs.open_runbook_id(view.incident.id),
            self._runbook_choice.get(view.incident.id),
        )

    def show_runbook(self, *, follow: bool = False) -> None:
        checklist = self.query_one(RunbookChecklist)
        view = self.incident_view
        # Which incident the runbook is for stays in sight when a narrow screen scrolls the
        # incident's own lines away.
        checklist.border_title = f"Runbook · {safe_line(view.ref.label)}" if view else "Runbook"
        if view is None:
            checklist.show_empty(Text("No incident selected.", "dim"))
            return
        runbook, why, _ = self.choose_runbook(view)
        if runbook is None:
            checklist.show_empty(
                Text(
                    "No runbook matches this incident. Press p to pick one from the library.",
                    "yellow",
                )
            )
            return
        try:
            run = self.runs.load(view.incident.id, runbook)
        except CockpitError as error:
            self.notify(str(error), title="Runbook run", severity="error")
            return
        checklist.show(run, why, self.now, follow=follow)

    @property
    def writes(self) -> StoreWrites:
        """The app's writes: at once when the store is free, else queued to a thread."""
        return self.cockpit.writes

    def _transition(
        self,
        runbook: Runbook,
        ref: IncidentRef,
        kind: str,
        *,
        then: Callable[[bool], None] | None = None,
        **kwargs: Any,
    ) -> None:
        """Record a transition; ``then(recorded)`` follows once it is in the store (at once,
        unless a sync's batch holds the store: then the checklist says "saving…" until it
        lands, and the user's next checklist keys wait for it)."""
        runs, actor = self.runs, self.me.id

        def write() -> RunView:
            return runs.apply(ref.id, runbook, kind, actor=actor, is_drill=ref.is_drill, **kwargs)

        def landed(run: RunView | None, error: Exception | None) -> None:
            checklist = self.query_one(RunbookChecklist)
            subtitle = str(checklist.border_subtitle)
            if subtitle.endswith(_SAVING) and not self.writes.queued:
                checklist.border_subtitle = subtitle.removesuffix(_SAVING)
            if run is None:
                self.notify(
                    f"{error}. It was not recorded: do it again.",
                    title="Runbook",
                    severity="error",
                )
            elif self.incident_view is None or self.incident_view.incident.id != ref.id:
                self._show_incident(follow=True)
            else:
                # Only what a transition changes is redrawn: the checklist and the timeline.
                checklist.show(run, checklist.reasons, self.now, follow=True)
                self.refresh_timeline()
            if then is not None:
                then(run is not None)
            self._replay_waiting()

        if not self.writes.run(write, landed):
            checklist = self.query_one(RunbookChecklist)
            if not str(checklist.border_subtitle).endswith(_SAVING):
                checklist.border_subtitle = f"{checklist.border_subtitle}{_SAVING}"

    def _replay_waiting(self) -> None:
        """The checklist keys pressed while a transition was being saved, in order, each on
        the step highlighted when its turn comes (as if pressed after the save)."""
        waiting: list[ChecklistKey] = getattr(self, "_waiting", [])
        if self.writes.queued or not waiting:
            return
        self._waiting: list[ChecklistKey] = []
        checklist = self.query_one(RunbookChecklist)
        for action in waiting:
            checklist.post_message(RunbookChecklist.Requested(checklist, action, AT_HIGHLIGHT))

    def on_runbook_checklist_requested(self, event: RunbookChecklist.Requested) -> None:
        from cockpit.presenter.checklist import PickRunbook, checklist_move

        event.stop()
        ref = self.incident_view.ref if self.incident_view else None
        if ref is None:
            return
        if self.writes.queued:
            # The checklist shows the run as it was before the write being saved: the key
            # waits for it, then acts on what the user will see (nothing is dropped).
            self._waiting = [*getattr(self, "_waiting", []), event.action]
            return
        if event.item_id == AT_HIGHLIGHT:
            event.item_id = event.checklist.highlighted
        run: RunView | None = event.checklist.view
        move = checklist_move(run, event.action, event.item_id, self.now)
        if isinstance(move, PickRunbook):
            self._pick(ref)  # the one move that needs no run
        elif move is not None and run is not None:
            self._perform(move, run, ref, event.checklist)

    def _perform(
        self, move: Move, run: RunView, ref: IncidentRef, checklist: RunbookChecklist
    ) -> None:
        """Do what the presenter decided: record it, or ask the user first, or say why not."""
        from cockpit.presenter.checklist import (
            AskBranch,
            AskReason,
            ConfirmEarlyTick,
            ConfirmRisky,
            OfferLinks,
            PickRunbook,
            Record,
            Refuse,
            UseCommand,
        )

        runbook = run.runbook
        match move:
            case Record():
                self._transition(runbook, ref, move.kind, **move.arguments())
            case Refuse():
                self.notify(move.message, title=move.title, severity="warning")
            case ConfirmEarlyTick():
                self._confirm_early_tick(move, run, ref, checklist)
            case ConfirmRisky():
                self._confirm_risky(move, runbook, ref, checklist)
            case AskReason():
                self._ask_reason(move, runbook, ref)
            case AskBranch():
                self._decide(runbook, ref, move.item)
            case OfferLinks():
                self.offer_links(checklist.step_urls(), "This step has no link.")
            case UseCommand():
                self._command(move, run, ref, checklist)
            case PickRunbook():
                self._pick(ref)
            case _:
                assert_never(move)

    def _command(
        self, move: UseCommand, run: RunView, ref: IncidentRef, checklist: RunbookChecklist
    ) -> None:
        if move.how == "run" and not self.allowed_to_run(run, ref):
            # Refused before any parameter is asked: nothing the user types could make a
            # drill run a command.
            self.notify(
                "Commands never run in a drill: copy it (c) and read it instead.",
                title="Practice mode",
                severity="warning",
            )
            return
        step = move.step
        self._with_params(
            checklist,
            list(step.params),
            lambda values: self._use_command(
                move.how, run.runbook, ref, step.id, fill(step.command or "", values)
            ),
        )

    def _confirm_early_tick(
        self, move: ConfirmEarlyTick, run: RunView, ref: IncidentRef, checklist: RunbookChecklist
    ) -> None:
        # The second space on a timer step would tick it while it still runs: ask first.
        from cockpit.presenter.checklist import tick_move
        from cockpit.screens.confirm import ConfirmDialog, incident_line

        step, left = move.step, move.left
        body = Text("The timer of this step is still running: ")
        body.append(f"{left // 60}:{left % 60:02d} left", "bold")
        body.append(f" of {compact(step.timer_seconds or 0)}.\n")
        body.append(safe_line(step.text)[:160], "bold")
        body.append("\non ")
        body.append_text(incident_line(ref))
        body.append("\nTick it as done now anyway?")

        def confirmed(yes: bool | None) -> None:
            if yes:
                then = tick_move(run, step, self.now, timer_confirmed=True)
                self._perform(then, run, ref, checklist)

        self.app.push_screen(ConfirmDialog("Timer still running", body, "Tick now"), confirmed)

    def _confirm_risky(
        self, move: ConfirmRisky, runbook: Runbook, ref: IncidentRef, checklist: RunbookChecklist
    ) -> None:
        from cockpit.screens.confirm import ConfirmDialog, incident_line

        step = move.step
        body = Text("This step is marked risky:\n")
        body.append(safe_line(step.text), "bold")
        if step.command:
            body.append("\n" + safe(fill(step.command, checklist.params)), "green")
        body.append("\non ")
        body.append_text(incident_line(ref))
        body.append("\nTick it as done?")

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._transition(runbook, ref, move.then.kind, **move.then.arguments())

        self.app.push_screen(ConfirmDialog("Risky step", body, "Done", risky=True), confirmed)

    def _ask_reason(self, move: AskReason, runbook: Runbook, ref: IncidentRef) -> None:
        from cockpit.presenter.checklist import check_reason, with_reason
        from cockpit.screens.confirm import incident_line
        from cockpit.screens.input_dialog import InputDialog

        step = move.step
        if move.kind == "rollback_entered" or step is None:
            title = "Roll back"
            body = Text("Leave the main path and roll back ")
            body.append_text(incident_line(ref))
            body.append(f"\nwith {safe_line(runbook.title)}? Why?")
        else:
            skip = move.kind == "skipped"
            title = "Skip step" if skip else "Step failed"
            body = Text("Skip " if skip else "Mark as failed ")
            body.append(safe_line(step.text)[:160], "bold")
            body.append("\non ")
            body.append_text(incident_line(ref))
            body.append("\nWhy? (kept in the timeline and the drill debrief)")

        def got(reason: str | None) -> None:
            record = with_reason(move, reason)
            if record is not None:
                self._transition(runbook, ref, record.kind, **record.arguments())

        self.app.push_screen(InputDialog(title, body, check=check_reason), got)

    def _with_params(
        self,
        checklist: RunbookChecklist,
        names: list[str],
        then: Callable[[Mapping[str, str]], None],
    ) -> None:
        """Ask each parameter not known yet, then call ``then(values)``."""
        from cockpit.screens.input_dialog import InputDialog, check_not_empty

        missing = [n for n in names if not checklist.params.get(n)]
        if not missing:
            then(checklist.params)
            return
        name = missing[0]

        def got(value: str | None) -> None:
            if value:
                checklist.params[name] = value.strip()
                self._with_params(checklist, names, then)

        self.app.push_screen(
            InputDialog(
                f"Parameter: {name}",
                Text(f"Value of {name} for this command:"),
                check=check_not_empty,
            ),
            got,
        )

    def _decide(self, runbook: Runbook, ref: IncidentRef, item: Item) -> None:
        from cockpit.screens.choice_dialog import ChoiceDialog
        from cockpit.screens.confirm import incident_line

        if item.decision is None:
            return
        choices = []
        for branch in item.decision.branches:
            label = Text(safe_line(branch.label), "bold")
            target = branch.target_section
            where = runbook.sections[target].title if target is not None else "?"
            label.append(
                f"  → {safe_line(where)}", "red" if "rollback" in where.lower() else "green"
            )
            choices.append((branch.label, label))
        title = Text(safe_line(item.decision.question), "bold")

        def chosen(label: str | None) -> None:
            if label:
                self._transition(runbook, ref, "decided", step_id=item.id, branch=label)

        self.app.push_screen(ChoiceDialog(title, incident_line(ref), choices), chosen)

    def _pick(self, ref: IncidentRef) -> None:
        from cockpit.screens.runbook_picker import runbook_picker

        view = self.incident_view
        if view is None:
            return
        if self.runs.open_runbook_id(ref.id):
            self.notify(
                "A run is open on this incident: finish it before picking another.",
                severity="warning",
            )
            return
        library = self._library()
        matches = match_runbooks(library, facts_of(view))

        def chosen(path: str | None) -> None:
            if path:
                self._runbook_choice[ref.id] = path
                self.show_runbook(follow=True)

        self.app.push_screen(runbook_picker(ref, matches, library), chosen)

    def resolve_with_run(self, ref: IncidentRef) -> bool:
        """A resolve while a run is open asks what to do with the run first."""
        from cockpit.presenter.incident_acts import resolve_with_run
        from cockpit.screens.choice_dialog import ChoiceDialog
        from cockpit.screens.confirm import incident_line

        open_id = self.runs.open_runbook_id(ref.id)
        runbook = next((r for r in self._library() if r.id == open_id), None)
        if not open_id or runbook is None:
            return False
        title = Text("Resolve ", "bold")
        title.append_text(incident_line(ref))
        body = Text(f"The run of {safe_line(runbook.title)} is still open.")
        choices = [
            ("finish", Text("Resolve, and close the run as resolved")),
            ("abandon", Text("Resolve, and mark the run abandoned")),
            ("keep", Text("Resolve, and keep the run open to finish later")),
        ]

        def chosen(answer: str | None) -> None:
            record, resolve = resolve_with_run(ref, answer)
            if record is not None:
                # Queued on the same writer as the resolve that follows: they land in order.
                self._transition(runbook, ref, record.kind, **record.arguments())
            self.act(resolve)

        self.app.push_screen(ChoiceDialog(title, body, choices), chosen)
        return True
