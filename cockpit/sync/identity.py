"""Who "me" is in this store: learned from the provider (``/users/me``) or the ``user`` setting."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from cockpit.store.models import SyncState
from cockpit.store.types import utcnow

_KEY = "me"


@dataclass(frozen=True)
class Me:
    id: str  # source-qualified person id, or "local:<name>" without a provider
    name: str
    email: str = ""


def get_me(session: Session, fallback: str = "") -> Me:
    row = session.get(SyncState, _KEY)
    if row and row.cursor.get("id"):
        return Me(row.cursor["id"], row.cursor.get("name", ""), row.cursor.get("email", ""))
    name = fallback or "me"
    return Me(f"local:{name}", name)


def set_me(session: Session, me: Me) -> None:
    row = session.get(SyncState, _KEY) or SyncState(key=_KEY)
    row.cursor = {"id": me.id, "name": me.name, "email": me.email}
    row.updated_at = utcnow()
    session.add(row)
