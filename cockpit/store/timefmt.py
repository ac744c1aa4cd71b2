"""Aware-UTC datetimes and their stored text form, without the ORM (the first frame reads
the store with plain sqlite3 and must not import SQLAlchemy)."""

from __future__ import annotations

from datetime import UTC, datetime

# A fixed-width text form sorts as time and is understood by SQLite's date functions.
SQLITE_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Aware UTC; a naive value is taken to be UTC already (SQLite hands those back)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def to_db_text(value: datetime) -> str:
    return as_utc(value).strftime(SQLITE_FORMAT)


def from_db_text(value: str | None) -> datetime | None:
    """A stored timestamp (``to_db_text``'s form, or any ISO form) as aware UTC."""
    if value is None or value == "":
        return None
    return as_utc(datetime.fromisoformat(value))


def stamp(value: str) -> datetime:
    """A stored timestamp from a NOT NULL column, as aware UTC."""
    return as_utc(datetime.fromisoformat(value))
