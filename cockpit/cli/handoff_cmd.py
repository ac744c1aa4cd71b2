"""``cockpit handoff``: draft, sign, export and accept the handoff at rotation change.

cockpit handoff [--from P] [--to P] [--notes TEXT] [--markdown [FILE]] [--sign] [--post-notes]
cockpit handoff accept [ID] --as PERSON
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cockpit.cli.common import settings_and_store, write_text_file
from cockpit.text import count, safe_line

if TYPE_CHECKING:
    from cockpit.store.engine import Store

# The ORM (people, queries, shifts) is imported by the handlers, not to build the parser.


def register(sub: Any) -> None:
    parser = sub.add_parser("handoff", help="draft, sign and export the shift handoff")
    parser.add_argument(
        "--from",
        dest="from_person",
        default="",
        metavar="PERSON",
        help="outgoing engineer (default: me)",
    )
    parser.add_argument(
        "--to", default="", metavar="PERSON", help="incoming engineer (needed to sign)"
    )
    parser.add_argument("--notes", default="", help="free text from the outgoing engineer")
    parser.add_argument(
        "--markdown",
        nargs="?",
        const="-",
        default=None,
        metavar="FILE",
        help="write the Markdown to FILE (default: stdout)",
    )
    parser.add_argument(
        "--sign",
        action="store_true",
        help="sign it as the outgoing engineer, for the engineer --to names",
    )
    parser.add_argument(
        "--post-notes", action="store_true", help="add a handoff note to each open incident"
    )
    parser.set_defaults(handler=run_draft)
    actions = parser.add_subparsers(dest="handoff_command", metavar="ACTION")
    accept = actions.add_parser("accept", help="accept a handoff: its batons become yours")
    accept.add_argument("id", nargs="?", type=int, help="handoff id (default: the latest)")
    accept.add_argument("--as", dest="as_person", required=True, metavar="PERSON")
    accept.set_defaults(handler=run_accept)


def _runbooks(args: argparse.Namespace) -> dict[str, Any]:
    from cockpit.config import settings_from_args
    from cockpit.runbooks.library import default_runbook_dirs, load_library

    return {rb.id: rb for rb in load_library(default_runbook_dirs(settings_from_args(args)))}


def run_draft(args: argparse.Namespace) -> int:
    from cockpit.cli.people import resolve_person
    from cockpit.config import display_zone
    from cockpit.handoff import draft_handoff, post_notes, save_handoff, sign_handoff
    from cockpit.handoff.markdown import render_markdown
    from cockpit.store.queries import shift_window
    from cockpit.store.timefmt import utcnow

    settings, store = settings_and_store(args)
    try:
        now = utcnow()
        outgoing = resolve_person(store, args.from_person, settings.user)
        incoming = resolve_person(store, args.to) if args.to else ""
        with store.read() as session:
            start, end = shift_window(session, outgoing, now)
        draft = draft_handoff(
            store, outgoing, start, end, now, to_person=incoming, runbooks=_runbooks(args)
        )
        if args.sign and not incoming:
            from cockpit.cli.main import CliError

            raise CliError(
                "who takes over? A handoff is signed for the incoming engineer: "
                "--to NAME --sign" + _next_hint(draft.next_oncall)
            )
        if not (args.sign or args.post_notes):
            # A preview: nothing is stored, so it cannot stand in the way of the signed one.
            draft.notes = args.notes or draft.notes
            body = render_markdown(draft, "preview", zone=display_zone(settings))
            _emit(args, body, "preview")
            print(
                "(preview, not saved: `cockpit handoff --to NAME --sign` stores and signs "
                "it; the incoming engineer then runs `cockpit handoff accept --as NAME`)",
                file=sys.stderr,
            )
            return 0
        handoff = save_handoff(store, draft, notes=args.notes)
        assert handoff.id is not None
        handoff_id = handoff.id
        if args.sign:
            handoff = sign_handoff(store, handoff_id, outgoing)
        body = handoff.body_md
        _emit(args, body, f"handoff #{handoff.id}")
        if args.sign:
            _say(
                args,
                _signed_line(
                    store, handoff_id, draft.from_name or outgoing, draft.to_name or incoming
                ),
            )
        if args.post_notes:
            posted = post_notes(store, handoff_id, user=settings.user)
            print(f"handoff note added to {len(posted)} open incident(s)")
        if not args.sign:
            print(
                f"(draft #{handoff.id}: sign it with `cockpit handoff --to NAME --sign`; the "
                f"incoming engineer runs `cockpit handoff accept {handoff.id} --as NAME`)"
            )
        return 0
    finally:
        store.close()


def _next_hint(next_oncall: list[str]) -> str:
    return f" (on call next: {safe_line(next_oncall[0])})" if next_oncall else ""


def _signed_line(store: Store, handoff_id: int, outgoing: str, incoming: str) -> str:
    """What signing means for the batons, in words: held until accepted, or none held."""
    from cockpit.handoff import held_by
    from cockpit.handoff.flow import get_handoff

    handoff = get_handoff(store, handoff_id)
    held = held_by(store, handoff.from_person)
    who, to = safe_line(outgoing), safe_line(incoming)
    accept = f"cockpit handoff accept {handoff_id} --as NAME"
    if held:
        return (
            f"handoff #{handoff_id} signed for {to}: {who} holds {count(len(held), 'baton')}"
            f" until {to} accepts ({accept})"
        )
    return (
        f"handoff #{handoff_id} signed for {to}: {who} holds no baton, so none passes; "
        f"{to} accepts to say they have read it ({accept})"
    )


def _say(args: argparse.Namespace, line: str) -> None:
    """A line about the handoff: beside the Markdown when that goes to a file, else on
    stderr so that stdout stays the Markdown alone."""
    print(line, file=sys.stdout if args.markdown and args.markdown != "-" else sys.stderr)


def _emit(args: argparse.Namespace, body: str, what: str) -> None:
    if args.markdown and args.markdown != "-":
        write_text_file(Path(args.markdown), body)
        print(f"{what} written to {args.markdown}")
    else:
        print(body, end="" if body.endswith("\n") else "\n")


def run_accept(args: argparse.Namespace) -> int:
    from cockpit.cli.people import resolve_person
    from cockpit.handoff import accept_handoff
    from cockpit.store.models import Incident
    from cockpit.store.queries import person_name

    _, store = settings_and_store(args)
    try:
        person = resolve_person(store, args.as_person)
        handoff, moved = accept_handoff(store, args.id, person)
        with store.read() as session:
            name = person_name(session, person)
            outgoing = person_name(session, handoff.from_person)
            incidents = [session.get(Incident, i) for i in moved]
        batons = (
            f"{count(len(moved), 'baton')} passed to you"
            if moved
            else f"no baton to pass ({safe_line(outgoing)} held none; the open incidents "
            "stay with whoever holds them)"
        )
        print(f"handoff #{handoff.id} accepted by {safe_line(name)}: {batons}")
        for incident_id, incident in zip(moved, incidents, strict=True):
            if incident is None:
                print(f"  {safe_line(incident_id)}")
                continue
            ref = f"#{incident.number}" if incident.number else incident.remote_id
            print(f"  {safe_line(ref)} {safe_line(incident.title, limit=80)}")
        return 0
    finally:
        store.close()
