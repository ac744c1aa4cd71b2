"""The one sanitiser (cockpit/text.py) and what goes through it outside the TUI: control,
bidi and invisible characters are visible markers in the CLI and every export, runbook lint
flags them, and a 1 MB title is cut everywhere it is shown (the store keeps it whole;
``cockpit show ID --full`` prints it).

The TUI's routes (toast, notification, dialog, title, status bar, crash report) are in
tests/ui/test_hostile_display.py, asserted on the bytes written to the terminal.
"""

from __future__ import annotations

import json
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cockpit.cli.main import main
from cockpit.drills.analysis import analyse
from cockpit.drills.debrief import render_debrief
from cockpit.flywheel.draft import Drafted, render_draft
from cockpit.runbooks.lint import lint_paths
from cockpit.runbooks.model import ERROR, WARNING
from cockpit.store import Drill, Incident, Person, Store, utcnow
from cockpit.sync.identity import Me, set_me
from cockpit.text import (
    LINE_LIMIT,
    TEXT_LIMIT,
    UNSAFE,
    full_hint,
    markdown_line,
    safe,
    safe_line,
)

# Trojan Source: the override makes `rm -rf / # safe` read as something else; zero-width
# and BOM hide inside words.
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u2028\u2029\U000e0041"
CONTROLS = "\x00\x07\x08\x1b\x7f\x85\x9b\x9c\x9d"
HIDDEN = BIDI + INVISIBLE + CONTROLS


def assert_clean(text: str) -> None:
    for char in HIDDEN:
        assert char not in text, f"U+{ord(char):04X} was not made visible"


# ------------------------------------------------------------------------- the sanitiser


@pytest.mark.parametrize("char", list(HIDDEN))
def test_each_hidden_character_shows_as_a_visible_symbol(char: str) -> None:
    for shown in (safe(f"a{char}b"), safe_line(f"a{char}b"), markdown_line(f"a{char}b")):
        assert_clean(shown)
        assert shown.startswith("a") and shown.endswith("b") and len(shown) > 2
    code = ord(char)
    expected = (
        chr(0x2400 + code)
        if code < 0x20
        else "\u2421"
        if code == 0x7F
        else f"\u27e6U+{code:04X}\u27e7"
    )
    assert safe(f"a{char}b") == f"a{expected}b"


def test_the_trojan_source_command_reads_as_what_it_holds() -> None:
    command = "rm -rf /tmp/cache \u2066# only the cache\u2069 \u202e; / fr- mr\u202c"
    assert safe_line(command) == (
        "rm -rf /tmp/cache ⟦U+2066⟧# only the cache⟦U+2069⟧ ⟦U+202E⟧; / fr- mr⟦U+202C⟧"
    )


def test_every_format_character_of_this_python_is_covered() -> None:
    """The ranges in text.py are written out (no scan at import); a newer Unicode that adds
    a format character fails here until they are updated."""
    missing = [
        hex(code)
        for code in range(0x110000)
        if unicodedata.category(chr(code)) in ("Cf", "Zl", "Zp", "Cs", "Cc")
        and chr(code) not in "\n\t"
        and not UNSAFE.match(chr(code))
    ]
    assert missing == []


def test_newline_and_tab_are_kept_by_safe_and_spaces_in_a_line() -> None:
    assert safe("a\r\nb\tc\rd") == "a\nb\tc\u240dd"
    assert safe_line("a\r\nb\tc\nd") == "a b c d"


@settings(max_examples=300, deadline=None)
@given(
    st.text(st.characters(codec="utf-8") | st.sampled_from(list(HIDDEN + "\r\n\t")), max_size=700),
    st.integers(min_value=60, max_value=500),
)
def test_shown_text_is_clean_bounded_and_stable(text: str, limit: int) -> None:
    for shown, again in (
        (safe_line(text, limit=limit), lambda s: safe_line(s, limit=limit)),
        (safe(text, limit=limit, lines=5), lambda s: safe(s, limit=limit, lines=5)),
    ):
        assert not [c for c in shown if UNSAFE.match(c) and c not in "\n\t"]
        assert len(shown) <= limit
        assert again(shown) == shown  # a second pass (a notification of a line) changes nothing
    assert "\n" not in safe_line(text, limit=limit)


def test_a_megabyte_is_cut_and_says_how_to_read_the_rest() -> None:
    title = "x" * 1_000_000
    line = safe_line(title, more=full_hint("PINC101"))
    assert len(line) <= LINE_LIMIT
    assert line.endswith(
        f"… ({1_000_000 - line.index('…'):,} more characters: cockpit show PINC101 --full)"
    )
    assert len(safe(title)) <= TEXT_LIMIT
    assert safe_line(title, limit=None) == title  # --full
    assert safe("line\n" * 100, lines=3) == "line\nline\nline… (486 more characters)"


# ------------------------------------------------------------------------- CLI and exports

