"""The stats report from kept weeks (issue 17 item 6) is the report computed from the rows.

Each test builds the same real SQLite store (``test_stats_sql``'s edges, plus storms that
run across the Monday between two UTC weeks), warms the cache with one report, changes one
thing the report reads in a week that is kept, and checks the next (cached) report against
the report computed with no cache at all. Each change is checked to move the figures, so a
cache that missed it (its trigger or check removed) would show the old ones and fail.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from pageseed import utc
from test_stats_sql import NOW, _seed

from cockpit.metrics import weeks
from cockpit.metrics.report import StatsReport, stats_report
from cockpit.store import Store

SINCE = NOW - timedelta(weeks=30, hours=5)
# A Monday inside the window, and the one before it: the storms below run across it.
MONDAY = utc(2026, 3, 16)
EARLIER = utc(2026, 2, 9)
Change = Callable[[sqlite3.Connection], None]


def _sql(path: Path, statement: str, *params: object) -> None:
    conn = sqlite3.connect(path)
    try:
        with conn:
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute(statement, params)
    finally:
        conn.close()


def _stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S.%f")


def _notify(path: Path, incident: str, who: str, at: datetime, remote: str) -> None:
    _sql(
        path,
        "INSERT INTO timeline_events (incident_id, at, kind, summary, actor, person_id, "
        "channel, remote_id, is_drill, details) "
        "VALUES (?, ?, 'notify', '', '', ?, 'sms', ?, 0, '{}')",
        incident,
        _stamp(at),
        who,
        remote,
    )


def _incident(path: Path, iid: str, created: datetime, **fields: object) -> None:
    values: dict[str, object] = {
        "id": iid,
        "source": "pagerduty",
        "remote_id": iid,
        "title": "t",
        "status": "triggered",
        "urgency": "high",
        "priority": "",
        "service_id": "",
        "service_name": "web",
        "team": "Payments",
        "escalation_policy_id": "",
        "assignees": "[]",
        "html_url": "",
        "runbook_url": "",
        "incident_key": "",
        "labels": "{}",
        "annotations": "{}",
        "created_at": _stamp(created),
        "updated_at": _stamp(created),
        "is_drill": 0,
    }
    values.update(fields)
    columns = ", ".join(values)
    _sql(
        path,
        f"INSERT INTO incidents ({columns}) VALUES ({', '.join('?' * len(values))})",
        *values.values(),
    )


def _seed_boundaries(path: Path) -> None:
    """Pages that run across a Monday: a storm of Berlin's from 23:59:40 on Sunday (UTC)
    into Monday, a storm that starts on Monday 10 s after one began on Sunday, and a page
    of Tokyo's whose second incident arrives after midnight."""
    for n, start in enumerate((MONDAY, EARLIER)):
        iid = f"pd:EDGE{n}"
        _incident(path, iid, start - timedelta(minutes=5), acknowledged_at=None)
        other = f"pd:EDGEB{n}"
        _incident(path, other, start - timedelta(minutes=2))
        for k, seconds in enumerate((-20, 10, 35, 70, 95)):
            _notify(path, iid, "pd:BER", start + timedelta(seconds=seconds), f"e{n}-{k}")
        _notify(path, iid, "pd:TYO", start - timedelta(seconds=30), f"t{n}-0")
        _notify(path, other, "pd:TYO", start + timedelta(seconds=15), f"t{n}-1")
    # Paged again days after it was created, in the next week: its pages and its response
    # times are in different weeks.
    _incident(path, "pd:LATE", EARLIER - timedelta(days=2))
    _notify(path, "pd:LATE", "pd:KOL", EARLIER + timedelta(days=3, hours=4), "again")
    # Paged only in the week it was created in: the week keeps it as a count, not an id.
    _incident(path, "pd:OWN", EARLIER + timedelta(days=1))
    _notify(path, "pd:OWN", "pd:KOL", EARLIER + timedelta(days=1, minutes=1), "own")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("weeks") / "cockpit.db"
    store = Store.open(path)
    _seed(store)
    store.close()
    _seed_boundaries(path)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path


