"""How a write that has not reached the paging service is said, the same on every screen,
in ``cockpit incidents``/``show`` and in ``--json``: a local status the service does not have
is never shown unmarked (cockpit.sync.push, rule 7)."""

from __future__ import annotations

from cockpit.store.reads import Unsent

SERVICE_NAMES = {"pagerduty": "PagerDuty", "alertmanager": "Alertmanager"}
_PAST = {
    "acknowledge": "acknowledged",
    "resolve": "resolved",
    "snooze": "snoozed",
    "escalate": "escalated",
    "reassign": "reassigned",
}

__all__ = ["SERVICE_NAMES", "Unsent", "describe", "service_name", "summary"]


def service_name(source: str) -> str:
    return SERVICE_NAMES.get(source, source)


def describe(write: Unsent, source: str) -> str:
    """One line: "NOT acknowledged at PagerDuty: <why>" or "acknowledge: not yet at
    PagerDuty (pending)"."""
    where = service_name(source)
    if write.failed:
        what = (
            "a note did NOT reach " + where
            if write.action == "note"
            else f"NOT {_PAST.get(write.action, write.action)} at {where}"
        )
        return f"{what}: {write.error}" if write.error else what
    return f"{write.action}: not yet at {where} ({write.state})"


def summary(writes: list[Unsent], source: str) -> str:
    """The loudest short mark for a list row: failed first, else how many are waiting."""
    failed = [w for w in writes if w.failed]
    if failed:
        return describe(Unsent(failed[0].action, "failed"), source)
    if writes:
        return f"{len(writes)} not yet at {service_name(source)}"
    return ""
