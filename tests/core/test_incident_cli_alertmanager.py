"""`cockpit show` and `cockpit incidents` on an Alertmanager group: every alert with its labels,
annotations and links; where each incident came from."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cockpit.cli.main import main
from cockpit.store.engine import Store
from cockpit.store.models import Alert, Incident

NOW = datetime.now(UTC)
GENERATOR = "http://prometheus.example.com/graph?g0.expr=pg_replication_lag"
RUNBOOK = "https://runbooks.example.com/db-replication.md"


@pytest.fixture
def data(tmp_path: Path) -> Path:
    store = Store.open(tmp_path / "data")
    common = {"alertname": "ReplicationLag", "service": "orders-db"}
    with store.write() as session:
        session.add(
            Incident(
                id="alertmanager:3f2a9c1d0b7e",
                source="alertmanager",
                remote_id="3f2a9c1d0b7e",
                title="Replica lag above 30 s",
                status="triggered",
                service_name="orders-db",
                labels=common,
                html_url=GENERATOR,
                runbook_url=RUNBOOK,
                created_at=NOW - timedelta(minutes=5),
                updated_at=NOW,
            )
        )
        session.add(
            Incident(
                id="pagerduty:PINC1",
                source="pagerduty",
                remote_id="PINC1",
                number=1,
                title="Checkout 5xx",
                status="acknowledged",
                service_name="checkout",
                created_at=NOW - timedelta(minutes=9),
                updated_at=NOW,
            )
        )
        session.flush()  # the alerts' foreign key needs the incidents first
        for n in (1, 2):
            session.add(
                Alert(
                    id=f"alertmanager:fp{n}",
                    incident_id="alertmanager:3f2a9c1d0b7e",
                    summary="Replica lag above 30 s",
                    status="triggered",
                    labels={**common, "instance": f"db-{n}"},
                    annotations={
                        "summary": "Replica lag above 30 s",
                        "description": f"lag on db-{n}\x1b[2J is high\nsecond line",
                        "runbook_url": RUNBOOK,
                    },
                    generator_url=GENERATOR if n == 1 else "",
                    runbook_url=RUNBOOK,
                    created_at=NOW - timedelta(minutes=5),
                )
            )
    store.close()
    return tmp_path / "data"


def run(data: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(["--data-dir", str(data), *argv]) == 0
    return capsys.readouterr().out


def test_show_prints_every_alert_with_labels_annotations_and_links(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = run(data, capsys, "show", "3f2a9c1d0b7e")
    assert "source alertmanager" in out
    assert "labels  alertname=ReplicationLag instance=db-1 service=orders-db" in out
    assert "labels  alertname=ReplicationLag instance=db-2 service=orders-db" in out
    assert "description: lag on db-1" in out and "second line" in out
    assert "\x1b" not in out
    assert out.index("summary: Replica") < out.index("description: lag on db-1")
    assert f"generator {GENERATOR}" in out
    assert out.count(f"runbook   {RUNBOOK}") == 2

    shown = json.loads(run(data, capsys, "show", "3f2a9c1d0b7e", "--json"))
    assert shown["source"] == "alertmanager"
    assert [a["labels"]["instance"] for a in shown["alerts"]] == ["db-1", "db-2"]
    assert shown["alerts"][0]["generator_url"] == GENERATOR
    assert "\x1b" not in shown["alerts"][0]["annotations"]["description"]


def test_incidents_has_a_source_column(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = run(data, capsys, "incidents").splitlines()
    assert lines[0].split()[5] == "SOURCE"
    rows = {line.split()[1]: line.split() for line in lines[1:]}
    assert rows["3f2a9c1d0b7e"][5] == "alertmanager"
    assert rows["PINC1"][5] == "pagerduty"
    listed = json.loads(run(data, capsys, "incidents", "--json"))
    assert {i["remote_id"]: i["source"] for i in listed} == {
        "3f2a9c1d0b7e": "alertmanager",
        "PINC1": "pagerduty",
    }
