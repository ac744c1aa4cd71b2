"""Links from a step or an incident: always copied (OSC 52 works over SSH), opened in a
browser only where one can open, and only after asking.

:class:`LinkOffer` does it for any screen (the cockpit screen keeps one). URLs come from
runbooks and the paging service, so a
link is offered (listed, copied, opened) only when ``cockpit.runbooks.links.refusal`` finds
nothing wrong with it: one http(s) URL, no whitespace, control, bidi or invisible character.
Anything else is refused with a toast that says why, and never reaches the clipboard.
"""

from __future__ import annotations

import os
import sys
import webbrowser
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from rich.text import Text

from cockpit.runbooks.links import offerable, refusal
from cockpit.screens.confirm import ConfirmDialog
from cockpit.text import safe_line

if TYPE_CHECKING:
    from textual.widget import Widget

    from cockpit.view_model import IncidentView


def can_open_browser() -> bool:
    """A browser can open here: a desktop session on this machine, not a bare SSH login."""
    if sys.platform == "darwin" or os.name == "nt":
        return not os.environ.get("SSH_CONNECTION")
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def incident_links(view: IncidentView | None) -> list[tuple[str, str]]:
    """(what, url) of the incident: its runbook link, its page, each alert's links."""
    if view is None:
        return []
    incident = view.incident
    found = [("runbook link", incident.runbook_url), ("incident page", incident.html_url)]
    for alert in view.alerts:
        name = safe_line(alert.summary)[:40] or "alert"
        found.append((f"alert runbook: {name}", alert.runbook_url))
        found.append((f"alert source: {name}", alert.generator_url))
    seen: set[str] = set()
    links = []
    for what, url in found:
        if url and url not in seen:
            seen.add(url)
            links.append((what, url))
    return links


class LinkOffer:
    """Offers links on behalf of ``node`` (its toasts, its dialogs, its workers)."""

    def __init__(self, node: Widget) -> None:
        self.node = node

    def offer_links(self, urls: list[str], none_message: str) -> None:
        """Copy a step's link (and offer to open it); with several, ask which first."""
        if not urls:
            self.node.notify(none_message, severity="warning")
            return
        self.pick_link([(f"link {n}", url) for n, url in enumerate(urls, start=1)])

    def pick_link(self, links: list[tuple[str, str]]) -> None:
        """One link: offered at once. Several: a picker of (what, url), then that one.
        A link that may not be offered is left out, and a toast says which and why."""
        good, refused = offerable([url for _what, url in links])
        if refused:
            self._say_refused([(what, url) for what, url in links if url not in good])
        links = [(what, url) for what, url in links if url in good]
        if not links:
            return
        if len(links) == 1:
            self.offer_link(links[0][1])
            return
        from cockpit.screens.choice_dialog import ChoiceDialog

        choices = []
        for what, url in links:
            label = Text(what, "bold")
            label.append(f"  {safe_line(url)}", "dim")
            choices.append((url, label))

        def chosen(url: str | None) -> None:
            if url:
                self.offer_link(url)

        self.node.app.push_screen(
            ChoiceDialog(
                Text("Which link? (copied; opened only if you say so)", "bold"), Text(""), choices
            ),
            chosen,
        )

    def _say_refused(self, links: list[tuple[str, str]]) -> None:
        lines = [f"{what}: {refusal(url)}: {safe_line(url)[:80]}" for what, url in links]
        self.node.notify(
            "Not copied, not opened (a link must be one http(s) URL with nothing "
            "hidden in it):\n" + "\n".join(lines[:5]),
            title="Link refused",
            severity="warning",
            timeout=12,
        )

    def offer_link(self, url: str) -> None:
        why = refusal(url)
        if why:
            self._say_refused([("link", url)])
            return
        app = self.node.app
        app.copy_to_clipboard(url)
        shown = safe_line(url)
        if not can_open_browser():
            self.node.notify(
                f"Copied {shown}. No browser here: paste it where you can open it.",
                title="Link copied",
                timeout=8,
            )
            return
        body = Text("Copied to the clipboard:\n")
        body.append(shown, "bold underline")
        body.append("\n\nOpen it in the browser too?")

        def answered(yes: bool | None) -> None:
            if yes:
                # webbrowser may wait for the browser process to start: never on the UI thread.
                self.node.run_worker(
                    partial(webbrowser.open, url, new=2),
                    thread=True,
                    exit_on_error=False,
                    group="browser",
                    description="open a link",
                )

        app.push_screen(ConfirmDialog("Open link", body, "Open"), answered)

    def offer_incident_links(self, view: IncidentView | None) -> None:
        links = incident_links(view)
        if not links:
            self.node.notify(
                "This incident has no link (no runbook URL, page or alert link).",
                severity="warning",
            )
            return
        self.pick_link(links)

    def palette_entries(
        self, view: IncidentView | None
    ) -> list[tuple[str, str, Callable[[], object]]]:
        """Palette entries: each incident link that may be offered, by name."""
        return [
            (f"Copy link: {what}", safe_line(url)[:80], partial(self.offer_link, url))
            for what, url in incident_links(view)
            if not refusal(url)
        ]
