"""Query parameters as PagerDuty reads them: arrays, booleans, pagination, date windows."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cockpit.integrations.pagerduty_emulator.account import ApiError

Query = dict[str, list[str]]
MAX_LIMIT = 100
PAGE_CAP = 10_000
DAY = 86_400
DEFAULT_WINDOW = 30 * DAY  # "one month"
MAX_WINDOW = 183 * DAY  # "6 months"


def invalid(detail: str, code: int = 2001) -> ApiError:
    return ApiError(400, "Invalid Input Provided", code, [detail])


def values(query: Query, name: str) -> list[str]:
    """``name[]=a&name[]=b`` (or ``name=a,b``) as a list."""
    found = query.get(f"{name}[]", []) + query.get(name, [])
    return [part for value in found for part in value.split(",") if part]


def one(query: Query, name: str) -> str | None:
    found = query.get(name)
    return found[-1] if found else None


def flag(query: Query, name: str) -> bool:
    value = one(query, name)
    if value is None:
        return False
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0", ""):
        return False
    raise invalid(f"{name} must be true or false")


def page(query: Query, cap: bool = True) -> tuple[int, int]:
    """``(limit, offset)``; limit defaults to 25 and is clamped to 100."""
    try:
        limit = int(one(query, "limit") or 25)
        offset = int(one(query, "offset") or 0)
    except ValueError:
        raise invalid("limit and offset must be integers") from None
    if limit < 1 or offset < 0:
        raise invalid("limit must be positive and offset not negative")
    limit = min(limit, MAX_LIMIT)
    if cap and offset + limit > PAGE_CAP:
        raise ApiError(
            400,
            "Offset+limit exceeds maximum allowed value of 10000",
            2001,
            ["Offset+limit exceeds maximum allowed value of 10000"],
        )
    return limit, offset


def zone(query: Query) -> str | None:
    name = one(query, "time_zone")
    if not name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise invalid(f"time_zone {name!r} is not a known time zone") from None
    return name


def parse_time(text: str, name: str, time_zone: str | None) -> float:
    try:
        moment = datetime.fromisoformat(text.strip().replace(" ", "+"))
    except ValueError:
        raise invalid(f"{name} is not an ISO 8601 date-time: {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(time_zone or "UTC"))
    return moment.timestamp()


def window(query: Query, now: float, *, default: bool = True) -> tuple[float, float]:
    """``[since, until)`` in epoch seconds.

    No bounds: the last month (or everything when ``default`` is false). ``since`` alone runs
    to now, ``until`` alone starts a month before it. More than 6 months apart, or ``since``
    after ``until``, is a 400. ``date_range=all`` ignores both.
    """
    if one(query, "date_range") == "all":
        return float("-inf"), float("inf")
    time_zone = zone(query)
    since_text, until_text = one(query, "since"), one(query, "until")
    if since_text is None and until_text is None and not default:
        return float("-inf"), float("inf")
    until = parse_time(until_text, "until", time_zone) if until_text else now + 1
    if since_text:
        since = parse_time(since_text, "since", time_zone)
    else:
        since = until - DEFAULT_WINDOW
    if since > until:
        raise invalid("since must be before until")
    if until - since > MAX_WINDOW:
        raise invalid("The since and until parameters must be at most 6 months apart")
    return since, until