@pytest.fixture
def store(template: Path, tmp_path: Path) -> Iterator[Store]:
    path = tmp_path / "cockpit.db"
    shutil.copy(template, path)
    opened = Store.open(path)
    yield opened
    opened.close()


def _plain(store: Store, since: datetime = SINCE, **kwargs: object) -> StatsReport:
    return stats_report(store, since, NOW, cached=False, **kwargs)  # type: ignore[arg-type]


def _cached(store: Store, since: datetime = SINCE, **kwargs: object) -> StatsReport:
    return stats_report(store, since, NOW, **kwargs)  # type: ignore[arg-type]


def _kept_weeks(store: Store) -> int:
    with store.rows() as conn:
        return int(conn.execute("SELECT COUNT(*) FROM stats_weeks").fetchone()[0])


def _gathered(store: Store, since: datetime = SINCE) -> weeks.Gathered:
    with store.rows() as conn:
        return weeks.gather(conn, since, NOW, lambda: None)


WHOLE_WEEKS = 29  # [SINCE, NOW) holds 29 whole UTC weeks between its head and its tail


def test_cold_and_warm_reports_are_the_report_from_the_rows(store: Store) -> None:
    plain = _plain(store)
    assert _kept_weeks(store) == 0
    assert _cached(store) == plain  # cold: every week folded, then kept
    assert _kept_weeks(store) == WHOLE_WEEKS
    assert _cached(store) == plain  # warm
    found = _gathered(store)
    assert found.kept == WHOLE_WEEKS and not found.fresh
    # Every grouping and team filter is applied to the kept weeks as to the rows.
    for by in ("service", "team"):
        for team in (None, "payments", "Storefront", "Ops", "nobody"):
            assert _cached(store, by=by, team=team) == _plain(store, by=by, team=team)


@pytest.mark.parametrize(
    "since",
    [NOW - timedelta(weeks=8), NOW - timedelta(weeks=1), MONDAY, MONDAY - timedelta(seconds=30)],
    ids=["8w", "1w", "from-a-monday", "30s-before-a-monday"],
)
def test_other_windows_over_the_same_kept_weeks(store: Store, since: datetime) -> None:
    _cached(store)  # keeps the 29 weeks
    assert _cached(store, since) == _plain(store, since)
    assert _cached(store, since) == _plain(store, since)


def _late_notify_in_an_old_week(path: Path) -> None:
    # Tokyo paged 65 s before the Monday: the row at -30 s joins that page, so Monday's row
    # at +15 s starts a page of its own where it had joined the one begun at -30 s. Only
    # the week before is touched; the kept Monday week (its rows unchanged) must be refolded.
    _notify(path, "pd:EDGE0", "pd:TYO", MONDAY - timedelta(seconds=65), "late-1")


def _late_notify_mid_week(path: Path) -> None:
    _notify(path, "pd:OWN", "pd:KOL", EARLIER + timedelta(days=2, hours=3), "late-2")


def _repaged_a_week_later(path: Path) -> None:
    # Kolkata paged again for an incident of the week before: its first week must stop
    # counting it as its own, or the person's total would count it twice.
    _notify(path, "pd:OWN", "pd:KOL", EARLIER + timedelta(days=8), "own-again")


def _incident_turned_drill(path: Path) -> None:
    _sql(path, "UPDATE incidents SET is_drill = 1 WHERE id = 'pd:LATE'")


def _acknowledged(path: Path) -> None:
    _sql(
        path,
        "UPDATE incidents SET acknowledged_at = ? WHERE id = 'pd:EDGE1'",
        _stamp(EARLIER + timedelta(minutes=3)),
    )


def _acknowledged_in_the_log(path: Path) -> None:
    _sql(
        path,
        "INSERT INTO timeline_events (incident_id, at, kind, summary, actor, person_id, "
        "channel, remote_id, is_drill, details) "
        "VALUES ('pd:EDGE1', ?, 'acknowledge', '', '', '', '', 'ack-1', 0, '{}')",
        _stamp(EARLIER + timedelta(minutes=1)),
    )


