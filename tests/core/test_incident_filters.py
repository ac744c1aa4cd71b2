"""Filters people keep: high urgency only, mine, my team's, a service; saved ones by name."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from cockpit.cli.main import main
from cockpit.store import Incident, Store, utcnow
from cockpit.sync.identity import Me, set_me


@pytest.fixture
def data(tmp_path: Path) -> Path:
    store = Store.open(tmp_path / "data")
    now = utcnow()
    rows = [
        ("P1", "high", ["pagerduty:PME"], "Storefront", "product-api"),
        ("P2", "low", ["pagerduty:PME"], "Payments", "payments-db"),
        ("P3", "high", ["pagerduty:PMEX"], "Payments", "payments-db"),  # a near-miss id
        ("P4", "high", [], "Storefront", "search"),
    ]
    with store.write() as session:
        set_me(session, Me("pagerduty:PME", "Me"))
        for n, (rid, urgency, assignees, team, service) in enumerate(rows):
            session.add(
                Incident(
                    id=f"pagerduty:{rid}",
                    source="pagerduty",
                    remote_id=rid,
                    title=f"t{rid}",
                    status="triggered",
                    urgency=urgency,
                    assignees=assignees,
                    team=team,
                    service_name=service,
                    created_at=now - timedelta(minutes=n),
                    updated_at=now,
                )
            )
    store.close()
    return tmp_path


def _ids(data: Path, capsys: pytest.CaptureFixture[str], *flags: str) -> list[str]:
    config = data / "config.toml"
    assert (
        main(["--config", str(config), "--data-dir", str(data / "data"), "incidents", *flags]) == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:6] == ["#", "ID", "STATUS", "URG", "AGE", "SOURCE"]
    return [line.split()[1] for line in lines[1:] if line]


def test_flags_narrow_the_list(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (data / "config.toml").write_text("")
    assert _ids(data, capsys) == ["P1", "P3", "P4", "P2"]  # high first, then newest
    assert _ids(data, capsys, "--urgency", "high") == ["P1", "P3", "P4"]
    assert _ids(data, capsys, "--mine") == ["P1", "P2"]  # not P3: PMEX is someone else
    assert _ids(data, capsys, "--team", "payments") == ["P3", "P2"]
    assert _ids(data, capsys, "--service", "search") == ["P4"]


def test_a_saved_filter_by_name(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (data / "config.toml").write_text('[filters.mine-high]\nurgency = "high"\nmine = true\n')
    assert _ids(data, capsys, "--filter", "mine-high") == ["P1"]
    code = main(
        [
            "--config",
            str(data / "config.toml"),
            "--data-dir",
            str(data / "data"),
            "incidents",
            "--filter",
            "nope",
        ]
    )
    assert code == 2 and "known: mine-high" in capsys.readouterr().err
