"""After a resolve: one insight, a guardrail with an owner, and a runbook draft when needed.

The flywheel's first turn ("every escalation should leave one insight"). It never blocks a
resolve: the incident is already resolved when this opens, and escape skips it. When no
runbook ran or the run went off-script (``cockpit.flywheel.needs_draft``), saving also
drafts a runbook from what was done into the user's runbooks ``drafts/`` (never the shipped
samples: ``cockpit.flywheel.draft.drafts_folder``) and says where.

| Key | Action |
| :- | :- |
| ctrl+s | Save the insight and guardrail |
| escape | Skip (nothing is recorded) |
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from cockpit.errors import CockpitError
from cockpit.flywheel import GUARDRAILS, draft_runbook, needs_draft, record_insight
from cockpit.flywheel.draft import drafts_folder
from cockpit.screens.host import host_of
from cockpit.store.engine import StoreBusy
from cockpit.text import safe_line

if TYPE_CHECKING:
    from cockpit.screens.host import HostApp


class InsightScreen(ModalScreen[str | None]):
    """Dismisses with the runbook draft's path, ``""`` when saved without one, None if skipped."""

    _saving = False  # a write of this screen is queued and has not landed yet

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+s",
            "save",
            "Save",
            tooltip="Record the insight and the guardrail (and draft a runbook when none fit)",
            id="insight.save",
            priority=True,
        ),
        Binding(
            "escape",
            "skip",
            "Skip",
            tooltip="Skip: the incident stays resolved, nothing is recorded",
            id="insight.skip",
        ),
    ]

    def __init__(self, incident_id: str, label: str, title: str, owner: str = "") -> None:
        super().__init__()
        self.incident_id = incident_id
        self.label = label
        self.title_text = title
        self.owner = owner
        self.reason = ""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -wide", id="insight"):
            title = Text("Resolved ", "bold")
            title.append(safe_line(self.label), "bold")
            title.append(f" “{safe_line(self.title_text)[:80]}”")
            title.append("\nWhat should this incident leave behind?", "dim")
            yield Static(title, classes="dialog-title")
            yield Input(
                placeholder="Insight in one sentence, e.g. Cache stampede on product "
                "detail under peak traffic",
                id="insight-text",
            )
            yield Static(Text("…or five whys, one per line:", "dim"))
            yield TextArea(id="insight-whys", soft_wrap=True, show_line_numbers=False)
            with Horizontal(id="insight-row"):
                yield OptionList(
                    *[Option(name, id=name) for name in GUARDRAILS], id="insight-guardrail"
                )
                with Vertical():
                    yield Static(Text("Guardrail owner:", "dim"))
                    yield Input(
                        value=self.owner, placeholder="who makes it happen", id="insight-owner"
                    )
                    yield Static(id="insight-draft")
            yield Static("", id="dialog-error", classes="dialog-error")
            yield Static(Text("tab: next field   ctrl+s: save   escape: skip", "dim"))

    def on_mount(self) -> None:
        store = self.app.store  # type: ignore[attr-defined]
        self.query_one("#insight-guardrail", OptionList).border_title = "Guardrail"
        self.query_one("#insight-guardrail", OptionList).highlighted = 0
        self.reason = needs_draft(store, self.incident_id) if store is not None else ""
        if self.reason:
            self.query_one("#insight-draft", Static).update(
                Text(f"A runbook draft will be written: {safe_line(self.reason)}.", "yellow")
            )
        self.query_one("#insight-text", Input).focus()

    def _error(self, message: str) -> None:
        self.query_one("#dialog-error", Static).update(Text(message))

    def action_save(self) -> None:
        if self._saving:
            return  # ctrl+s again while it is being saved: it is saved once
        app = host_of(self)
        store = app.store
        if store is None:  # asked only where there is one (ask_insight)
            self.dismiss(None)
            return
        text = self.query_one("#insight-text", Input).value
        whys = self.query_one("#insight-whys", TextArea).text.splitlines()
        guardrails = self.query_one("#insight-guardrail", OptionList)
        index = guardrails.highlighted
        guardrail = GUARDRAILS[index] if index is not None else ""
        owner = self.query_one("#insight-owner", Input).value
        incident_id, reason, clock = self.incident_id, self.reason, app.clock
        drafts = drafts_folder(app.settings) if reason else None

        recorded = False

        def write() -> str | CockpitError:
            """The insight, then the runbook draft it asks for: the draft's error is said
            apart (the insight is kept either way). Tried at once and found busy, it is done
            again by the writer thread: the insight is recorded once."""
            nonlocal recorded
            if not recorded:
                record_insight(
                    store,
                    incident_id,
                    text=text,
                    whys=whys,
                    guardrail=guardrail,
                    owner=owner,
                    clock=clock,
                )
                recorded = True
            if drafts is None:
                return ""
            try:
                return str(draft_runbook(store, incident_id, drafts, reason=reason, clock=clock))
            except StoreBusy:
                raise
            except CockpitError as error:
                return error

        def landed(drafted: str | CockpitError | None, error: Exception | None) -> None:
            if drafted is None:
                self._error(str(error))  # not recorded: the dialog stays, with what to fix
                return
            path = ""
            if isinstance(drafted, CockpitError):
                app.notify(str(drafted), title="No runbook draft", severity="error")
            else:
                path = drafted
            message = f"Insight and {guardrail} guardrail recorded for {safe_line(self.label)}."
            if path:
                message += f" Runbook draft ({safe_line(reason)}): {safe_line(path)}"
            app.notify(message, title="Flywheel", timeout=10)
            self.dismiss(path)

        def done(drafted: str | CockpitError | None, error: Exception | None) -> None:
            self._saving = False
            landed(drafted, error)

        self._saving = True
        if not app.writes.run(write, done):
            self._error("Saving… (a sync is writing to the store)")

    def action_skip(self) -> None:
        if self._saving:
            self._error("Still saving the insight: a moment.")
            return
        self.dismiss(None)


def ask_insight(app: HostApp, incident_id: str) -> None:
    """Open the insight dialog for a resolved, real incident (never for a drill)."""
    from cockpit.store.models import Incident

    store = app.store
    if store is None:
        return
    with store.read() as session:
        incident = session.get(Incident, incident_id)
    if incident is None or incident.is_drill or incident.status != "resolved":
        return
    label = f"#{incident.number}" if incident.number else incident.remote_id
    app.push_screen(
        InsightScreen(
            incident.id, label, incident.title, owner=incident.team or incident.service_name
        )
    )
