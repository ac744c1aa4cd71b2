"""Contract: every request the adapter sends, over real HTTP to the emulator, is one the
published spec allows: known query parameters, the required headers, and a body that
validates against the operation's request schema (vendored in data/pagerduty_requests.json)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qsl

import httpx
import jsonschema

from cockpit.integrations.pagerduty import PagerDutyProvider
from cockpit.integrations.pagerduty_emulator import start_emulator
from cockpit.store import Store, queries
from cockpit.sync import actions
from cockpit.sync.identity import get_me
from cockpit.sync.service import SyncService

SPEC = json.loads((Path(__file__).parent / "data" / "pagerduty_requests.json").read_text())
_ID = re.compile(r"^P[A-Z0-9]{6,}$")


class Recorder(httpx.AsyncBaseTransport):
    """Real HTTP underneath; remembers every request it carried."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        self.requests.append(request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _operation(request: httpx.Request) -> str:
    parts = ["{id}" if _ID.match(part) else part for part in request.url.path.split("/")]
    return f"{request.method} {'/'.join(parts)}"


async def test_every_request_the_adapter_sends_follows_the_spec(tmp_path: Path) -> None:
    recorder = Recorder()
    with start_emulator(incidents=60, days=10, seed=5) as emulator:
        provider = PagerDutyProvider(emulator.url, emulator.token, transport=recorder)
        store = Store.open(tmp_path)
        service = SyncService(store, {"pagerduty": provider})
        await service.sync_once()
        with store.read() as session:
            target = queries.open_incidents(session)[0]
            me = get_me(session).id
            someone = next(
                p for p in queries.people_by_id(session) if p != me and p not in target.assignees
            )
        await provider.alerts(target.remote_id)
        await provider.notes(target.remote_id)
        await provider.incident_log_entries(target.remote_id)
        actions.acknowledge(store, target.id)
        actions.add_note(store, target.id, "contract check")
        actions.snooze(store, target.id, 600)
        actions.escalate(store, target.id, 2)
        actions.take_baton(store, target.id)
        actions.offer_baton(store, target.id, someone, "over to you")
        actions.accept_baton(store, target.id)
        report = await service.sync_once()
        assert report.sent >= 5, report.errors
        await service.aclose()
        store.close()

    seen = set()
    for request in recorder.requests:
        op = _operation(request)
        assert op in SPEC, f"{op} is not an operation the adapter should use"
        seen.add(op)
        contract = SPEC[op]
        for name, _ in parse_qsl(request.url.query.decode(), keep_blank_values=True):
            assert name in contract["query"], f"{op}: unknown query parameter {name!r}"
        for header in contract["headers_required"]:
            if header == "Content-Type" and request.method == "GET":
                continue  # a GET has no body to describe
            assert header in request.headers, f"{op}: missing header {header}"
        assert request.headers["Authorization"].startswith("Token token=")
        assert request.headers["Accept"] == "application/vnd.pagerduty+json;version=2"
        if "body" in contract:
            jsonschema.validate(json.loads(request.content), contract["body"])
    assert {
        "GET /incidents",
        "GET /log_entries",
        "PUT /incidents/{id}",
        "POST /incidents/{id}/notes",
        "POST /incidents/{id}/snooze",
    } <= seen


def test_the_vendored_schema_would_catch_a_bad_body() -> None:
    schema = SPEC["POST /incidents/{id}/snooze"]["body"]
    try:
        jsonschema.validate({"seconds": 60}, schema)
    except jsonschema.ValidationError:
        return
    raise AssertionError("a snooze without duration passed the schema")
