"""Pull from Alertmanager into the store: incremental by fingerprint and ``updatedAt``.

Alertmanager lists only what fires now and keeps no log, so each pull compares the server's
snapshot with what the store holds:

* a group seen for the first time (or firing again after it was resolved) gets a ``trigger``
  timeline event; a group or alert is written only when its content changed (per-alert
  ``updatedAt`` and a per-group digest are kept in ``SyncState("alertmanager:alerts").cursor``);
* a group that is no longer listed is resolved (with a ``resolve`` event, and our silences for it
  expired, since the alert cleared) - but only once the server has been up for
  ``RESTART_GRACE``. A restarted Alertmanager forgets every alert until Prometheus re-sends
  them (within a minute or two), so a young server's silence is no evidence of anything. An
  alert listed with its ``endsAt`` passed is resolved at once.

Rows are never deleted: resolving only changes status, and local notes, baton and runs stay.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from cockpit.integrations.alertmanager import AlertmanagerProvider, Snapshot
from cockpit.integrations.alertmanager_parse import Group, format_time
from cockpit.integrations.base import ProgressCallback, ProviderError
from cockpit.records import AlertRecord, IncidentRecord, LogEntryRecord
from cockpit.store.engine import Store
from cockpit.store.models import Alert, Incident, OutboxItem, SyncState
from cockpit.store.timefmt import as_utc, utcnow
from cockpit.store.upsert import insert_log_entries, qualify, upsert_alerts, upsert_incidents
from cockpit.sync.pull import PullResult

SOURCE = "alertmanager"
CURSOR_KEY = "alertmanager:alerts"
# Prometheus re-sends firing alerts every minute or so (its --rules.alert.resend-delay); five
# minutes leaves room for a slow evaluation interval before "missing" is read as "cleared".
RESTART_GRACE = timedelta(minutes=5)


def _digest(record: IncidentRecord, alerts: list[AlertRecord]) -> str:
    data = {"incident": dataclasses.asdict(record), "alerts": sorted(a.id for a in alerts)}
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _stamp(value: datetime | None) -> str:
    return format_time(value) if value else ""


async def pull_alertmanager(
    store: Store,
    provider: AlertmanagerProvider,
    *,
    now: datetime | None = None,
    progress: ProgressCallback | None = None,
) -> PullResult:
    """One pull. Safe to repeat; a pull with nothing new writes no incident, alert or event.

    Raises:
        ProviderError: the server could not be read (nothing is written then).
    """
    now = as_utc(now) if now else utcnow()
    if progress:
        progress(0, None, "alertmanager")
    snap = await provider.snapshot(now)
    result = PullResult()
    with store.write() as session:
        cleared = _reconcile(session, snap, now, result)
    for gid in cleared:
        # The alert cleared: a silence of ours must not hide its next occurrence.
        try:
            expired = await provider.expire_silences(gid, snap)
        except ProviderError as error:
            result.reconciled.append(
                f"could not expire the silence of cleared group {gid}: {error}"
            )
            continue
        if expired:
            result.reconciled.append(f"expired {len(expired)} silence(s) of cleared group {gid}")
    if progress:
        progress(len(snap.groups), len(snap.groups), "alertmanager")
    return result


def _reconcile(session: Session, snap: Snapshot, now: datetime, result: PullResult) -> list[str]:
    state = session.get(SyncState, CURSOR_KEY) or SyncState(key=CURSOR_KEY)
    cursor: dict[str, Any] = dict(state.cursor or {})
    seen: dict[str, str] = dict(cursor.get("alerts") or {})
    digests: dict[str, str] = dict(cursor.get("groups") or {})
    uptime = snap.uptime
    settled = uptime is not None and now - uptime >= RESTART_GRACE
    if cursor.get("uptime") and uptime and cursor["uptime"] != _stamp(uptime):
        result.reconciled.append(f"Alertmanager restarted (up since {_stamp(uptime)})")

    rows = {
        row.id: row
        for row in session.exec(
            select(Incident).where(Incident.source == SOURCE, col(Incident.is_drill).is_(False))
        )
    }
    pending = {
        item.incident_id: item.action
        for item in session.exec(
            select(OutboxItem).where(
                OutboxItem.source == SOURCE, col(OutboxItem.state).in_(("pending", "sending"))
            )
        )
    }
    incidents: list[IncidentRecord] = []
    alerts: list[AlertRecord] = []
    events: list[LogEntryRecord] = []
    for group in snap.groups:
        row = rows.get(qualify(SOURCE, group.id))
        record = _merge(group, row, pending, result)
        digest = _digest(record, group.alerts)
        if row is None or digests.get(group.id) != digest:
            incidents.append(record)
            digests[group.id] = digest
        if row is None or (row.status == "resolved" and record.status != "resolved"):
            events.append(_trigger(group))
        for alert in group.alerts:
            if row is None or seen.get(alert.id) != _stamp(alert.updated_at):
                alerts.append(alert)
            seen[alert.id] = _stamp(alert.updated_at)
        if row is not None:
            _resolve_missing_alerts(session, row.id, group, settled, now, result)

    listed = {qualify(SOURCE, g.id) for g in snap.groups}
    missing = [r for r in rows.values() if r.id not in listed and r.status != "resolved"]
    cleared: list[str] = []
    if missing and not settled:
        since = _stamp(uptime) if uptime else "an unknown time"
        result.reconciled.append(
            f"held off resolving {len(missing)} group(s) no longer listed: Alertmanager is up "
            f"since {since}, less than {int(RESTART_GRACE.total_seconds() // 60)} min; "
            "Prometheus re-sends firing alerts after a restart"
        )
    elif missing:
        for row in missing:
            _resolve_row(session, row, now, events)
            digests.pop(row.remote_id, None)
            seen = {k: v for k, v in seen.items() if not k.startswith(f"{row.remote_id}-")}
            cleared.append(row.remote_id)
        result.resolved = len(missing)

    result.incidents = upsert_incidents(session, SOURCE, incidents)
    result.alerts += upsert_alerts(session, SOURCE, alerts)
    if events:
        insert_log_entries(session, SOURCE, events)
    cursor.update(alerts=seen, groups=digests, uptime=_stamp(uptime))
    state.cursor = cursor
    state.watermark = now
    state.updated_at = now
    state.last_ok_at = now
    state.last_error = ""
    session.add(state)
    return cleared


def _merge(
    group: Group, row: Incident | None, pending: dict[str, str], result: PullResult
) -> IncidentRecord:
    """The group's record, keeping what the store knows better than the server."""
    record = group.incident
    if row is None:
        return record
    # One id per group: a group firing again keeps its first start as created_at.
    record = dataclasses.replace(record, created_at=min(as_utc(row.created_at), record.created_at))
    action = pending.get(row.id)
    if action and row.status != record.status:
        # A local acknowledge/resolve not yet delivered: the server cannot know it yet.
        result.reconciled.append(
            f"kept local status {row.status} of {row.remote_id}: {action} pending"
        )
        record = dataclasses.replace(
            record,
            status=row.status,
            resolved_at=as_utc(row.resolved_at) if row.resolved_at else None,
        )
    return record


