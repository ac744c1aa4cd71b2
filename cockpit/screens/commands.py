"""Command palette providers: every action, incidents and runbooks by name.

Named ``...Commands`` so that "Provider" stays free for paging services (``PagingProvider``).
Each offers what makes sense now: incident actions only when an incident is on screen.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

from cockpit.screens.host import host_of
from cockpit.screens.keys import key_display
from cockpit.text import safe_line

Entry = tuple[str, str, Callable[[], Any]]  # (name, help, callback)


def _cockpit_screen(provider: Provider) -> Any:
    from cockpit.screens.cockpit_screen import CockpitScreen

    for screen in reversed(provider.app.screen_stack):
        if isinstance(screen, CockpitScreen):
            return screen
    return None


class _EntriesCommands(Provider):
    def entries(self) -> list[Entry]:
        raise NotImplementedError

    async def discover(self) -> Hits:
        for name, help_text, callback in self.entries():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self.entries():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, text=name, help=help_text)


# What the palette offers for the incident on screen: (binding id, name, when). The key shown
# and what runs are the binding's own (cockpit/screens/keys.py), so a [keymap] rebind shows
# here and the palette does exactly what the key does.
IncidentWhen = Callable[[str, bool], bool]  # (status, a baton is offered to me) -> offered
INCIDENT_ACTIONS: tuple[tuple[str, str, IncidentWhen], ...] = (
    ("incident.ack", "Acknowledge {label}", lambda status, _: status == "triggered"),
    ("incident.resolve", "Resolve {label}", lambda status, _: status != "resolved"),
    ("incident.escalate", "Escalate {label}", lambda status, _: status != "resolved"),
    ("incident.snooze", "Snooze {label}", lambda status, _: status == "acknowledged"),
    ("incident.note", "Add a note to {label}", lambda *_: True),
    ("baton.take", "Take the baton of {label}", lambda *_: True),
    ("baton.pass", "Pass the baton of {label}", lambda *_: True),
    ("runbook.pick", "Pick a runbook", lambda *_: True),
    ("runbook.undo", "Undo the last tick", lambda *_: True),
    ("runbook.rollback", "Roll back: leave the main path for Rollback", lambda *_: True),
    ("runbook.open-link", "Copy the step's link", lambda *_: True),
    ("baton.accept", "Accept the baton of {label}", lambda _, offered: offered),
)


class ActionCommands(_EntriesCommands):
    """The incident and runbook actions, as the keys do them."""

    def entries(self) -> list[Entry]:
        screen = _cockpit_screen(self)
        if screen is None:
            return []
        out: list[Entry] = [("Sync now", "push the outbox and pull", screen.app.action_sync_now)]
        view = screen.incident_view
        if view is None:
            return out
        label = safe_line(view.ref.label)
        offered = view.offer is not None
        links: list[Entry] = screen.palette_links()
        for binding_id, name, when in INCIDENT_ACTIONS:
            if not when(view.incident.status, offered):
                continue
            found = screen.binding_named(binding_id)
            if found is None:
                continue
            keys = key_display(screen.app, found[1])
            out.append((name.format(label=label), keys, partial(screen.run_binding, binding_id)))
            if binding_id == "runbook.open-link":
                out += links
        return out


class IncidentCommands(_EntriesCommands):
    """Jump to an incident by number or title."""

    def entries(self) -> list[Entry]:
        screen = _cockpit_screen(self)
        if screen is None or screen.cockpit.store is None:
            return []
        from cockpit.view_model import load_switcher

        view = load_switcher(screen.cockpit.store)
        return [
            (
                f"{safe_line(ref.label)} {safe_line(ref.title)}",
                f"{ref.status} incident",
                partial(screen.go_to_incident, ref.id),
            )
            for ref in view.open + view.resolved
        ]


class RunbookCommands(_EntriesCommands):
    """Use a runbook by title for the current incident."""

    def entries(self) -> list[Entry]:
        screen = _cockpit_screen(self)
        if screen is None or screen.incident_view is None:
            return []
        try:
            library = screen.cockpit.library
        except Exception:  # noqa: BLE001 - a broken library leaves the palette usable
            return []
        return [
            (f"Runbook: {safe_line(r.title)}", safe_line(r.id), partial(screen.use_runbook, r.path))
            for r in library
            if r.steps
        ]


class ShiftCommands(_EntriesCommands):
    """The shift around the incidents: handoff, stats, drills."""

    def entries(self) -> list[Entry]:
        app = host_of(self)
        if getattr(app, "store", None) is None:
            return []
        return [
            (
                "Handoff",
                "H: draft, sign, accept the shift handoff; export Markdown",
                app.action_handoff,
            ),
            ("Stats", "S: pages per week per person, MTTA/MTTR, the flywheel", app.action_stats),
            (
                "Start a drill…",
                "D: a runbook in practice mode on a made-up incident",
                app.action_drill,
            ),
        ]
