"""The CLI names incidents as the screens do and says what happened (issue 16, items 10-12).

Every command that takes an incident accepts ``#201``, ``201``, the remote id and the full
id, through one resolver (``queries.find_incident``), and refuses a number that names
incidents of two sources; lists show the number. The demo prints how to reach its store.
Filters, team names, snooze durations, ``runbook match``/``lint`` and ``sync --watch`` say
what the user needs, with a non-zero exit where nothing useful happened.
"""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from cockpit.cli import demo_cmd, sync_cmd
from cockpit.cli.main import main
from cockpit.store import Incident, Store, utcnow
from cockpit.store.models import Person
from cockpit.store.queries import AmbiguousIncident, find_incident
from cockpit.sync.service import SyncReport

Run = tuple[int, str, str]


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> Run:
    code = main(args)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def _incident(number: int | None, remote: str, **fields: Any) -> Incident:
    source = fields.pop("source", "pagerduty")
    created = utcnow() - timedelta(minutes=1000 - number if number else 5)
    values: dict[str, Any] = {
        "id": f"{source}:{remote}",
        "source": source,
        "remote_id": remote,
        "number": number,
        "title": f"Disk usage above 90% on db-{remote}",
        "status": "triggered",
        "urgency": "high",
        "service_name": "payments-db",
        "team": "Payments",
        "created_at": created,
        "updated_at": created,
    }
    values.update(fields)
    return Incident(**values)


@pytest.fixture
def data(tmp_path: Path) -> list[str]:
    """A store of four open PagerDuty incidents (#198-#201) and one resolved; ``--data-dir``."""
    store = Store.open(tmp_path)
    with store.write() as session:
        for number, remote in ((201, "PKVKHO5"), (200, "PQ2"), (199, "PQ3"), (198, "PQ4")):
            session.add(_incident(number, remote))
        session.add(_incident(150, "POLD", status="resolved"))
        session.add(
            Person(
                id="pagerduty:PU1",
                source="pagerduty",
                name="Maya Brooks",
                email="maya@example.com",
                teams=["Payments", "Storefront"],
            )
        )
    store.close()
    return ["--data-dir", str(tmp_path)]


# ---------------------------------------------------------------- 10: one way to name it


