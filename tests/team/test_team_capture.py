"""Capturing local rows for the team (no PostgreSQL needed): every local baton row goes up
once, even one made while a pull was applying someone else's."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from cockpit.records import IncidentRecord
from cockpit.store.engine import Store
from cockpit.store.upsert import upsert_incidents
from cockpit.team import apply, local


def _store(tmp_path: Path) -> sqlite3.Connection:
    store = Store.open(tmp_path)
    now = datetime.now(UTC)
    with store.write() as session:
        upsert_incidents(
            session,
            "pagerduty",
            [
                IncidentRecord(
                    id="P1",
                    number=1,
                    title="t",
                    status="triggered",
                    created_at=now,
                    updated_at=now,
                    urgency="high",
                    service_name="s",
                )
            ],
        )
    store.close()
    conn = sqlite3.connect(tmp_path / "cockpit.db", isolation_level=None)
    local.ensure(conn)
    return conn


def _offer(conn: sqlite3.Connection, note: str) -> None:
    conn.execute(
        "INSERT INTO baton_passes (incident_id, from_person, to_person, note, offered_at, state)"
        " VALUES ('pagerduty:P1', 'local:a', 'local:b', ?, '2026-12-01 10:00:00.000000',"
        " 'offered')",
        (note,),
    )


def _queued(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    return [
        (r[0], r[1])
        for r in conn.execute(
            "SELECT kind, json_extract(payload, '$.note') FROM team_outbox ORDER BY seq"
        )
    ]


def test_a_row_made_during_a_pull_is_still_captured(tmp_path: Path) -> None:
    conn = _store(tmp_path)
    _offer(conn, "mine before")
    assert apply.capture(conn) == 1
    _offer(conn, "mine during the pull")  # after capture, before the pull's rows
    pulled = apply.Pulled(
        local.uuid7(),
        "100",
        "baton_offer",
        "pagerduty:P1",
        {"from_person": "local:c", "to_person": "local:a", "note": "theirs"},
        "carol",
        "laptop-c",
    )
    assert apply.apply(conn, pulled, set()) == "applied"
    assert apply.capture(conn) == 1
    assert apply.capture(conn) == 0
    assert _queued(conn) == [
        ("baton_offer", "mine before"),
        ("baton_offer", "mine during the pull"),
    ]
    # Applying the same event again changes nothing.
    assert apply.apply(conn, pulled, set()) == "skipped"


def test_an_acceptance_of_a_shared_offer_goes_up_once(tmp_path: Path) -> None:
    conn = _store(tmp_path)
    _offer(conn, "yours")
    apply.capture(conn)
    conn.execute(
        "UPDATE baton_passes SET state = 'accepted', accepted_at = '2026-12-01 10:05:00.000000'"
    )
    assert apply.capture(conn) == 1
    assert apply.capture(conn) == 0
    assert [kind for kind, _ in _queued(conn)] == ["baton_offer", "baton_accept"]


def test_an_event_for_an_incident_not_here_yet_is_parked(tmp_path: Path) -> None:
    conn = _store(tmp_path)
    pulled = apply.Pulled(
        local.uuid7(),
        "7",
        "baton_offer",
        "pagerduty:P9",
        {"to_person": "local:a"},
        "carol",
        "laptop-c",
    )
    assert apply.apply(conn, pulled, set()) == "parked"
    assert conn.execute("SELECT count(*) FROM team_parked").fetchone() == (1,)


def test_a_parked_offer_is_applied_once_its_incident_arrives(tmp_path: Path) -> None:
    from cockpit.team import exchange

    conn = _store(tmp_path)
    offer = apply.Pulled(
        local.uuid7(),
        "7",
        "baton_offer",
        "pagerduty:P9",
        {"to_person": "local:a", "note": "n"},
        "carol",
        "laptop-c",
    )
    accept = apply.Pulled(
        local.uuid7(),
        "8",
        "baton_accept",
        "pagerduty:P9",
        {"offer": offer.id, "by": "local:a"},
        "alice",
        "laptop-a",
    )
    assert apply.apply(conn, offer, set()) == "parked"
    assert apply.apply(conn, accept, set()) == "parked"
    assert exchange._retry_parked(conn, set()) == 0
    conn.execute("UPDATE incidents SET id = 'pagerduty:P9', remote_id = 'P9'")
    assert exchange._retry_parked(conn, set()) == 2
    assert conn.execute("SELECT to_person, state FROM baton_passes").fetchall() == [
        ("local:a", "accepted")
    ]
    assert conn.execute("SELECT count(*) FROM team_parked").fetchone() == (0,)
    assert apply.capture(conn) == 0  # what came down does not go back up
