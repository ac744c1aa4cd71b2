"""`cockpit handoff` end to end: a preview stores nothing, sign stores and signs, and accept
(without an id) takes the latest signed handoff even after more previews."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from cockpit.cli.main import main
from cockpit.store import Handoff, Incident, Person, Store, utcnow
from cockpit.sync import actions
from cockpit.sync.identity import Me, set_me


@pytest.fixture
def data(tmp_path: Path) -> Path:
    store = Store.open(tmp_path)
    now = utcnow()
    with store.write() as session:
        set_me(session, Me("pagerduty:PANN", "Ann Lee", "ann@example.com"))
        for pid, name in (("PANN", "Ann Lee"), ("PBOB", "Bob Stone")):
            session.add(Person(id=f"pagerduty:{pid}", source="pagerduty", name=name))
        for n in (1, 2):
            session.add(
                Incident(
                    id=f"pagerduty:I{n}",
                    source="pagerduty",
                    remote_id=f"I{n}",
                    title=f"Disk {n}",
                    status="acknowledged",
                    assignees=["pagerduty:PANN"],
                    created_at=now - timedelta(hours=n),
                    updated_at=now,
                )
            )
    store.close()
    return tmp_path


def _handoffs(data: Path) -> list[Handoff]:
    store = Store.open(data)
    with store.read() as session:
        from sqlmodel import select

        rows = list(session.exec(select(Handoff)))
    store.close()
    return rows


def test_preview_sign_then_accept(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["--data-dir", str(data), "handoff"]
    assert main(base) == 0
    out = capsys.readouterr().out
    assert out.startswith("# Handoff: Ann Lee → (incoming)") and "Disk 1" in out
    assert _handoffs(data) == []

    assert main([*base, "--to", "Bob Stone", "--sign"]) == 0
    capsys.readouterr()
    assert main(base) == 0  # another look does not get in the way
    assert [h.signed_at is not None for h in _handoffs(data)] == [True]

    assert main([*base, "accept", "--as", "Bob Stone"]) == 0
    assert "2 batons passed to you" in capsys.readouterr().out
    store = Store.open(data)
    with store.read() as session:
        holders = {
            i: actions.baton_holder(session, session.get(Incident, i))[0]  # type: ignore[arg-type]
            for i in ("pagerduty:I1", "pagerduty:I2")
        }
    store.close()
    assert set(holders.values()) == {"pagerduty:PBOB"}


def test_accept_by_a_name_nobody_has_is_refused(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--data-dir", str(data), "handoff"]
    assert main([*base, "--to", "bob", "--sign"]) == 0
    capsys.readouterr()
    assert main([*base, "accept", "--as", "Bobb Stone"]) == 2
    assert "Bobb Stone" in capsys.readouterr().err
    assert _handoffs(data)[0].accepted_at is None


def test_pass_and_accept_speak_in_names(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["--data-dir", str(data)]
    assert main([*base, "pass", "I1", "Bob Stone", "-m", "disk still climbing"]) == 0
    assert "I1 (Disk 1) offered to Bob Stone" in capsys.readouterr().out
    # Ann (me) cannot accept for Bob; Bob accepts.
    assert main([*base, "accept", "I1"]) == 2
    assert "offered to Bob Stone, not Ann Lee" in capsys.readouterr().err
    assert main([*base, "accept", "I1", "--as", "Bob Stone"]) == 0
    assert "Bob Stone holds the baton of I1 (Disk 1)" in capsys.readouterr().out
    store = Store.open(data)
    with store.read() as session:
        from sqlmodel import select

        from cockpit.store import Note

        notes = [n.content for n in session.exec(select(Note))]
    store.close()
    # The note that goes to PagerDuty names people, never internal ids.
    assert notes == ["[cockpit] Baton passed from Ann Lee to Bob Stone: disk still climbing"]


def test_a_hostile_title_is_words_in_the_exported_markdown(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = Store.open(data)
    with store.write() as session:
        incident = session.get(Incident, "pagerduty:I1")
        assert incident is not None
        incident.title = "[click](javascript:alert(1)) <img src=x> a|b \x1b]52;c;aGk=\x07"
        session.add(incident)
    store.close()
    assert main(["--data-dir", str(data), "handoff"]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if "click" in line)
    assert "\\[click\\](javascript:alert(1))" in line and "\\<img src=x\\>" in line
    assert "a\\|b" in line and "\x1b" not in out and "\x07" not in out
