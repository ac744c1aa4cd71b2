"""The keys a binding answers to now: its own, or those the ``[keymap]`` table gave it.

Textual applies a keymap only to the bindings of the focused chain, at key time; the help
screen and the command palette show bindings that are not focused, so they ask here, and a
rebind shows in them as it does in the footer.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode


def bindings_of(node: DOMNode) -> Iterator[Binding]:
    """The node's own bindings, its class's and those it inherits (a mixin's too)."""
    seen: set[str] = set()
    for cls in type(node).__mro__:
        for binding in Binding.make_bindings(vars(cls).get("BINDINGS", ())):
            key = binding.id or f"{binding.key}:{binding.action}"
            if key not in seen:
                seen.add(key)
                yield binding


def find_binding(nodes: list[DOMNode], binding_id: str) -> tuple[DOMNode, Binding] | None:
    for node in nodes:
        for binding in bindings_of(node):
            if binding.id == binding_id:
                return node, binding
    return None


def overrides(app: App[Any]) -> dict[str, str]:
    return dict(getattr(app, "keymap_overrides", {}) or {})


def key_display(app: App[Any], binding: Binding) -> str:
    """How the binding's key is shown: ``a``, ``^k``, or ``K/^k`` after a rebind to "K,ctrl+k"."""
    keys = overrides(app).get(binding.id or "")
    if not keys:
        return app.get_key_display(binding)
    return "/".join(
        app.get_key_display(replace(binding, key=key.strip(), key_display=None))
        for key in keys.split(",")
        if key.strip()
    )