def _resolved(path: Path) -> None:
    _sql(
        path,
        "UPDATE incidents SET resolved_at = ? WHERE id = 'pd:EDGE1'",
        _stamp(EARLIER + timedelta(hours=2)),
    )


def _moved_service(path: Path) -> None:
    _sql(path, "UPDATE incidents SET service_name = 'billing' WHERE id = 'pd:EDGE1'")


def _zone_changed(path: Path) -> None:
    _sql(path, "UPDATE people SET time_zone = 'Pacific/Auckland' WHERE id = 'pd:KOL'")


def _notify_removed(path: Path) -> None:
    # Berlin's storm now begins on the Monday: its first page moves to the next UTC week.
    _sql(path, "DELETE FROM timeline_events WHERE remote_id = 'e1-0'")


def _incident_removed(path: Path) -> None:
    _sql(path, "DELETE FROM incidents WHERE id = 'pd:EDGE1'")


def _insight_added(path: Path) -> None:
    _sql(
        path,
        "INSERT INTO insights (incident_id, text, whys, guardrail, guardrail_owner, "
        "runbook_draft, created_at) VALUES ('pd:EDGE1', 'why', '[]', 'a limit', '', '', ?)",
        _stamp(EARLIER + timedelta(days=1)),
    )


def _change_event(path: Path) -> None:
    _sql(
        path,
        "INSERT INTO change_events (id, source, service_name, summary, at) "
        "VALUES ('late-change', 'deploys', 'web', '', ?)",
        _stamp(EARLIER + timedelta(days=3)),
    )


def _baton_delivered(path: Path) -> None:
    # Berlin accepted the incident in the cockpit: PagerDuty's notification is no page.
    _sql(
        path,
        "INSERT INTO outbox (source, incident_id, action, payload, created_at, state, "
        "attempts, last_error, last_attempt_at, sent_at, remote_ref, holder, warning) "
        "VALUES ('pagerduty', 'pd:EDGE1', 'reassign', '{\"person_id\": \"BER\"}', ?, 'sent', "
        "1, '', ?, ?, '', '', '')",
        _stamp(EARLIER),
        _stamp(EARLIER - timedelta(seconds=30)),
        _stamp(EARLIER - timedelta(seconds=25)),
    )


def _rollback_done(path: Path) -> None:
    conn = sqlite3.connect(path)
    try:
        with conn:
            run = conn.execute(
                "INSERT INTO runbook_runs (incident_id, runbook_id, runbook_path, runbook_hash, "
                "started_at, started_by, is_drill) VALUES ('pd:EDGE1', 'rb', '', '', ?, '', 0)",
                (_stamp(EARLIER),),
            ).lastrowid
            for seq, (kind, step) in enumerate((("decided", "d"), ("done", "rollback.x")), 1):
                conn.execute(
                    "INSERT INTO step_events (run_id, seq, at, kind, step_id, branch, reason, "
                    "actor, details) VALUES (?, ?, ?, ?, ?, 'rollback', '', '', '{}')",
                    (run, seq, _stamp(EARLIER + timedelta(minutes=seq * 7)), kind, step),
                )
    finally:
        conn.close()


def _shift_added(path: Path) -> None:
    _sql(
        path,
        "INSERT INTO oncall_shifts (source, person_id, escalation_policy_id, "
        'escalation_policy_name, escalation_level, schedule_id, schedule_name, start, "end") '
        "VALUES ('pagerduty', 'pd:BER', 'EP9', '', 1, '', '', ?, ?)",
        _stamp(MONDAY - timedelta(hours=6)),
        _stamp(MONDAY + timedelta(hours=30)),
    )


