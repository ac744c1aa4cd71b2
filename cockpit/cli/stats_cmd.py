"""``cockpit stats [--since 8w] [--team T] [--by service|team] [--chart FILE.svg]``:
pages per person per week, the shifts over the SRE budget, MTTA/MTTR/time to rollback, and
the flywheel."""

from __future__ import annotations

import argparse
import re
from datetime import date, timedelta
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cockpit.cli.common import settings_and_store, write_text_file
from cockpit.text import safe_line

if TYPE_CHECKING:
    from cockpit.metrics.pageload import ShiftLoad

_SINCE = re.compile(r"^(\d+)([dw])$")
PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)


def register(sub: Any) -> None:
    parser = sub.add_parser("stats", help="page load per person, MTTA/MTTR, the flywheel")
    parser.add_argument("--since", default="8w", help="window: 8w (weeks) or 30d (days)")
    parser.add_argument("--team", default=None, help="only this team")
    parser.add_argument("--by", choices=("service", "team"), default="service")
    parser.add_argument("--chart", metavar="FILE.svg", help="write pages per week as SVG")
    parser.set_defaults(handler=run)


def parse_since(text: str) -> timedelta:
    from cockpit.cli.main import CliError

    match = _SINCE.match(text.strip())
    if not match:
        raise CliError(f"--since {text!r}: expected a number of weeks or days, like 8w or 30d")
    count = int(match[1])
    return timedelta(weeks=count) if match[2] == "w" else timedelta(days=count)


def person_colours(count: int) -> list[str]:
    """``count`` colours, all different: the palette while it lasts, then hues spread evenly
    around the wheel (two lightnesses, alternating), so no two people ever share one."""
    if count <= len(PALETTE):
        return list(PALETTE[:count])
    return [
        f"hsl({index * 360 / count:.1f}, 65%, {45 if index % 2 else 60}%)" for index in range(count)
    ]


