"""Command palette providers: every action, incidents and runbooks by name.

Named ``...Commands`` so that "Provider" stays free for paging services (``PagingProvider``).
Each offers what makes sense now: incident actions only when an incident is on screen.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

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
        status = view.incident.status
        label = safe_line(view.ref.label)
        run = partial(screen.palette_action)
        if status == "triggered":
            out.append((f"Acknowledge {label}", "a", partial(run, "ack")))
        if status != "resolved":
            out.append((f"Resolve {label}", "R", partial(run, "resolve")))
            out.append((f"Escalate {label}", "e", partial(run, "escalate")))
        if status == "acknowledged":
            out.append((f"Snooze {label}", "z", partial(run, "snooze")))
        out += [
            (f"Add a note to {label}", "n", partial(run, "note")),
            (f"Take the baton of {label}", "t", partial(run, "take_baton")),
            (f"Pass the baton of {label}", "b", partial(run, "pass_baton")),
            ("Pick a runbook", "p", partial(run, "pick_runbook")),
            ("Undo the last tick", "u", partial(run, "undo_tick")),
            ("Roll back: leave the main path for Rollback", "r", partial(run, "rollback")),
            ("Copy the step's link", "o", partial(run, "step_link")),
        ]
        out += screen.palette_links()
        if view.offer is not None:
            out.append((f"Accept the baton of {label}", "A", partial(run, "accept_baton")))
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
        app: Any = self.app
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