CHANGES = {
    "late notify across a Monday": _late_notify_in_an_old_week,
    "late notify mid-week": _late_notify_mid_week,
    "re-paged a week later": _repaged_a_week_later,
    "notify removed": _notify_removed,
    "incident turned drill": _incident_turned_drill,
    "incident removed": _incident_removed,
    "acknowledged": _acknowledged,
    "acknowledged in the log": _acknowledged_in_the_log,
    "resolved": _resolved,
    "service changed": _moved_service,
    "zone changed": _zone_changed,
    "insight added": _insight_added,
    "change event": _change_event,
    "baton delivered": _baton_delivered,
    "rolled back": _rollback_done,
    "shift added": _shift_added,
}


@pytest.mark.parametrize("change", list(CHANGES.values()), ids=list(CHANGES))
def test_a_change_to_a_kept_week_is_seen(store: Store, change: Callable[[Path], None]) -> None:
    before = _plain(store)
    assert _cached(store) == before  # the weeks are kept now
    change(store.path)
    after = _plain(store)
    assert after != before  # the change moves the figures: a stale week would show
    assert _cached(store) == after  # the first report after the change
    assert _cached(store) == after  # and the weeks it kept again
    assert _gathered(store).kept == WHOLE_WEEKS


def test_a_change_refolds_only_the_weeks_it_touched(store: Store) -> None:
    _cached(store)
    _late_notify_mid_week(store.path)
    found = _gathered(store)
    assert found.kept == WHOLE_WEEKS - 1 and len(found.fresh) == 1


def test_a_damaged_or_older_kept_week_is_folded_again(store: Store) -> None:
    plain = _plain(store)
    _cached(store)
    first = "(SELECT MIN(week) FROM stats_weeks)"
    last = "(SELECT MAX(week) FROM stats_weeks)"
    _sql(store.path, f"UPDATE stats_weeks SET data = 'not json' WHERE week = {first}")
    _sql(store.path, f"UPDATE stats_weeks SET data = '{{\"format\": 0}}' WHERE week = {last}")
    assert _gathered(store).kept == WHOLE_WEEKS - 2
    assert _cached(store) == plain
    assert _gathered(store).kept == WHOLE_WEEKS  # both were stored again


def test_a_kept_week_of_the_right_shape_but_wrong_types_is_no_error(store: Store) -> None:
    plain = _plain(store)
    _cached(store)
    with store.rows() as conn:
        week, data = conn.execute("SELECT week, data FROM stats_weeks LIMIT 1").fetchone()
    part = json.loads(data)
    part["durations"] = [
        [s, t, n, [str(a) for a in acks], fixes] for s, t, n, acks, fixes in part["durations"]
    ]
    _sql(store.path, "UPDATE stats_weeks SET data = ? WHERE week = ?", json.dumps(part), week)
    assert _cached(store) == plain
    assert _kept_weeks(store) == 0  # forgotten, to be folded again next time
    assert _cached(store) == plain
    assert _kept_weeks(store) == WHOLE_WEEKS


def test_a_busy_store_gets_the_report_without_its_cache(store: Store) -> None:
    plain = _plain(store)
    sync = sqlite3.connect(store.path, isolation_level=None)
    sync.execute("BEGIN IMMEDIATE")  # a sync's batch holds the write lock
    try:
        with store.rows() as conn:
            started = conn.execute("SELECT COUNT(*) FROM stats_weeks").fetchone()[0]
        assert _cached(store) == plain
    finally:
        sync.execute("ROLLBACK")
        sync.close()
    assert started == 0 and _kept_weeks(store) == 0  # nothing stored, nothing waited for
    assert _cached(store) == plain
    assert _kept_weeks(store) == WHOLE_WEEKS


def test_a_report_that_read_a_week_before_a_sync_changed_it_does_not_keep_it(
    store: Store,
) -> None:
    before = _plain(store)
    with store.rows() as conn:
        found = weeks.gather(conn, SINCE, NOW, lambda: None)
        _late_notify_mid_week(store.path)  # a sync commits after the report's snapshot
        assert not weeks.store_fresh(conn, found.fresh)
    assert _kept_weeks(store) == 0
    after = _plain(store)
    assert after != before
    assert _cached(store) == after