def svg_chart(weeks: list[date], series: dict[str, dict[date, int]], title: str) -> str:
    """Stacked bars of pages per week, one colour per person, with a legend. Plain SVG."""
    width, height, left, bottom, top = 720, 320, 40, 40, 30
    people = sorted(series)
    colours = person_colours(len(people))
    totals = [sum(series[p].get(w, 0) for p in people) for w in weeks]
    peak = max(totals, default=0) or 1
    slot = (width - left - 160) / max(1, len(weeks))
    scale = (height - top - bottom) / peak
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
        f'<text x="{left}" y="18" font-size="14">{escape(title)}</text>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - 160}" '
        f'y2="{height - bottom}" stroke="#333"/>',
    ]
    for index, week in enumerate(weeks):
        x = left + index * slot + slot * 0.15
        y: float = height - bottom
        for n, person in enumerate(people):
            value = series[person].get(week, 0)
            if not value:
                continue
            h = value * scale
            y -= h
            out.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" '
                f'height="{h:.1f}" fill="{colours[n]}">'
                f"<title>{escape(person)}: {value}</title></rect>"
            )
        out.append(
            f'<text x="{x + slot * 0.35:.1f}" y="{height - bottom + 14}" '
            f'text-anchor="middle">{week:%m-%d}</text>'
        )
        out.append(
            f'<text x="{x + slot * 0.35:.1f}" y="{y - 3:.1f}" '
            f'text-anchor="middle">{totals[index]}</text>'
        )
    for n, person in enumerate(people):
        y = top + n * 16
        out.append(f'<rect x="{width - 150}" y="{y}" width="10" height="10" fill="{colours[n]}"/>')
        out.append(f'<text x="{width - 135}" y="{y + 9}">{escape(person)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def print_over_budget(blocks: list[ShiftLoad]) -> None:
    """The red and amber 12-hour blocks (a shift of 12 h or less is one block), in the
    person's own zone, in time order."""
    from cockpit.metrics.hours import zone

    flagged = [b for b in blocks if b.state != "green"]
    print("Shifts over budget (SRE: at most 2 incidents per 12-hour shift)")
    print(
        "a shift longer than 12 h is judged in 12-hour blocks from its start; "
        "times in each person's zone"
    )
    if not flagged:
        print("none over budget")
        return
    print(f"{'person':<20}{'12-hour block':<36}{'incidents':>10}{'pages':>7}{'sleep':>7}  state")
    for block in flagged:
        tz = zone(block.time_zone)
        lo, hi = block.start.astimezone(tz), block.end.astimezone(tz)
        span = f"{lo:%a %Y-%m-%d %H:%M}–{hi:%a %H:%M} {lo:%Z}"
        print(
            f"{safe_line(block.load.name)[:19]:<20}{span:<36}{block.load.incidents:>10}"
            f"{block.load.pages:>7}{block.load.split['sleep']:>7}  {block.state}"
        )


def known_teams(store: Any) -> list[str]:
    """Every team the store knows, from its incidents and its roster, sorted by name (plain
    SQL: the rest of ``cockpit stats`` does not load the ORM either)."""
    import json

    from cockpit.metrics.response import teams_of

    names: dict[str, str] = {}
    with store.rows() as conn:
        for (joined,) in conn.execute("SELECT DISTINCT team FROM incidents"):
            for name in teams_of(joined or ""):
                names.setdefault(name.lower(), name)
        for (teams,) in conn.execute("SELECT teams FROM people"):
            for name in json.loads(teams) if teams else []:
                names.setdefault(str(name).lower(), str(name))
    return sorted(names.values(), key=str.lower)


def check_team(store: Any, team: str) -> None:
    """A team nobody in the store belongs to is a typo, not an empty table: say so (exit 1)
    and name the teams known."""
    from cockpit.cli.main import CliError

    known = known_teams(store)
    if team.strip().lower() in {name.lower() for name in known}:
        return
    listed = ", ".join(safe_line(name) for name in known) or "none (sync first)"
    raise CliError(
        f"no incident of team {team!r} in the local store; teams known: {listed}", status=1
    )


def run(args: argparse.Namespace) -> int:
    from cockpit.metrics.pageload import concentration
    from cockpit.metrics.report import stats_report
    from cockpit.metrics.stats import format_seconds
    from cockpit.store.timefmt import utcnow

    window = parse_since(args.since)
    _, store = settings_and_store(args)
    try:
        if args.team is not None:
            check_team(store, args.team)
        now = utcnow()
        since = now - window
        stats = stats_report(store, since, now, by=args.by, team=args.team)
    finally:
        store.close()
    weekly, loads, report, fly = stats.weekly, stats.loads, stats.response, stats.flywheel
    blocks = stats.blocks
    names = {load.person_id: safe_line(load.name) for load in loads}
    weeks = sorted({monday for per in weekly.values() for monday in per})
    print(f"Pages per person per week (since {since:%Y-%m-%d}, local weeks, drills excluded)")
    print(f"{'person':<20}" + "".join(f"{w:%m-%d}".rjust(7) for w in weeks) + "  total  sleep")
    for load in loads:
        per = weekly.get(load.person_id, {})
        print(
            f"{names[load.person_id][:20]:<20}"
            + "".join(str(per[w].pages if w in per else 0).rjust(7) for w in weeks)
            + f"{load.pages:>7}{load.split['sleep']:>7}"
        )
    print(f"concentration: the busiest person carried {concentration(loads):.0%} of pages")
    print()
    print_over_budget(blocks)
    print()
    print(f"Response by {args.by} (median / p95 nearest-rank / mean)")
    print(f"{'group':<20}{'n':>4}  {'MTTA':<25}{'MTTR':<25}{'rollback':<25}inc/change")
    for row in report:
        cells = [
            " / ".join(format_seconds(v) for v in (s.median, s.p95, s.mean))
            for s in (row.mtta, row.mttr, row.rollback)
        ]
        per_change = f"{row.incidents_per_change:.2f}" if row.incidents_per_change else "-"
        print(
            f"{safe_line(row.group)[:20]:<20}{row.incidents:>4}  "
            + "".join(f"{c:<24} " for c in cells)
            + per_change
        )
    print()
    print("Flywheel (UTC weeks)")
    print(
        f"{'week':<8}{'incidents':>10}{'insight':>9}{'guardrails':>11}{'runbooks':>9}{'pages':>7}"
    )
    for week in fly:
        print(
            f"{week.monday:%m-%d}   {week.incidents:>10}{week.with_insight:>9}"
            f"{week.guardrails:>11}{week.runbooks:>9}{week.pages:>7}"
        )
    if args.chart:
        series = {
            names.get(pid, pid): {w: load.pages for w, load in per.items()}
            for pid, per in weekly.items()
            if pid in names
        }
        write_text_file(Path(args.chart), svg_chart(weeks, series, "Pages per week per person"))
        print(f"chart written to {args.chart}")
    return 0
