"""Handoffs across laptops: signed on A, accepted on B; two laptops accepting one handoff.

The first tests capture and apply on real SQLite files (each laptop's store), carrying the
events from one to the other by hand; the last ones run laptops as separate `cockpit`
processes sharing a real PostgreSQL team store."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import laptops
import pytest
from laptops import Laptop, make_laptops, team_events
from team_pg import PgServer

from cockpit.handoff import accept_handoff, draft_handoff, save_handoff, sign_handoff
from cockpit.integrations.pagerduty_emulator import EmulatorHandle, start_emulator
from cockpit.team import handoffs
from cockpit.team.events import Pulled

ALICE, BOB = "pagerduty:PALICE", "pagerduty:PBOB"
PEOPLE = (
    "INSERT OR IGNORE INTO people (id, source, name, email, time_zone, teams) VALUES"
    " ('pagerduty:PALICE', 'pagerduty', 'Alice Adams', 'alice@example.com', 'UTC', '[]'),"
    " ('pagerduty:PBOB', 'pagerduty', 'Bob Brown', 'bob@example.com', 'UTC', '[]')"
)


def _assigned_to_alice(db: Path) -> None:
    """As a PagerDuty pull leaves it: people known, P1 and P2 assigned to Alice."""
    with sqlite3.connect(db) as conn:
        conn.execute(PEOPLE)
        conn.execute("UPDATE incidents SET assignees = ?", (json.dumps([ALICE]),))


class Side(laptops.Side):
    """One laptop's store for the capture/apply tests: P1 and P2 assigned to Alice."""

    def seed(self, db: Path) -> None:
        super().seed(db)
        _assigned_to_alice(db)

    def rows(self, sql: str, *params: object) -> list[tuple[object, ...]]:
        return self.conn.execute(sql, params).fetchall()

    def reassigns(self) -> list[tuple[object, ...]]:
        return self.rows(
            "SELECT incident_id, state FROM outbox WHERE action = 'reassign' ORDER BY id"
        )


def _signed(side: Side) -> int:
    now = datetime.now(UTC)
    draft = draft_handoff(side.store, ALICE, now, now, now, to_person=BOB)
    handoff = save_handoff(side.store, draft, notes="db failover half done \x1b]52;c;x\x07")
    assert handoff.id is not None
    sign_handoff(side.store, handoff.id, ALICE)
    return handoff.id


def test_signed_on_a_accepted_on_b_batons_on_both_one_reassignment(tmp_path: Path) -> None:
    a, b = Side(tmp_path, "a"), Side(tmp_path, "b")
    tx = [0]
    number = _signed(a)
    signed = a.send("alice", tx)
    assert [e.kind for e in signed] == ["handoff_signed"]
    assert b.take(signed) == ["applied"]
    row = b.rows("SELECT id, from_person, to_person, signed_at IS NOT NULL, body_md FROM handoffs")
    assert [r[:4] for r in row] == [(number, ALICE, BOB, 1)]
    body = str(row[0][4])
    assert f"# Handoff #{number}: Alice Adams → Bob Brown" in body and "signed" in body
    assert "\x1b" not in body  # the renderer made the pulled notes inert
    handoff, moved = accept_handoff(b.store, None, BOB)
    assert moved == ["pagerduty:P1", "pagerduty:P2"]
    assert b.reassigns() == [("pagerduty:P1", "pending"), ("pagerduty:P2", "pending")]
    accepted = b.send("bob", tx)
    assert [e.kind for e in accepted] == ["baton_offer", "baton_accept"] * 2 + ["handoff_accepted"]
    assert len(accepted[-1].payload["batons"]) == 2
    assert a.take(accepted) == ["applied"] * 5
    assert a.rows("SELECT accepted_at IS NOT NULL, to_person FROM handoffs") == [(1, BOB)]
    assert "· accepted" in str(a.rows("SELECT body_md FROM handoffs")[0][0])
    # The batons moved on A too, linked to A's copy of the handoff; A queued no write.
    assert a.rows(
        "SELECT incident_id, to_person, state, handoff_id FROM baton_passes ORDER BY id"
    ) == [
        ("pagerduty:P1", BOB, "accepted", number),
        ("pagerduty:P2", BOB, "accepted", number),
    ]
    assert a.reassigns() == [] and a.rows("SELECT count(*) FROM outbox") == [(0,)]
    # Nothing twice: applying again changes nothing, and nothing pulled goes back up.
    assert a.take(accepted)[-1] == "skipped"
    assert a.rows("SELECT count(*) FROM baton_passes") == [(2,)]
    assert a.send("alice", tx) == [] and b.send("bob", tx) == []
    assert b.take(signed) == ["skipped"]
    assert len(b.rows("SELECT id FROM handoffs")) == 1


