"""Notifications carry remote and runbook text: they are plain text, never Rich markup."""

from __future__ import annotations

import pytest

from cockpit.app import CockpitApp
from cockpit.sync.service import SyncReport


async def test_a_notification_with_markup_like_text_is_shown_verbatim(app: CockpitApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        app.notify("Copied: grep '[/]' [bold]x[/bold] [link=javascript:alert(1)]")
        await pilot.pause()
        shown = [n.message for n in app.notices]
        assert "Copied: grep '[/]' [bold]x[/bold] [link=javascript:alert(1)]" in shown


async def test_what_a_sync_reconciled_is_told_to_the_user(app: CockpitApp) -> None:
    from cockpit.screens.messages import SyncFinished

    async with app.run_test(size=(100, 30)) as pilot:
        report = SyncReport(reconciled=["acknowledge on pagerduty:P1: already resolved remotely"])
        app.post_message(SyncFinished(report))
        await pilot.pause()
        titles = [n.title for n in app.notices]
        assert "Reconciled with the paging service" in titles


async def test_a_crash_report_never_shows_local_variables(
    app: CockpitApp, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "u+SECRETTOKEN123456"

    def explode() -> None:
        token = secret  # noqa: F841 - a local that Textual's default report would print
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        async with app.run_test(size=(100, 30)) as pilot:
            app.call_later(explode)
            await pilot.pause()
    report = capsys.readouterr()
    shown = report.out + report.err
    assert "RuntimeError" in shown and "explode" in shown
    assert secret not in shown
