"""Laptops for the team-mode tests: a separate data folder and settings each, ``cockpit`` run
as a subprocess each time, two incidents (pagerduty:P1, P2) already pulled."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from team_pg import PgServer

from cockpit.records import IncidentRecord
from cockpit.store.engine import Store
from cockpit.store.upsert import upsert_incidents


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


def make_laptop(root: Path, name: str, member: str) -> Laptop:
    folder = root / name
    store = Store.open(folder / "data")
    now = datetime.now(UTC)
    with store.write() as session:
        upsert_incidents(
            session,
            "pagerduty",
            [
                IncidentRecord(
                    id=f"P{n}",
                    number=n,
                    title=f"incident {n}",
                    status="triggered",
                    created_at=now,
                    updated_at=now,
                    urgency="high",
                    service_name="payments",
                )
                for n in (1, 2)
            ],
        )
    store.close()
    return Laptop(name, folder, member)


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
