"""Alertmanager API v2 JSON to cockpit records: pure functions, no I/O.

An incident is one alert group (receiver + group labels). Its id is a short hash of the
receiver and the sorted group labels, so the same group keeps its id across syncs, across
cockpit restarts and across Alertmanager restarts.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cockpit.records import AlertRecord, IncidentRecord, IncidentStatus

HIGH_SEVERITIES = frozenset({"critical", "page", "error", "high"})
# Tag carried in the comment of every silence cockpit creates, so that a silence can be
# found by group even when the group has cleared and its labels are no longer listed.
GROUP_TAG = "[cockpit group {}]"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Matcher:
    name: str
    value: str
    is_regex: bool = False
    is_equal: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "isRegex": self.is_regex,
            "isEqual": self.is_equal,
        }


@dataclass(frozen=True)
class Silence:
    id: str
    state: str  # active | pending | expired
    matchers: frozenset[Matcher]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str

    @property
    def live(self) -> bool:
        return self.state in ("active", "pending")


@dataclass(frozen=True)
class Group:
    """One alert group as the server lists it, with the records cockpit makes of it."""

    id: str
    receiver: str
    labels: dict[str, str]
    incident: IncidentRecord
    alerts: list[AlertRecord] = field(default_factory=list)
    silenced_by: frozenset[str] = frozenset()  # ids of the silences muting any of its alerts

    @property
    def matchers(self) -> frozenset[Matcher]:
        return group_matchers(self.labels, self.alerts)


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.astimezone(UTC)


def format_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _strmap(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items()}


def group_id(receiver: str, labels: dict[str, str]) -> str:
    canonical = json.dumps([receiver, sorted(labels.items())], separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]


def group_matchers(labels: dict[str, str], alerts: list[AlertRecord]) -> frozenset[Matcher]:
    """Equality matchers for exactly this group: its group labels.

    A route with an empty ``group_by`` puts every alert in one group with no labels; a silence
    needs at least one matcher, so the labels all its alerts share stand in.
    """
    chosen = dict(labels)
    if not chosen and alerts:
        common = dict(alerts[0].labels)
        for alert in alerts[1:]:
            common = {k: v for k, v in common.items() if alert.labels.get(k) == v}
        chosen = common
    return frozenset(Matcher(k, v) for k, v in chosen.items())


def urgency(severity: str) -> str:
    return "high" if severity.lower() in HIGH_SEVERITIES else "low"


def alert(raw: dict[str, Any], incident_id: str, now: datetime) -> AlertRecord:
    labels = _strmap(raw.get("labels"))
    annotations = _strmap(raw.get("annotations"))
    fingerprint = str(raw.get("fingerprint") or "")
    starts = parse_time(raw.get("startsAt")) or _EPOCH
    updated = parse_time(raw.get("updatedAt")) or starts
    ends = parse_time(raw.get("endsAt"))
    status = "resolved" if ends is not None and ends <= now else "triggered"
    summary = (
        annotations.get("summary")
        or annotations.get("description")
        or labels.get("alertname")
        or fingerprint
    )
    return AlertRecord(
        id=f"{incident_id}-{fingerprint}",
        incident_id=incident_id,
        summary=summary,
        status=status,
        created_at=starts,
        severity=labels.get("severity", ""),
        fingerprint=fingerprint,
        updated_at=updated,
        labels=labels,
        annotations=annotations,
        runbook_url=annotations.get("runbook_url", ""),
        generator_url=str(raw.get("generatorURL") or ""),
    )


def _silenced_by(raw: dict[str, Any]) -> set[str]:
    status = raw.get("status")
    ids = status.get("silencedBy") if isinstance(status, dict) else None
    return {str(i) for i in ids} if isinstance(ids, list) else set()


def _title(labels: dict[str, str], first: AlertRecord | None) -> str:
    head = ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))
    text = ""
    if first is not None:
        text = (
            first.annotations.get("summary")
            or first.annotations.get("description")
            or first.labels.get("alertname", "")
        )
    if head and text and text != labels.get("alertname"):
        return f"{text} ({head})"
    return text or head or "(alert group without labels)"


def group(raw: dict[str, Any], ours: dict[str, Silence], now: datetime) -> Group:
    """One entry of ``GET /alerts/groups``.

    Args:
        raw: the group's JSON.
        ours: the live silences cockpit created, by id; a group every alert of which is
            silenced by one of them is "acknowledged".
        now: alerts whose ``endsAt`` has passed are resolved.
    """
    receiver_raw = raw.get("receiver")
    receiver = str(receiver_raw.get("name", "")) if isinstance(receiver_raw, dict) else ""
    labels = _strmap(raw.get("labels"))
    gid = group_id(receiver, labels)
    raw_alerts = [a for a in raw.get("alerts") or [] if isinstance(a, dict)]
    alerts = [alert(a, gid, now) for a in raw_alerts]
    alerts.sort(key=lambda a: (a.created_at, a.fingerprint))
    muting = [_silenced_by(a) for a in raw_alerts]
    silenced_by = frozenset().union(*muting) if muting else frozenset()
    # Acknowledged: every alert is muted by at least one silence of ours.
    all_ours = bool(muting) and all(ids & ours.keys() for ids in muting)
    first = alerts[0] if alerts else None
    merged_labels = dict(first.labels) if first else {}
    merged_labels.update(labels)
    annotations = dict(first.annotations) if first else {}
    severity = merged_labels.get("severity", "")
    created = min((a.created_at for a in alerts), default=_EPOCH)
    updated = max((a.updated_at or a.created_at for a in alerts), default=created)
    ack_by = [ours[s] for s in silenced_by if s in ours] if all_ours else []
    status: IncidentStatus = "acknowledged" if ack_by else "triggered"
    if alerts and all(a.status == "resolved" for a in alerts):
        status = "resolved"
    runbook_url = next((a.runbook_url for a in alerts if a.runbook_url), "")
    generator = next((a.generator_url for a in alerts if a.generator_url), "")
    if generator:
        annotations.setdefault("generatorURL", generator)
    service = merged_labels.get("service") or merged_labels.get("job", "")
    incident = IncidentRecord(
        id=gid,
        title=_title(labels, first),
        status=status,
        created_at=created,
        updated_at=updated,
        urgency=urgency(severity),
        service_id=service,
        service_name=service,
        team=merged_labels.get("team", ""),
        acknowledged_at=min((s.starts_at for s in ack_by), default=None),
        html_url=generator,
        labels=merged_labels,
        annotations=annotations,
        runbook_url=runbook_url,
        incident_key=f"{receiver}:{json.dumps(labels, sort_keys=True)}",
    )
    return Group(gid, receiver, labels, incident, alerts, silenced_by)


def silence(raw: dict[str, Any]) -> Silence:
    matchers = set()
    for m in raw.get("matchers") or []:
        if isinstance(m, dict):
            matchers.add(
                Matcher(
                    str(m.get("name", "")),
                    str(m.get("value", "")),
                    bool(m.get("isRegex", False)),
                    bool(m.get("isEqual", True)),
                )
            )
    status = raw.get("status")
    return Silence(
        id=str(raw.get("id", "")),
        state=str(status.get("state", "")) if isinstance(status, dict) else "",
        matchers=frozenset(matchers),
        starts_at=parse_time(raw.get("startsAt")) or _EPOCH,
        ends_at=parse_time(raw.get("endsAt")) or _EPOCH,
        created_by=str(raw.get("createdBy", "")),
        comment=str(raw.get("comment", "")),
    )


def error_text(body: bytes) -> str:
    """Alertmanager's 4xx bodies are a JSON string or an object with ``message``."""
    try:
        data = json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")[:300]
    if isinstance(data, dict):
        return str(data.get("message") or data.get("error") or data)[:300]
    return str(data)[:300]
