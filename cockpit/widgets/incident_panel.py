"""The current incident: title, service, urgency, status, age, who is paged, alerts."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.widgets import Static

from cockpit.screens.view_model import IncidentView, age
from cockpit.text import safe_line

_STATUS_STYLE = {"triggered": "bold red", "acknowledged": "bold yellow", "resolved": "bold green"}


class IncidentPanel(Static):
    """A read-only summary of one incident; every remote string passes through ``safe_line``."""

    DEFAULT_CSS = """
    IncidentPanel {
        height: auto;
    }
    """

    def show(self, view: IncidentView | None, now: datetime) -> None:
        self.set_class(view is not None and view.incident.is_drill, "-drill")
        if view is None:
            self.update(Text("No open incident. All quiet.", "dim"))
            self.set_classes_for_status("")
            return
        self.set_classes_for_status(view.incident.status)
        self.update(render_incident(view, now))

    def set_classes_for_status(self, status: str) -> None:
        for name in ("triggered", "acknowledged", "resolved"):
            self.set_class(status == name, f"-{name}")


def render_incident(view: IncidentView, now: datetime) -> Text:
    incident = view.incident
    text = Text()
    label = f"#{incident.number}" if incident.number is not None else incident.remote_id
    text.append(f"{safe_line(label)} ", "bold")
    text.append(safe_line(incident.title), "bold")
    text.append("\n")
    text.append(incident.status.upper(), _STATUS_STYLE.get(incident.status, "bold"))
    text.append("  ")
    text.append(f"{incident.urgency} urgency", "red" if incident.urgency == "high" else "")
    text.append(f"  age {age(incident.created_at, now)}")
    if incident.snoozed_until and incident.snoozed_until > now:
        text.append(f"  snoozed {age(now, incident.snoozed_until)} more", "dim")
    if incident.is_drill:
        text.append("  DRILL", "bold reverse")
    text.append("\n")
    text.append("service ", "dim")
    text.append(safe_line(incident.service_name) or "-")
    if incident.team:
        text.append("  team ", "dim")
        text.append(safe_line(incident.team))
    text.append("\n")
    text.append("paged ", "dim")
    text.append(", ".join(safe_line(p) for p in view.paged) or "nobody yet")
    if view.assignees:
        text.append("  assigned ", "dim")
        text.append(", ".join(safe_line(a) for a in view.assignees))
    firing = sum(1 for alert in view.alerts if alert.status == "triggered")
    text.append("\n")
    text.append("alerts ", "dim")
    text.append(f"{len(view.alerts)} ({firing} firing)")
    for alert in view.alerts[:3]:
        text.append("\n  • ", "dim")
        text.append(safe_line(alert.summary)[:200])
    link = incident.runbook_url or next((a.runbook_url for a in view.alerts if a.runbook_url), "")
    if link:
        text.append("\nrunbook link ", "dim")
        text.append(safe_line(link))
    return text
