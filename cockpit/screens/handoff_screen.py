"""The handoff at rotation change: the draft on one screen, notes, sign, accept, export.

Everything shown comes from ``cockpit.handoff`` (the same draft the headless command
prints). Writes still in the outbox come first and loudly; open incidents are one line each,
grouped by service, so fifty fit without a scroll of raw logs. Until the incoming engineer
accepts (a confirmation that names every baton they take), the outgoing one holds them.

| Key | Action |
| :- | :- |
| e | Edit the notes (escape leaves the notes) |
| s | Sign as the outgoing engineer (saves the notes) |
| a | Accept as the incoming engineer: passes the batons (asks who, then confirms) |
| m | Export the Markdown to a file (asks the path) |
| P | Post a handoff note to each open incident (asks first) |
| r | Draft again from the store |
| escape | Back |
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Static, TextArea

from cockpit.errors import CockpitError
from cockpit.handoff import (
    HandoffDraft,
    accept_handoff,
    draft_handoff,
    held_by,
    post_notes,
    render_markdown,
    save_handoff,
    sign_handoff,
    status_of,
)
from cockpit.handoff.draft import OpenItem, group_by_service
from cockpit.store.models import Handoff, Incident
from cockpit.text import safe_line
from cockpit.widgets.footer import KeyFooter

if TYPE_CHECKING:
    from cockpit.app import CockpitApp

TITLE_WIDTH = 56


def _cut(text: str, width: int) -> str:
    text = safe_line(text).strip()
    return text if len(text) <= width else text[: width - 1] + "…"


def outbox_text(draft: HandoffDraft) -> Text:
    if not draft.outbox:
        return Text("✓ Outbox empty: the paging service has seen every write.", "green")
    failed = sum(1 for o in draft.outbox if o["state"] == "failed")
    text = Text(f" NOT SYNCED: {len(draft.outbox)} write(s) still in the outbox"
                f"{f' ({failed} failed)' if failed else ''}: the paging service has NOT seen "
                "them ", "bold reverse red")
    for item in draft.outbox:
        text.append(f"\n  {safe_line(item['state'])}: {safe_line(item['action'])} on "
                    f"{safe_line(item['ref'])}", "bold red")
        if item.get("error"):
            text.append(f"  {_cut(str(item['error']), 60)}", "red")
    return text


def _open_line(item: OpenItem) -> Text:
    line = Text(no_wrap=True, overflow="ellipsis")
    line.append(f"  {safe_line(item.ref):<7} ", "bold")
    status, style = ("ACK ", "yellow") if item.status == "acknowledged" else ("TRIG", "bold red")
    line.append(status, style)
    line.append(f" {safe_line(item.urgency)[:4]:<4} ", "dim")
    line.append(_cut(item.title, TITLE_WIDTH))
    holder = safe_line(item.holder_name or item.holder) or "nobody"
    line.append(f"  ◆ {holder}", "cyan")
    if item.offered_to:
        line.append(f" → offered to {safe_line(item.offered_to)}", "yellow")
    if item.step:
        line.append(f"  ▶ {_cut(item.step, 40)}", "dim")
    if item.last_note:
        line.append(f"  ✎ {_cut(item.last_note, 50)}", "italic")
    return line


def open_text(draft: HandoffDraft) -> Text:
    text = Text(f"Open incidents ({len(draft.open)})", "bold")
    if not draft.open:
        text.append("\n  None.", "dim")
    for service, items in group_by_service(draft.open).items():
        text.append(f"\n{safe_line(service)} ({len(items)})", "bold underline")
        for item in items:
            text.append("\n")
            text.append_text(_open_line(item))
    return text


def side_text(draft: HandoffDraft) -> Text:
    c = draft.counts
    text = Text("This shift", "bold")
    text.append(f"\n{c.get('triggered', 0)} triggered · {c.get('acknowledged', 0)} acked · "
                f"{c.get('resolved', 0)} resolved · {c.get('escalated', 0)} escalated")
    for note in draft.notable:
        text.append(f"\n• {safe_line(note)}")
    text.append("\n\nPage load (business / off-hours / sleep)", "bold")
    if not draft.load:
        text.append("\nNo pages.", "dim")
    for row in draft.load:
        noun = "page " if row["pages"] == 1 else "pages"
        text.append(f"\n{_cut(str(row['person']), 18):<18} {row['pages']:>3} {noun}  "
                    f"{row['business']}/{row['off_hours']}/")
        text.append(str(row["sleep"]), "bold red" if row["sleep"] else "")
    sections = (
        ("Watch list", [f"snoozed {s}" for s in draft.snoozed]
         + [f"flapping: {s}" for s in draft.flapping]
         + [f"acked but open: {s}" for s in draft.acked_open]),
        ("Follow-ups owed", draft.followups),
        ("Next on call", draft.next_oncall),
        ("Repeat offenders", draft.offenders),
    )
    for title, entries in sections:
        text.append(f"\n\n{title}", "bold")
        if not entries:
            text.append("\nNone.", "dim")
        for entry in entries:
            text.append(f"\n• {_cut(entry, 70)}")
    return text


class HandoffScreen(Screen[None]):
    """The outgoing engineer's draft; the incoming engineer's explicit acceptance."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", tooltip="Leave the notes, or back to the cockpit",
                id="handoff.back"),
        Binding("e", "edit_notes", "Notes", tooltip="Edit the free-text notes of the handoff",
                id="handoff.notes"),
        Binding("s", "sign", "Sign", tooltip="Sign the handoff as the outgoing engineer "
                "(saves the notes; the text is final after this)", id="handoff.sign"),
        Binding("a", "accept", "Accept…", tooltip="Accept as the incoming engineer: asks who, "
                "names every baton, then passes them", id="handoff.accept"),
        Binding("m", "export", "Markdown…", tooltip="Write the handoff as Markdown to a file "
                "(asks the path)", id="handoff.export"),
        Binding("P", "post_notes", "Post notes", tooltip="Add a handoff note to each open "
                "incident (sent when online; asks first)", id="handoff.post-notes"),
        Binding("r", "redraft", "Redraft", tooltip="Draft again from the store (unsigned "
                "drafts only)", id="handoff.redraft"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.draft: HandoffDraft | None = None
        self.handoff: Handoff | None = None

    @property
    def cockpit(self) -> CockpitApp:
        return self.app  # type: ignore[return-value]

    @property
    def me(self) -> str:
        from cockpit.screens.view_model import me_of

        store = self.cockpit.store
        assert store is not None
        return me_of(store, getattr(self.cockpit.settings, "user", "") or "").id

    def compose(self) -> ComposeResult:
        yield Static(id="handoff-title")
        yield Static(id="handoff-outbox")
        with Horizontal(id="handoff-body"):
            with VerticalScroll(id="handoff-open", can_focus=True):
                yield Static(id="handoff-open-text")
            with Vertical(id="handoff-side"):
                with VerticalScroll(id="handoff-facts"):
                    yield Static(id="handoff-side-text")
                yield TextArea(id="handoff-notes", soft_wrap=True, show_line_numbers=False)
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        notes = self.query_one("#handoff-notes", TextArea)
        notes.border_title = "Notes from the outgoing engineer (e)"
        self.query_one("#handoff-open").border_title = "Open incidents, by service"
        self.load()
        self.query_one("#handoff-open").focus()

    # ------------------------------------------------------------------ data

    def _runbooks(self) -> dict[str, Any]:
        try:
            return {rb.id: rb for rb in self.cockpit.library}
        except CockpitError:
            return {}

    def load(self) -> None:
        """A signed handoff waiting for its incoming engineer, else a fresh draft."""
        from cockpit.handoff.flow import get_handoff

        store = self.cockpit.store
        assert store is not None
        try:
            waiting: Handoff | None = get_handoff(store, None)
        except CockpitError:
            waiting = None
        if waiting is not None and waiting.signed_at:
            self.handoff, self.draft = waiting, HandoffDraft.from_json(waiting.draft)
        else:
            self.handoff, self.draft = None, self._fresh_draft()
        self.query_one("#handoff-notes", TextArea).text = self.draft.notes
        self.show()

    def _fresh_draft(self) -> HandoffDraft:
        from cockpit.cli.handoff_cmd import shift_window

        store = self.cockpit.store
        assert store is not None
        now = self.cockpit.clock()
        me = self.me
        start, end = shift_window(store, me, now)
        return draft_handoff(store, me, start, end, now, runbooks=self._runbooks())

    @property
    def status(self) -> str:
        return status_of(self.handoff) if self.handoff is not None else "draft (not saved)"

    def show(self) -> None:
        draft = self.draft
        assert draft is not None
        title = Text("Handoff", "bold")
        if self.handoff is not None:
            title.append(f" #{self.handoff.id}", "bold")
        title.append(f"  {safe_line(draft.from_name or draft.from_person)} → ")
        title.append(safe_line(draft.to_name or draft.to_person) or "(incoming: not yet)")
        title.append(f"   shift {_stamp(draft.shift_start)} → {_stamp(draft.shift_end)} UTC   ",
                     "dim")
        title.append(self.status.upper(), "bold reverse" if self.handoff else "bold")
        self.query_one("#handoff-title", Static).update(title)
        self.query_one("#handoff-outbox", Static).update(outbox_text(draft))
        self.set_class(bool(draft.outbox), "-unsynced")
        self.query_one("#handoff-open-text", Static).update(open_text(draft))
        self.query_one("#handoff-side-text", Static).update(side_text(draft))
        self.query_one("#handoff-notes", TextArea).read_only = bool(
            self.handoff is not None and self.handoff.signed_at)

    def markdown(self) -> str:
        """The Markdown of what is on screen (after an accept, with the incoming engineer's
        name: the stored body names them by id)."""
        assert self.draft is not None
        if self.handoff is None or not self.handoff.signed_at:
            self.draft.notes = self.query_one("#handoff-notes", TextArea).text
        from cockpit.cli.common import display_zone

        try:
            zone = display_zone(self.app.settings)  # type: ignore[attr-defined]
        except CockpitError:
            zone = None  # a bad `timezone` setting: the system's (the CLI names the error)
        return render_markdown(self.draft, self.status.split(" ")[0],
                               self.handoff.id if self.handoff else None, zone=zone)

    def _saved(self) -> Handoff:
        """The handoff row, saved now with the notes if it was only a draft on screen."""
        store = self.cockpit.store
        assert store is not None and self.draft is not None
        if self.handoff is None:
            notes = self.query_one("#handoff-notes", TextArea).text
            self.handoff = save_handoff(store, self.draft, notes=notes)
        return self.handoff

    # ------------------------------------------------------------------ actions

    def action_back(self) -> None:
        if self.focused is self.query_one("#handoff-notes", TextArea):
            self.query_one("#handoff-open").focus()
            return
        self.dismiss(None)

    def action_edit_notes(self) -> None:
        notes = self.query_one("#handoff-notes", TextArea)
        if notes.read_only:
            self.notify("The handoff is signed: its text is final.", severity="warning")
            return
        notes.focus()

    def action_redraft(self) -> None:
        if self.handoff is not None and self.handoff.signed_at:
            self.notify("A signed handoff is waiting to be accepted; it is shown as signed.",
                        severity="warning")
            return
        notes = self.query_one("#handoff-notes", TextArea).text
        self.handoff, self.draft = None, self._fresh_draft()
        self.draft.notes = notes
        self.show()

    def action_sign(self) -> None:
        store = self.cockpit.store
        assert store is not None
        if self.handoff is not None and self.handoff.signed_at:
            self.notify(f"Handoff #{self.handoff.id} is already signed.", severity="warning")
            return
        try:
            row = self._saved()
            assert row.id is not None
            self.handoff = sign_handoff(store, row.id, self.draft.from_person,  # type: ignore[union-attr]
                                        clock=self.cockpit.clock)
        except CockpitError as error:
            self.notify(str(error), title="Not signed", severity="error")
            return
        self.notify(f"Handoff #{self.handoff.id} signed. You hold the batons until the "
                    "incoming engineer accepts (a).", timeout=6)
        self.show()

    def action_accept(self) -> None:
        from cockpit.screens.choice_dialog import ChoiceDialog
        from cockpit.screens.view_model import roster

        store = self.cockpit.store
        assert store is not None and self.draft is not None
        if self.handoff is None or not self.handoff.signed_at:
            self.notify("The outgoing engineer signs first (s).", severity="warning")
            return
        outgoing = self.draft.from_person
        people = [p for p in roster(store, self.cockpit.clock()) if p.person_id != outgoing]
        if self.handoff.to_person:
            people = [p for p in people if p.person_id == self.handoff.to_person] or people
        me = self.me
        people.sort(key=lambda p: p.person_id != me)  # "me" first when I am not the outgoing
        choices = []
        for person in people:
            label = Text(safe_line(person.name), "bold")
            if person.on_call:
                label.append(f"  {safe_line(person.on_call)}", "dim")
            choices.append((person.person_id, label))
        if not choices:
            self.notify("Nobody else is in the roster to accept.", severity="warning")
            return
        self.app.push_screen(ChoiceDialog(Text("Who accepts the handoff?", "bold"),
                                          Text("The incoming engineer takes every baton the "
                                               "outgoing one holds.", "dim"), choices),
                             self._confirm_accept)

    def _confirm_accept(self, person_id: str | None) -> None:
        from cockpit.screens.confirm import ConfirmDialog

        store = self.cockpit.store
        if not person_id or store is None or self.draft is None or self.handoff is None:
            return
        from cockpit.store.queries import person_name

        ids = held_by(store, self.draft.from_person)
        with store.read() as session:
            name = person_name(session, person_id) or person_id
            incidents = [session.get(Incident, i) for i in ids]
        body = Text(f"{safe_line(name)} takes the baton of {len(ids)} incident(s) from "
                    f"{safe_line(self.draft.from_name or self.draft.from_person)}:")
        for incident in incidents[:15]:
            if incident is not None:
                ref = f"#{incident.number}" if incident.number else incident.remote_id
                body.append(f"\n  {safe_line(ref)} “{_cut(incident.title, 60)}”")
        if len(incidents) > 15:
            body.append(f"\n  … and {len(incidents) - 15} more")
        handoff_id = self.handoff.id

        def done(yes: bool | None) -> None:
            if not yes:
                return
            try:
                self.handoff, moved = accept_handoff(store, handoff_id, person_id,
                                                     clock=self.cockpit.clock)
            except CockpitError as error:
                self.notify(str(error), title="Not accepted", severity="error")
                return
            self.draft = HandoffDraft.from_json(self.handoff.draft)
            self.draft.to_name = safe_line(name)
            self.notify(f"Handoff #{handoff_id} accepted: {len(moved)} baton(s) passed to "
                        f"{safe_line(name)}.", timeout=6)
            self.show()
            self.app.post_message(_store_changed())

        self.app.push_screen(ConfirmDialog("Accept the handoff", body, "Take the batons"), done)

    def action_export(self) -> None:
        from cockpit.screens.input_dialog import InputDialog, check_not_empty

        number = self.handoff.id if self.handoff is not None else "draft"
        default = str(Path.cwd() / f"handoff-{number}.md")

        def chosen(path: str | None) -> None:
            if not path:
                return
            target = Path(path.strip()).expanduser()
            try:
                target.write_text(self.markdown(), encoding="utf-8")
            except OSError as error:
                self.notify(f"{target}: cannot write: {error.strerror}", severity="error")
                return
            self.notify(f"Handoff written to {safe_line(str(target))}", timeout=6)

        self.app.push_screen(InputDialog("Export Markdown", Text("Write the handoff to:"),
                                         value=default, check=check_not_empty), chosen)

    def action_post_notes(self) -> None:
        from cockpit.screens.confirm import ConfirmDialog

        store = self.cockpit.store
        assert store is not None and self.draft is not None
        count = len(self.draft.open)
        if not count:
            self.notify("No open incident to post to.", severity="warning")
            return
        body = Text(f"Add a handoff note to each of the {count} open incident(s)? "
                    "They are sent when online.")

        def done(yes: bool | None) -> None:
            if not yes:
                return
            try:
                row = self._saved()
                assert row.id is not None
                posted = post_notes(store, row.id, user=self.me)
            except CockpitError as error:
                self.notify(str(error), title="Notes not posted", severity="error")
                return
            self.notify(f"Handoff note added to {len(posted)} incident(s).", timeout=5)
            self.show()
            if self.cockpit.sync_service is not None:
                self.cockpit.start_sync()

        self.app.push_screen(ConfirmDialog("Post handoff notes", body, "Post"), done)


def _stamp(at: datetime) -> str:
    return f"{at:%m-%d %H:%M}"


def _store_changed() -> Any:
    from cockpit.screens.messages import StoreChanged

    return StoreChanged()


def open_handoff(app: Any) -> None:
    """From a key or the palette: the handoff screen, once."""
    from textual.screen import ModalScreen

    from cockpit.screens.drill_screen import DrillScreen

    if app.store is None:
        app.notify("No local store yet: connect a paging service first.", severity="warning")
        return
    if isinstance(app.screen, DrillScreen):
        app.notify("Practice mode: end the drill (E) before the handoff.", severity="warning")
        return
    if not isinstance(app.screen, HandoffScreen | ModalScreen):
        app.push_screen(HandoffScreen())


__all__ = ["HandoffScreen", "open_handoff", "open_text", "outbox_text", "side_text"]
