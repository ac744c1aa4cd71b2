"""The flywheel's draft holds what was done (steps in their sections, in order, with their
commands and marks, the decision answered, the commands run, the notes) and passes lint; it
is written to a folder the user owns, never into the shipped samples."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from pageseed import incident, utc

from cockpit import paths
from cockpit.config import load_settings
from cockpit.flywheel import draft_runbook
from cockpit.flywheel.draft import drafts_folder
from cockpit.runbooks.library import samples_dir
from cockpit.runbooks.lint import lint_paths
from cockpit.runbooks.model import ACTIONS, CHECKS, ERROR, ROLLBACK
from cockpit.runbooks.parse import load_runbook
from cockpit.store import Note, Store
from cockpit.store.run_service import RunService

T0 = utc(2026, 3, 25, 10)
RUNBOOK = """---
id: disk-fill
title: Disk filling on logs
owner: logging
---
# Disk filling on logs

## Trigger
Disk above 80%.

## Checks
- [ ] Which folder grows? `du -sh /var/log/*` {#which-folder}
- [ ] Look at the rotation timer
  ```sh
  systemctl status logrotate.timer
  ```

## Actions
1. [ ] Rotate the logs now {#rotate-now}
   ```sh
   logrotate -f /etc/logrotate.conf
   ```
2. [ ] Delete old archives
   ```sh
   find /var/log -name '*.gz' -mtime +7 -delete
   ```

## Decision points
- Is the disk below 70%? {#disk-ok}
  - yes: go to [Validation](#validation)
  - no: go to [Rollback](#rollback)

## Rollback
1. [ ] Restore the archives from backup: `restore-logs --from yesterday`
2. [ ] Page the logging lead

## Validation
- [ ] Disk below 70% for 10 minutes

## Owner
logging
"""


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "cockpit.db")
    incident(
        s,
        "pagerduty:I7",
        T0,
        number=7,
        title="Disk 91% on logs-2",
        service_name="logs",
        team="logging",
        status="resolved",
        resolved_at=T0,
    )
    yield s
    s.close()


def test_draft_has_the_steps_taken_in_order_in_their_sections(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "book" / "disk-fill.md"
    path.parent.mkdir()
    path.write_text(RUNBOOK, encoding="utf-8")
    runbook = load_runbook(path)
    now = [T0]

    def clock() -> datetime:
        now[0] += timedelta(minutes=1)
        return now[0]

    runs = RunService(store, clock)
    check_ids = [s.id for s in runbook.steps_of(CHECKS)]
    action_ids = [s.id for s in runbook.steps_of(ACTIONS)]
    rollback_ids = [s.id for s in runbook.steps_of(ROLLBACK)]
    runs.apply("pagerduty:I7", runbook, "skipped", step_id=check_ids[1], reason="no access")
    runs.apply("pagerduty:I7", runbook, "done", step_id=check_ids[0])
    with store.write() as session:
        session.add(
            Note(incident_id="pagerduty:I7", content="/var/log/app is 40G", created_at=clock())
        )
        session.add(
            Note(incident_id="pagerduty:I7", content="[cockpit] Baton passed", created_at=clock())
        )
    runs.apply(
        "pagerduty:I7",
        runbook,
        "command_run",
        step_id="rotate-now",
        details={
            "command": "logrotate -f /etc/logrotate.conf",
            "exit_code": 1,
            "output": "line 1\nline 2\nline 3\nerror: ```bad``` state file\n",
        },
    )
    runs.apply("pagerduty:I7", runbook, "failed", step_id="rotate-now", reason="state file")
    runs.apply("pagerduty:I7", runbook, "done", step_id=action_ids[1])
    runs.apply("pagerduty:I7", runbook, "done", step_id="rotate-now")
    runs.apply("pagerduty:I7", runbook, "decided", step_id="disk-ok", branch="no")
    runs.apply("pagerduty:I7", runbook, "done", step_id=rollback_ids[0])
    runs.apply("pagerduty:I7", runbook, "undone")  # the tick is taken back
    runs.apply("pagerduty:I7", runbook, "done", step_id=rollback_ids[1])
    runs.abandon("pagerduty:I7", runbook)

    draft = draft_runbook(store, "pagerduty:I7", tmp_path / "drafts", clock=lambda: T0)
    assert [f for f in lint_paths([draft]) if f.severity == ERROR] == []
    text = draft.read_text(encoding="utf-8")
    drafted = load_runbook(draft)
    steps = [(s.section, s.text, [c.text for c in s.commands]) for s in drafted.steps]
    assert steps[:5] == [
        (CHECKS, "Look at the rotation timer", ["systemctl status logrotate.timer"]),
        (CHECKS, "Which folder grows?", ["du -sh /var/log/*"]),
        (ACTIONS, "Rotate the logs now", ["logrotate -f /etc/logrotate.conf"]),
        (ACTIONS, "Delete old archives", ["find /var/log -name '*.gz' -mtime +7 -delete"]),
        (ROLLBACK, "Page the logging lead", []),
    ]
    assert not any("Restore the archives" in s[1] for s in steps)  # undone: not taken
    assert [s.id for s in drafted.steps[:3]] == [
        "checks.look-at-the-rotation-timer",
        "which-folder",
        "rotate-now",
    ]
    by_text = {s.text: s for s in drafted.steps}
    assert by_text["Look at the rotation timer"].details == (
        "In the incident: skipped at 10:03 UTC: no access.",
    )
    assert by_text["Rotate the logs now"].details == (  # in the order it happened
        "Ran at 10:07 UTC, exit 1:",
        "In the incident: failed at 10:08 UTC: state file.",
        "In the incident: done at 10:10 UTC.",
    )
    # The output stays out of the step: a short quoted excerpt, its Markdown escaped.
    assert (
        "     > $ logrotate -f /etc/logrotate.conf\n     > line 2\n     > line 3\n"
        "     > error: \\`\\`\\`bad\\`\\`\\` state file\n" in text
    )
    assert "line 1" not in text
    (decision,) = drafted.decisions
    assert decision.id == "disk-ok" and decision.question == "Is the disk below 70%?"
    assert "  - no: go to [Rollback](#rollback) (answered in the incident)" in text
    assert [
        drafted.sections[b.target_section].kind
        for b in decision.branches
        if b.target_section is not None
    ] == ["validation", "rollback"]
    # Notes are context, not steps, with the step they followed.
    assert not any("40G" in s.text for s in drafted.steps)
    assert "> 10:05 UTC (after: Which folder grows?): /var/log/app is 40G" in text
    assert "Baton" not in text
    assert text.index("## Notes") < text.index("## Checks")


def test_draft_of_a_run_whose_runbook_file_is_gone_keeps_the_step_texts(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "gone.md"
    path.write_text(RUNBOOK, encoding="utf-8")
    runbook = load_runbook(path)
    RunService(store, lambda: T0).apply("pagerduty:I7", runbook, "done", step_id="rotate-now")
    path.unlink()
    draft = draft_runbook(store, "pagerduty:I7", tmp_path / "drafts", clock=lambda: T0)
    assert [f for f in lint_paths([draft]) if f.severity == ERROR] == []
    assert "Rotate the logs now" in [s.text for s in load_runbook(draft).steps]


def _settings(tmp_path: Path, **flags: object) -> object:
    (tmp_path / "config.toml").write_text("")
    return load_settings(tmp_path / "config.toml", environ={}, flags=flags)


def test_drafts_folder_is_the_users_never_the_samples(tmp_path: Path) -> None:
    samples = samples_dir().resolve()
    user = paths.default_data_dir() / "runbook-drafts"
    assert samples not in user.resolve().parents and "site-packages" not in user.parts
    # Nothing configured and no runbooks folder yet: the library shows the samples, so the
    # draft goes to the user's data folder (and does not create <data>/runbooks).
    default = _settings(tmp_path)
    assert drafts_folder(default) == user
    assert samples not in drafts_folder(default).resolve().parents
    # The demo points the runbooks at the shipped samples: still the user's data folder.
    assert drafts_folder(_settings(tmp_path, runbooks=samples)) == user
    assert drafts_folder(_settings(tmp_path, runbooks=samples / "sub")) == user
    own = tmp_path / "team-runbooks"
    assert drafts_folder(_settings(tmp_path, runbooks=own)) == own / "drafts"
    data = tmp_path / "data"
    (data / "runbooks").mkdir(parents=True)  # the default folder, once the user has one
    assert drafts_folder(_settings(tmp_path, data_dir=data)) == data / "runbooks" / "drafts"


def test_an_undone_answer_leaves_the_question_unanswered(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "disk-fill.md"
    path.write_text(RUNBOOK, encoding="utf-8")
    runbook = load_runbook(path)
    runs = RunService(store, lambda: T0)
    for step in runbook.steps_of(CHECKS, ACTIONS):
        runs.apply("pagerduty:I7", runbook, "done", step_id=step.id)
    runs.apply("pagerduty:I7", runbook, "decided", step_id="disk-ok", branch="no")
    runs.apply("pagerduty:I7", runbook, "undone")
    runs.abandon("pagerduty:I7", runbook)
    draft = draft_runbook(store, "pagerduty:I7", tmp_path / "drafts", clock=lambda: T0)
    text = draft.read_text(encoding="utf-8")
    assert (
        "- Is the disk below 70%? {#disk-ok}\n  - yes: go to [Validation](#validation)\n"
        "  - no: go to [Rollback](#rollback)\n" in text
    )
    assert "(answered" not in text
    assert len(load_runbook(draft).steps_of(CHECKS, ACTIONS)) == 4
    assert [f for f in lint_paths([draft]) if f.severity == ERROR] == []