NASTY = f"Disk full {BIDI} {INVISIBLE} \x1b]52;c;ZWNobyBwd25lZA==\x07 \x9b2J"


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """Three open incidents with the same hostile 1 MB title (so the handoff lists it as
    flapping and as a repeat offender), one with a hostile short title, labels and a note."""
    store = Store.open(tmp_path)
    now = utcnow()
    huge = ("word " * 200_000)[:999_990] + " \u202eEND"
    with store.write() as session:
        set_me(session, Me("pagerduty:PANN", "Ann Lee", "ann@example.com"))
        session.add(Person(id="pagerduty:PANN", source="pagerduty", name=f"Ann {BIDI}"))
        for n in (1, 2, 3):
            session.add(
                Incident(
                    id=f"pagerduty:I{n}",
                    source="pagerduty",
                    remote_id=f"I{n}",
                    title=huge,
                    status="acknowledged",
                    assignees=["pagerduty:PANN"],
                    created_at=now - timedelta(hours=n),
                    updated_at=now,
                )
            )
        session.add(
            Incident(
                id="pagerduty:I9",
                source="pagerduty",
                remote_id="I9",
                title=NASTY,
                status="triggered",
                service_name=f"svc{INVISIBLE}",
                labels={"env": NASTY},
                created_at=now - timedelta(minutes=5),
                updated_at=now,
            )
        )
    store.close()
    assert main(["--data-dir", str(tmp_path), "note", "I9", f"note {NASTY}"]) == 0
    return tmp_path


def run(data: Path, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    capsys.readouterr()
    assert main(["--data-dir", str(data), *args]) == 0
    captured = capsys.readouterr()
    return captured.out + captured.err


def test_cli_and_markdown_show_hidden_characters_as_markers(
    data: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    outputs = {
        "show": run(data, capsys, "show", "I9"),
        "show --json": run(data, capsys, "show", "I9", "--json"),
        "incidents": run(data, capsys, "incidents"),
        "handoff": run(data, capsys, "handoff", "--notes", f"notes {NASTY}"),
    }
    for name, out in outputs.items():
        assert_clean(out)
        assert "⟦U+202E⟧" in out or "\\u27e6U+202E" in out, name
    assert "note Disk full ⟦U+202A⟧" in outputs["show"]  # the note, in the timeline
    assert json.loads(outputs["show --json"])["title"].startswith("Disk full ⟦U+202A⟧")
    assert "notes Disk full ⟦U+202A⟧" in outputs["handoff"]


def test_debrief_and_runbook_draft_show_hidden_characters_as_markers() -> None:
    drill = Drill(
        id=1,
        runbook_id=f"rb{BIDI}",
        participant=f"ann{INVISIBLE}",
        started_at=datetime(2026, 1, 1, tzinfo=UTC),
        scenario={"title": NASTY, "difficulty": "hard"},
    )
    debrief = render_debrief(drill, analyse([]), runbook_title=NASTY)
    incident = Incident(
        id="pagerduty:I9",
        source="pagerduty",
        remote_id="I9",
        title=NASTY,
        service_name=f"svc{BIDI}",
        status="resolved",
    )
    draft = render_draft(incident, Drafted(), "no runbook ran", datetime(2026, 1, 1).date())
    for export in (debrief, draft):
        assert_clean(export)
        assert "Disk full ⟦U+202A⟧⟦U+202B⟧" in export


def test_huge_titles_are_cut_in_every_cli_line_and_shown_whole_with_full(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`cockpit handoff` printed a 1,000,028-character line; `cockpit show` a 1,000,004."""
    for args in (("handoff",), ("show", "I1"), ("incidents",), ("show", "I1", "--json")):
        out = run(data, capsys, *args)
        assert max(len(line) for line in out.splitlines()) <= LINE_LIMIT + 40, args
    shown = run(data, capsys, "show", "I1")
    assert "more characters: cockpit show I1 --full)" in shown.splitlines()[0]
    full = run(data, capsys, "show", "I1", "--full").splitlines()[0]
    assert len(full) > 1_000_000 and full.endswith(" ⟦U+202E⟧END")
    as_json = json.loads(run(data, capsys, "show", "I1", "--json", "--full"))
    assert len(as_json["title"]) > 1_000_000


# ------------------------------------------------------------------------- runbook lint

RUNBOOK = """\
---
id: clean-cache
title: Clean the cache
owner: team
---
# Clean the cache

## Trigger
Disk full.

## Checks
- [ ] Look at the size\u200b of the cache

## Actions
- [ ] Clean it
  ```sh
  du -sh /var/cache/app
  rm -rf /var/cache/app/tmp \u2066# only tmp\u2069
  ```

## Rollback
- [ ] Nothing to undo \u202e(really)\u202c

## Validation
- [ ] Disk below 70%

## Owner
team
"""


def test_lint_flags_hidden_characters_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "clean-cache.md"
    path.write_text(RUNBOOK, encoding="utf-8")
    hidden = [f for f in lint_paths([path]) if "hidden character" in f.message]
    assert [(f.line, f.severity) for f in hidden] == [(12, WARNING), (18, ERROR), (22, ERROR)]
    assert "U+2066 LEFT-TO-RIGHT ISOLATE" in hidden[1].message
    assert "a command" in hidden[1].message and "a step" in hidden[2].message
    assert main(["runbook", "lint", str(path)]) != 0
    out = capsys.readouterr().out
    assert f"{path}:18: error: hidden character in a command" in out
    assert_clean(out)
