"""Naming people on the command line: an id, a name or an email, or "me"."""

from __future__ import annotations

from sqlmodel import select

from cockpit.store.engine import Store
from cockpit.store.models import Person
from cockpit.sync.identity import get_me


def resolve_person(store: Store, ref: str, fallback_user: str = "") -> str:
    """The person id ``ref`` names; "" or "me" is the store's "me". Unknown names become
    ``local:<name>`` so a team without a paging service can still hand off."""
    with store.read() as session:
        if not ref or ref == "me":
            return get_me(session, fallback_user).id
        if session.get(Person, ref) is not None:
            return ref
        wanted = ref.strip().lower()
        for person in session.exec(select(Person)):
            if wanted in (person.name.lower(), person.email.lower(), person.id.split(":")[-1]
                          .lower()):
                return person.id
    return ref if ":" in ref else f"local:{ref}"