def _two_acceptances(tmp_path: Path) -> tuple[Side, Side, Side, list[Pulled], list[Pulled]]:
    a, b, c = Side(tmp_path, "a"), Side(tmp_path, "b"), Side(tmp_path, "c")
    tx = [0]
    _signed(a)
    signed = a.send("alice", tx)
    assert b.take(signed) == ["applied"] and c.take(signed) == ["applied"]
    accept_handoff(b.store, None, BOB)
    accept_handoff(c.store, None, BOB)
    first = b.send("bob", tx)  # B's acceptance was captured (and reached the store) first
    second = c.send("carol", tx)
    # The team store holds one acceptance per handoff (a unique index): C's push of its own
    # inserts nothing and is told who accepted (exchange._push -> handoffs.lost_at_push).
    c.conn.execute("BEGIN IMMEDIATE")
    for event in second:
        if event.kind == "handoff_accepted":
            handoffs.lost_at_push(c.conn, event.id, event.payload, "bob", "b")
    c.conn.execute("COMMIT")
    second = [event for event in second if event.kind != "handoff_accepted"]
    return a, b, c, first, second


def test_two_laptops_accept_one_handoff_the_first_wins(tmp_path: Path) -> None:
    a, b, c, first, second = _two_acceptances(tmp_path)
    assert c.take(first) == ["applied"] * 5
    lost = c.rows("SELECT kind, state, message FROM team_outbox WHERE state = 'lost'")
    assert lost == [
        (
            "handoff_accepted",
            "lost",
            "handoff #1: accepted first by bob on b; your reassignment at PagerDuty was withdrawn",
        )
    ]
    # PagerDuty is reassigned once, by the winner's cockpit.
    assert c.reassigns() == [("pagerduty:P1", "superseded"), ("pagerduty:P2", "superseded")]
    # ...and so is the "Baton passed" note each would have posted; the notes stay local.
    assert (
        c.rows("SELECT action, state FROM outbox WHERE action = 'note'")
        == [("note", "superseded")] * 2
    )
    assert c.rows("SELECT state FROM notes") == [("local",)] * 2
    assert [e.kind for e in c.send("carol", [100])] == []  # and are not shared
    assert b.take(second) == ["applied"] * 4
    assert b.reassigns() == [("pagerduty:P1", "pending"), ("pagerduty:P2", "pending")]
    assert b.rows("SELECT count(*) FROM team_outbox WHERE state = 'lost'") == [(0,)]
    # An observer agrees whatever order they come in.
    assert a.take(second + first)[-1] == "applied"
    winner = first[-1].payload["accepted_at"]
    assert a.rows("SELECT accepted_at FROM handoffs") == [(winner,)]
    assert a.rows("SELECT global_id FROM team_rows WHERE tbl = 'handoff_accepts'") == [
        (first[-1].id,)
    ]