def _trigger(group: Group) -> LogEntryRecord:
    started = group.incident.created_at
    return LogEntryRecord(
        id=f"{group.id}:trigger:{_stamp(started)}",
        incident_id=group.id,
        type="trigger",
        created_at=started,
        summary=f"Alert group fired: {group.incident.title}",
        agent_name="Alertmanager",
        details={"receiver": group.receiver, "group_labels": dict(group.labels)},
    )


def _resolve_row(
    session: Session, row: Incident, now: datetime, events: list[LogEntryRecord]
) -> None:
    row.status = "resolved"
    row.resolved_at = now
    row.updated_at = now
    row.synced_at = now
    session.add(row)
    for alert in session.exec(select(Alert).where(Alert.incident_id == row.id)):
        if alert.status != "resolved":
            alert.status = "resolved"
            alert.updated_at = now
            session.add(alert)
    events.append(
        LogEntryRecord(
            id=f"{row.remote_id}:resolve:{_stamp(now)}",
            incident_id=row.remote_id,
            type="resolve",
            created_at=now,
            summary="Alert group cleared: no longer listed by Alertmanager",
            agent_name="Alertmanager",
        )
    )


def _resolve_missing_alerts(
    session: Session,
    incident_id: str,
    group: Group,
    settled: bool,
    now: datetime,
    result: PullResult,
) -> None:
    """Alerts of a still-listed group that are no longer listed have cleared."""
    listed = {qualify(SOURCE, a.id) for a in group.alerts}
    gone = [
        a
        for a in session.exec(select(Alert).where(Alert.incident_id == incident_id))
        if a.id not in listed and a.status != "resolved"
    ]
    if not gone or not settled:
        return
    for alert in gone:
        alert.status = "resolved"
        alert.updated_at = now
        session.add(alert)
    result.alerts += len(gone)


__all__ = ["CURSOR_KEY", "RESTART_GRACE", "PullResult", "pull_alertmanager"]
