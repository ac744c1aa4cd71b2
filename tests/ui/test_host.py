"""The screens know the app only by the protocol in screens/host.py (they sit below it): the
app must still have every member the protocol names, or a screen would fail at run time."""

from __future__ import annotations

from cockpit.app import CockpitApp
from cockpit.screens.host import CockpitHost


def test_the_app_has_every_member_the_screens_ask_for(app: CockpitApp) -> None:
    assert isinstance(app, CockpitHost)