def test_accepted_here_after_the_capture_loses_to_one_already_shared(tmp_path: Path) -> None:
    a, b, c = Side(tmp_path, "a"), Side(tmp_path, "b"), Side(tmp_path, "c")
    tx = [0]
    _signed(a)
    signed = a.send("alice", tx)
    b.take(signed)
    c.take(signed)
    accept_handoff(b.store, None, BOB)
    first = b.send("bob", tx)
    c.send("carol", tx)  # this sync's capture, before C accepts
    accept_handoff(c.store, None, BOB)
    assert c.take(first)[-1] == "applied"
    assert c.rows("SELECT kind, message FROM team_outbox WHERE state = 'lost'") == [
        (
            "handoff_accepted",
            "handoff #1: accepted first by bob on b; your reassignment at PagerDuty was withdrawn",
        )
    ]
    later = c.send("carol", tx)
    assert "handoff_accepted" not in [e.kind for e in later]  # the lost one never goes up


def test_an_acceptance_before_its_handoff_waits_for_it(tmp_path: Path) -> None:
    a, b = Side(tmp_path, "a"), Side(tmp_path, "b")
    tx = [0]
    _signed(a)
    signed = a.send("alice", tx)
    b.take(signed)
    accept_handoff(b.store, None, BOB)
    accepted = b.send("bob", tx)
    c = Side(tmp_path, "c")
    assert c.take(accepted[-1:]) == ["parked"]
    assert c.take(signed) == ["applied"]
    from cockpit.team import exchange

    assert exchange._retry_parked(c.conn, set()) == 0  # its batons are not here yet
    assert c.take(accepted[:-1]) == ["applied"] * 4
    assert exchange._retry_parked(c.conn, set()) == 1
    assert c.rows("SELECT count(*) FROM team_parked") == [(0,)]
    assert c.rows("SELECT count(*) FROM baton_passes WHERE handoff_id = 1") == [(2,)]


def test_a_draft_shared_then_signed(tmp_path: Path) -> None:
    a, b = Side(tmp_path, "a"), Side(tmp_path, "b")
    tx = [0]
    now = datetime.now(UTC)
    handoff = save_handoff(a.store, draft_handoff(a.store, ALICE, now, now, now), notes="wip")
    assert handoff.id is not None
    drafted = a.send("alice", tx)
    assert [e.kind for e in drafted] == ["handoff_draft"]
    assert b.take(drafted) == ["applied"]
    sign_handoff(a.store, handoff.id, ALICE, to_person=BOB)
    signed = a.send("alice", tx)
    assert [e.kind for e in signed] == ["handoff_signed"]
    assert signed[0].payload["handoff"] == drafted[0].id
    assert b.take(signed) == ["applied"]
    assert b.rows("SELECT to_person, signed_at IS NOT NULL FROM handoffs") == [(BOB, 1)]
    assert b.send("bob", tx) == []


def test_a_handoff_number_taken_here_gets_the_next(tmp_path: Path) -> None:
    a, b = Side(tmp_path, "a"), Side(tmp_path, "b")
    tx = [0]
    now = datetime.now(UTC)
    save_handoff(b.store, draft_handoff(b.store, BOB, now, now, now))
    b.send("bob", tx)
    _signed(a)
    b.take(a.send("alice", tx))
    assert b.rows("SELECT id, from_person FROM handoffs ORDER BY id") == [(1, BOB), (2, ALICE)]
    assert "# Handoff #2:" in str(b.rows("SELECT body_md FROM handoffs WHERE id = 2")[0][0])
    # The signed one waiting is found before the newer draft (the TUI's H, accept's default).
    from cockpit.handoff import get_handoff

    assert get_handoff(b.store, None).id == 2


# ---------------------------------------------------------------- laptops and PostgreSQL


@pytest.fixture
def laptops(tmp_path: Path, pg_server: PgServer, team_db: str) -> list[Laptop]:
    found = make_laptops(tmp_path, pg_server, team_db)
    for laptop in found:
        _assigned_to_alice(laptop.folder / "data" / "cockpit.db")
    return found


def _reassigns(laptop: Laptop) -> list[tuple[object, ...]]:
    return laptop.rows(
        "SELECT incident_id, state FROM outbox WHERE action = 'reassign' ORDER BY id"
    )


