"""Naming a person on the command line: exact, then a unique first name or email user."""

from __future__ import annotations

from pathlib import Path

import pytest

from cockpit.cli.main import CliError
from cockpit.cli.people import resolve_person
from cockpit.store import Person, Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store.open(tmp_path)
    with store.write() as session:
        session.add(
            Person(
                id="pagerduty:PM", source="pagerduty", name="Maya Brooks", email="maya@example.com"
            )
        )
        session.add(
            Person(
                id="pagerduty:PA1",
                source="pagerduty",
                name="Alex Night",
                email="anight@example.com",
            )
        )
        session.add(
            Person(
                id="pagerduty:PA2",
                source="pagerduty",
                name="Alex Stone",
                email="astone@example.com",
            )
        )
    return store


def test_full_names_emails_ids_and_a_unique_first_name(store: Store) -> None:
    assert resolve_person(store, "Maya Brooks") == "pagerduty:PM"
    assert resolve_person(store, "maya@example.com") == "pagerduty:PM"
    assert resolve_person(store, "maya") == "pagerduty:PM"
    assert resolve_person(store, "astone") == "pagerduty:PA2"
    store.close()


def test_a_shared_first_name_names_both_and_picks_neither(store: Store) -> None:
    with pytest.raises(CliError, match="Alex Night.*Alex Stone"):
        resolve_person(store, "alex")
    with pytest.raises(CliError, match="no person 'mya'"):
        resolve_person(store, "mya")
    store.close()
