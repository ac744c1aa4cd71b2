"""Lint: each finding, its severity and line; the samples lint clean."""

from __future__ import annotations

from pathlib import Path

from cockpit.runbooks import lint_paths, lint_runbook, parse_runbook
from cockpit.runbooks.library import default_runbook_dirs, load_library, samples_dir
from cockpit.runbooks.lint import has_errors

FULL = """\
---
id: x
title: X
owner: team
{extra}---
# X

## Trigger
t

## Checks
- [ ] look {{#look}}

## Actions
- [ ] act

## Decision points
- Fixed?
  - yes: go to [Validation](#validation)
  - no: {no}

## Rollback
- [ ] undo

## Validation
- [ ] verify

## Owner
team
"""


def findings(text: str) -> list[str]:
    return [str(f) for f in lint_runbook(parse_runbook(text, "r.md"))]


def test_clean_template_has_no_findings() -> None:
    assert findings(FULL.format(extra="", no="go to [Rollback](#rollback)")) == []


def test_branch_pointing_nowhere_is_an_error_at_its_line() -> None:
    found = findings(FULL.format(extra="", no="go to [Pray](#pray)"))
    assert found[0] == (
        "r.md:20: error: decision branch 'no' points nowhere: '#pray' is no section or step "
        "of this runbook"
    )
    assert any("'Rollback' is unreachable" in f and "warning" in f for f in found)


def test_branch_to_step_id_and_plain_section_name() -> None:
    assert findings(FULL.format(extra="", no="Rollback")) == []
    found = findings(FULL.format(extra="", no="go to `look`"))
    assert not any("points nowhere" in f for f in found)


def test_front_matter_unknown_key_and_bad_regex() -> None:
    extra = 'colour: blue\nmatch:\n  title: "(unclosed"\n  labels:\n    team: "["\n'
    found = findings(FULL.format(extra=extra, no="Rollback"))
    assert "r.md:5: warning: unknown front-matter key 'colour'" in found
    assert any(f.startswith("r.md:7: error: match.title is not a valid regex") for f in found)
    assert any("match.labels.team is not a valid regex" in f for f in found)


def test_bad_yaml_is_an_error_with_its_line() -> None:
    found = findings("---\nid: x\nowner: [a\n---\n## Checks\n- a\n")
    assert any(f.startswith("r.md:3: error: front matter is not valid YAML") for f in found)


def test_duplicate_explicit_id_is_an_error() -> None:
    found = findings("## Checks\n- a {#same}\n- b {#same}\n")
    assert "r.md:3: error: duplicate step id 'same' (first used on line 2)" in found


def test_missing_sections_error_in_cockpit_layout_warning_in_real_world() -> None:
    cockpit = findings("---\nid: y\n---\n## Checks\n- a\n")
    assert "r.md:1: error: missing required section: Rollback" in cockpit
    real = findings("# Alert\n## Diagnosis\n- a\n")
    assert real == [
        "r.md:1: warning: real-world layout, missing template sections: Trigger, "
        "Actions, Rollback, Validation, Owner"
    ]


def test_no_steps_and_decision_without_branches() -> None:
    assert (
        "r.md:1: warning: no steps at all: no list items or code blocks in a step section"
        in findings("# Just prose\n\nNothing to do.\n")
    )
    found = findings("## Decision points\n- Should we?\n")
    assert any("has no branches" in f for f in found)


def test_unreachable_decision_after_terminal_one() -> None:
    text = FULL.format(extra="", no="go to [Rollback](#rollback)").replace(
        "## Rollback", "- Second?\n  - yes: Validation\n  - no: Rollback\n\n## Rollback"
    )
    assert any("'Second?' is unreachable" in f for f in findings(text))


def test_samples_lint_clean_and_library_skips_drafts(tmp_path: Path) -> None:
    assert lint_paths([samples_dir()]) == []
    assert len(load_library([samples_dir()])) >= 8
    (tmp_path / "drafts").mkdir()
    (tmp_path / "drafts" / "wip.md").write_text("---\nid: [\n---\n")
    (tmp_path / "README.md").write_text("# readme\n")
    (tmp_path / "ok.md").write_text("## Checks\n- a\n")
    assert [r.path for r in load_library([tmp_path])] == [str(tmp_path / "ok.md")]


def test_unreadable_file_is_a_finding(tmp_path: Path) -> None:
    found = lint_paths([tmp_path / "missing.md"])
    assert has_errors(found) and "cannot read runbook" in found[0].message


class _Settings:
    def __init__(self, path: Path) -> None:
        self.runbooks_path = path


def test_default_dirs_fall_back_to_samples(tmp_path: Path) -> None:
    assert default_runbook_dirs(_Settings(tmp_path)) == [tmp_path]
    assert default_runbook_dirs(_Settings(tmp_path / "nope")) == [samples_dir()]