@pytest.mark.postgres
def test_signed_on_a_accepted_on_b_across_laptops(
    laptops: list[Laptop], pg_server: PgServer, team_db: str
) -> None:
    a, b, _c = laptops
    signed = a.run("handoff", "--from", "Alice Adams", "--to", "bob@example.com", "--sign")
    assert "handoff #1 signed for Bob Brown" in signed.stderr
    a.run("team", "sync")
    b.run("team", "sync")
    assert b.rows("SELECT id, to_person, signed_at IS NOT NULL, accepted_at FROM handoffs") == [
        (1, BOB, 1, None)
    ]
    accepted = b.run("handoff", "accept", "1", "--as", "Bob Brown")
    assert "handoff #1 accepted by Bob Brown: 2 batons passed to you" in accepted.stdout
    held = "SELECT incident_id, to_person, state, handoff_id FROM baton_passes ORDER BY id"
    assert b.rows(held) == [
        ("pagerduty:P1", BOB, "accepted", 1),
        ("pagerduty:P2", BOB, "accepted", 1),
    ]
    assert a.rows(held) == []  # A holds them until its next team sync
    b.run("team", "sync")
    a.run("team", "sync")
    assert a.rows(held) == b.rows(held)
    assert a.rows("SELECT accepted_at IS NOT NULL, to_person FROM handoffs") == [(1, BOB)]
    # PagerDuty is reassigned once per incident, by B's cockpit; A queued no write at all.
    assert _reassigns(b) == [("pagerduty:P1", "pending"), ("pagerduty:P2", "pending")]
    assert a.rows("SELECT count(*) FROM outbox") == [(0,)]
    assert team_events(pg_server, team_db) == [
        ("handoff_signed", "alice", "laptop-a"),
        *[(kind, "bob", "laptop-b") for kind in ("baton_offer", "baton_accept") * 2],
        ("handoff_accepted", "bob", "laptop-b"),
    ]
    assert "0 up, 0 down" in a.run("team", "sync").stdout
    assert "0 up, 0 down" in b.run("team", "sync").stdout
    shown = a.run("handoff", "--from", "Alice Adams", "--markdown", "-")
    assert shown.returncode == 0


@pytest.mark.postgres
def test_two_laptops_accept_one_handoff_across_laptops(
    laptops: list[Laptop], pg_server: PgServer, team_db: str
) -> None:
    a, b, c = laptops
    a.run("handoff", "--from", "Alice Adams", "--to", "Bob Brown", "--sign")
    a.run("team", "sync")
    b.run("team", "sync")
    c.run("team", "sync")
    b.run("handoff", "accept", "--as", "Bob Brown")
    c.run("handoff", "accept", "--as", "Bob Brown")  # Bob, on his second laptop
    b.run("team", "sync")
    late = c.run("team", "sync").stdout  # the team store refuses a second acceptance
    assert "lost the race: handoff #1: accepted first by bob on laptop-b" in late
    status = c.run("team", "status").stdout
    assert (
        "lost the race: handoff #1: accepted first by bob on laptop-b; your reassignment at"
        " PagerDuty was withdrawn" in status
    )
    b.run("team", "sync")
    a.run("team", "sync")
    # Reassigned once in total: B's two wait for PagerDuty, C's were withdrawn.
    assert _reassigns(b) == [("pagerduty:P1", "pending"), ("pagerduty:P2", "pending")]
    assert _reassigns(c) == [("pagerduty:P1", "superseded"), ("pagerduty:P2", "superseded")]
    assert _reassigns(a) == []
    assert "lost the race" not in b.run("team", "status").stdout
    for laptop in (a, b, c):
        assert laptop.rows("SELECT to_person, accepted_at IS NOT NULL FROM handoffs") == [(BOB, 1)]
    for laptop in (a, b, c):
        assert "0 up, 0 down" in laptop.run("team", "sync").stdout


def _pagerduty_sync(laptop: Laptop, emulator: EmulatorHandle) -> None:
    """`cockpit sync` on a laptop against the PagerDuty emulator (pull, then deliver)."""
    pagerduty = {"COCKPIT_PAGERDUTY_URL": emulator.url, "COCKPIT_PAGERDUTY_TOKEN": emulator.token}
    laptop.run("sync", env=pagerduty)


