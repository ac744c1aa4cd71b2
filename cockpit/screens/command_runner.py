"""Copying and running a step's command.

Running is never silent: the dialog shows the exact command with its parameters filled in,
the incident it is for, and the timeout; it runs in a thread worker (the UI keeps drawing),
and its exit code and the tail of its output go to the incident's timeline. Never in a drill:
``cockpit.drills.may_execute`` is asked before the dialog and again right before running.

Parameter values are the incident's own: the checklist's values are an
:class:`~cockpit.runbooks.params.IncidentParams` (installed when the screen mounts), so a
value typed on one incident is neither shown nor used on another. Each value is put in
shell-quoted (``cockpit.runbooks.params.fill_params``): what is shown, copied, run and kept in
the timeline is one and the same command.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work

from cockpit.screens.messages import CommandFinished
from cockpit.text import safe, safe_line

if TYPE_CHECKING:
    from cockpit.runbooks.model import Runbook
    from cockpit.runbooks.run_view import RunView
    from cockpit.store.run_service import RunService
    from cockpit.sync.identity import Me
    from cockpit.view_model import IncidentRef, IncidentView


if TYPE_CHECKING:
    from textual.notifications import SeverityLevel
    from textual.screen import Screen

    from cockpit.screens.host import HostApp
    from cockpit.screens.store_writes import StoreWrites

    class _Screen(Screen[None]):
        """What the mixin needs of the cockpit screen it is mixed into, for the checker."""

        runs: RunService
        me: Me
        incident_view: IncidentView | None

        @property
        def writes(self) -> StoreWrites: ...

        @property
        def cockpit(self) -> HostApp: ...
        def show_runbook(self, *, follow: bool = False) -> None: ...
        def refresh_timeline(self) -> None: ...

else:
    _Screen = object


class CommandRunner(_Screen):
    """Copies and runs a step's command; mixed into the cockpit screen."""

    def on_mount(self) -> None:
        """Keep parameter values per incident. Textual runs the ``on_mount`` of every class
        of the screen's MRO, so this runs after the screen's own (which draws the first
        checklist: with no value typed yet, there is nothing to keep)."""
        from cockpit.runbooks.params import IncidentParams
        from cockpit.widgets.runbook_checklist import RunbookChecklist

        checklist = self.query_one(RunbookChecklist)
        if not isinstance(checklist.params, IncidentParams):
            checklist.params = IncidentParams(self._incident_on_screen)

    def _incident_on_screen(self) -> str | None:
        view = getattr(self, "incident_view", None)
        return view.ref.id if view is not None else None

    def allowed_to_run(self, run: RunView | None, ref: IncidentRef) -> bool:
        from cockpit.drills.start import may_execute
        from cockpit.store.models import Incident, RunbookRun

        store = self.cockpit.store
        if store is None:
            return False  # no store, no incident to run it for
        with store.read() as session:
            incident = session.get(Incident, ref.id)
        row = (
            run.run
            if run is not None and run.run is not None
            else RunbookRun(
                incident_id=ref.id, runbook_id=run.runbook.id if run else "", is_drill=ref.is_drill
            )
        )
        return may_execute(row, incident)

    def _use_command(
        self, how: str, runbook: Runbook, ref: IncidentRef, step_id: str, command: str
    ) -> None:
        """Copy (``how == "copy"``) or, after asking, run ``command`` (parameters filled)."""
        from cockpit.runbooks.shell import COMMAND_TIMEOUT
        from cockpit.screens.confirm import ConfirmDialog, incident_line
        from cockpit.widgets.runbook_checklist import RunbookChecklist

        checklist = self.query_one(RunbookChecklist)
        run = checklist.view
        if run is None or run.runbook.id != runbook.id:
            return
        if self._incident_on_screen() != ref.id:
            # The list moved while a parameter was asked: its values are another incident's.
            self.notify(
                "Another incident is on screen now: nothing was copied or run.",
                severity="warning",
            )
            return
        now = self.cockpit.clock()
        if how == "copy":
            self.app.copy_to_clipboard(command)
            self.notify(f"Copied: {safe_line(command)[:80]}", timeout=4)
            checklist.redraw(now)
            return
        if not self.allowed_to_run(run, ref):
            self.notify(
                "Commands never run in a drill: copy it (c) and read it instead.",
                title="Practice mode",
                severity="warning",
            )
            return
        checklist.redraw(now)
        body = Text("Run this command on this machine now?\n\n")
        body.append(safe(command), "bold green")
        body.append("\n\nfor ")
        body.append_text(incident_line(ref))
        body.append(
            f"\nin {safe_line(os.getcwd())}, timeout {COMMAND_TIMEOUT} s; "
            "its exit code and output go to the timeline."
        )

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.notify(f"Running: {safe_line(command)[:60]}", timeout=3)
                self.run_command(run, ref, step_id, command)

        self.app.push_screen(ConfirmDialog("Run command", body, "Run", risky=True), confirmed)

    @work(thread=True, exit_on_error=False, group="command", description="runbook command")
    def run_command(self, run: RunView, ref: IncidentRef, step_id: str, command: str) -> None:
        from cockpit.runbooks.shell import execute

        if not self.allowed_to_run(run, ref):  # asked again: the incident may be a drill now
            return
        code, output = execute(command)
        self.post_message(
            CommandFinished(
                ref.id, step_id, code, output, command=command, runbook_id=run.runbook.id
            )
        )

    def on_command_finished(self, message: CommandFinished) -> None:
        from cockpit.runbooks.shell import record

        runbook = next((r for r in self.cockpit.library if r.id == message.runbook_id), None)
        settings = self.cockpit.settings
        kept = record(
            message.command,
            message.exit_code,
            message.output,
            (settings.pagerduty_token or "", settings.alertmanager_token or ""),
        )
        code = "-" if message.exit_code is None else message.exit_code
        severity: SeverityLevel = "information" if message.exit_code == 0 else "warning"

        def landed(_: object, error: Exception | None) -> None:
            if error is not None:
                self.notify(f"{error}; the output was not kept.", severity="error")
                return
            self.notify(
                f"Command finished (exit {code}); its output is in the timeline.",
                severity=severity,
            )
            self.refresh_timeline()
            self.show_runbook()

        if runbook is None:
            landed(None, None)
            return

        def write() -> object:
            return self.runs.apply(
                message.incident_id,
                runbook,
                "command_run",
                step_id=message.step_id,
                actor=self.me.id,
                summary=kept.summary,
                details=kept.details,
            )

        # Like a tick: never waiting on the event loop for a sync's write lock.
        self.writes.run(write, landed)
