"""The key footer, rebuilt once per frame at most.

Textual's Footer queues a full rebuild of its keys for every change of the screen's bindings
(each focus change, each keymap or action-state refresh), even when several arrive before
the next frame: the cockpit's start-up sent nine, each restyling every key. This one keeps
at most one rebuild queued; it shows the same keys, just not nine times over.
Every screen of the app uses it.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


class KeyFooter(Footer):
    _rebuild_queued = False

    def bindings_changed(self, screen: Screen[object]) -> None:
        # Footer.bindings_changed, with the queue of one (its flag is Footer's own).
        self._bindings_ready = True
        if not screen.app.app_focus or self._rebuild_queued:
            return
        if self.is_attached and screen is self.screen:
            self._rebuild_queued = True
            self.call_after_refresh(self.recompose)

    async def recompose(self) -> None:
        self._rebuild_queued = False
        await super().recompose()