@pytest.mark.postgres
def test_pagerduty_is_reassigned_once_by_the_accepting_laptop(
    tmp_path: Path, pg_server: PgServer, team_db: str
) -> None:
    with start_emulator(incidents=40, days=1, seed=11) as emulator:
        a, b, c = make_laptops(tmp_path, pg_server, team_db)
        for laptop in (a, b, c):
            _pagerduty_sync(laptop, emulator)
        open_rows = a.rows(
            "SELECT id, assignees FROM incidents WHERE source = 'pagerduty' AND assignees != '[]'"
            " AND status IN ('triggered', 'acknowledged') ORDER BY id"
        )
        holders = Counter(json.loads(str(row[1]))[0] for row in open_rows)
        assert holders, "the seed has no open assigned incident"
        outgoing = holders.most_common(1)[0][0]
        incoming = next(
            str(row[0])
            for row in a.rows("SELECT id FROM people WHERE id != ? ORDER BY id", outgoing)
        )
        held = sorted(
            str(row[0]).split(":", 1)[1]
            for row in open_rows
            if json.loads(str(row[1]))[0] == outgoing
        )
        a.run("handoff", "--from", outgoing, "--to", incoming, "--sign")
        for laptop in (a, b, c):
            laptop.run("team", "sync")
        b.run("handoff", "accept", "--as", incoming)
        c.run("handoff", "accept", "--as", incoming)
        for laptop in (b, c, a, b):
            laptop.run("team", "sync")
        before = len(emulator.state.writes)
        for laptop in (c, a, b, c, a):
            _pagerduty_sync(laptop, emulator)
        writes = emulator.state.writes[before:]
        reassigned = Counter(
            i for w in writes if "reassign" in w["actions"] for i in w["incident_ids"]
        )
        assert reassigned == Counter({remote_id: 1 for remote_id in held})
        notes = [
            str(w["body"]) for w in writes if "note" in w["actions"] and "Baton passed" in str(w)
        ]
        assert len(notes) == len(held)  # one "Baton passed" note per incident, from B
        for remote_id in held:
            assignees = [user for user, _at in emulator.state.incident(remote_id).assignments]
            assert assignees == [incoming.split(":", 1)[1]]


async def test_b_accepts_a_pulled_handoff_with_h_then_a(tmp_path: Path) -> None:
    from cockpit.app import CockpitApp
    from cockpit.config import load_settings
    from cockpit.screens.confirm import ConfirmDialog
    from cockpit.screens.handoff_screen import HandoffScreen

    a, b = Side(tmp_path, "a"), Side(tmp_path, "b")
    tx = [0]
    _signed(a)
    b.take(a.send("alice", tx))
    now = datetime.now(UTC)
    save_handoff(b.store, draft_handoff(b.store, BOB, now, now, now))  # B's own, later draft
    (tmp_path / "runbooks").mkdir()
    (tmp_path / "config.toml").write_text(f'user = "{BOB}"\n')
    settings = load_settings(
        tmp_path / "config.toml",
        environ={},
        flags={"data_dir": tmp_path / "b", "runbooks": tmp_path / "runbooks"},
    )
    app = CockpitApp(settings, b.store, library=[])
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("H")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, HandoffScreen)
        assert screen.handoff is not None and screen.handoff.id == 1  # the pulled, signed one
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await pilot.pause()
    assert b.rows("SELECT id FROM handoffs WHERE accepted_at IS NOT NULL") == [(1,)]
    assert b.rows("SELECT incident_id, to_person, state, handoff_id FROM baton_passes") == [
        ("pagerduty:P1", BOB, "accepted", 1),
        ("pagerduty:P2", BOB, "accepted", 1),
    ]
    assert [e.kind for e in b.send("bob", tx)][-2:] == ["handoff_draft", "handoff_accepted"]
