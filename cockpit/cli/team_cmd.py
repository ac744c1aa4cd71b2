"""``cockpit team init|join|status|sync``: team mode on a PostgreSQL team store.

``init`` creates or upgrades the team schema (run it as the database's owner), ``join``
checks that this laptop can use an existing one; both keep the URL without its password in
the settings (``team_url``) and the password in the keyring. ``sync`` pushes what waits to
go up, then pulls what others did, once. psycopg is imported only inside the handlers."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cockpit.text import safe_line

if TYPE_CHECKING:
    from cockpit.config import Settings


def register(sub: Any) -> None:
    parser = sub.add_parser("team", help="team mode: share batons with the squad via PostgreSQL")
    team = parser.add_subparsers(dest="team_command", metavar="ACTION", required=True)
    init = team.add_parser("init", help="create or upgrade the team schema, and use it here")
    init.add_argument("url", help="postgresql://USER[:PASSWORD]@HOST/DATABASE[?sslmode=...]")
    init.set_defaults(handler=run_init)
    join = team.add_parser("join", help="use an existing team store on this laptop")
    join.add_argument("url", help="postgresql://USER[:PASSWORD]@HOST/DATABASE[?sslmode=...]")
    join.set_defaults(handler=run_join)
    status = team.add_parser("status", help="what is shared, what waits, who else is active")
    status.add_argument("--json", action="store_true", help="machine-readable")
    status.set_defaults(handler=run_status)
    sync = team.add_parser("sync", help="push what waits to go up, then pull once")
    sync.add_argument("--json", action="store_true", help="machine-readable")
    sync.set_defaults(handler=run_sync)


def _settings_file(args: argparse.Namespace) -> Path:
    from cockpit.config import settings_file

    return settings_file(Path(args.config) if getattr(args, "config", None) else None)


def _setup(args: argparse.Namespace, create: bool) -> int:
    from cockpit.cli.common import settings_and_store
    from cockpit.cli.main import CliError
    from cockpit.config import save_setting
    from cockpit.team import exchange, schema
    from cockpit.team.url import find_password, parse, store_password

    target = parse(args.url)
    password = target.password or find_password(target.url)
    with exchange.connect(target.url, password) as conn:
        row = conn.execute(
            "SELECT current_user, pg_has_role(current_user, %s, 'USAGE')"
            " FROM pg_roles WHERE rolname = %s",
            (schema.MEMBER_ROLE, schema.MEMBER_ROLE),
        ).fetchone()
        user = str(conn.execute("SELECT current_user").fetchone()[0])  # type: ignore[index]
        member = bool(row and row[1])
        if not create and not member:
            raise CliError(
                f"{user} is not a member of the team store: its owner runs "
                f"GRANT {schema.MEMBER_ROLE} TO {user} (after `cockpit team init`), then "
                "run `cockpit team join` again"
            )
        if create:
            before, after = schema.migrate(conn)
            done = (
                f"created the team schema (version {after})"
                if before == 0
                else f"upgraded the team schema from version {before} to {after}"
                if before < after
                else f"the team schema is up to date (version {after})"
            )
        else:
            version = schema.check(conn)
            done = f"joined the team store (schema version {version})"
        member = bool(
            conn.execute(
                "SELECT pg_has_role(current_user, %s, 'USAGE')", (schema.MEMBER_ROLE,)
            ).fetchone()
            == (True,)
        )
    if not member:
        raise CliError(
            f"{done}, but {user} is not a member: the database owner runs "
            f"GRANT {schema.MEMBER_ROLE} TO {user}; then run `cockpit team join` again"
        )
    where = ""
    if target.password:
        where = store_password(target.url, target.password)
    save_setting(_settings_file(args), "team_url", target.url)
    _settings, store = settings_and_store(args)
    exchange.prepare(store)
    print(done)
    print(f"team_url = {safe_line(target.url)} (you are {safe_line(user)})")
    if where:
        print("the password is in the keyring")
    print(
        "next: `cockpit` (the TUI) and `cockpit sync` now share this laptop's batons, runs, "
        "handoffs, drills, insights and local notes and pull the squad's; `cockpit team sync` "
        "does it once by hand"
    )
    return 0


def run_init(args: argparse.Namespace) -> int:
    return _setup(args, create=True)


def run_join(args: argparse.Namespace) -> int:
    return _setup(args, create=False)


def _team_url(settings: Settings) -> str:
    from cockpit.cli.main import CliError
    from cockpit.team.live import configured_url

    url = configured_url(settings)  # refuses a URL holding a password, saying where it is
    if not url:
        raise CliError("team mode is not set up here: run `cockpit team join postgresql://...`")
    return url


def report_lines(report: Any) -> list[str]:
    """An exchange's report as ``cockpit team sync`` and ``cockpit sync`` print it: one line,
    then one per baton race lost."""
    lines = [
        f"team: {report.pushed} up, {report.pulled} down ({report.applied} applied, "
        f"{report.parked} waiting for their incident), {report.pending} still waiting"
    ]
    lines += [f"lost the race: {safe_line(line)}" for line in report.lost]
    return lines


def run_status(args: argparse.Namespace) -> int:
    from cockpit.cli.common import settings_and_store
    from cockpit.team import exchange
    from cockpit.team.url import find_password, parse

    settings, store = settings_and_store(args)
    url = _team_url(settings)
    local = exchange.status(store)
    members: list[tuple[str, str, str]] = []
    reachable: str | None = None
    try:
        target = parse(url)
        with exchange.connect(target.url, find_password(target.url)) as conn:
            members = exchange.active_members(conn)
    except exchange.TeamUnreachable as error:
        reachable = str(error)
    if args.json:
        print(
            json.dumps(
                {
                    **local,
                    "team_url": url,
                    "unreachable": reachable,
                    "active": [
                        dict(zip(("author", "origin", "last"), m, strict=True)) for m in members
                    ],
                },
                indent=2,
            )
        )
        return 0
    print(f"team store: {safe_line(url)}")
    print(
        "shared: batons, runbook runs and their events, handoffs, drills and debriefs, insights"
        " and guardrails, local notes (not: tokens, settings, the paging service's data)"
    )
    print(
        f"waiting to go up: {local['pending']}; sent: {local['sent']}; "
        f"waiting for their incident here: {local['parked']}"
    )
    for line in local["lost"]:
        print(f"lost the race: {safe_line(line)}")
    print(f"last exchange: {local['last_exchange'] or 'never'}")
    if reachable:
        print(f"offline: {safe_line(reachable)}")
    else:
        print("active in the last 7 days:" if members else "nobody active in the last 7 days")
        for author, origin, last in members:
            print(f"  {safe_line(author)} on {safe_line(origin)}, last at {last}")
    return 0


def run_sync(args: argparse.Namespace) -> int:
    from cockpit.cli.common import settings_and_store
    from cockpit.cli.main import CliError
    from cockpit.team import exchange
    from cockpit.team.url import find_password, parse

    settings, store = settings_and_store(args)
    target = parse(_team_url(settings))
    try:
        report = exchange.sync(store, target.url, find_password(target.url))
    except exchange.TeamUnreachable as error:
        waiting = exchange.status(store)["pending"]
        raise CliError(f"{error}; {waiting} event(s) wait to go up, nothing is lost", 1) from None
    if args.json:
        print(json.dumps(report.__dict__, indent=2))
    else:
        print("\n".join(report_lines(report)))
    return 0
