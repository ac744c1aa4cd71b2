"""Laptops for the team-mode tests: a separate data folder and settings each, ``cockpit`` run
as a subprocess each time, two incidents (pagerduty:P1, P2) already pulled. Also what the
in-process tests share: incidents as a pull leaves them (``add_incidents``), and a ``Side``,
one laptop's store driven without a team store (capture what waits to go up, apply pages)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from team_pg import PgServer

from cockpit.records import IncidentRecord
from cockpit.store.engine import Store
from cockpit.store.upsert import upsert_incidents
from cockpit.team import apply, exchange, local
from cockpit.team.events import Pulled


@dataclass
class Laptop:
    name: str
    folder: Path
    member: str

    def run(
        self, *argv: str, check: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """``cockpit ARGV`` on this laptop; ``env`` adds to (or overrides) its environment,
        whose PagerDuty URL is never reached unless ``env`` names a real one."""
        env = {
            **os.environ,
            "COCKPIT_TEAM_ORIGIN": self.name,
            "COCKPIT_PAGERDUTY_URL": "http://127.0.0.1:9",
            **(env or {}),
        }
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "cockpit",
                "--config",
                str(self.folder / "config.toml"),
                "--data-dir",
                str(self.folder / "data"),
                *argv,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            stdin=subprocess.DEVNULL,
        )
        if check:
            assert result.returncode == 0, f"{self.name} {argv}: {result.stderr}{result.stdout}"
        return result

    def rows(self, sql: str, *params: object) -> list[tuple[object, ...]]:
        with sqlite3.connect(self.folder / "data" / "cockpit.db") as conn:
            return conn.execute(sql, params).fetchall()

    def batons(self, incident: str = "pagerduty:P1") -> list[tuple[object, ...]]:
        return self.rows(
            "SELECT from_person, to_person, note, state FROM baton_passes"
            " WHERE incident_id = ? ORDER BY id",
            incident,
        )


def add_incidents(
    store: Store,
    keys: Iterable[tuple[str, int]],
    *,
    source: str = "pagerduty",
    now: datetime | None = None,
) -> None:
    """Triggered, high-urgency incidents of ``payments`` as a pull of ``source`` stores
    them: ``keys`` are (remote id, number), titled ``incident <number>``."""
    at = now or datetime.now(UTC)
    with store.write() as session:
        upsert_incidents(
            session,
            source,
            [
                IncidentRecord(
                    id=key,
                    number=number,
                    title=f"incident {number}",
                    status="triggered",
                    created_at=at,
                    updated_at=at,
                    urgency="high",
                    service_name="payments",
                )
                for key, number in keys
            ],
        )


def make_laptop(root: Path, name: str, member: str) -> Laptop:
    folder = root / name
    store = Store.open(folder / "data")
    add_incidents(store, [("P1", 1), ("P2", 2)])
    store.close()
    return Laptop(name, folder, member)


class Side:
    """One laptop's store for the capture/apply tests: the Store, and a plain connection as
    the exchange uses. ``seed`` fills the store before the connection opens."""

    # Whether ``take`` applies a page as the exchange does (then the parked events again,
    # and what follows a pull), or only applies each event.
    LIKE_THE_EXCHANGE = False

    def __init__(self, root: Path, name: str) -> None:
        self.name = name
        self.store = Store.open(root / name)
        self.seed(root / name / "cockpit.db")
        self.conn = sqlite3.connect(root / name / "cockpit.db", isolation_level=None)
        self.conn.execute("PRAGMA foreign_keys = ON")
        local.ensure(self.conn)

    def seed(self, db: Path) -> None:
        add_incidents(self.store, [("P1", 1), ("P2", 2)])

    def send(self, author: str, tx: list[int]) -> list[Pulled]:
        """Capture, and take what waits to go up as the team store would hand it out."""
        self.conn.execute("BEGIN IMMEDIATE")
        apply.capture(self.conn)
        self.conn.execute("COMMIT")
        rows = self.conn.execute(
            "SELECT id, kind, incident_key, payload FROM team_outbox WHERE state = 'pending'"
            " ORDER BY seq"
        ).fetchall()
        self.conn.execute("UPDATE team_outbox SET state = 'sent' WHERE state = 'pending'")
        events = []
        for event_id, kind, incident, payload in rows:
            tx[0] += 1
            events.append(
                Pulled(event_id, str(tx[0]), kind, incident, json.loads(payload), author, self.name)
            )
        return events

    def take(self, events: list[Pulled]) -> list[str]:
        self.conn.execute("BEGIN IMMEDIATE")
        outcomes = [apply.apply(self.conn, event, set()) for event in events]
        if self.LIKE_THE_EXCHANGE:
            exchange._retry_parked(self.conn, set())
            apply.after_pull(self.conn)
        self.conn.execute("COMMIT")
        return outcomes


def make_laptops(tmp_path: Path, pg_server: PgServer, team_db: str) -> list[Laptop]:
    found = [
        make_laptop(tmp_path, "laptop-a", "alice"),
        make_laptop(tmp_path, "laptop-b", "bob"),
        make_laptop(tmp_path, "laptop-c", "carol"),
    ]
    for laptop in found:
        laptop.run("team", "join", pg_server.url(laptop.member, team_db))
    return found


def team_events(pg_server: PgServer, team_db: str) -> list[tuple[str, str, str]]:
    with psycopg.connect(pg_server.url("owner", team_db)) as conn:
        return [
            (str(r[0]), str(r[1]), str(r[2]))
            for r in conn.execute("SELECT kind, author, origin FROM events ORDER BY tx, id")
        ]
