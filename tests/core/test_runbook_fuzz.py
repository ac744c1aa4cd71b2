"""Hypothesis over the YAML loader and the runbook parser: no exception but findings.

The loader may only return a value or raise ``YamlError``; parsing, linting, rendering,
matching and filling parameters of any text never raise. Texts are built from the pieces
runbooks and YAML are made of (front matter, anchors and aliases, tags, headings, steps,
fences, placeholders, decisions) mixed with arbitrary characters.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cockpit.runbooks import lint_runbook, parse_runbook
from cockpit.runbooks.match import IncidentFacts, match_runbooks
from cockpit.runbooks.params import fill_params
from cockpit.runbooks.patterns import backtracking_risk, pattern_problem, search
from cockpit.runbooks.render import render_checklist
from cockpit.runbooks.yaml_safe import YamlError, load_yaml

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

YAML_PIECES = [
    "a: 1",
    "b: &x [1, 2]",
    "c: *x",
    "d: {e: f}",
    "- item",
    "  - nested",
    "? key",
    ": value",
    "!!binary QUJD",
    "!!timestamp 2026-13-01",
    "!!int ''",
    "!!float x",
    "!!set {a}",
    "!!omap [a: 1]",
    "<<: {m: 1}",
    "<<: *x",
    "'quoted: x'",
    '"esc \\x41 \\u00e9"',
    "|",
    ">-",
    "  text",
    "[",
    "]",
    "{",
    "}",
    "&a",
    "*a",
    "---",
    "...",
    "#",
    "%YAML 1.1",
    "%TAG ! x",
    "t: 1:2:3",
    "n: 0x1F",
    "z: ~",
    "k: 2026-03-10T03:12:00Z",
    "\t",
    "x: [" * 40,
    "match:",
    "  title: '^(\\w+\\s?)*$'",
    "  labels: {team: '(?<=x)y'}",
    "id: fuzz",
]
MD_PIECES = [
    "# Title",
    "## Trigger",
    "## Checks",
    "## Actions",
    "## Decision points",
    "## Rollback",
    "## Validation",
    "## Owner",
    "### Diagnosis",
    "## Mitigation",
    "- [ ] step",
    "- [x] done",
    "1. [ ] numbered (wait 5m)",
    "- ⚠ risky `rm -rf {{dir}}`",
    "- [ ] `kubectl -n <value of namespace> get pods`",
    "  - yes: go to [Rollback](#rollback)",
    "  - no: Validation",
    "- Fixed? {#fixed}",
    "```sh",
    "```",
    "$ echo {{x}} '<y z>'",
    "cat <<EOF",
    "EOF",
    '`echo "{{x}}" $(a <b c>) `',
    "{#dup}",
    "<!-- html -->",
    "| a | b |",
    "|---|---|",
    "> quote",
    "***",
    "[link](http://x)",
    "\u202e",
    "\x1b[2J",
]

yaml_text = st.lists(
    st.one_of(st.sampled_from(YAML_PIECES), st.text(max_size=12)), max_size=25
).map("\n".join)
markdown = st.lists(st.one_of(st.sampled_from(MD_PIECES), st.text(max_size=20)), max_size=40).map(
    "\n".join
)


@FUZZ
@given(st.one_of(yaml_text, st.text(max_size=300)))
def test_the_yaml_loader_returns_a_value_or_a_yaml_error(text: str) -> None:
    try:
        load_yaml(text, "f.yaml")
    except YamlError as error:
        assert error.line >= 1 and error.problem
        assert "\n" not in str(error)


@FUZZ
@given(
    st.one_of(
        st.tuples(yaml_text, markdown).map(lambda p: f"---\n{p[0]}\n---\n{p[1]}"),
        markdown,
        st.text(max_size=400),
    ),
    st.text(max_size=60),
    st.text(max_size=20),
)
def test_parse_lint_render_match_fill_never_raise(text: str, title: str, value: str) -> None:
    runbook = parse_runbook(text, "fuzz.md")
    findings = lint_runbook(runbook)
    assert all(f.line >= 1 and f.severity in ("error", "warning") for f in findings)
    render_checklist(runbook)
    match_runbooks(
        [runbook], IncidentFacts(title=title, service=value, urgency="high", labels={"team": value})
    )
    for step in runbook.steps:
        fill_params(step.command, {name: value for name in step.params})


@FUZZ
@given(
    st.one_of(
        st.text(max_size=40),
        st.sampled_from(
            [
                r"^(\w+\s?)*$",
                r"(?<=a)b",
                r"(a)\1",
                r"\p{L}+",
                r"[]",
                r"[\w-",
                r"\N{NOPE}",
                r"\u12",
                r"(?x) a",
                r"a{,3}",
                r"\Z",
                r"(?P<n>x)(?P=n)",
                "\\",
                r"[\d\W]",
            ]
        ),
    ),
    st.text(max_size=60),
)
def test_patterns_never_raise(pattern: str, text: str) -> None:
    pattern_problem(pattern)
    backtracking_risk(pattern)
    search(pattern, text)
