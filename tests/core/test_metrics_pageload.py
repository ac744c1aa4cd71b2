"""Page load against hand-computed expectations: dedup, hour bands across DST, drills, meter."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from pageseed import incident, notify, open_store, person, shift, utc

from cockpit.metrics import hours, pageload, pagelog
from cockpit.store import Store

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"


@pytest.fixture
def store(tmp_path):  # type: ignore[no-untyped-def]
    s = open_store(tmp_path)
    yield s
    s.close()


# ---------------------------------------------------------------- bands


@pytest.mark.parametrize(
    ("at", "tz", "expected"),
    [
        # Wednesday 2026-03-25, Berlin on CET (UTC+1): 21:59 and 22:00 local.
        (utc(2026, 3, 25, 20, 59), BERLIN, "off_hours"),
        (utc(2026, 3, 25, 21, 0), BERLIN, "sleep"),
        # Monday 2026-03-30, Berlin on CEST (UTC+2) since Sunday: the same wall times.
        (utc(2026, 3, 30, 19, 59), BERLIN, "off_hours"),
        (utc(2026, 3, 30, 20, 0), BERLIN, "sleep"),
        (utc(2026, 3, 30, 5, 59), BERLIN, "sleep"),
        (utc(2026, 3, 30, 6, 0), BERLIN, "business"),
        # Friday 17:59 is business, 18:00 off-hours (CET).
        (utc(2026, 3, 27, 16, 59), BERLIN, "business"),
        (utc(2026, 3, 27, 17, 0), BERLIN, "off_hours"),
        # Saturday 10:00 local is off-hours, 23:00 local is sleep, 07:59 sleep.
        (utc(2026, 3, 28, 9, 0), BERLIN, "off_hours"),
        (utc(2026, 3, 28, 22, 0), BERLIN, "sleep"),
        (utc(2026, 3, 28, 6, 59), BERLIN, "sleep"),
        # New York: Friday 2026-03-06 on EST (UTC-5), Monday 2026-03-09 on EDT (UTC-4).
        (utc(2026, 3, 6, 12, 30), NEW_YORK, "sleep"),
        (utc(2026, 3, 6, 13, 0), NEW_YORK, "business"),
        (utc(2026, 3, 9, 11, 59), NEW_YORK, "sleep"),
        (utc(2026, 3, 9, 12, 0), NEW_YORK, "business"),
        # Monday 02:00 UTC is still Sunday 22:00 in New York: sleep, not business.
        (utc(2026, 3, 9, 2, 0), NEW_YORK, "sleep"),
        (utc(2026, 3, 9, 1, 59), NEW_YORK, "off_hours"),
        # Unknown zone falls back to UTC instead of failing.
        (utc(2026, 3, 25, 9, 0), "Mars/Olympus", "business"),
    ],
)
def test_band_in_the_persons_own_zone(at, tz, expected):  # type: ignore[no-untyped-def]
    assert hours.band(at, tz) == expected


def test_week_bounds_across_the_spring_dst_change():
    # The week of Monday 2026-03-23 in Berlin starts on CET and ends on CEST: 167 hours.
    start, end = hours.week_bounds(utc(2026, 3, 25, 12), BERLIN)
    assert start == utc(2026, 3, 22, 23)
    assert end == utc(2026, 3, 29, 22)
    assert end - start == timedelta(hours=167)


def test_autumn_dst_day_is_25_hours_in_new_york():
    start = hours.day_start(date(2026, 11, 1), NEW_YORK)
    end = hours.day_start(date(2026, 11, 2), NEW_YORK)
    assert (start, end - start) == (utc(2026, 11, 1, 4), timedelta(hours=25))


# ---------------------------------------------------------------- dedup


def test_one_page_per_person_within_60_seconds(store: Store) -> None:
    person(store, "pd:A", "Ann")
    person(store, "pd:B", "Bob")
    incident(store, "pd:I1", utc(2026, 3, 25, 9, 59))
    t0 = utc(2026, 3, 25, 10)
    # Push, phone and SMS of one round: one page; 60 s after the first starts a new one.
    notify(store, "pd:I1", "pd:A", t0, "push")
    notify(store, "pd:I1", "pd:A", t0 + timedelta(seconds=30), "phone")
    notify(store, "pd:I1", "pd:A", t0 + timedelta(seconds=59), "sms")
    notify(store, "pd:I1", "pd:A", t0 + timedelta(seconds=60), "push")
    notify(store, "pd:I1", "pd:A", t0 + timedelta(seconds=90), "phone")
    # Another person at the same second is their own page.
    notify(store, "pd:I1", "pd:B", t0, "push")
    found = pageload.pages(store, utc(2026, 3, 25), utc(2026, 3, 26))
    assert [(p.person_id, p.at, p.channels) for p in found] == [
        ("pd:A", t0, ("push", "phone", "sms")),
        ("pd:A", t0 + timedelta(seconds=60), ("push", "phone")),
        ("pd:B", t0, ("push",)),
    ]


def test_a_storm_every_30_seconds_is_a_page_per_minute(store: Store) -> None:
    person(store, "pd:A", "Ann")
    incident(store, "pd:I1", utc(2026, 3, 25, 10))
    t0 = utc(2026, 3, 25, 11)
    for n in range(7):  # 0, 30, ..., 180 s: anchors at 0, 60, 120, 180
        notify(store, "pd:I1", "pd:A", t0 + timedelta(seconds=30 * n))
    assert len(pageload.pages(store, utc(2026, 3, 25), utc(2026, 3, 26))) == 4


def test_page_started_before_the_window_is_not_counted_again(store: Store) -> None:
    person(store, "pd:A", "Ann")
    incident(store, "pd:I1", utc(2026, 3, 25, 10))
    notify(store, "pd:I1", "pd:A", utc(2026, 3, 25, 11, 59, 40))
    notify(store, "pd:I1", "pd:A", utc(2026, 3, 25, 12, 0, 10), "phone")
    assert pageload.pages(store, utc(2026, 3, 25, 12), utc(2026, 3, 25, 13)) == []


def test_drills_never_count(store: Store) -> None:
    person(store, "pd:A", "Ann")
    incident(store, "pd:I1", utc(2026, 3, 25, 10))
    incident(store, "drill:D1", utc(2026, 3, 25, 10), source="drill", is_drill=True)
    notify(store, "drill:D1", "pd:A", utc(2026, 3, 25, 10, 5))
    # A drill-flagged row on a real incident is excluded too.
    notify(store, "pd:I1", "pd:A", utc(2026, 3, 25, 10, 10), is_drill=True)
    notify(store, "pd:I1", "pd:A", utc(2026, 3, 25, 10, 20))
    found = pageload.pages(store, utc(2026, 3, 25), utc(2026, 3, 26))
    assert [(p.incident_id, p.at) for p in found] == [("pd:I1", utc(2026, 3, 25, 10, 20))]


# ---------------------------------------------------------------- per person and per week


def test_load_by_person_split_and_concentration(store: Store) -> None:
    person(store, "pd:A", "Ann", BERLIN, ["web"])
    person(store, "pd:B", "Bob", NEW_YORK, ["db"])
    incident(store, "pd:I1", utc(2026, 3, 25, 8))
    incident(store, "pd:I2", utc(2026, 3, 25, 8))
    # Ann (Berlin, CET): 09:00 business, 21:59 off-hours, 22:00 sleep -> 3 pages, 2 incidents.
    notify(store, "pd:I1", "pd:A", utc(2026, 3, 25, 8))
    notify(store, "pd:I1", "pd:A", utc(2026, 3, 25, 20, 59))
    notify(store, "pd:I2", "pd:A", utc(2026, 3, 25, 21, 0))
    # Bob (New York, EDT): 13:00 UTC is 09:00 local, business.
    notify(store, "pd:I2", "pd:B", utc(2026, 3, 25, 13))
    loads = pagelog.load_by_person(store, utc(2026, 3, 25), utc(2026, 3, 26))
    assert [(x.person_id, x.name, x.pages, x.incidents, x.split) for x in loads] == [
        ("pd:A", "Ann", 3, 2, {"business": 1, "off_hours": 1, "sleep": 1}),
        ("pd:B", "Bob", 1, 1, {"business": 1, "off_hours": 0, "sleep": 0}),
    ]
    assert pageload.concentration(loads) == 0.75
    assert pageload.concentration([]) == 0.0
    only_db = pagelog.load_by_person(store, utc(2026, 3, 25), utc(2026, 3, 26), team="db")
    assert [x.person_id for x in only_db] == ["pd:B"]


def test_weekly_load_uses_the_local_week(store: Store) -> None:
    person(store, "pd:B", "Bob", NEW_YORK)
    incident(store, "pd:I1", utc(2026, 3, 1))
    # Monday 02:00 UTC is Sunday 22:00 in New York: the week of Monday 2026-03-02.
    notify(store, "pd:I1", "pd:B", utc(2026, 3, 9, 2))
    notify(store, "pd:I1", "pd:B", utc(2026, 3, 9, 14))
    weeks = pagelog.weekly_load(store, utc(2026, 3, 1), utc(2026, 3, 16))
    assert {monday: load.pages for monday, load in weeks["pd:B"].items()} == {
        date(2026, 3, 2): 1,
        date(2026, 3, 9): 1,
    }


def test_shift_loads_flag_more_than_two_incidents_per_12h(store: Store) -> None:
    person(store, "pd:A", "Ann")
    shift(store, "pd:A", utc(2026, 3, 25, 8), utc(2026, 3, 25, 20))
    for n in range(3):
        incident(store, f"pd:I{n}", utc(2026, 3, 25, 9 + n))
        notify(store, f"pd:I{n}", "pd:A", utc(2026, 3, 25, 9 + n))
    notify(store, "pd:I0", "pd:A", utc(2026, 3, 25, 21))  # after the shift
    (only,) = pagelog.shift_loads(store, utc(2026, 3, 25), utc(2026, 3, 26))
    assert (only.load.pages, only.load.incidents, only.budget, only.state) == (3, 3, 2, "red")


def test_shift_budget_is_2_per_judged_window():
    # An 8 h and a 12 h shift are judged whole, against 2.
    assert pageload.shift_budget(utc(2026, 1, 1, 0), utc(2026, 1, 1, 8)) == 2
    assert pageload.shift_budget(utc(2026, 1, 1, 0), utc(2026, 1, 1, 12)) == 2
    assert pageload.shift_blocks(utc(2026, 1, 1, 0), utc(2026, 1, 1, 8)) == [
        (utc(2026, 1, 1, 0), utc(2026, 1, 1, 8))
    ]
    # A 30 h shift: two 12 h blocks and a 6 h one, each against 2 (not 6 for the whole).
    assert pageload.shift_blocks(utc(2026, 1, 1, 0), utc(2026, 1, 2, 6)) == [
        (utc(2026, 1, 1, 0), utc(2026, 1, 1, 12)),
        (utc(2026, 1, 1, 12), utc(2026, 1, 2, 0)),
        (utc(2026, 1, 2, 0), utc(2026, 1, 2, 6)),
    ]
    # A week: 14 blocks of 12 h counted from the start (09:00), not from midnight.
    week = pageload.shift_blocks(utc(2026, 1, 5, 9), utc(2026, 1, 12, 9))
    assert len(week) == 14
    assert week[3] == (utc(2026, 1, 6, 21), utc(2026, 1, 7, 9))
    assert {pageload.shift_budget(lo, hi) for lo, hi in week} == {2}
    # An open-ended shift runs in 12 h blocks from its start.
    assert hours.block_at(utc(2026, 1, 5, 9), None, utc(2026, 1, 7, 2)) == (
        3,
        utc(2026, 1, 6, 21),
        utc(2026, 1, 7, 9),
    )


# ---------------------------------------------------------------- a week-long shift


def _seed_weekly(store: Store) -> None:
    """Ann (Berlin) on call Monday 2026-03-30 09:00 local for 7 days (CEST, UTC+2).

    Block k runs from 07:00 UTC + 12 h * k. Block 3 is Tuesday 21:00 to Wednesday 09:00 local
    (19:00-07:00 UTC): three incidents page her at 23:00, 01:00 and 03:00 local. One
    incident paged at 20:00 local on Tuesday, in block 2.
    """
    person(store, "pd:A", "Ann", BERLIN)
    shift(store, "pd:A", utc(2026, 3, 30, 7), utc(2026, 4, 6, 7))
    incident(store, "pd:E", utc(2026, 3, 31, 18))
    notify(store, "pd:E", "pd:A", utc(2026, 3, 31, 18))
    for n, at in enumerate((utc(2026, 3, 31, 21), utc(2026, 3, 31, 23), utc(2026, 4, 1, 1))):
        incident(store, f"pd:N{n}", at)
        notify(store, f"pd:N{n}", "pd:A", at)


def test_a_weekly_shift_is_judged_per_12_hour_block(store: Store) -> None:
    _seed_weekly(store)
    blocks = pagelog.shift_loads(store, utc(2026, 3, 30), utc(2026, 4, 7))
    assert len(blocks) == 14 and {b.budget for b in blocks} == {2}
    flagged = [
        (b.start, b.end, b.load.incidents, b.load.pages, b.load.split["sleep"], b.state)
        for b in blocks
        if b.state != "green"
    ]
    assert flagged == [
        (utc(2026, 3, 31, 19), utc(2026, 4, 1, 7), 3, 3, 3, "red"),
    ]
    # Tuesday 20:00 local is off-hours: one incident, under the budget, green.
    assert blocks[2].load.incidents == 1 and blocks[2].state == "green"
    assert blocks[3].reasons[0] == "3 incidents this 12 h, budget 2"
    assert (blocks[3].shift_start, blocks[3].shift_end, blocks[3].block) == (
        utc(2026, 3, 30, 7),
        utc(2026, 4, 6, 7),
        3,
    )


def test_the_meter_on_a_weekly_shift_shows_the_current_block(store: Store) -> None:
    _seed_weekly(store)
    meter = pageload.meter_for(store, "pd:A", utc(2026, 4, 1, 4))  # Wednesday 06:00 local
    assert (meter.block_start, meter.block_end, meter.block, meter.blocks) == (
        utc(2026, 3, 31, 19),
        utc(2026, 4, 1, 7),
        3,
        14,
    )
    # Three incidents in this block against 2: red (it was 4 of a budget of 28 before).
    assert (meter.shift_incidents, meter.shift_pages, meter.shift_budget) == (3, 3, 2)
    assert meter.shift_split == {"business": 0, "off_hours": 0, "sleep": 3}
    assert meter.state == "red" and meter.in_blocks
    assert meter.reasons[0] == "3 incidents this 12 h of the shift, budget 2"
    # The week counts all four: 168 h on call this week is a budget of 28.
    assert (meter.week_incidents, meter.week_budget) == (4, 28)


def test_a_page_in_the_previous_block_does_not_count_in_the_current_one(store: Store) -> None:
    _seed_weekly(store)
    # Wednesday 09:30 local: block 4 (07:00-19:00 UTC) has no pages yet.
    meter = pageload.meter_for(store, "pd:A", utc(2026, 4, 1, 7, 30))
    assert (meter.block, meter.shift_incidents, meter.shift_pages) == (4, 0, 0)
    assert (meter.state, meter.reasons) == ("green", ())
    # Tuesday 20:30 local, block 2 (07:00-19:00 UTC): the 20:00 local page was at 18:00 UTC.
    meter = pageload.meter_for(store, "pd:A", utc(2026, 3, 31, 18, 30))
    assert (meter.block, meter.shift_incidents, meter.state) == (2, 1, "green")
    # Block 3 only holds what paged since 21:00 local: one of the night's three so far.
    # One incident is under the budget of 2: green, even in sleep hours (issue 16 item 9).
    meter = pageload.meter_for(store, "pd:A", utc(2026, 3, 31, 21, 30))
    assert (meter.block, meter.shift_incidents, meter.state) == (3, 1, "green")
    assert meter.shift_split["sleep"] == 1


def test_an_8_hour_shift_keeps_its_own_window_and_budget_2(store: Store) -> None:
    person(store, "pd:A", "Ann")
    shift(store, "pd:A", utc(2026, 3, 25, 9), utc(2026, 3, 25, 17))  # Wednesday, UTC
    for n in range(3):
        incident(store, f"pd:I{n}", utc(2026, 3, 25, 10 + n))
        notify(store, f"pd:I{n}", "pd:A", utc(2026, 3, 25, 10 + n))
    meter = pageload.meter_for(store, "pd:A", utc(2026, 3, 25, 16))
    assert (meter.block_start, meter.block_end, meter.blocks) == (
        utc(2026, 3, 25, 9),
        utc(2026, 3, 25, 17),
        1,
    )
    assert (meter.shift_incidents, meter.shift_budget, meter.state) == (3, 2, "red")
    assert not meter.in_blocks
    assert meter.reasons[0] == "3 incidents this shift, budget 2"
    (only,) = pagelog.shift_loads(store, utc(2026, 3, 25), utc(2026, 3, 26))
    assert (only.start, only.end, only.budget, only.state) == (
        utc(2026, 3, 25, 9),
        utc(2026, 3, 25, 17),
        2,
        "red",
    )


def test_overlapping_levels_are_one_stretch_not_counted_twice(store: Store) -> None:
    person(store, "pd:A", "Ann")
    shift(store, "pd:A", utc(2026, 3, 25, 9), utc(2026, 3, 25, 21), level=1)
    shift(store, "pd:A", utc(2026, 3, 25, 9), utc(2026, 3, 25, 21), level=2)
    incident(store, "pd:I1", utc(2026, 3, 25, 10))
    notify(store, "pd:I1", "pd:A", utc(2026, 3, 25, 10))
    (only,) = pagelog.shift_loads(store, utc(2026, 3, 25), utc(2026, 3, 26))
    assert (only.load.incidents, only.state) == (1, "green")


# ---------------------------------------------------------------- the meter


def _seed_meter(store: Store, incidents_in_shift: list[int]) -> None:
    person(store, "pd:A", "Ann", BERLIN)
    # Monday 2026-03-30, Berlin on CEST: a 12 h shift 10:00-22:00 local.
    shift(store, "pd:A", utc(2026, 3, 30, 8), utc(2026, 3, 30, 20))
    for n, hour in enumerate(incidents_in_shift):
        incident(store, f"pd:S{n}", utc(2026, 3, 30, hour))
        notify(store, f"pd:S{n}", "pd:A", utc(2026, 3, 30, hour))
    # Sunday (last week, the day of the DST change) and a page 10 days ago.
    incident(store, "pd:OLD", utc(2026, 3, 20, 10))
    notify(store, "pd:OLD", "pd:A", utc(2026, 3, 29, 10))
    notify(store, "pd:OLD", "pd:A", utc(2026, 3, 20, 10))


def test_meter_red_above_two_incidents(store: Store) -> None:
    _seed_meter(store, [9, 12, 17])
    meter = pageload.meter_for(store, "pd:A", utc(2026, 3, 30, 19))
    assert (meter.shift_pages, meter.shift_incidents, meter.shift_budget) == (3, 3, 2)
    assert meter.week_start == utc(2026, 3, 29, 22)
    assert (meter.week_pages, meter.week_incidents, meter.week_budget) == (3, 3, 2)
    # 11:00, 14:00 local business; 19:00 local off-hours.
    assert meter.shift_split == {"business": 2, "off_hours": 1, "sleep": 0}
    assert meter.state == "red"
    assert meter.days[0] == date(2026, 3, 17) and meter.days[-1] == date(2026, 3, 30)
    assert meter.daily == (0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3)


def test_meter_amber_at_the_budget_and_green_below(store: Store) -> None:
    _seed_meter(store, [9, 12])
    meter = pageload.meter_for(store, "pd:A", utc(2026, 3, 30, 19))
    assert (meter.shift_incidents, meter.state) == (2, "amber")
    assert meter.reasons[0] == "at the shift budget (2 incidents)"


def test_meter_green_with_one_business_hours_page(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = open_store(tmp_path)
    person(store, "pd:A", "Ann", BERLIN)
    # 24 h: two 12 h blocks (08:00-20:00 and 20:00-08:00 UTC), each against 2; week 4.
    shift(store, "pd:A", utc(2026, 3, 30, 8), utc(2026, 3, 31, 8))
    incident(store, "pd:S0", utc(2026, 3, 30, 9))
    notify(store, "pd:S0", "pd:A", utc(2026, 3, 30, 9))
    meter = pageload.meter_for(store, "pd:A", utc(2026, 3, 30, 19))
    assert (meter.shift_budget, meter.week_budget, meter.state) == (2, 4, "green")
    # The same page at 23:00 local (sleep) is still one incident of 2: green (issue 16
    # item 9: amber is at the budget; sleep pages are named only with amber or red).
    incident(store, "pd:S1", utc(2026, 3, 30, 21))
    notify(store, "pd:S1", "pd:A", utc(2026, 3, 30, 21))
    meter = pageload.meter_for(store, "pd:A", utc(2026, 3, 30, 22))
    assert (meter.state, meter.reasons) == ("green", ())
    # In the second block, which the first block's page does not reach.
    assert (meter.block, meter.shift_incidents, meter.shift_split["sleep"]) == (1, 1, 1)
    store.close()


def test_meter_without_a_shift_uses_the_last_12_hours(store: Store) -> None:
    person(store, "pd:A", "Ann")
    incident(store, "pd:I1", utc(2026, 3, 25, 1))
    notify(store, "pd:I1", "pd:A", utc(2026, 3, 25, 1))  # 13 h before now: outside
    notify(store, "pd:I1", "pd:A", utc(2026, 3, 25, 9))
    meter = pageload.meter_for(store, "pd:A", utc(2026, 3, 25, 14))
    assert (meter.shift_end, meter.shift_pages, meter.week_pages) == (None, 1, 2)
    assert (meter.week_budget, meter.state) == (14, "green")


def test_three_incidents_in_one_minute_are_one_page_but_three_against_the_budget(
    store: Store,
) -> None:
    person(store, "pd:A", "Ann")
    t0 = utc(2026, 3, 25, 11)
    for n in (1, 2, 3):
        incident(store, f"pd:I{n}", t0)
        notify(store, f"pd:I{n}", "pd:A", t0 + timedelta(seconds=10 * n))
    load = pagelog.load_by_person(store, utc(2026, 3, 25), utc(2026, 3, 26))
    ann = next(item for item in load if item.person_id == "pd:A")
    assert ann.pages == 1  # PagerDuty's rule: one page per person within 60 s
    assert ann.incidents == 3  # but the SRE budget counts incidents: this shift is red
