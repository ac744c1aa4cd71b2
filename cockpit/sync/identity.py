"""Who "me" is in this store: learned from the provider (``/users/me``) or the ``user`` setting.

Light on purpose (no ORM at import): the cockpit's first frame asks who "me" is.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cockpit.store.reads import sync_cursor
from cockpit.store.timefmt import utcnow

if TYPE_CHECKING:
    from sqlmodel import Session

_KEY = "me"


@dataclass(frozen=True)
class Me:
    id: str  # source-qualified person id, or "local:<name>" without a provider
    name: str
    email: str = ""


def me_in(conn: sqlite3.Connection, fallback: str = "") -> Me:
    cursor = sync_cursor(conn, _KEY)
    if cursor.get("id"):
        return Me(cursor["id"], cursor.get("name", ""), cursor.get("email", ""))
    name = fallback or "me"
    return Me(f"local:{name}", name)


def get_me(session: Session, fallback: str = "") -> Me:
    from cockpit.store.engine import driver_connection

    return me_in(driver_connection(session), fallback)


def set_me(session: Session, me: Me) -> None:
    from cockpit.store.models import SyncState

    row = session.get(SyncState, _KEY) or SyncState(key=_KEY)
    row.cursor = {"id": me.id, "name": me.name, "email": me.email}
    row.updated_at = utcnow()
    session.add(row)
