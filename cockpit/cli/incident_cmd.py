"""Headless incident commands for scripts and a second terminal. All go through the store
and the outbox, so they work offline; ``cockpit sync`` delivers what they queue."""

from __future__ import annotations

import argparse
import json
import re
from typing import TYPE_CHECKING, Any

from cockpit import durations
from cockpit.cli.common import age, local_time, settings_and_store
from cockpit.cli.main import CliError
from cockpit.text import full_hint, safe, safe_line

if TYPE_CHECKING:
    from cockpit.config import Settings
    from cockpit.store import queries, reads
    from cockpit.store.models import Alert, Incident

# The store's queries, the ORM and the sync actions are imported by the handlers that use
# them: building the parser (every `cockpit` command does) must not load SQLAlchemy.

STATUSES = ("triggered", "acknowledged", "resolved", "open", "all")
_NEGATIVE_DURATION = re.compile(r"^-\d*\.?\d+[a-z]*$", re.IGNORECASE)


def register(sub: Any) -> None:
    p = sub.add_parser("incidents", help="list incidents from the local store")
    p.add_argument("--status", choices=STATUSES, default="open")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--drills", action="store_true", help="include drill incidents")
    p.add_argument("--urgency", choices=("high", "low"), help="only this urgency")
    p.add_argument("--mine", action="store_true", help="only incidents assigned to you")
    p.add_argument("--team", help="only this team's")
    p.add_argument("--service", help="only this service's")
    p.add_argument("--filter", metavar="NAME", help="a saved filter: [filters.NAME] in settings")
    p.set_defaults(handler=run_list)

    p = sub.add_parser("show", help="one incident with its alerts, baton and timeline")
    p.add_argument("id", help="incident id, PagerDuty id or number")
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--full",
        action="store_true",
        help="the whole title and notes (a long one is cut otherwise)",
    )
    p.set_defaults(handler=run_show)

    for name, helptext in (("ack", "acknowledge an incident"), ("resolve", "resolve an incident")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("id")
        p.add_argument(
            "--note",
            "-m",
            default="",
            help=f"a note added with the {name} (for Alertmanager, the silence's comment)"
            if name == "ack"
            else "a note added with the resolve",
        )
        p.set_defaults(handler=run_ack if name == "ack" else run_resolve)

    p = sub.add_parser("note", help="add a note to an incident")
    p.add_argument("id")
    p.add_argument("text", nargs="+", help="the note (use - to read it from stdin)")
    p.set_defaults(handler=run_note)

    p = sub.add_parser(
        "snooze", help="snooze an incident (PagerDuty: once acknowledged; Alertmanager: a silence)"
    )
    p.add_argument("id")
    p.add_argument("duration", help="e.g. 30m, 2h, 3600")
    # A word like "-5m" is the duration (refused as not positive), not an unknown option:
    # argparse reads a dash-led word as a value only when it looks like a negative number,
    # so a duration with a unit must look like one too. The options here (-m) do not.
    p._negative_number_matcher = _NEGATIVE_DURATION
    p.add_argument(
        "--note",
        "-m",
        default="",
        help="a note added with the snooze (for Alertmanager, the silence's comment)",
    )
    p.set_defaults(handler=run_snooze)

    p = sub.add_parser("escalate", help="escalate an incident to a level of its policy")
    p.add_argument("id")
    p.add_argument("level", type=int)
    p.set_defaults(handler=run_escalate)

    p = sub.add_parser("pass", help="offer the baton of an incident to a person")
    p.add_argument("id")
    p.add_argument("person", help="person id, email or name from the roster")
    p.add_argument("--note", "-m", required=True, help="what the receiver needs to know")
    p.set_defaults(handler=run_pass)

    p = sub.add_parser("take", help="take the baton of an incident yourself")
    p.add_argument("id")
    p.add_argument("--note", "-m", default="")
    p.set_defaults(handler=run_take)

    p = sub.add_parser("accept", help="accept a baton offered to you")
    p.add_argument("id")
    p.add_argument("--as", dest="person", default="", help="who accepts (default: you)")
    p.set_defaults(handler=run_accept)


def _unsent(session: Any, incident: Incident) -> list[reads.Unsent]:
    from cockpit.store import reads
    from cockpit.store.engine import driver_connection

    return reads.unsent_writes(driver_connection(session), incident.id)


def _writes_json(writes: list[reads.Unsent], source: str) -> dict[str, Any]:
    """What has not reached the service, so a script never takes a local status for the
    service's: ``not_at_service`` lists the writes that failed for good."""
    from cockpit.sync import unsent

    return {
        "unsent_writes": [
            {"action": w.action, "state": w.state, "error": safe_line(w.error)} for w in writes
        ],
        "not_at_service": [safe_line(unsent.describe(w, source)) for w in writes if w.failed],
    }


def _row(incident: Incident, writes: list[reads.Unsent] | None = None) -> dict[str, Any]:
    return {
        "id": incident.id,
        "remote_id": incident.remote_id,
        "number": incident.number,
        "title": safe_line(incident.title),
        "status": incident.status,
        "urgency": incident.urgency,
        "service": safe_line(incident.service_name),
        "created_at": incident.created_at.isoformat(),
        "acknowledged_at": incident.acknowledged_at.isoformat()
        if incident.acknowledged_at
        else None,
        "resolved_at": incident.resolved_at.isoformat() if incident.resolved_at else None,
        "source": incident.source,
        "is_drill": incident.is_drill,
        **_writes_json(writes or [], incident.source),
    }


def _label(incident: Incident) -> str:
    """``#201`` as the screens say it; the remote id for an incident without a number."""
    from cockpit.store.queries import incident_label

    return safe_line(incident_label(incident))


def _filter(args: argparse.Namespace, settings: Settings, store: Any) -> queries.IncidentFilter:
    """Flags, over a saved filter (``[filters.NAME]``, checked when the settings were read)."""
    from cockpit.presenter.incidents import saved_filter
    from cockpit.store import queries
    from cockpit.sync.identity import get_me

    saved: dict[str, Any] = {}
    if args.filter:
        filters = settings.tables.get("filters", {})
        if args.filter not in filters:
            known = ", ".join(sorted(filters)) or "none saved"
            raise CliError(f"no saved filter {args.filter!r} in [filters] (known: {known})")
        saved = filters[args.filter]
    mine = args.mine or bool(saved.get("mine"))
    with store.read() as session:
        me = get_me(session, settings.user).id if mine else ""
    base = saved_filter(saved, me)
    return queries.IncidentFilter(
        urgency=args.urgency or base.urgency,
        assignee=me,
        team=args.team or base.team,
        service=args.service or base.service,
    )


def run_list(args: argparse.Namespace) -> int:
    from cockpit.store import queries
    from cockpit.store.timefmt import utcnow
    from cockpit.sync import unsent

    settings, store = settings_and_store(args)
    try:
        status = None if args.status == "all" else args.status
        where = _filter(args, settings, store)
        with store.read() as session:
            if status == "open":
                rows = queries.open_incidents(
                    session, include_drills=args.drills, limit=args.limit, where=where
                )
            else:
                rows = queries.list_incidents(
                    session,
                    status=status,
                    limit=args.limit,
                    include_drills=args.drills,
                    where=where,
                )
            writes = {i.id: _unsent(session, i) for i in rows}
        if args.json:
            print(json.dumps([_row(i, writes[i.id]) for i in rows], indent=2, ensure_ascii=False))
            return 0
        if not rows:
            return _say_none(args, store, status, where)
        now = utcnow()
        print(
            f"{'#':<6} {'ID':<12} {'STATUS':<12} {'URG':<4} {'AGE':>7}  {'SOURCE':<12} "
            f"{'SERVICE':<16} TITLE"
        )
        for i in rows:
            number = f"#{i.number}" if i.number is not None else "-"
            print(
                f"{number:<6} {safe_line(i.remote_id):<12} {i.status:<12} {i.urgency:<4} "
                f"{age(i.created_at, now):>7}  {safe_line(i.source):<12} "
                f"{safe_line(i.service_name)[:16]:<16} {safe_line(i.title)[:70]}"
            )
            mark = unsent.summary(writes[i.id], i.source)
            if mark:
                print(f"{'':<19} {'!' if mark.startswith('NOT') else '~'} {safe_line(mark)}")
        return 0
    finally:
        store.close()


def _filter_words(args: argparse.Namespace) -> str:
    """The filter flags as the user gave them: ``--mine --service api``."""
    words = [
        f"--{name} {safe_line(str(getattr(args, name)))}"
        for name in ("urgency", "team", "service", "filter")
        if getattr(args, name)
    ]
    if args.mine:
        words.insert(0, "--mine")
    return " ".join(words)


def _say_none(
    args: argparse.Namespace, store: Any, status: str | None, where: queries.IncidentFilter
) -> int:
    """Nothing listed: say whether a filter hid incidents (exit 1: nothing useful was shown)
    or the store has none of that status (exit 0: an answer)."""
    from cockpit.store import queries

    which = "" if status is None else f"{status} "
    if where == queries.NO_FILTER:
        print(f"no {which}incidents in the local store")
        return 0
    with store.read() as session:
        if status == "open":
            hidden = queries.open_incidents(session, include_drills=args.drills, limit=10_000)
        else:
            hidden = queries.list_incidents(
                session, status=status, limit=10_000, include_drills=args.drills
            )
    if not hidden:
        print(f"no {which}incidents in the local store")
        return 0
    print(
        f"no {which}incident matches {_filter_words(args)}; "
        f"{len(hidden)}{'+' if len(hidden) >= 10_000 else ''} {which.strip() or 'in all'} "
        "without the filter"
    )
    return 1


def run_show(args: argparse.Namespace) -> int:
    from cockpit.config import display_zone
    from cockpit.store import queries, reads
    from cockpit.store.engine import driver_connection
    from cockpit.store.timefmt import utcnow
    from cockpit.sync import actions, unsent

    settings, store = settings_and_store(args)
    zone = display_zone(settings)
    try:
        with store.read() as session:
            incident = queries.find_incident(session, args.id)
            if incident is None:
                raise CliError(f"no incident {args.id!r} in the local store (try `cockpit sync`)")
            alerts = queries.alerts_of(session, incident.id)
            holder, since = actions.baton_holder(session, incident)
            holder_name = queries.person_name(session, holder)
            offer = actions.pending_offer(session, incident.id)
            offered_to = queries.person_name(session, offer.to_person) if offer else ""
            conn = driver_connection(session)
            timeline = reads.timeline(conn, incident.id, limit=50)
            paged = [queries.person_name(session, p) for p in reads.paged_people(conn, incident.id)]
            writes = _unsent(session, incident)
            # A reopen matters while the incident is open again; resolving it settles it.
            warnings = (
                reads.write_warnings(conn, incident.id) if incident.status != "resolved" else []
            )
        # Long remote text is cut, saying how to see the rest; --full shows it whole.
        cut: dict[str, Any] = (
            {"limit": None} if args.full else {"more": full_hint(incident.remote_id)}
        )
        if args.json:
            data = _row(incident, writes)
            data["title"] = safe_line(incident.title, **cut)
            data["warnings"] = [safe_line(w) for w in warnings]
            data["labels"] = _safe_map(incident.labels)
            data["annotations"] = _safe_map(incident.annotations)
            data["alerts"] = [_alert_json(a) for a in alerts]
            data["baton"] = {"holder": holder, "since": since.isoformat() if since else None}
            data["run"] = _open_run(store, settings, incident.id)
            data["timeline"] = [
                {
                    "at": t.at.isoformat(),
                    "kind": t.kind,
                    "summary": safe(t.summary, **cut),
                    "actor": safe_line(t.actor),
                    "state": t.state,
                }
                for t in timeline
            ]
            print(json.dumps(data, indent=2, ensure_ascii=False))
            return 0
        print(f"{_label(incident)}  {safe_line(incident.title, **cut)}")
        print(f"  id       {safe_line(incident.id)}")
        print(
            f"  status   {incident.status} ({incident.urgency} urgency)"
            + ("  [DRILL]" if incident.is_drill else "")
        )
        for write in writes:
            print(
                f"  {'WRITE!' if write.failed else 'write':<8} "
                f"{safe_line(unsent.describe(write, incident.source))}"
            )
        for warning in warnings[:3]:
            print(f"  WARNING  {safe_line(warning)}")
        print(f"  service  {safe_line(incident.service_name) or '-'}   source {incident.source}")
        print(
            f"  created  {local_time(incident.created_at, zone)}   "
            f"age {age(incident.created_at, utcnow())}"
        )
        if incident.html_url:
            print(f"  link     {safe_line(incident.html_url)}")
        if incident.runbook_url:
            print(f"  runbook  {safe_line(incident.runbook_url)}")
        print(
            f"  baton    {safe_line(holder_name) or 'nobody'}"
            + (f" since {local_time(since, zone)}" if since else "")
        )
        if offer is not None:
            print(f"           offered to {safe_line(offered_to)}, waiting for acceptance")
        run = _open_run(store, settings, incident.id)
        if run is not None:  # a run mid-rollback says so first: the next person must know
            print(f"  run      {_run_words(run, zone)}")
            for conflict in run["conflicts"]:
                print(f"{_INDENT}{conflict}")
        if paged:
            print(f"  paged    {', '.join(safe_line(p) for p in paged)}")
        for alert in alerts:
            _print_alert(alert)
        print("  timeline (newest first):")
        for item in timeline:
            mark = f" ({item.state})" if item.state else ""
            text = safe(item.summary, **cut).replace("\n", "\n" + " " * 29)
            print(f"    {local_time(item.at, zone):<24} {item.kind:<11} {text}{mark}")
        return 0
    finally:
        store.close()


def _open_run(store: Any, settings: Settings, incident_id: str) -> dict[str, Any] | None:
    """The incident's open runbook run, read only (replayed, never written): its runbook,
    phase (main, validation, rollback), progress, the next step, and, mid-rollback, since
    when and why."""
    from cockpit.errors import CockpitError
    from cockpit.runbooks.library import default_runbook_dirs, load_library
    from cockpit.runbooks.links import plain
    from cockpit.runbooks.model import ROLLBACK
    from cockpit.runbooks.run import RunState
    from cockpit.runbooks.run_events import ROLLBACK_ENTERED
    from cockpit.runbooks.run_view import items_of, view_of
    from cockpit.store import reads
    from cockpit.store.run_service import to_engine

    with store.rows() as conn:
        run = reads.open_run(conn, incident_id)
        rows = reads.step_events(conn, run.id) if run is not None and run.id is not None else []
    if run is None:
        return None
    found: dict[str, Any] = {
        "runbook": run.runbook_id,
        "title": "",
        "phase": "unknown",
        "rolling_back": False,
        "since": None,
        "reason": "",
        "done": None,
        "total": None,
        "next": "",
        "conflicts": [],
    }
    try:
        library = load_library(default_runbook_dirs(settings))
    except CockpitError:
        library = []
    runbook = next((r for r in library if r.id == run.runbook_id), None)
    if runbook is None:
        return found
    events = to_engine(rows, run)
    state = RunState.replay(runbook, events)
    view = view_of(runbook, run, state, items_of(runbook))
    done, total = view.progress
    rolling = state.phase == ROLLBACK and not state.finished
    next_id = view.current
    if rolling:  # the next step is Rollback's own, as the cockpit's cursor shows it
        steps = [s.id for s in runbook.steps_of(ROLLBACK)]
        next_id = next((i for i in steps if view.status.get(i, "") in ("", "failed")), "")
        done = sum(1 for i in steps if view.status.get(i) in ("done", "skipped"))
        total = len(steps)
    step = runbook.step(next_id) if next_id else None
    entered = [e for e in state.events if e.kind == ROLLBACK_ENTERED]
    found.update(
        title=safe_line(runbook.title),
        phase=state.phase,
        rolling_back=rolling,
        since=state.rollback_started_at.isoformat()
        if rolling and state.rollback_started_at
        else None,
        reason=safe_line(entered[-1].reason) if rolling and entered else "",
        done=done,
        total=total,
        next=safe_line(plain(step.text)) if step else "",
        # Team mode: a decision answered differently on two laptops waits for a new answer.
        conflicts=[safe_line(words) for words in view.conflicts.values()],
    )
    return found


def _run_words(run: dict[str, Any], zone: Any) -> str:
    """The run line of ``cockpit show`` (its strings are made safe by :func:`_open_run`)."""
    from datetime import datetime

    title = run["title"] or safe_line(run["runbook"])
    if run["phase"] == "unknown":
        return f"{title}: open (its runbook is not in the runbooks folder)"
    if run["rolling_back"]:
        since = local_time(datetime.fromisoformat(run["since"]), zone) if run["since"] else ""
        words = f"{title}: ROLLING BACK" + (f" since {since}" if since else "")
        if run["reason"]:
            words += f" ({run['reason']})"
        words += f"; {run['done']}/{run['total']} rollback steps done"
    else:
        words = f"{title}: {run['phase']}, {run['done']}/{run['total']} steps done"
    if run["next"]:
        words += f"; next: {run['next']}"
    return words


_INDENT = " " * 11


def _safe_map(values: dict[str, str]) -> dict[str, str]:
    return {safe_line(k): safe(str(v)) for k, v in values.items()}


def _alert_json(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id,
        "status": alert.status,
        "summary": safe_line(alert.summary),
        "severity": safe_line(alert.severity),
        "labels": _safe_map(alert.labels),
        "annotations": _safe_map(alert.annotations),
        "generator_url": safe_line(alert.generator_url),
        "runbook_url": safe_line(alert.runbook_url),
        "created_at": alert.created_at.isoformat(),
    }


def _print_alert(alert: Alert) -> None:
    """The alert, its labels (one line) and each annotation, then its links."""
    print(f"  alert    [{alert.status}] {safe_line(alert.summary)}")
    if alert.labels:
        pairs = " ".join(f"{safe_line(k)}={safe_line(v)}" for k, v in sorted(alert.labels.items()))
        print(f"{_INDENT}labels  {pairs}")
    # summary and description first: what a human wrote for the page.
    first = {"summary": 0, "description": 1}
    keys = sorted(alert.annotations, key=lambda k: (first.get(k, 2), k))
    for key in keys:
        if key in ("runbook_url", "generatorURL"):
            continue  # shown as links below
        value = safe(str(alert.annotations[key])).strip().replace("\n", "\n" + _INDENT + "  ")
        print(f"{_INDENT}{safe_line(key)}: {value}")
    if alert.generator_url:
        print(f"{_INDENT}generator {safe_line(alert.generator_url)}")
    if alert.runbook_url:
        print(f"{_INDENT}runbook   {safe_line(alert.runbook_url)}")


def _act(args: argparse.Namespace, verb: str) -> int:
    from cockpit.sync import actions

    settings, store = settings_and_store(args)
    try:
        if verb == "ack":
            incident = actions.acknowledge(store, args.id, user=settings.user, note=args.note)
        else:
            incident = actions.resolve(store, args.id, user=settings.user, note=args.note)
        state = "queued for delivery" if actions.delivers(incident.source) else "recorded locally"
        print(f"{_label(incident)} {incident.status} ({state}): {safe_line(incident.title)}")
        return 0
    finally:
        store.close()


def run_ack(args: argparse.Namespace) -> int:
    return _act(args, "ack")


def run_resolve(args: argparse.Namespace) -> int:
    return _act(args, "resolve")


def run_note(args: argparse.Namespace) -> int:
    import sys

    from cockpit.sync import actions

    text = " ".join(args.text)
    if text == "-":
        text = sys.stdin.read()
    settings, store = settings_and_store(args)
    try:
        note = actions.add_note(store, args.id, text, user=settings.user)
        print(f"note added to {_ref(store, note.incident_id)} ({note.state})")
        return 0
    finally:
        store.close()


def parse_duration(text: str) -> int:
    """Seconds in ``text`` (:func:`cockpit.durations.parse_duration`); anything else is a
    one-line error naming what was typed."""
    if text.strip().startswith("-"):
        raise CliError(f"duration {text!r}: a snooze must be positive, like 30m or 2h")
    try:
        return durations.parse_duration(text)
    except ValueError:
        raise CliError(f"duration {text!r}: give {durations.HELP}") from None


def run_snooze(args: argparse.Namespace) -> int:
    from cockpit.config import display_zone
    from cockpit.sync import actions

    settings, store = settings_and_store(args)
    try:
        incident = actions.snooze(
            store, args.id, parse_duration(args.duration), user=settings.user, note=args.note
        )
        print(
            f"{_label(incident)} snoozed until "
            f"{local_time(incident.snoozed_until, display_zone(settings))}"
        )
        return 0
    finally:
        store.close()


def run_escalate(args: argparse.Namespace) -> int:
    from cockpit.sync import actions

    settings, store = settings_and_store(args)
    try:
        incident = actions.escalate(store, args.id, args.level, user=settings.user)
        print(f"{_label(incident)} escalation to level {args.level} queued")
        return 0
    finally:
        store.close()


def _name(store: Any, person_id: str) -> str:
    from cockpit.store import queries

    with store.read() as session:
        return safe_line(queries.person_name(session, person_id))


def _ref(store: Any, incident_id: str) -> str:
    """How the user names an incident: its number (its remote id without one), with its
    title."""
    from cockpit.store.models import Incident

    with store.read() as session:
        incident = session.get(Incident, incident_id)
    if incident is None:
        return incident_id
    return f"{_label(incident)} ({safe_line(incident.title)[:50]})"


def run_pass(args: argparse.Namespace) -> int:
    from cockpit.cli.people import resolve_person
    from cockpit.sync import actions

    settings, store = settings_and_store(args)
    try:
        person = resolve_person(store, args.person)
        baton = actions.offer_baton(store, args.id, person, args.note, user=settings.user)
        print(
            f"baton of {_ref(store, baton.incident_id)} offered to {_name(store, person)}; "
            "you hold it until they accept"
        )
        return 0
    finally:
        store.close()


def run_take(args: argparse.Namespace) -> int:
    from cockpit.sync import actions

    settings, store = settings_and_store(args)
    try:
        baton = actions.take_baton(store, args.id, user=settings.user, note=args.note)
        print(f"you hold the baton of {_ref(store, baton.incident_id)} now")
        return 0
    finally:
        store.close()


def run_accept(args: argparse.Namespace) -> int:
    from cockpit.cli.people import resolve_person
    from cockpit.sync import actions

    settings, store = settings_and_store(args)
    try:
        # Taking the baton needs the receiver's own acknowledgement: by default the person
        # running this ("me"); --as names them when both sit at one keyboard.
        person = resolve_person(store, args.person or "me", settings.user)
        baton = actions.accept_baton(store, args.id, by=person, user=settings.user)
        print(
            f"{_name(store, baton.to_person)} holds the baton of "
            f"{_ref(store, baton.incident_id)} now"
        )
        return 0
    finally:
        store.close()
