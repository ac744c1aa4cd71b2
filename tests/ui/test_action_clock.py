"""What the user does in the TUI is stamped with the app's clock (a drill's, a replay's, a
test's), not with the machine's: the clock the app was given reaches the store's actions."""

from __future__ import annotations

from cockpit_seed import NOW
from sqlmodel import select

from cockpit.app import CockpitApp
from cockpit.store.models import BatonPass, Incident, TimelineEvent
from cockpit.store.timefmt import as_utc


async def test_ack_and_take_are_stamped_with_the_apps_clock(app: CockpitApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        await pilot.press("right_square_bracket", "t")  # #102, which Bob holds
        await pilot.pause()
    assert app.store is not None
    with app.store.read() as session:
        incident = session.get(Incident, "pagerduty:PINC101")
        assert incident is not None and as_utc(incident.acknowledged_at) == NOW
        ack = session.exec(select(TimelineEvent).where(TimelineEvent.kind == "acknowledge")).one()
        assert as_utc(ack.at) == NOW
        baton = session.exec(
            select(BatonPass).where(BatonPass.incident_id == "pagerduty:PINC102")
        ).one()
        assert as_utc(baton.offered_at) == NOW and as_utc(baton.accepted_at) == NOW
