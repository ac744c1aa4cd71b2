"""The current incident: title, source, service, urgency, status, age, who is paged, alerts
(with the labels that tell them apart), links."""

from __future__ import annotations

from datetime import datetime

from rich.console import Group
from rich.text import Text
from textual.widgets import Static

from cockpit.store.records import AlertRow
from cockpit.sync.unsent import describe, service_name
from cockpit.text import full_hint, safe_line
from cockpit.view_model import IncidentView, age

MAX_ALERTS = 3  # the panel is small: the rest are in `cockpit show` and the timeline

_STATUS_STYLE = {"triggered": "bold red", "acknowledged": "bold yellow", "resolved": "bold green"}


class IncidentPanel(Static):
    """A read-only summary of one incident; every remote string passes through ``safe_line``."""

    DEFAULT_CSS = """
    IncidentPanel {
        height: auto;
    }
    """

    def show(self, view: IncidentView | None, now: datetime, empty: Text | None = None) -> None:
        """Show ``view``; with none, ``empty`` says why (a filter hides the open incidents,
        the first sync is still running...)."""
        self.set_class(view is not None and view.incident.is_drill, "-drill")
        if view is None:
            self.update(empty or Text("No open incident. All quiet.", "dim"))
            self.set_classes_for_status("")
            return
        self.set_classes_for_status(view.incident.status)
        self.update(render_incident(view, now))

    def set_classes_for_status(self, status: str) -> None:
        for name in ("triggered", "acknowledged", "resolved"):
            self.set_class(status == name, f"-{name}")


def render_incident(view: IncidentView, now: datetime) -> Group:
    """The head (wrapped) and one line per label set and alert, cut with … to the width:
    an alert group's labels can be long, and the panel must stay a few lines high."""
    return Group(_head(view, now), *_write_lines(view), *_alert_lines(view), *_link_lines(view))


def _head(view: IncidentView, now: datetime) -> Text:
    incident = view.incident
    text = Text()
    label = f"#{incident.number}" if incident.number is not None else incident.remote_id
    text.append(f"{safe_line(label)} ", "bold")
    # A huge title (1 MB) is cut: `cockpit show ID --full` prints it whole.
    text.append(safe_line(incident.title, more=full_hint(incident.remote_id)), "bold")
    text.append("\n")
    text.append(incident.status.upper(), _STATUS_STYLE.get(incident.status, "bold"))
    text.append("  ")
    text.append(f"{incident.urgency} urgency", "red" if incident.urgency == "high" else "")
    text.append(f"  age {age(incident.created_at, now)}")
    if incident.snoozed_until and incident.snoozed_until > now:
        text.append(f"  snoozed {age(now, incident.snoozed_until)} more", "dim")
    if incident.is_drill:
        text.append("  DRILL", "bold reverse")
    # Where it came from, as one word: a narrow column wraps it whole.
    text.append(f"  {safe_line(incident.source)}", "italic")
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
    return text


def _write_lines(view: IncidentView) -> list[Text]:
    """What the service does not have yet, or refused: loud, above everything else but the
    head, so the status above is never read as the service's own without this beside it."""
    source = view.incident.source
    lines: list[Text] = []
    for warning in view.warnings[:1]:
        line = Text()
        line.append("⚠ ", "bold red")
        line.append(safe_line(warning), "bold red")
        lines.append(line)
    failed = [w for w in view.unsent if w.failed]
    for write in failed[:2]:
        line = _line()
        line.append("✗ ", "bold red")
        line.append(safe_line(describe(write, source)), "bold red")
        line.append("  (cockpit outbox: retry or discard)", "dim")
        lines.append(line)
    waiting = [w for w in view.unsent if not w.failed]
    if waiting:
        line = _line()
        line.append("⇅ ", "yellow")
        actions = ", ".join(dict.fromkeys(w.action for w in waiting))
        line.append(f"{actions}: not yet at {service_name(source)}", "yellow")
        lines.append(line)
    return lines


def _line() -> Text:
    return Text(no_wrap=True, overflow="ellipsis")


def split_labels(alerts: list[AlertRow]) -> tuple[dict[str, str], list[str]]:
    """The labels every alert shares (name -> value), and the names that tell them apart."""
    if not alerts:
        return {}, []
    first = alerts[0].labels
    common = {k: v for k, v in first.items() if all(a.labels.get(k) == v for a in alerts[1:])}
    names = sorted({k for a in alerts for k in a.labels} - common.keys())
    return common, names


def _pairs(labels: dict[str, str], names: list[str]) -> str:
    return " ".join(f"{safe_line(k)}={safe_line(labels[k])}" for k in names if k in labels)


def _ordered(names: list[str]) -> list[str]:
    # alertname says what fires: first, the rest alphabetical.
    return sorted(names, key=lambda k: (k != "alertname", k))


def _alert_lines(view: IncidentView) -> list[Text]:
    alerts = view.alerts
    common, distinct = split_labels(alerts)
    firing = sum(1 for alert in alerts if alert.status == "triggered")
    line = _line()
    line.append("alerts ", "dim")
    line.append(f"{len(alerts)} ({firing} firing)")
    if common:
        line.append("  ")
        line.append(_pairs(common, _ordered(list(common))), "cyan")
    lines = [line]
    for alert in alerts[:MAX_ALERTS]:
        line = _line()
        line.append("  • ", "dim")
        own = _pairs(alert.labels, distinct)
        if own:
            line.append(own, "cyan")
            line.append("  ")
        line.append(_annotation(alert)[:300])
        lines.append(line)
    if len(alerts) > MAX_ALERTS:
        line = _line()
        line.append(f"  … {len(alerts) - MAX_ALERTS} more (cockpit show)", "dim")
        lines.append(line)
    return lines


def _annotation(alert: AlertRow) -> str:
    """The summary, then the description when it says something else."""
    summary = safe_line(alert.annotations.get("summary", "") or alert.summary)
    description = safe_line(alert.annotations.get("description", ""))
    if description and description != summary:
        return f"{summary} — {description}" if summary else description
    return summary


def _link_lines(view: IncidentView) -> list[Text]:
    incident = view.incident
    link = incident.runbook_url or next((a.runbook_url for a in view.alerts if a.runbook_url), "")
    graphs = [a.generator_url for a in view.alerts if a.generator_url]
    line = _line()
    if graphs:
        # Several long URLs do not fit: say which links there are, O lists them.
        line.append("links ", "dim")
        line.append("runbook, graph" if link else "graph")
        line.append("  (O copies or opens)", "dim")
    elif link:
        line.append("runbook link ", "dim")
        line.append(safe_line(link))
    else:
        return []
    return [line]
