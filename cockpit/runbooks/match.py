"""Which runbooks fit an incident, with a score and human reasons.

A runbook URL match (the alert's ``runbook_url`` is listed by the runbook, or ends with its
file name) beats every heuristic. Otherwise the score adds: alert name listed (100),
service listed (50), title regex (40), each label regex (20); urgency and priority add 10
when equal and take 15 off when the runbook names another. A runbook needs one positive
signal to be listed. Ties are broken by runbook id, so the ranking is deterministic.
Regexes run on RE2 (``cockpit.runbooks.patterns``): linear time, whatever the pattern.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from cockpit.runbooks import patterns
from cockpit.runbooks.model import Runbook

URL_SCORE = 1000
ALERT_SCORE = 100
SERVICE_SCORE = 50
TITLE_SCORE = 40
LABEL_SCORE = 20
QUALIFIER_SCORE = 10
MISMATCH_PENALTY = 15


@dataclass(frozen=True)
class IncidentFacts:
    """What matching knows about an incident; plain data, from any provider."""

    title: str = ""
    service: str = ""
    urgency: str = ""
    priority: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    runbook_urls: list[str] = field(default_factory=list)
    alertname: str = ""


def facts_of_incident(incident: Any, alerts: Sequence[Any] = ()) -> IncidentFacts:
    """The facts of an incident row and its alerts (any objects with those fields: the
    screen's rows, the ORM's, a replay's): an incident's own labels win over its alerts',
    and every runbook link any of them names is kept."""
    labels = dict(incident.labels or {})
    for alert in alerts:
        labels = {**(alert.labels or {}), **labels}
    urls = [incident.runbook_url] + [alert.runbook_url for alert in alerts]
    return IncidentFacts(
        title=incident.title,
        service=incident.service_name,
        urgency=incident.urgency,
        priority=incident.priority,
        labels=labels,
        runbook_urls=[url for url in urls if url],
        alertname=labels.get("alertname", ""),
    )


@dataclass(frozen=True)
class RunbookMatch:
    runbook: Runbook
    score: int
    reasons: tuple[str, ...]
    by_url: bool = False


def _strings(value: Any) -> list[str]:
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return [str(value)]
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, str | int | float)]
    return []


def _norm_url(url: str) -> str:
    return url.strip().split("#", 1)[0].rstrip("/")


def _url_reason(runbook: Runbook, urls: list[str]) -> str:
    listed = [
        _norm_url(u) for key in ("runbook_urls", "urls") for u in _strings(runbook.meta.get(key))
    ]
    name = PurePosixPath(runbook.path.replace("\\", "/")).name.lower()
    for url in urls:
        wanted = _norm_url(url)
        if not wanted:
            continue
        if wanted in listed:
            return f"runbook URL {url} is listed by this runbook (beats every heuristic)"
        path = urlsplit(wanted).path if "://" in wanted else wanted
        if name and PurePosixPath(path).name.lower() == name:
            return f"runbook URL {url} points at this file, {name} (beats every heuristic)"
    return ""


def _search(pattern: Any, text: str) -> bool:
    # Linear time (RE2), so an incident switch never waits on a backtracking regex; a
    # pattern that is invalid or needs what RE2 lacks matches nothing (lint reports it).
    return patterns.search(pattern, text)


def score_runbook(runbook: Runbook, facts: IncidentFacts) -> RunbookMatch | None:
    reasons: list[str] = []
    score = 0
    positive = False
    url = _url_reason(runbook, facts.runbook_urls)
    if url:
        score += URL_SCORE
        reasons.append(url)
        positive = True
    match = runbook.meta.get("match")
    match = match if isinstance(match, dict) else {}
    alerts = (
        _strings(runbook.meta.get("alerts"))
        + _strings(match.get("alerts"))
        + _strings(match.get("alertname"))
    )
    alertname = facts.alertname or facts.labels.get("alertname", "")
    if alertname and alertname.lower() in {a.lower() for a in alerts}:
        score += ALERT_SCORE
        reasons.append(f"alert {alertname} is listed in alerts")
        positive = True
    services = (
        list(runbook.services) + _strings(match.get("service")) + _strings(match.get("services"))
    )
    if facts.service and facts.service.lower() in {s.lower() for s in services}:
        score += SERVICE_SCORE
        reasons.append(f"service {facts.service} is listed")
        positive = True
    title = match.get("title")
    if title is not None and facts.title and _search(title, facts.title):
        score += TITLE_SCORE
        reasons.append(f"title matches /{title}/")
        positive = True
    labels = match.get("labels")
    if isinstance(labels, dict):
        for key, pattern in sorted(labels.items(), key=lambda kv: str(kv[0])):
            value = facts.labels.get(str(key))
            if value is not None and _search(pattern, value):
                score += LABEL_SCORE
                reasons.append(f"label {key}={value} matches /{pattern}/")
                positive = True
            elif value is not None:
                score -= MISMATCH_PENALTY
                reasons.append(f"label {key}={value} does not match /{pattern}/")
    for name, wanted in (("urgency", match.get("urgency")), ("priority", match.get("priority"))):
        have = getattr(facts, name)
        if wanted is None or not have:
            continue
        if str(wanted).lower() == have.lower():
            score += QUALIFIER_SCORE
            reasons.append(f"{name} {have} as the runbook expects")
        else:
            score -= MISMATCH_PENALTY
            reasons.append(f"{name} {have}, the runbook is for {wanted}")
    if not positive:
        return None
    return RunbookMatch(runbook, score, tuple(reasons), by_url=bool(url))


def match_runbooks(runbooks: Iterable[Runbook], facts: IncidentFacts) -> list[RunbookMatch]:
    """Matching runbooks, best first; an empty list when none fits (a normal answer)."""
    found = [m for m in (score_runbook(r, facts) for r in runbooks) if m is not None]
    return sorted(found, key=lambda m: (-m.score, m.runbook.id, m.runbook.path))
