"""The handoff's life: saved as a draft, signed by the outgoing engineer, accepted by the
incoming one. Accepting passes every baton the outgoing engineer holds (an offer and its
acceptance, recorded with the handoff's id); until then the outgoing engineer holds them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlmodel import col, select

from cockpit.errors import CockpitError
from cockpit.handoff.draft import HandoffDraft
from cockpit.handoff.markdown import render_markdown
from cockpit.store.engine import Store
from cockpit.store.models import BatonPass, Handoff, Incident
from cockpit.store.queries import OPEN_STATUSES, person_name
from cockpit.store.timefmt import as_utc, utcnow
from cockpit.sync import actions

Clock = Callable[[], datetime]


class HandoffError(CockpitError):
    """The handoff does not exist or is not in a state for this step."""


def status_of(handoff: Handoff) -> str:
    if handoff.accepted_at:
        return "accepted"
    return "signed" if handoff.signed_at else "draft"


def _render(handoff: Handoff, draft: HandoffDraft) -> str:
    return render_markdown(draft, status_of(handoff), handoff.id)


def save_handoff(store: Store, draft: HandoffDraft, notes: str = "") -> Handoff:
    draft.notes = notes or draft.notes
    with store.write() as session:
        handoff = Handoff(
            from_person=draft.from_person,
            to_person=draft.to_person,
            created_at=draft.drafted_at,
            shift_start=draft.shift_start,
            shift_end=draft.shift_end,
            draft=draft.to_json(),
        )
        session.add(handoff)
        session.flush()
        handoff.body_md = _render(handoff, draft)
        session.add(handoff)
        return handoff


def get_handoff(
    store: Store, handoff_id: int | None = None, *, signed_only: bool = False
) -> Handoff:
    """One handoff by id, or the latest one not yet accepted (and signed, if asked): a
    signed one before any draft, so that a draft saved or pulled from the team later does
    not hide a signed handoff waiting for its incoming engineer."""
    with store.read() as session:
        if handoff_id is not None:
            found = session.get(Handoff, handoff_id)
        else:
            query = select(Handoff).where(col(Handoff.accepted_at).is_(None))
            if signed_only:
                query = query.where(col(Handoff.signed_at).is_not(None))
            found = session.exec(
                query.order_by(col(Handoff.signed_at).is_(None), col(Handoff.id).desc())
            ).first()
    if found is None:
        which = f"#{handoff_id}" if handoff_id is not None else "waiting to be accepted"
        raise HandoffError(f"no handoff {which} in the local store (draft one: cockpit handoff)")
    return found


def edit_notes(store: Store, handoff_id: int, notes: str) -> Handoff:
    with store.write() as session:
        handoff = session.get(Handoff, handoff_id)
        if handoff is None:
            raise HandoffError(f"no handoff #{handoff_id}")
        if handoff.signed_at:
            raise HandoffError(f"handoff #{handoff_id} is signed: its text is final")
        draft = HandoffDraft.from_json(handoff.draft)
        draft.notes = notes
        handoff.draft = draft.to_json()
        handoff.body_md = _render(handoff, draft)
        session.add(handoff)
        return handoff


def sign_handoff(
    store: Store, handoff_id: int, by: str, *, to_person: str = "", clock: Clock = utcnow
) -> Handoff:
    """The outgoing engineer signs, for a named incoming engineer (``to_person``, or the one
    the draft already names): a handoff is never signed for nobody. Its text is final."""
    with store.write() as session:
        handoff = session.get(Handoff, handoff_id)
        if handoff is None:
            raise HandoffError(f"no handoff #{handoff_id}")
        if by != handoff.from_person:
            raise HandoffError(
                f"handoff #{handoff_id} is {handoff.from_person}'s to sign, not {by}'s"
            )
        if handoff.signed_at:
            return handoff
        incoming = to_person or handoff.to_person
        if not incoming:
            raise HandoffError(
                f"handoff #{handoff_id} names no incoming engineer: say who "
                "takes over before signing (cockpit handoff --to NAME --sign)"
            )
        if incoming == handoff.from_person:
            raise HandoffError("the outgoing engineer cannot hand over to themselves")
        draft = HandoffDraft.from_json(handoff.draft)
        draft.to_person, draft.to_name = incoming, person_name(session, incoming)
        handoff.to_person = incoming
        handoff.draft = draft.to_json()
        handoff.signed_at = as_utc(clock())
        handoff.body_md = _render(handoff, draft)
        session.add(handoff)
        return handoff


def held_by(store: Store, person_id: str) -> list[str]:
    """Open, non-drill incidents whose baton ``person_id`` holds now."""
    with store.read() as session:
        incidents = session.exec(
            select(Incident)
            .where(col(Incident.status).in_(OPEN_STATUSES), col(Incident.is_drill).is_(False))
            .order_by(col(Incident.created_at), col(Incident.id))
        ).all()
        return [i.id for i in incidents if actions.baton_holder(session, i)[0] == person_id]


def accept_handoff(
    store: Store, handoff_id: int | None, as_person: str, *, clock: Clock = utcnow
) -> tuple[Handoff, list[str]]:
    """The incoming engineer accepts: every baton the outgoing one holds passes to them.

    Returns the handoff and the incident ids whose baton moved.
    """
    handoff = get_handoff(store, handoff_id, signed_only=handoff_id is None)
    assert handoff.id is not None
    if handoff.accepted_at:
        raise HandoffError(f"handoff #{handoff.id} was already accepted by {handoff.to_person}")
    if not handoff.signed_at:
        raise HandoffError(
            f"handoff #{handoff.id} is not signed yet: the outgoing engineer "
            "signs it first (cockpit handoff --sign)"
        )
    if handoff.to_person and handoff.to_person != as_person:
        raise HandoffError(f"handoff #{handoff.id} is for {handoff.to_person}, not {as_person}")
    if as_person == handoff.from_person:
        raise HandoffError("the outgoing engineer cannot accept their own handoff")
    moved = []
    for incident_id in held_by(store, handoff.from_person):
        offer = actions.offer_baton(
            store, incident_id, as_person, f"handoff #{handoff.id}", user=handoff.from_person
        )
        accepted = actions.accept_baton(store, incident_id, by=as_person)
        with store.write() as session:
            for baton_id in (offer.id, accepted.id):
                baton = session.get(BatonPass, baton_id)
                if baton is not None:
                    baton.handoff_id = handoff.id
                    session.add(baton)
        moved.append(incident_id)
    with store.write() as session:
        row = session.get(Handoff, handoff.id)
        assert row is not None
        row.accepted_at = as_utc(clock())
        row.to_person = as_person
        draft = HandoffDraft.from_json(row.draft)
        draft.to_person = as_person
        draft.to_name = person_name(session, as_person)
        row.draft = draft.to_json()
        row.body_md = _render(row, draft)
        session.add(row)
        return row, moved


def post_notes(store: Store, handoff_id: int, *, user: str = "") -> list[str]:
    """Add a short handoff note to each open incident of the draft; returns their ids."""
    handoff = get_handoff(store, handoff_id)
    draft = HandoffDraft.from_json(handoff.draft)
    to = draft.to_name or draft.to_person or "the next on call"
    posted = []
    for item in draft.open:
        text = (
            f"[cockpit handoff #{handoff_id}] {draft.from_name or draft.from_person} → {to}:"
            f" {item.status}, baton {item.holder_name or item.holder or 'nobody'}"
        )
        if item.step:
            text += f", {item.step}"
        actions.add_note(store, item.id, text, user=user)
        posted.append(item.id)
    return posted
