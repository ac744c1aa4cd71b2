"""The key footer: the keys that act on what is focused now, rebuilt once per frame at most.

Four things differ from Textual's Footer:

- **Only keys that apply.** A binding's node (a widget, the screen, the app) may define
  ``footer_shows(action) -> bool``; a key whose node says False is left out of the footer
  (it still works, and ``?`` still lists it). The checklist leaves out ``c Copy x Run`` on a
  step without a command and shows ``w Timer`` only on a step whose timer can start; the
  screen shows ``a Ack`` on a triggered incident, ``t Take`` when someone else holds it.
  Nodes call ``refresh_bindings()`` when what applies changes.
- **It fits.** Keys that do not fit the width are left out from the end, never ``? Help``,
  which lists them all.
- **One rebuild per frame.** Textual's Footer queues a full rebuild of its keys for every
  change of the screen's bindings (each focus change, each keymap or action-state refresh),
  even when several arrive before the next frame: the cockpit's start-up sent nine. This
  one keeps at most one rebuild queued.
- **No rebuild when only what applies changed.** Every key the bindings could show is built
  once; when the same bindings say that other keys apply (moving from a step with a command
  to one with a timer), keys are shown or hidden in place. A rebuild (remove and mount ~12
  widgets) cost ~15 ms of the event loop on each step moved to, paid by the next key press.

Every screen and dialog of the app has one, so a dialog shows its own keys, not the screen's
below it (a modal screen's binding chain ends at the modal).
"""

from __future__ import annotations

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

_HELP = "help"
PALETTE_ROOM = 12  # "▏^p palette", docked right
Candidate = tuple[Binding, bool, str, object]  # binding, enabled, tooltip, its node


class KeyFooter(Footer):
    _rebuild_queued = False
    _composed_width = 0
    _composed: tuple[object, ...] = ()  # what the built keys were built from

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
        if not self.is_attached or self._pruning:
            return  # its screen has gone (a dialog dismissed before the frame)
        candidates = self._candidates()
        if self._bindings_ready and self._candidates_key(candidates) == self._composed:
            self._composed_width = self.size.width
            shown = set(self._shown_indexes(candidates))
            keys = [key for key in self.query(FooterKey) if not key.has_class("-command-palette")]
            for index, key in enumerate(keys):
                key.display = index in shown
            return
        await super().recompose()

    def _candidates(self) -> list[Candidate]:
        """(binding, enabled, tooltip, node) of every key the footer could show, in order,
        whatever applies now."""
        return [
            (binding, enabled, tooltip, node)
            for node, binding, enabled, tooltip in self.screen.active_bindings.values()
            if binding.show
        ]

    def _candidates_key(self, candidates: list[Candidate]) -> tuple[object, ...]:
        """What the built keys depend on (all but which of them apply and fit)."""
        keys = tuple(
            (b.key, self.app.get_key_display(b), b.description, b.action, enabled, tooltip)
            for b, enabled, tooltip, _node in candidates
        )
        return (self.show_command_palette, keys)

    def _shown_indexes(self, candidates: list[Candidate]) -> list[int]:
        """Which candidates the footer shows: the first key of each action whose node says
        it applies (``footer_shows``), fitted to the width."""
        picked: list[tuple[int, tuple[Binding, bool, str]]] = []
        actions: set[str] = set()
        for index, (binding, enabled, tooltip, node) in enumerate(candidates):
            if binding.action in actions:
                continue
            shows = getattr(node, "footer_shows", None)
            if shows is not None and not shows(binding.action):
                continue
            actions.add(binding.action)
            picked.append((index, (binding, enabled, tooltip)))
        fitted = {id(key) for key in self._fit([key for _index, key in picked])}
        return [index for index, key in picked if id(key) in fitted]

    def on_resize(self) -> None:
        if (
            self.size.width != self._composed_width
            and self._bindings_ready
            and not self._rebuild_queued
        ):
            self._rebuild_queued = True
            self.call_after_refresh(self.recompose)

    def shown_keys(self) -> list[tuple[Binding, bool, str]]:
        """(binding, enabled, tooltip) of every key the footer shows, in order."""
        candidates = self._candidates()
        return [candidates[index][:3] for index in self._shown_indexes(candidates)]

    def _fit(self, keys: list[tuple[Binding, bool, str]]) -> list[tuple[Binding, bool, str]]:
        width = self.size.width or self.app.size.width
        room = width - (PALETTE_ROOM if self.show_command_palette else 0)

        def cells(binding: Binding) -> int:
            # compact: "key description" and a margin of one
            return (
                cell_len(self.app.get_key_display(binding)) + 1 + cell_len(binding.description) + 1
            )

        keys = list(keys)
        while keys and sum(cells(b) for b, _, _ in keys) > room:
            drop = next(
                (n for n in range(len(keys) - 1, -1, -1) if keys[n][0].action != _HELP), None
            )
            if drop is None:
                break
            del keys[drop]
        return keys

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        self._composed_width = self.size.width
        candidates = self._candidates()
        self._composed = self._candidates_key(candidates)
        shown = set(self._shown_indexes(candidates))
        for index, (binding, enabled, tooltip, _node) in enumerate(candidates):
            key = FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                disabled=not enabled,
                tooltip=tooltip,
            ).data_bind(compact=Footer.compact)
            key.display = index in shown
            yield key
        if self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE:
            found = self.screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING)
            if found is not None:
                _node, binding, enabled, tooltip = found
                yield FooterKey(
                    binding.key,
                    self.app.get_key_display(binding),
                    binding.description,
                    binding.action,
                    classes="-command-palette",
                    disabled=not enabled,
                    tooltip=binding.tooltip or binding.description,
                )
