"""The meter names the 12-hour block of a long shift it judges, in the person's own zone."""

from __future__ import annotations

from datetime import UTC, date, datetime

from textual.app import App, ComposeResult

from cockpit.metrics.pageload import Meter
from cockpit.widgets.page_load_meter import PageLoadMeter, explain


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def _meter(**fields: object) -> Meter:
    values: dict[str, object] = dict(
        person_id="pd:A",
        now=_utc(2026, 4, 1, 4),
        shift_start=_utc(2026, 3, 30, 7),
        shift_end=_utc(2026, 4, 6, 7),
        shift_pages=3,
        shift_incidents=3,
        shift_budget=2,
        shift_split={"business": 0, "off_hours": 0, "sleep": 3},
        week_start=_utc(2026, 3, 29, 22),
        week_pages=4,
        week_incidents=4,
        week_budget=28,
        week_split={"business": 0, "off_hours": 1, "sleep": 3},
        days=(date(2026, 4, 1),),
        daily=(3,),
        state="red",
        reasons=("3 incidents this 12 h of the shift, budget 2",),
        block_start=_utc(2026, 3, 31, 19),
        block_end=_utc(2026, 4, 1, 7),
        block=3,
        blocks=14,
        time_zone="Europe/Berlin",
    )
    values.update(fields)
    return Meter(**values)  # type: ignore[arg-type]


def test_explain_names_the_block_of_a_weekly_shift() -> None:
    text = explain(_meter())
    assert (
        "This 12 h of the shift (block 4 of 14, Tue 21:00–Wed 09:00 your time): "
        "3 incident(s), 3 page(s); budget 2 incidents" in text
    )
    assert "judged in 12-hour blocks" in text and "No on-call shift" not in text


def test_explain_of_a_12_hour_shift_and_of_no_shift() -> None:
    twelve = _meter(
        shift_start=_utc(2026, 3, 31, 19), shift_end=_utc(2026, 4, 1, 7), block=0, blocks=1
    )
    assert "This shift: 3 incident(s)" in explain(twelve)
    assert "12-hour blocks" not in explain(twelve)
    none = _meter(
        shift_start=_utc(2026, 3, 31, 16),
        shift_end=None,
        on_shift=False,
        block_start=_utc(2026, 3, 31, 16),
        block_end=_utc(2026, 4, 1, 4),
        blocks=1,
    )
    assert "No on-call shift on record now" in explain(none)
    assert "This shift: 3 incident(s)" in explain(none)


class _Host(App[None]):
    def compose(self) -> ComposeResult:
        yield PageLoadMeter()


async def test_the_meter_line_shows_the_blocks_local_hours() -> None:
    app = _Host()
    async with app.run_test(size=(120, 5)) as pilot:
        meter = app.query_one(PageLoadMeter)
        meter.show(_meter())
        await pilot.pause()
        shown = str(meter.render())
        assert "3/2 this 12 h 21:00–09:00" in shown and "red: 3 incidents" in shown
        assert meter.has_class("-red")
