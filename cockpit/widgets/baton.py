"""Who holds the incident now and since when, and any pass waiting for acceptance."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.widgets import Static

from cockpit.text import safe_line
from cockpit.view_model import IncidentView, age


class Baton(Static):
    """One or two lines. Keys (on the screen): ``t`` take, ``b`` pass, ``A`` accept a pass."""

    DEFAULT_CSS = """
    Baton {
        height: auto;
    }
    """

    def show(self, view: IncidentView | None, me_id: str, now: datetime) -> None:
        self.set_class(view is not None and view.holder_id == me_id, "-mine")
        self.update(render_baton(view, me_id, now))


def render_baton(view: IncidentView | None, me_id: str, now: datetime) -> Text:
    text = Text()
    text.append("baton ", "bold")
    if view is None:
        text.append("-", "dim")
        return text
    if view.holder_id:
        name = "you" if view.holder_id == me_id else safe_line(view.holder_name)
        text.append(name, "bold")
        if view.holder_since is not None:
            text.append(f" for {age(view.holder_since, now)}", "dim")
    else:
        text.append("nobody holds it", "bold yellow")
        text.append("  (t: take it)", "dim")
    if view.offer is not None:
        to = "you" if view.offer.to_person == me_id else safe_line(view.offer_to_name)
        text.append("\noffered to ", "yellow")
        text.append(to, "bold yellow")
        text.append(f" {age(view.offer.offered_at, now)} ago: ", "yellow")
        text.append(safe_line(view.offer.note)[:120])
        if view.offer.to_person == me_id:
            text.append("  (A: accept)", "dim")
    return text
