"""Responses validate against the PagerDuty shapes written down in data/pagerduty_schemas.json."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from cockpit.integrations.pagerduty_emulator import start_emulator

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
SCHEMAS = json.loads((Path(__file__).parent / "data" / "pagerduty_schemas.json").read_text())
FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    # The stock checker needs an optional package; fromisoformat is strict enough here.
    return not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is not None


def check(instance: Any, name: str) -> None:
    schema = {"$defs": SCHEMAS["$defs"], "$ref": f"#/$defs/{name}"}
    jsonschema.Draft202012Validator(schema, format_checker=FORMATS).validate(instance)


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with start_emulator(incidents=60, now=NOW) as pd:
        headers = {"Authorization": f"Token token={pd.token}"}
        with httpx.Client(base_url=pd.url, headers=headers) as http:
            yield http


def test_lists_match_the_schemas(client: httpx.Client) -> None:
    for path, key, name in (
        ("/incidents", "incidents", "incident"),
        ("/log_entries", "log_entries", "log_entry"),
        ("/users", "users", "user"),
        ("/oncalls", "oncalls", "oncall"),
    ):
        body = client.get(path, params={"limit": 100, "total": "true"}).json()
        check(body, "page")
        assert body[key]
        for item in body[key]:
            check(item, name)


def test_details_errors_and_notes_match_the_schemas(
    client: httpx.Client,
) -> None:
    incident = client.get("/incidents", params={"time_zone": "Asia/Kolkata"}).json()["incidents"][0]
    check(incident, "incident")
    check(client.get(f"/incidents/{incident['id']}").json()["incident"], "incident")
    check(client.get("/users/me").json()["user"], "user")
    for response in (
        client.get("/incidents/PNOPE00"),
        client.get("/log_entries", params={"offset": 10_000}),
        httpx.get(f"{client.base_url}/incidents"),
    ):
        assert response.status_code >= 400
        check(response.json(), "error")


def test_a_broken_shape_would_fail(client: httpx.Client) -> None:
    incident = client.get("/incidents").json()["incidents"][0]
    incident["status"] = "on fire"
    with pytest.raises(jsonschema.ValidationError):
        check(incident, "incident")
    incident["status"], incident["created_at"] = "resolved", "last Tuesday"
    with pytest.raises(jsonschema.ValidationError):
        check(incident, "incident")
