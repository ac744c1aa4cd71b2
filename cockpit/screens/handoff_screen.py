"""The handoff at rotation change: the draft on one screen, notes, sign, accept, export.

Everything shown comes from ``cockpit.handoff`` (the same draft the headless command
prints). A line under the title says which step comes next and its key (notes, sign, accept,
export); the footer shows only the keys that still apply. The outgoing engineer's notes come
first, as in the export; writes still in the outbox come first and loudly; open incidents are
one line each, grouped by service, with short indented lines for a runbook run, a note or
something owed. Signing asks who takes over; until the incoming engineer accepts (a
confirmation that names every baton they take, or says plainly there is none), the outgoing
one holds them.

| Key | Action |
| :- | :- |
| e | Write the notes (escape when done) |
| s | Sign as the outgoing engineer: asks who takes over, saves the notes |
| a | Accept as the incoming engineer: names every baton taken, then passes them |
| m | Export the Markdown to a file (asks the path) |
| P | Post a handoff note to each open incident (asks first) |
| r | Draft again from the store |
| escape | Leave the notes; else back |
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

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
from cockpit.handoff.markdown import clock, cut_words, run_words, timer_words
from cockpit.screens.host import host_of, store_or_say
from cockpit.store.engine import StoreBusy
from cockpit.store.models import Handoff, Incident
from cockpit.text import count, safe_line
from cockpit.widgets.footer import KeyFooter

if TYPE_CHECKING:
    from cockpit.screens.host import HostApp

TITLE_WIDTH = 56
DETAIL_WIDTH = 72  # the open list's lines when its width is not known yet
STEPS = (("e", "Notes"), ("s", "Sign"), ("a", "Accept"), ("m", "Export"))
MAX_LISTED = 15
SHORT = 30  # rows: below this the notes box is smaller


def _cut(text: str, width: int) -> str:
    return cut_words(text, width)


def outbox_text(draft: HandoffDraft) -> Text:
    if not draft.outbox:
        return Text("✓ Outbox empty: the paging service has seen every write.", "green")
    failed = sum(1 for o in draft.outbox if o["state"] == "failed")
    text = Text(
        f" NOT SYNCED: {len(draft.outbox)} write(s) still in the outbox"
        f"{f' ({failed} failed)' if failed else ''}: the paging service has NOT seen "
        "them ",
        "bold reverse red",
    )
    for item in draft.outbox:
        text.append(
            f"\n  {safe_line(item['state'])}: {safe_line(item['action'])} on "
            f"{safe_line(item['ref'])}",
            "bold red",
        )
        if item.get("error"):
            text.append(f"  {_cut(str(item['error']), 60)}", "red")
    return text


def _step_text(raw: str, width: int) -> Text:
    """A runbook step in its words, its commands in bold: no Markdown marks, no URLs."""
    from cockpit.runbooks.links import CODE, pieces, plain

    if len(plain(raw)) > width:
        return Text(_cut(plain(raw), width))
    text = Text()
    for piece in pieces(raw):
        text.append(safe_line(piece.text), "bold" if piece.kind == CODE else "")
    return text


def _wrapped(first: str, body: Text, width: int, style: str = "") -> list[Text]:
    """``first`` (a mark) then ``body`` wrapped at words to ``width``, later lines indented
    under the body."""
    indent = " " * len(first)
    words: list[Text] = [w for w in body.split(" ", allow_blank=False) if w.plain]
    lines: list[Text] = []
    line = Text(first, style)
    size = len(first)
    for word in words:
        if size > len(indent) and size + 1 + len(word.plain) > width:
            lines.append(line)
            line, size = Text(indent), len(indent)
        if size > len(indent):
            line.append(" ")
            size += 1
        line.append_text(word)
        size += len(word.plain)
    lines.append(line)
    return lines


def detail_lines(item: OpenItem, draft: HandoffDraft, width: int = DETAIL_WIDTH) -> list[Text]:
    """Under an open incident: where its runbook stands, its timers, the last note a person
    wrote, what is owed."""
    pad = "          "
    lines: list[Text] = []
    if item.runbook and (item.run_phase or item.run_total):
        body = Text()
        if item.run_phase == "rollback":
            body.append("MID-ROLLBACK", "bold reverse yellow")
            body.append(run_words(item).removeprefix("mid-rollback"))
        else:
            body.append(run_words(item))
        body.append(f" · {safe_line(item.runbook_title or item.runbook)}", "dim")
        if item.branch:
            body.append(f" · {_cut(item.branch, 120)}")
        if item.next_step:
            body.append(" · next, decide: " if item.next_is_decision else " · next: ", "bold")
            body.append_text(_step_text(item.next_step, 200))
        lines += _wrapped(f"{pad}▶ ", body, width)
    elif item.step:
        lines += _wrapped(f"{pad}▶ ", Text(_cut(item.step, 200)), width)
    for timer in item.timers:
        what, _ = timer_words(timer, draft)
        body = Text(f"{what}: ", "bold")
        body.append_text(_step_text(str(timer.get("step", "")), 80))
        body.append(f" · due {clock(str(timer.get('due_at', '')), draft, UTC)}")
        lines += _wrapped(f"{pad}⏱ ", body, width)
    if item.last_note:
        when = f" {clock(item.note_at, draft, UTC)}" if item.note_at else ""
        body = Text(f"{_cut(item.note_by, 30) or 'someone'}{when}: ", "italic dim")
        body.append(_cut(item.last_note, 160), "italic")
        lines += _wrapped(f"{pad}✎ ", body, width)
    if item.owed:
        body = Text("owed: " + "; ".join(_cut(o, 80) for o in item.owed), "yellow")
        lines += _wrapped(f"{pad}! ", body, width)
    return lines


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
    return line


def open_text(draft: HandoffDraft, width: int = DETAIL_WIDTH) -> Text:
    text = Text(f"Open incidents ({len(draft.open)})", "bold", no_wrap=True, overflow="ellipsis")
    if not draft.open:
        text.append("\n  None.", "dim")
    for service, items in group_by_service(draft.open).items():
        text.append(f"\n{safe_line(service)} ({len(items)})", "bold underline")
        for item in items:
            text.append("\n")
            text.append_text(_open_line(item))
            for line in detail_lines(item, draft, width):
                text.append("\n")
                text.append_text(line)
    return text


def side_text(draft: HandoffDraft) -> Text:
    text = Text()
    watch = (
        [f"snoozed {s}" for s in draft.snoozed]
        + [f"flapping: {s}" for s in draft.flapping]
        + [f"acked but open: {s}" for s in draft.acked_open]
    )
    for title, entries in (("Follow-ups owed", draft.followups), ("Watch list", watch)):
        text.append(f"{title}\n", "bold")
        if not entries:
            text.append("None.\n", "dim")
        for entry in entries:
            text.append(f"• {_cut(entry, 70)}\n")
        text.append("\n")
    c = draft.counts
    text.append("This shift\n", "bold")
    who = safe_line(draft.from_name or draft.from_person)
    if draft.worked:
        text.append(f"Worked by {who} ({len(draft.worked)}):\n")
        for row in draft.worked[:MAX_LISTED]:
            text.append(f"• {safe_line(row['ref'])} ", "bold")
            text.append(f"{_cut(str(row['title']), 28)}: ")
            text.append(f"{safe_line(', '.join(row.get('did', [])))}\n", "dim")
        if len(draft.worked) > MAX_LISTED:
            text.append(f"  +{len(draft.worked) - MAX_LISTED} more\n", "dim")
    else:
        text.append(f"Worked by {who}: none (no ack, note or runbook run)\n", "dim")
    text.append(
        f"{c.get('triggered', 0)} triggered · {c.get('acknowledged', 0)} acked · "
        f"{c.get('resolved', 0)} resolved · {c.get('escalated', 0)} escalated"
    )
    for note in draft.notable:
        text.append(f"\n• {safe_line(note)}")
    text.append("\n\nPage load (business / off-hours / sleep)", "bold")
    if not draft.load:
        text.append("\nNo pages.", "dim")
    for row in draft.load:
        noun = "page " if row["pages"] == 1 else "pages"
        text.append(
            f"\n{_cut(str(row['person']), 18):<18} {row['pages']:>3} {noun}  "
            f"{row['business']}/{row['off_hours']}/"
        )
        text.append(str(row["sleep"]), "bold red" if row["sleep"] else "")
    for title, entries in (
        ("Next on call", draft.next_oncall),
        ("Repeat offenders", draft.offenders),
    ):
        text.append(f"\n\n{title}", "bold")
        if not entries:
            text.append("\nNone.", "dim")
        for entry in entries:
            text.append(f"\n• {_cut(entry, 70)}")
    return text


def steps_text(current: str, done: set[str], hint: str) -> Text:
    """The four steps with their keys: done ones ticked, the next one highlighted, and what
    to do now in words."""
    text = Text()
    for number, (key, label) in enumerate(STEPS, start=1):
        if number > 1:
            text.append("  ›  ", "dim")
        if key == current:
            text.append(f" {number} {label} {key} ", "bold reverse")
        elif key in done:
            text.append(f"✓ {label}", "green")
        else:
            text.append(f"{number} {label} {key}", "dim")
    text.append("   ")
    text.append(hint, "bold")
    return text


def accept_text(draft: HandoffDraft, name: str, taken: list[Incident]) -> Text:
    """The accept dialog's words: every baton the incoming engineer takes, or plainly none,
    and who keeps the rest."""
    giver = safe_line(draft.from_name or draft.from_person)
    name = safe_line(name)
    by_id = {item.id: item for item in draft.open}
    if taken:
        text = Text(f"{name} takes {count(len(taken), 'baton')} from {giver}:", "bold")
        for incident in taken[:MAX_LISTED]:
            ref = f"#{incident.number}" if incident.number else incident.remote_id
            text.append(f"\n  {safe_line(ref)} “{_cut(incident.title, 56)}” {incident.status}")
            item = by_id.get(incident.id)
            if item is not None and item.step:
                text.append(f"\n      ▶ {_cut(item.step, 90)}", "dim")
        if len(taken) > MAX_LISTED:
            text.append(f"\n  … and {len(taken) - MAX_LISTED} more")
    else:
        text = Text(f"Nothing to take: {giver} holds no baton, so none passes to {name}.", "bold")
        text.append(f"\nAccepting records that {name} has read this handoff.")
    kept = [item for item in draft.open if item.id not in {i.id for i in taken}]
    if kept:
        holders: dict[str, list[str]] = {}
        for item in kept:
            holders.setdefault(safe_line(item.holder_name or item.holder) or "nobody", []).append(
                safe_line(item.ref)
            )
        other = " other" if taken else ""
        text.append(f"\n\nThe{other} open incidents stay with whoever holds them: ")
        text.append("; ".join(f"{', '.join(refs)} {who}" for who, refs in holders.items()), "dim")
    return text


T = TypeVar("T")


class HandoffScreen(Screen[None]):
    """The outgoing engineer's draft; the incoming engineer's explicit acceptance."""

    _saving = False  # a write of this screen is queued and has not landed yet

    DEFAULT_CSS = """
    HandoffScreen #handoff-next { height: auto; padding: 0 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape",
            "notes_done",
            "Notes done",
            tooltip="Leave the notes (they are kept); then s signs",
            id="handoff.notes-done",
        ),
        Binding("escape", "back", "Back", tooltip="Back to the cockpit", id="handoff.back"),
        Binding(
            "e",
            "edit_notes",
            "Notes",
            tooltip="Write the notes for the incoming engineer",
            id="handoff.notes",
        ),
        Binding(
            "s",
            "sign",
            "Sign…",
            tooltip="Sign as the outgoing engineer: asks who takes "
            "over, saves the notes; the text is final after this",
            id="handoff.sign",
        ),
        Binding(
            "a",
            "accept",
            "Accept…",
            tooltip="Accept as the incoming engineer: names every "
            "baton taken (or says there is none), then passes them",
            id="handoff.accept",
        ),
        Binding(
            "m",
            "export",
            "Markdown…",
            tooltip="Write the handoff as Markdown to a file (asks the path)",
            id="handoff.export",
        ),
        Binding(
            "P",
            "post_notes",
            "Post notes",
            tooltip="Add a handoff note to each open incident (sent when online; asks first)",
            id="handoff.post-notes",
        ),
        Binding(
            "r",
            "redraft",
            "Redraft",
            tooltip="Draft again from the store (unsigned drafts only)",
            id="handoff.redraft",
            show=False,
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.draft: HandoffDraft | None = None
        self.handoff: Handoff | None = None
        self.exported: str = ""  # where the Markdown was last written

    @property
    def cockpit(self) -> HostApp:
        return host_of(self)

    @property
    def me(self) -> str:
        from cockpit.view_model import me_of

        store = self.cockpit.store
        assert store is not None
        return me_of(store, getattr(self.cockpit.settings, "user", "") or "").id

    def compose(self) -> ComposeResult:
        yield Static(id="handoff-title")
        yield Static(id="handoff-next")
        yield Static(id="handoff-outbox")
        yield TextArea(id="handoff-notes", soft_wrap=True, show_line_numbers=False)
        with Horizontal(id="handoff-body"):
            with VerticalScroll(id="handoff-open", can_focus=True):
                yield Static(id="handoff-open-text")
            with Vertical(id="handoff-side"), VerticalScroll(id="handoff-facts"):
                yield Static(id="handoff-side-text")
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
        from cockpit.store.queries import shift_window

        store = self.cockpit.store
        assert store is not None
        now = self.cockpit.clock()
        me = self.me
        with store.read() as session:
            start, end = shift_window(session, me, now)
        return draft_handoff(store, me, start, end, now, runbooks=self._runbooks())

    @property
    def status(self) -> str:
        return status_of(self.handoff) if self.handoff is not None else "draft (not saved)"

    @property
    def signed(self) -> bool:
        return self.handoff is not None and self.handoff.signed_at is not None

    @property
    def accepted(self) -> bool:
        return self.handoff is not None and self.handoff.accepted_at is not None

    def _notes_focused(self) -> bool:
        return self.focused is self.query_one("#handoff-notes", TextArea)

    def _held(self) -> list[str]:
        store = self.cockpit.store
        assert store is not None and self.draft is not None
        return held_by(store, self.draft.from_person)

    def _next_step(self) -> tuple[str, set[str], str]:
        """(key of the step to do now, keys of the steps done, what to do in words)."""
        assert self.draft is not None
        notes = bool(self.query_one("#handoff-notes", TextArea).text.strip())
        done = {
            key
            for key, flag in (
                ("e", notes or self.signed),
                ("s", self.signed),
                ("a", self.accepted),
                ("m", bool(self.exported)),
            )
            if flag
        }
        to = safe_line(self.draft.to_name or self.draft.to_person)
        if self._notes_focused():
            return "e", done, "type the notes; escape when done, then s signs"
        if not self.signed:
            if not notes:
                return "e", done, "e: write what the next engineer must know (or s: sign)"
            return "s", done, "s: sign; it asks who takes over"
        if not self.accepted:
            held = len(self._held())
            what = f"takes {count(held, 'baton')}" if held else "no baton to take"
            return "a", done, f"{to} presses a to accept ({what})"
        if not self.exported:
            return "m", done, f"accepted by {to}; m exports the Markdown"
        return "", done, f"done: written to {safe_line(self.exported)}; escape: back"

    def _open_width(self) -> int:
        width = self.query_one("#handoff-open-text", Static).content_region.width
        return width if width >= 40 else DETAIL_WIDTH

    def show(self) -> None:
        draft = self.draft
        assert draft is not None
        title = Text("Handoff", "bold")
        if self.handoff is not None:
            title.append(f" #{self.handoff.id}", "bold")
        title.append(f" {safe_line(draft.from_name or draft.from_person)} → ")
        title.append(safe_line(draft.to_name or draft.to_person) or "(not named yet)")
        title.append(f" · {_stamp(draft.shift_start)}–{_stamp(draft.shift_end)} UTC · ", "dim")
        title.append(self.status.split(" ")[0].upper(), "bold reverse" if self.handoff else "bold")
        self.query_one("#handoff-title", Static).update(title)
        self.show_next()
        self.query_one("#handoff-outbox", Static).update(outbox_text(draft))
        self.set_class(bool(draft.outbox), "-unsynced")
        self.query_one("#handoff-open-text", Static).update(open_text(draft, self._open_width()))
        self.query_one("#handoff-side-text", Static).update(side_text(draft))
        notes = self.query_one("#handoff-notes", TextArea)
        notes.read_only = self.signed
        notes.border_title = "Notes from the outgoing engineer" + ("" if self.signed else " (e)")
        self.refresh_bindings()

    def show_next(self) -> None:
        current, done, hint = self._next_step()
        self.query_one("#handoff-next", Static).update(steps_text(current, done, hint))
        notes = self.query_one("#handoff-notes", TextArea)
        notes.border_subtitle = "escape: done · then s: sign" if self._notes_focused() else ""

    def on_resize(self) -> None:
        # A short terminal keeps room for the incidents: the notes box gets 3 lines.
        notes = self.query_one("#handoff-notes", TextArea)
        notes.styles.height = None if self.size.height >= SHORT else 5
        if self.draft is not None:
            self.call_after_refresh(self._rewrap)

    def _rewrap(self) -> None:
        if self.draft is not None:
            self.query_one("#handoff-open-text", Static).update(
                open_text(self.draft, self._open_width())
            )

    def on_descendant_focus(self) -> None:
        if self.draft is not None:
            self.show_next()
            self.refresh_bindings()

    def on_descendant_blur(self) -> None:
        self.on_descendant_focus()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        if self.draft is not None and not self.signed:
            self.show_next()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "notes_done":
            return self._notes_focused()
        if action == "back":
            return not self._notes_focused()
        if action in ("edit_notes", "sign", "redraft"):
            return not self.signed
        if action == "accept":
            return not self.accepted
        return True

    def markdown(self) -> str:
        """The Markdown of what is on screen (after an accept, with the incoming engineer's
        name: the stored body names them by id)."""
        assert self.draft is not None
        if self.handoff is None or not self.handoff.signed_at:
            self.draft.notes = self.query_one("#handoff-notes", TextArea).text
        from cockpit.config import display_zone

        try:
            zone = display_zone(self.app.settings)  # type: ignore[attr-defined]
        except CockpitError:
            zone = None  # a bad `timezone` setting: the system's (the CLI names the error)
        return render_markdown(
            self.draft,
            self.status.split(" ")[0],
            self.handoff.id if self.handoff else None,
            zone=zone,
        )

    # ------------------------------------------------------------------ actions

    def action_notes_done(self) -> None:
        self.query_one("#handoff-open").focus()

    def action_back(self) -> None:
        if self._still_saving():
            return  # its result is said here, on this screen
        self.dismiss(None)

    def action_edit_notes(self) -> None:
        notes = self.query_one("#handoff-notes", TextArea)
        if notes.read_only:
            self.notify("The handoff is signed: its text is final.", severity="warning")
            return
        notes.focus()

    def action_redraft(self) -> None:
        if self.signed:
            self.notify(
                "A signed handoff is waiting to be accepted; it is shown as signed.",
                severity="warning",
            )
            return
        notes = self.query_one("#handoff-notes", TextArea).text
        self.handoff, self.draft = None, self._fresh_draft()
        self.draft.notes = notes
        self.show()

    def _people(self, first: list[str]) -> list[tuple[str, Text]]:
        """Everyone but the outgoing engineer, as choices: ``first`` (on call next) first,
        then who is on call now, then the rest."""
        from cockpit.view_model import roster

        store = self.cockpit.store
        assert store is not None and self.draft is not None
        outgoing = self.draft.from_person
        people = [p for p in roster(store, self.cockpit.clock()) if p.person_id != outgoing]
        order = {person_id: n for n, person_id in enumerate(first)}
        people.sort(key=lambda p: order.get(p.person_id, len(order)))
        shifts = dict(zip(self.draft.next_people, self.draft.next_oncall, strict=False))
        choices = []
        for person in people:
            label = Text(safe_line(person.name), "bold")
            where = person.on_call
            if person.person_id in order:
                shift = shifts.get(person.person_id, "")
                where = "on call next" + (
                    shift[len(person.name) :] if shift.startswith(person.name) else ""
                )
            if where:
                label.append(f"  {safe_line(where)}", "dim")
            choices.append((person.person_id, label))
        return choices

    def action_sign(self) -> None:
        from cockpit.screens.choice_dialog import ChoiceDialog

        if self._still_saving():
            return
        assert self.draft is not None
        if self.signed:
            self.notify(
                f"Handoff #{self.handoff.id} is already signed.",  # type: ignore[union-attr]
                severity="warning",
            )
            return
        if self.draft.to_person:
            self._sign(self.draft.to_person)
            return
        choices = self._people(self.draft.next_people)
        if not choices:
            self.notify("Nobody else is in the roster to hand over to.", severity="warning")
            return
        held = len(self._held())
        body = Text("The handoff is signed for them; only they can accept it. ", "dim")
        body.append(
            f"You hold {count(held, 'baton')}: they pass on accepting."
            if held
            else "You hold no baton: accepting only records that they have read it.",
            "dim",
        )
        self.app.push_screen(
            ChoiceDialog(Text("Who takes over from you?", "bold"), body, choices), self._sign
        )

    def _sign(self, person_id: str | None) -> None:
        store = self.cockpit.store
        if not person_id or store is None or self.draft is None:
            return
        # The writer gets its own copy of the draft: saving sets its notes.
        draft, saved, clock = (
            HandoffDraft.from_json(self.draft.to_json()),
            self.handoff,
            self.cockpit.clock,
        )
        notes = self.query_one("#handoff-notes", TextArea).text

        def write() -> tuple[Handoff, Handoff | CockpitError]:
            nonlocal saved  # a write tried at once and found busy is done again: save once
            if saved is None:
                saved = save_handoff(store, draft, notes=notes)
            assert saved.id is not None
            try:
                signed = sign_handoff(
                    store, saved.id, draft.from_person, to_person=person_id, clock=clock
                )
            except StoreBusy:
                raise  # not an answer: the writer thread does it again once the store is free
            except CockpitError as error:
                return saved, error  # saved, not signed: a second s signs this row
            return saved, signed

        def landed(
            result: tuple[Handoff, Handoff | CockpitError] | None, error: Exception | None
        ) -> None:
            if result is None:
                if saved is not None:
                    self.handoff = saved  # saved, not signed: a second s signs this row
                self.notify(str(error), title="Not signed", severity="error")
                return
            self.handoff, signed = result
            if isinstance(signed, CockpitError):
                self.notify(str(signed), title="Not signed", severity="error")
                return
            self.handoff = signed
            self._signed_for(signed, person_id)

        self._write(write, landed)

    def _signed_for(self, handoff: Handoff, person_id: str) -> None:
        self.draft = HandoffDraft.from_json(handoff.draft)
        to = safe_line(self.draft.to_name or person_id)
        held = self._held()
        if held:
            message = (
                f"Handoff #{handoff.id} signed for {to}. You hold "
                f"{count(len(held), 'baton')} until {to} accepts (a)."
            )
        else:
            message = (
                f"Handoff #{handoff.id} signed for {to}. You hold no baton, so "
                f"none passes; {to} accepts (a) to say they have read it."
            )
        self.notify(message, timeout=6)
        self.show()

    def _write(
        self, write: Callable[[], T], landed: Callable[[T | None, Exception | None], None]
    ) -> None:
        """A store write that never waits on the event loop for a sync's lock (the app's
        writer: at once when the store is free, else queued); ``landed`` follows. Until it
        has, the handoff's other writes wait (``_still_saving``): a second s while the first
        signature is queued would save a second handoff."""

        def done(result: T | None, error: Exception | None) -> None:
            self._saving = False
            landed(result, error)

        self._saving = True
        if not self.cockpit.writes.run(write, done):
            self.notify("Saving… (a sync is writing to the store)", timeout=2)

    def _still_saving(self) -> bool:
        if self._saving:
            self.notify("Still saving the last change: a moment.", severity="warning")
            return True
        return False

    def action_accept(self) -> None:
        from cockpit.screens.choice_dialog import ChoiceDialog

        if self._still_saving():
            return
        store = self.cockpit.store
        assert store is not None and self.draft is not None
        if self.accepted:
            self.notify(
                f"Handoff #{self.handoff.id} is already accepted.",  # type: ignore[union-attr]
                severity="warning",
            )
            return
        if self.handoff is None or not self.handoff.signed_at:
            self.notify(
                "The outgoing engineer signs first (s): it asks who takes over.", severity="warning"
            )
            return
        if self.handoff.to_person:
            self._confirm_accept(self.handoff.to_person)
            return
        # Signed for nobody (an older handoff): ask who.
        choices = self._people(self.draft.next_people)
        if not choices:
            self.notify("Nobody else is in the roster to accept.", severity="warning")
            return
        self.app.push_screen(
            ChoiceDialog(
                Text("Who accepts the handoff?", "bold"),
                Text("The incoming engineer takes every baton the outgoing one holds.", "dim"),
                choices,
            ),
            self._confirm_accept,
        )

    def _confirm_accept(self, person_id: str | None) -> None:
        from cockpit.screens.confirm import ConfirmDialog
        from cockpit.store.queries import person_name

        store = self.cockpit.store
        if not person_id or store is None or self.draft is None or self.handoff is None:
            return
        ids = self._held()
        with store.read() as session:
            name = person_name(session, person_id) or person_id
            taken = [i for i in (session.get(Incident, i) for i in ids) if i is not None]
        body = accept_text(self.draft, name, taken)
        handoff_id = self.handoff.id

        clock = self.cockpit.clock

        def done(yes: bool | None) -> None:
            if yes:
                self._write(
                    lambda: accept_handoff(store, handoff_id, person_id, clock=clock), landed
                )

        def landed(result: tuple[Handoff, list[str]] | None, error: Exception | None) -> None:
            if result is None:
                self.notify(str(error), title="Not accepted", severity="error")
                return
            self.handoff, moved = result
            self.draft = HandoffDraft.from_json(self.handoff.draft)
            self.draft.to_name = safe_line(name)
            who = safe_line(name)
            if moved:
                message = (
                    f"Handoff #{handoff_id} accepted: {count(len(moved), 'baton')} passed to {who}."
                )
            else:
                message = f"Handoff #{handoff_id} accepted by {who}: no baton to pass."
            self.notify(message, timeout=6)
            self.show()
            self.app.post_message(_store_changed())

        confirm = f"Take {count(len(taken), 'baton')}" if taken else "Accept, nothing to take"
        self.app.push_screen(ConfirmDialog(f"Accept handoff #{handoff_id}", body, confirm), done)

    def action_export(self) -> None:
        from cockpit.screens.input_dialog import InputDialog

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
            self.exported = str(target)
            self.notify(f"Handoff written to {safe_line(str(target))}", timeout=6)
            self.show_next()

        self.app.push_screen(
            InputDialog(
                "Export Markdown",
                Text("Write the handoff as Markdown to (enter: this file):"),
                value=default,
                check=lambda value: "" if value.strip() else "Give a file path.",
            ),
            chosen,
        )

    def action_post_notes(self) -> None:
        from cockpit.screens.confirm import ConfirmDialog

        if self._still_saving():
            return
        store = self.cockpit.store
        assert store is not None and self.draft is not None
        count_open = len(self.draft.open)
        if not count_open:
            self.notify("No open incident to post to.", severity="warning")
            return
        body = Text(
            f"Add a handoff note to each of the {count_open} open incident(s)? "
            "They are sent when online."
        )

        draft, saved, me = HandoffDraft.from_json(self.draft.to_json()), self.handoff, self.me
        notes = self.query_one("#handoff-notes", TextArea).text

        def write() -> tuple[Handoff, list[Any]]:
            nonlocal saved  # a write tried at once and found busy is done again: save once
            if saved is None:
                saved = save_handoff(store, draft, notes=notes)
            assert saved.id is not None
            return saved, post_notes(store, saved.id, user=me)

        def landed(result: tuple[Handoff, list[Any]] | None, error: Exception | None) -> None:
            if result is None:
                if saved is not None:
                    self.handoff = saved  # saved, notes not posted: P again posts this row's
                self.notify(str(error), title="Notes not posted", severity="error")
                return
            self.handoff, posted = result
            self.notify(f"Handoff note added to {len(posted)} incident(s).", timeout=5)
            self.show()
            if self.cockpit.sync_service is not None:
                self.cockpit.start_sync()

        def done(yes: bool | None) -> None:
            if yes:
                self._write(write, landed)

        self.app.push_screen(ConfirmDialog("Post handoff notes", body, "Post"), done)


def _stamp(at: datetime) -> str:
    return f"{at:%m-%d %H:%M}"


def _store_changed() -> Any:
    from cockpit.screens.messages import StoreChanged

    return StoreChanged()


def open_handoff(app: HostApp) -> None:
    """From a key or the palette: the handoff screen, once."""
    from textual.screen import ModalScreen

    from cockpit.screens.drill_screen import DrillScreen

    if store_or_say(app, "The handoff") is None:
        return
    if isinstance(app.screen, DrillScreen):
        app.notify("Practice mode: end the drill (E) before the handoff.", severity="warning")
        return
    if not isinstance(app.screen, HandoffScreen | ModalScreen):
        app.push_screen(HandoffScreen())


__all__ = [
    "HandoffScreen",
    "accept_text",
    "open_handoff",
    "open_text",
    "outbox_text",
    "side_text",
    "steps_text",
]