@pytest.mark.parametrize("ref", ["#201", "201", "PKVKHO5", "pagerduty:PKVKHO5", " #201 "])
def test_show_takes_every_name_of_an_incident(
    ref: str, data: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run([*data, "show", ref], capsys)
    assert code == 0
    first = out.splitlines()[0]
    assert first.startswith("#201  Disk usage above 90% on db-PKVKHO5")
    assert "pagerduty:PKVKHO5" in out


@pytest.mark.parametrize("ref", ["#201", "201", "PKVKHO5", "pagerduty:PKVKHO5"])
def test_acting_commands_take_every_name_and_answer_with_the_number(
    ref: str, data: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run([*data, "ack", ref], capsys)
    assert code == 0 and out.startswith("#201 acknowledged")
    code, out, _ = _run([*data, "snooze", ref, "30m"], capsys)
    assert code == 0 and out.startswith("#201 snoozed until")
    code, out, _ = _run([*data, "note", ref, "looking"], capsys)
    assert code == 0 and "#201 (Disk usage above 90%" in out
    code, out, _ = _run([*data, "take", ref], capsys)
    assert code == 0 and "#201 (Disk usage" in out


def test_an_unknown_number_and_a_bare_hash_are_refused(
    data: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    for ref in ("#999", "#", "#abc"):
        code, _, err = _run([*data, "show", ref], capsys)
        assert code == 2 and f"no incident {ref!r}" in err


def test_a_number_that_names_two_sources_is_refused_naming_both(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = Store.open(tmp_path)
    with store.write() as session:
        session.add(_incident(201, "PKVKHO5"))
        session.add(_incident(None, "201", source="alertmanager", title="Fingerprint 201"))
    with store.read() as session:
        with pytest.raises(AmbiguousIncident):
            find_incident(session, "201")
        found = find_incident(session, "#201")  # "#" means the number: only PagerDuty's
        assert found is not None and found.id == "pagerduty:PKVKHO5"
    store.close()
    code, _, err = _run(["--data-dir", str(tmp_path), "ack", "201"], capsys)
    assert code == 2
    assert "pagerduty:PKVKHO5" in err and "alertmanager:201" in err and "full id" in err
    code, out, _ = _run(["--data-dir", str(tmp_path), "show", "alertmanager:201"], capsys)
    assert code == 0 and out.startswith("201  Fingerprint 201")


def test_the_incident_list_has_a_number_column(
    data: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run([*data, "incidents"], capsys)
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[:2] == ["#", "ID"]
    assert [line.split()[0] for line in lines[1:]] == ["#201", "#200", "#199", "#198"]
    assert lines[1].split()[1] == "PKVKHO5"


def test_the_outbox_names_the_incident_by_number_and_title(
    data: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run([*data, "ack", "201"], capsys)[0] == 0
    code, out, _ = _run([*data, "outbox"], capsys)
    assert code == 0
    assert re.search(r"^\s+\d+\s+pending\s+acknowledge\s+#201 ", out, re.MULTILINE), out
    assert "Disk usage above 90% on db-PKVKHO5" in out
    assert "pagerduty:PKVKHO5" not in out


# ---------------------------------------------------------------- 11: the demo's store


def test_the_demo_says_how_to_reach_its_store(tmp_path: Path) -> None:
    hint = demo_cmd.cli_hint(tmp_path / "cockpit demo-x")
    assert hint == f"COCKPIT_DATA_DIR='{tmp_path}/cockpit demo-x' cockpit incidents"

    told: list[tuple[Any, ...]] = []

    class App:
        def call_from_thread(self, *call: Any, **options: Any) -> None:
            told.append((*call, options))

        def notify(self, *args: Any, **kwargs: Any) -> None:  # pragma: no cover - not called
            raise AssertionError

    demo_cmd._tell_in_app(App(), tmp_path)
    assert told and f"COCKPIT_DATA_DIR={tmp_path} cockpit incidents" in told[0][1]


def test_the_demo_prints_the_hint_before_the_tui(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import cockpit.app

    seen: dict[str, str] = {}

    class FakeApp:
        def run(self) -> None:
            seen["printed"] = capsys.readouterr().out

    monkeypatch.setattr(cockpit.app, "CockpitApp", lambda *a, **k: FakeApp())
    monkeypatch.setattr(demo_cmd, "HINT_AFTER", 60.0)
    code = main(["demo", "--incidents", "5", "--fresh-after", "600"])
    assert code == 0
    match = re.search(
        r"^try the CLI on this demo: COCKPIT_DATA_DIR=(\S+) cockpit incidents$",
        seen["printed"],
        re.MULTILINE,
    )
    assert match, seen["printed"]
    assert "cockpit-demo-" in match[1]


# ---------------------------------------------------------------- 12: the messages


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (["--service", "nonexistent"], "--service nonexistent"),
        (["--mine"], "--mine"),
        (["--team", "Nope", "--urgency", "low"], "--urgency low --team Nope"),
    ],
)
def test_a_filter_that_hides_everything_says_so(
    flags: list[str], words: str, data: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run([*data, "incidents", *flags], capsys)
    assert code == 1
    assert out.strip() == f"no open incident matches {words}; 4 open without the filter"


def test_an_empty_store_is_an_answer_not_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Store.open(tmp_path).close()
    code, out, _ = _run(["--data-dir", str(tmp_path), "incidents", "--service", "x"], capsys)
    assert code == 0 and out.strip() == "no open incidents in the local store"


def test_stats_of_an_unknown_team_names_the_known_ones(
    data: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run([*data, "stats", "--team", "Nope"], capsys)
    assert code == 1 and out == ""
    assert "no incident of team 'Nope'" in err and "teams known: Payments, Storefront" in err
    code, out, _ = _run([*data, "stats", "--team", "payments"], capsys)
    assert code == 0 and "Pages per person per week" in out


@pytest.mark.parametrize("duration", ["-5m", "-5", "-2h", "-1.5h"])
def test_a_negative_snooze_is_refused_as_not_positive(
    duration: str, data: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run([*data, "snooze", "200", duration], capsys)
    assert code == 2
    assert f"duration {duration!r}: a snooze must be positive" in err
    assert "required" not in err


def test_snooze_options_still_work_next_to_a_duration(
    data: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run([*data, "ack", "#200"], capsys)[0] == 0
    code, out, _ = _run([*data, "snooze", "200", "10m", "-m", "on it"], capsys)
    assert code == 0 and out.startswith("#200 snoozed until")


def test_runbook_match_needs_something_to_match(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["runbook", "match"], capsys)
    assert code == 2 and out == ""
    assert "usage: cockpit runbook match" in err
    assert "give at least one of --title, --service" in err


def test_runbook_lint_of_a_missing_file_is_one_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.md"
    code, out, _ = _run(["runbook", "lint", str(missing)], capsys)
    assert code == 1
    lines = out.splitlines()
    assert len(lines) == 2, out
    assert "error: cannot read" in lines[0]
    assert lines[1].startswith("1 finding (1 error)")


def test_sync_watch_lines_start_with_the_local_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    class Stop(Exception):
        pass

    class Service:
        rounds = 0

        async def sync_once(self, progress: object) -> SyncReport:
            self.rounds += 1
            if self.rounds == 2:
                raise RuntimeError("the network went away")
            return SyncReport(
                pulled_incidents=2,
                reconciled=["#201 was resolved there"],
                errors=["pagerduty: 503"],
            )

        async def aclose(self) -> None:
            pass

    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 2:
            raise Stop

    store = Store.open(tmp_path)
    with pytest.raises(Stop):
        asyncio.run(sync_cmd._sync(Service(), store, True, 10, sleep))  # type: ignore[arg-type]
    out, err = capsys.readouterr()
    stamp = r"^\d\d:\d\d:\d\d "
    lines = out.splitlines() + err.splitlines()
    assert len(lines) == 4, lines
    assert all(re.match(stamp, line) for line in lines), lines
    assert any(re.match(stamp + "online, with errors: 2 incidents", line) for line in lines)
    assert any("error: sync failed: the network went away" in line for line in lines)


def test_a_single_sync_has_no_time_prefix(capsys: pytest.CaptureFixture[str]) -> None:
    sync_cmd._print_report(SyncReport())
    assert capsys.readouterr().out.startswith("online: 0 incidents")
