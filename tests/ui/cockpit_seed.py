"""A small, fixed store for the UI tests and snapshots: three open incidents, one resolved,
people, an on-call roster, pages for "me", and the test runbook."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from cockpit.config import load_settings
from cockpit.records import AlertRecord, IncidentRecord, LogEntryRecord, OnCallRecord, PersonRecord
from cockpit.store.engine import Store
from cockpit.store.upsert import (
    insert_log_entries,
    replace_oncalls,
    upsert_alerts,
    upsert_incidents,
    upsert_people,
)
from cockpit.sync.identity import Me, set_me

if TYPE_CHECKING:
    from cockpit.screens.cockpit_screen import CockpitScreen

NOW = datetime(2026, 3, 10, 3, 12, 0, tzinfo=UTC)
HERE = Path(__file__).parent
HOSTILE = "Disk [bold]x[/] full \x1b]52;c;ZXZpbA==\x07 on db-1 \x1b[2J now"


def frozen() -> datetime:
    return NOW


def incident(
    number: int, title: str, status: str, minutes_ago: int, **fields: object
) -> IncidentRecord:
    created = NOW - timedelta(minutes=minutes_ago)
    return IncidentRecord(
        id=f"PINC{number:03d}",
        number=number,
        title=title,
        status=status,  # type: ignore[arg-type]
        created_at=created,
        updated_at=created,
        acknowledged_at=created + timedelta(minutes=2) if status != "triggered" else None,
        resolved_at=created + timedelta(minutes=30) if status == "resolved" else None,
        **fields,  # type: ignore[arg-type]
    )


def seed(
    root: Path, *, title: str = "High latency on product-api /product"
) -> tuple[object, Store]:
    """Settings and an open store under ``root`` (runbooks copied into ``root/runbooks``)."""
    runbooks = root / "runbooks"
    runbooks.mkdir(parents=True, exist_ok=True)
    shutil.copy(HERE / "cache_stampede.md", runbooks / "cache_stampede.md")
    (root / "config.toml").write_text("")
    settings = load_settings(
        root / "config.toml", environ={}, flags={"data_dir": root / "data", "runbooks": runbooks}
    )
    store = Store.open(root / "data")
    people = [
        PersonRecord("PME", "Alex Night", "alex@example.com", "Europe/Berlin"),
        PersonRecord("PBOB", "Bob Day", "bob@example.com", "UTC"),
        PersonRecord("PCAR", "Carol Next", "carol@example.com", "UTC"),
    ]
    records = [
        incident(
            101,
            title,
            "triggered",
            14,
            urgency="high",
            service_name="product-api",
            assignees=("PME",),
            team="storefront",
        ),
        incident(
            102,
            "Checkout 5xx above 1%",
            "acknowledged",
            50,
            urgency="high",
            service_name="checkout",
            assignees=("PBOB",),
        ),
        incident(
            103, "Disk 80% on logs-2", "triggered", 120, urgency="low", service_name="logging"
        ),
        incident(99, "Search index lag", "resolved", 600, service_name="search"),
    ]
    entries = [
        LogEntryRecord(
            "L1",
            "PINC101",
            "trigger",
            NOW - timedelta(minutes=14),
            summary="Triggered through the API",
        ),
        LogEntryRecord(
            "L2",
            "PINC101",
            "notify",
            NOW - timedelta(minutes=14),
            summary="Notified Alex Night by push",
            person_id="PME",
            channel="push",
        ),
        LogEntryRecord(
            "L3",
            "PINC102",
            "notify",
            NOW - timedelta(minutes=50),
            summary="Notified Alex Night by phone",
            person_id="PME",
            channel="phone",
        ),
        LogEntryRecord(
            "L4",
            "PINC099",
            "notify",
            NOW - timedelta(days=3),
            summary="Notified Alex Night",
            person_id="PME",
        ),
    ]
    with store.write() as session:
        upsert_people(session, "pagerduty", people)
        upsert_incidents(session, "pagerduty", records)
        insert_log_entries(session, "pagerduty", entries)
        upsert_alerts(
            session,
            "pagerduty",
            [
                AlertRecord(
                    "A1",
                    "PINC101",
                    "p95 latency 1.2 s on /product",
                    "triggered",
                    NOW - timedelta(minutes=14),
                    severity="critical",
                )
            ],
        )
        replace_oncalls(
            session,
            "pagerduty",
            [
                OnCallRecord(
                    "PME",
                    "EP1",
                    1,
                    NOW - timedelta(hours=4),
                    NOW + timedelta(hours=8),
                    schedule_name="Primary",
                ),
                OnCallRecord(
                    "PCAR",
                    "EP1",
                    2,
                    NOW - timedelta(hours=4),
                    NOW + timedelta(hours=8),
                    schedule_name="Secondary",
                ),
            ],
        )
        set_me(session, Me("pagerduty:PME", "Alex Night", "alex@example.com"))
    return settings, store


class Clock:
    """A clock the test moves by hand: ``clock.now += timedelta(minutes=5)``."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def screen_text(app: object) -> str:
    """Every character the compositor would write to the terminal for the current screen.
    (Textual has no public "text of the screen"; this is the one place tests reach for it.)"""
    update = app.screen._compositor.render_full_update()  # type: ignore[attr-defined]
    return "\n".join("".join(segment.text for segment in strip) for strip in update.strips)


def notices(app: object) -> list[tuple[str, str, str]]:
    """(title, message, severity) of the notifications shown, oldest first."""
    return [(n.title, n.message, n.severity) for n in app.notices]  # type: ignore[attr-defined]


def store_of(app: object) -> Store:
    """The app's local store (the tests' apps all have one)."""
    store = getattr(app, "store", None)
    assert isinstance(store, Store), "this app has no local store"
    return store


def cockpit_screen(app: object) -> CockpitScreen:
    """The cockpit screen on top (a drill's practice screen is one too)."""
    from cockpit.screens.cockpit_screen import CockpitScreen

    screen = getattr(app, "screen", None)
    assert isinstance(screen, CockpitScreen), f"the screen on top is {type(screen).__name__}"
    return screen
