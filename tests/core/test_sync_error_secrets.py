"""A sync error never shows a URL's user:password: not in the report the TUI toasts and the
CLI prints, not in the stored status."""

from __future__ import annotations

import socket
from pathlib import Path

from cockpit.integrations.alertmanager import AlertmanagerProvider
from cockpit.store import Store
from cockpit.sync.service import SyncService


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_an_unreachable_service_with_credentials_in_its_url_is_reported_without_them(
    tmp_path: Path,
) -> None:
    url = f"http://ops:am-s3cret-pw@127.0.0.1:{_closed_port()}"
    provider = AlertmanagerProvider(url, user="ops", token="am-s3cret-pw", creator="me")
    assert "am-s3cret-pw" not in repr(provider)
    store = Store.open(tmp_path)
    service = SyncService(store, {"alertmanager": provider})
    report = await service.sync_once()
    await service.aclose()
    assert report.errors, "a closed port must be reported"
    assert all("am-s3cret-pw" not in line for line in report.errors), report.errors
    stored = store.execute("SELECT last_error FROM sync_state")
    assert all("am-s3cret-pw" not in str(row[0]) for row in stored)
    store.close()
