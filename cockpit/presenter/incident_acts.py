"""Acting on an incident, decided without a terminal: what each incident key sends, with the
user's answers read and checked, and what the toast says once it is in the store.

An :class:`Act` names the function of ``cockpit.sync.actions`` that records it (the outbox
sends it to the paging service; the screen never talks to the network) and its arguments;
the cockpit screen asks the questions (confirm, duration, level, note, receiver) and hands
the answers here. None means the answer does not make an act, and nothing is sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from cockpit import durations
from cockpit.presenter.checklist import Record
from cockpit.view_model import IncidentRef, RosterEntry

# The functions of cockpit.sync.actions an incident key may call.
ActionName = Literal[
    "acknowledge", "resolve", "snooze", "escalate", "add_note", "take_baton", "accept_baton",
    "offer_baton",
]  # fmt: skip


@dataclass(frozen=True)
class Act:
    """Call ``cockpit.sync.actions.<action>(store, incident_id, *args, **kwargs)``; say
    ``done`` once it is stored."""

    action: ActionName
    incident_id: str
    done: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)


def acknowledge(ref: IncidentRef) -> Act:
    return Act("acknowledge", ref.id, f"Acknowledged {ref.label}")


def resolve(ref: IncidentRef) -> Act:
    return Act("resolve", ref.id, f"Resolved {ref.label}")


def snooze(ref: IncidentRef, answer: str | None) -> Act | None:
    """``answer`` read by the one duration parser (a number alone is minutes)."""
    try:
        seconds = durations.parse_duration(answer or "")
    except ValueError:
        return None
    if not seconds:
        return None
    shown = f"{durations.compact(seconds)} ({durations.describe(seconds)})"
    return Act("snooze", ref.id, f"Snoozed {ref.label} for {shown}", (seconds,))


def escalate(ref: IncidentRef, answer: str | None) -> Act | None:
    """A level of the escalation policy: a whole number from 1."""
    value = (answer or "").strip()
    if not value.isdecimal() or int(value) < 1:  # isdigit() passes "²", which int() refuses
        return None
    level = int(value)
    return Act("escalate", ref.id, f"Escalated {ref.label} to level {level}", (level,))


def note(ref: IncidentRef, content: str | None) -> Act | None:
    if not content or not content.strip():
        return None
    return Act("add_note", ref.id, f"Note added to {ref.label}", (content,))


def take_baton(ref: IncidentRef) -> Act:
    return Act("take_baton", ref.id, f"You hold the baton of {ref.label}")


def accept_baton(ref: IncidentRef, me_id: str) -> Act:
    return Act("accept_baton", ref.id, f"Baton of {ref.label} accepted", kwargs={"by": me_id})


def offer_baton(ref: IncidentRef, answer: tuple[str, str] | None) -> Act | None:
    """``answer``: (person id, note) from the baton dialog."""
    if not answer or not answer[0]:
        return None
    person, words = answer
    done = f"Baton of {ref.label} offered; they hold it once they accept"
    return Act("offer_baton", ref.id, done, (person, words))


def baton_receivers(
    people: Sequence[RosterEntry], me_id: str, holder_id: str | None
) -> list[RosterEntry]:
    """Who the baton may be passed to: anyone on the roster, and me too unless I hold it."""
    return [p for p in people if p.person_id != me_id or holder_id != me_id]


def resolve_with_run(ref: IncidentRef, answer: str | None) -> tuple[Record | None, Act | None]:
    """Resolving while a run is open: first what happens to the run (finished as resolved,
    abandoned, or kept open), then the resolve; nothing at all without an answer."""
    if answer not in ("finish", "abandon", "keep"):
        return None, None
    if answer == "keep":
        return None, resolve(ref)
    outcome = "resolved" if answer == "finish" else "abandoned"
    return Record("finished", branch=outcome, reason="incident resolved"), resolve(ref)
