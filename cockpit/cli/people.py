"""Naming people on the command line: an id, a name or an email, or "me"."""

from __future__ import annotations

from sqlmodel import select

from cockpit.cli.main import CliError
from cockpit.store.engine import Store
from cockpit.store.models import Person
from cockpit.sync.identity import get_me


def resolve_person(store: Store, ref: str, fallback_user: str = "", *, strict: bool = True) -> str:
    """The person id ``ref`` names (id, name or email); "" or "me" is the store's "me".

    A first name or an email's user part does when exactly one person has it ("maya" for
    Maya Brooks); two people who share it are named, and nobody is guessed. A name nobody in
    the roster has is refused: a typo must not hand batons to no one. A team without a
    paging service names people explicitly as ``local:<name>``. With ``strict=False`` (a
    drill's participant) any name is taken as ``local:<name>``.
    """
    with store.read() as session:
        if not ref or ref == "me":
            return get_me(session, fallback_user).id
        if session.get(Person, ref) is not None:
            return ref
        wanted = ref.strip().lower()
        people = list(session.exec(select(Person)))
        for person in people:
            if wanted in (
                person.name.lower(),
                person.email.lower(),
                person.id.split(":")[-1].lower(),
            ):
                return person.id
        partial = [
            p
            for p in people
            if wanted in ((p.name.split() or [""])[0].lower(), p.email.split("@")[0].lower())
        ]
        if len(partial) == 1:
            return partial[0].id
        if len(partial) > 1:
            names = ", ".join(sorted(f"{p.name} <{p.email}>" for p in partial))
            raise CliError(f"{ref!r} could be {names}: give the full name or the email")
    if ref.startswith("local:") or not strict:
        return ref if ":" in ref else f"local:{ref}"
    raise CliError(
        f"no person {ref!r} in the roster (sync first, check the spelling, or write "
        f"local:{ref} for someone outside the paging service)"
    )
