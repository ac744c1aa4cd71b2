"""Small builders for seeding a real store in the metrics, handoff, drill and flywheel tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cockpit.store import Incident, OnCallShift, Person, Store, TimelineEvent


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def open_store(tmp_path: Path) -> Store:
    return Store.open(tmp_path / "cockpit.db")


def person(
    store: Store, pid: str, name: str, tz: str = "UTC", teams: list[str] | None = None
) -> None:
    with store.write() as session:
        session.add(Person(id=pid, source="pagerduty", name=name, time_zone=tz, teams=teams or []))


def incident(store: Store, iid: str, created: datetime, **fields: Any) -> Incident:
    values: dict[str, Any] = {
        "source": "pagerduty",
        "remote_id": iid.split(":")[-1],
        "title": f"incident {iid}",
        "status": "triggered",
        "created_at": created,
        "updated_at": created,
    }
    values.update(fields)
    row = Incident(id=iid, **values)
    with store.write() as session:
        session.add(row)
    return row


def event(store: Store, iid: str, kind: str, at: datetime, **fields: Any) -> None:
    with store.write() as session:
        session.add(TimelineEvent(incident_id=iid, kind=kind, at=at, **fields))


def notify(
    store: Store, iid: str, pid: str, at: datetime, channel: str = "push", **fields: Any
) -> None:
    event(store, iid, "notify", at, person_id=pid, channel=channel, **fields)


def shift(store: Store, pid: str, start: datetime, end: datetime | None, level: int = 1) -> None:
    with store.write() as session:
        session.add(
            OnCallShift(
                source="pagerduty",
                person_id=pid,
                start=start,
                end=end,
                escalation_level=level,
                escalation_policy_id="EP1",
            )
        )
