"""Issue 13, items 5, 6 and 8: YAML alias bombs, backtracking regexes, runbook parameters.

- Every YAML the cockpit reads goes through ``cockpit.runbooks.yaml_safe.load_yaml``: an
  alias, deep nesting or an oversized text is refused with ``file:line``; a runbook with
  such front matter still opens as a checklist (and lints with an error); a bad scenario is
  a one-line error. The CLI routes run in a child with a 512 MiB address-space limit.
- ``match`` regexes run on RE2: the pattern that took minutes takes milliseconds.
- Parameter values are inserted shell-quoted for where they stand, checked by running the
  filled command with ``sh``; values are kept per incident.
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cockpit.drills.scenario import ScenarioError, load_scenario
from cockpit.runbooks import lint_runbook, parse_runbook
from cockpit.runbooks.match import IncidentFacts, match_runbooks
from cockpit.runbooks.params import IncidentParams, fill_params
from cockpit.runbooks.patterns import (
    MAX_TEXT,
    backtracking_risk,
    pattern_problem,
    search,
    to_re2,
)
from cockpit.runbooks.syntax import params_of
from cockpit.runbooks.yaml_safe import MAX_DEPTH, YamlError, load_yaml, load_yaml_file

MEMORY_LIMIT = 512 * 1024 * 1024
CATASTROPHIC = r"^(\w+\s?)*$"


def alias_bomb(levels: int = 9, indent: str = "") -> list[str]:
    """``a: &a [9 x "lol"]``, then each level nine aliases of the one before: 9**9 strings."""
    lines = [indent + 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    previous = "a"
    for name in "bcdefghijklmnop"[: levels - 1]:
        lines.append(f"{indent}{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
        previous = name
    return lines


def bomb_runbook() -> str:
    lines = [
        "---",
        "id: bomb",
        "owner: sre",
        *alias_bomb(),
        "match:",
        "  title: *i",
        "---",
        "# Bomb",
        "## Checks",
        "- [ ] Look at it `echo hi there`",
        "",
    ]
    return "\n".join(lines)


def bounded(args: list[str], tmp_path: Path, timeout: float = 30) -> tuple[int, str, float]:
    """Run the cockpit CLI in a child limited to MEMORY_LIMIT of address space."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "cockpit", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=limit,
        env=env,
    )
    return result.returncode, result.stdout + result.stderr, time.perf_counter() - started


# ------------------------------------------------------------------ the YAML loader


def test_an_alias_is_refused_at_its_line() -> None:
    with pytest.raises(YamlError) as caught:
        load_yaml("a: &x 1\nb: 2\nc: *x\n", "f.yaml")
    assert caught.value.line == 3 and caught.value.refused
    assert str(caught.value).startswith("f.yaml:3: YAML alias *x is not allowed")


def test_an_anchor_alone_and_ordinary_yaml_load() -> None:
    assert load_yaml("a: &x 1\nb: [1, 2]\nc: {d: e}\n") == {"a": 1, "b": [1, 2], "c": {"d": "e"}}
    assert load_yaml("") is None


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("x: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5), 1, "nested deeper than"),
        ("a: 1\nb: !!python/object:os.system x\n", 2, "could not determine a constructor"),
        ("a: 1\nwhen: 2026-13-01\n", 2, "not a valid YAML timestamp"),
        ("n: " + "1" * 5000, 1, "not a valid YAML int"),
        ("a: 1\nb: \x1b[2J\n", 2, "unacceptable character #x001b"),
        ("a: 1\n b: 2\n", 2, "mapping values are not allowed here"),
        ("? [a]\n: 1\n", 1, "found unhashable key"),
        ("a: 1\n---\nb: 2\n", 2, "another document"),
    ],
)
def test_every_failure_is_a_yaml_error_with_a_line(text: str, line: int, problem: str) -> None:
    with pytest.raises(YamlError) as caught:
        load_yaml(text, "f.yaml", first_line=1)
    assert caught.value.line == line, caught.value
    assert problem in caught.value.problem


def test_a_text_too_long_is_refused_before_parsing() -> None:
    with pytest.raises(YamlError, match="at most"):
        load_yaml("a: " + "x" * 100_000)


def test_a_file_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_bytes(b"title: ok\nscenario: caf\xe9\n")
    with pytest.raises(YamlError) as caught:
        load_yaml_file(path)
    assert str(caught.value) == (
        f"{path}:2: not UTF-8: byte 0xe9 cannot be decoded (save the file as UTF-8)"
    )


def test_the_cockpit_reads_yaml_only_through_the_safe_loader() -> None:
    """No module calls PyYAML's loaders directly (yaml_safe is the one way in)."""
    root = Path(__file__).resolve().parents[2] / "cockpit"
    offenders = []
    for path in root.rglob("*.py"):
        if path.name == "yaml_safe.py":
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(
            r"yaml\.(safe_load|load|full_load|unsafe_load|compose|parse|scan)\b|"
            r"yaml\.(Safe|Full|Unsafe|C\w*)?Loader\b",
            text,
        ):
            offenders.append(str(path.relative_to(root)))
    assert offenders == []


# ------------------------------------------------------------------ front matter and scenarios


def test_a_runbook_with_an_alias_bomb_still_opens_as_a_checklist() -> None:
    started = time.perf_counter()
    runbook = parse_runbook(bomb_runbook(), "bomb.md")
    found = [str(f) for f in lint_runbook(runbook)]
    assert time.perf_counter() - started < 2
    assert [step.text for step in runbook.steps] == ["Look at it `echo hi there`"]
    assert runbook.meta == {}
    assert (
        "bomb.md:5: error: front matter refused: YAML alias *a is not allowed (an alias "
        "can expand without bound): write the value out" in found
    )
    assert match_runbooks([runbook], IncidentFacts(title="lol")) == []


def test_cli_lint_match_and_show_of_an_alias_bomb_stay_small(tmp_path: Path) -> None:
    path = tmp_path / "bomb.md"
    path.write_text(bomb_runbook(), encoding="utf-8")
    code, out, took = bounded(["runbook", "lint", str(path)], tmp_path)
    assert code == 1 and "Traceback" not in out and took < 20
    assert f"{path}:5: error: front matter refused: YAML alias *a" in out
    code, out, took = bounded(["runbook", "match", "--title", "lol", str(path)], tmp_path)
    assert code == 0 and "Traceback" not in out and took < 20
    code, out, took = bounded(["runbook", "show", str(path)], tmp_path)
    assert code == 0 and "echo hi there" in out and took < 20


def scenario_bomb() -> str:
    parts = ['&a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    previous = "a"
    for name in "bcdefghi":
        parts.append(f"&{name} [" + ",".join([f"*{previous}"] * 9) + "]")
        previous = name
    return "title: t\nrunbook: disk-full\nsymptoms: [" + ", ".join(parts) + "]\n"


def test_a_scenario_alias_bomb_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(scenario_bomb(), encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(caught.value) == (
        f"{path}:3: YAML alias *a is not allowed (an alias can "
        "expand without bound): write the value out"
    )
    code, out, took = bounded(["drill", "--scenario", str(path), "--print"], tmp_path)
    assert code == 2 and took < 20
    assert out.strip() == f"cockpit: {caught.value}"


def test_a_scenario_that_is_not_utf8_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("title: café down\n".encode("latin-1"))
    with pytest.raises(ScenarioError, match=r"latin1\.yaml:1: not UTF-8: byte 0xe9"):
        load_scenario(path)
    code, out, _ = bounded(["drill", "--scenario", str(path), "--print"], tmp_path)
    assert code == 2 and "Traceback" not in out and len(out.strip().splitlines()) == 1
    assert f"{path}:1: not UTF-8" in out


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("title: x\nsymptoms: {a: 1}\n", r"s\.yaml:2: field 'symptoms' must be a list"),
        ("title: x\ndifficulty: brutal\n", r"s\.yaml:2: field 'difficulty' must be one of"),
        ("title: x\n\nbogus: 1\n", r"s\.yaml:3: unknown field\(s\) bogus"),
        ("title: x\nscenario: [a]\n", r"s\.yaml:2: field 'scenario' must be text"),
        ("title: x\nwhen: 2026-13-01\n", r"s\.yaml:2: not valid YAML: not a valid YAML timestamp"),
    ],
)
def test_scenario_field_errors_name_the_line(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ScenarioError, match=message):
        load_scenario(path)


# ------------------------------------------------------------------ regexes


REGEX_RUNBOOK = """\
---
id: words
match:
  title: '{title}'
---
# Words
## Checks
- [ ] Look `echo look here`
"""


@pytest.mark.parametrize(
    "title", ["a" * 30 + "!", "a" * 10_000 + "!"], ids=["30-chars", "10k-chars"]
)
def test_a_catastrophic_regex_matches_within_a_bound(title: str) -> None:
    runbook = parse_runbook(REGEX_RUNBOOK.format(title=CATASTROPHIC), "words.md")
    started = time.perf_counter()
    found = match_runbooks([runbook] * 20, IncidentFacts(title=title))
    assert time.perf_counter() - started < 2
    assert found == []
    assert match_runbooks([runbook], IncidentFacts(title="all good words"))[0].score == 40


def test_a_megabyte_title_is_searched_in_its_first_64_kib_within_a_bound() -> None:
    runbook = parse_runbook(REGEX_RUNBOOK.format(title=r"(a|b)*a(a|b){20}c"), "words.md")
    title = "ab " * 350_000 + "c"
    started = time.perf_counter()
    assert match_runbooks([runbook] * 20, IncidentFacts(title=title)) == []  # c is past 64 KiB
    assert time.perf_counter() - started < 2
    assert search("c$", "a" * MAX_TEXT + "c") is False and search("c$", "a" * 10 + "c")


def test_cli_match_of_a_catastrophic_regex_is_fast(tmp_path: Path) -> None:
    path = tmp_path / "words.md"
    path.write_text(REGEX_RUNBOOK.format(title=CATASTROPHIC), encoding="utf-8")
    code, out, took = bounded(["runbook", "match", "--title", "a" * 40 + "!", str(path)], tmp_path)
    assert code == 0 and "no runbook matches" in out and took < 10


def test_lint_warns_on_nested_quantifiers_and_refuses_what_re2_lacks() -> None:
    def lint(title: str) -> list[str]:
        text = REGEX_RUNBOOK.format(title=title)
        return [str(f) for f in lint_runbook(parse_runbook(text, "w.md")) if f.line == 4]

    assert lint(CATASTROPHIC) == [
        "w.md:4: warning: match.title has a quantifier inside a quantified group ((x+)* "
        "style): it backtracks catastrophically in Python, PCRE and JavaScript (the cockpit "
        r"matches in linear time); flatten it, e.g. ^[\w\s]*$ for ^(\w+\s?)*$"
    ]
    assert lint(r"(?i)latency.*product") == []
    (lookbehind,) = lint(r"(?<=api)down")
    assert lookbehind.startswith(
        "w.md:4: error: match.title uses what the cockpit's "
        "linear-time matcher (RE2) does not support"
    )
    (broken,) = lint("(unclosed")
    assert broken.startswith("w.md:4: error: match.title is not a valid regex: missing )")
    assert not search(r"(?<=api)down", "apidown")  # refused: it matches nothing


@pytest.mark.parametrize(
    "pattern",
    [
        r"(?i)(latency|5xx).*product",
        r"^storefront$",
        r"\w+$",
        r"[\w-]+",
        r"\d{2,}",
        r"\s\S",
        r"\W",
        r"\D+",
        r"\bdisk\b",
        r"full\Z",
        r"a{,2}b",
        r"\u00e9",
        r"\N{EM DASH}",
        r"[]a]",
        r"[^]a]+",
        r"(?P<x>a)b",
        r"\\w",
        r"^\w+ \w+$",
    ],
)
@pytest.mark.parametrize(
    "text",
    [
        "High latency on product-api",
        "storefront",
        "Ошибка диска",
        "émoji—x",
        "aab",
        "]]",
        "x\\w",
        "١٢٣ 12",
        "a\u00a0b",
        "disk full",
        "w",
        "",
        "ünïcödé wörds",
    ],
)
def test_re2_matches_what_python_would(pattern: str, text: str) -> None:
    assert search(pattern, text) == (re.search(pattern, text) is not None), to_re2(pattern)


def test_pattern_checks() -> None:
    assert pattern_problem(r"\p{Greek}+") == ""  # RE2 syntax is fine: RE2 runs it
    assert pattern_problem(r"\w{1000}").startswith("too large to match")
    assert backtracking_risk(r"(a+)+") and backtracking_risk(r"(?:x+y)*z")
    assert not backtracking_risk(r"(ab{2})+") and not backtracking_risk(r"\w+\s\w+")


# ------------------------------------------------------------------ parameters


HOSTILE = "x; echo PWNED `id` $(id) $HOME 'q' \"d\" \\ end <in >out | tee * ~"


@pytest.mark.parametrize(
    "template",
    [
        "printf '%s\\n' {{v}}",
        "printf '%s\\n' '{{v}}'",
        "printf '%s\\n' \"{{v}}\"",
        "printf '%s\\n' \"`printf '%s' {{v}}`\"",
        "printf '%s\\n' \"$(printf '%s' \"{{v}}\")\"",
        "printf '%s\\n' \"`printf '%s' \\\"{{v}}\\\"`\"",
        "printf '%s\\n' \"`printf '%s' \\\"\\`printf '%s' {{v}}\\`\\\"`\"",
        "cat <<EOF\n$(printf '%s' {{v}})\nEOF",
        "cat <<EOF\n`printf '%s' {{v}}`\nEOF",
        "cat <<EOF\n{{v}}\nEOF",
        "cat <<'EOF'\n{{v}}\nEOF",
        "cat <<-EOF\n\t{{v}}\n\tEOF",
        "printf '%s\\n' <v> # a comment with {{v}}",
    ],
)
def test_a_value_reaches_the_shell_as_one_literal_word(template: str) -> None:
    command = fill_params(template, {"v": HOSTILE})
    result = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=10)
    assert result.stdout == HOSTILE + "\n", command
    assert "PWNED" not in result.stderr


@settings(max_examples=60, deadline=None)
@given(
    st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\n\r"),
        min_size=1,
        max_size=40,
    )
)
def test_any_value_reaches_the_shell_unchanged(value: str) -> None:
    template = (
        "printf '%s|' {{v}} '{{v}}' \"{{v}}\" \"`printf '%s' {{v}}`\" \"$(printf '%s' {{v}})\""
    )
    command = fill_params(template, {"v": value})
    result = subprocess.run(["sh", "-c", command], capture_output=True, timeout=10)
    assert result.stdout == (value + "|").encode("utf-8", "surrogateescape") * 5, command


def test_a_line_break_in_a_value_cannot_end_a_here_document() -> None:
    command = fill_params("cat <<EOF\n{{v}}\nEOF", {"v": "x\nEOF\necho PWNED"})
    result = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=10)
    assert result.stdout == "x EOF echo PWNED\n"


def test_a_placeholder_with_spaces_is_filled_quoted() -> None:
    command = "kubectl -n <value of namespace label from alert> get pods -l app={{app}}"
    assert params_of([command]) == ("value of namespace label from alert", "app")
    filled = fill_params(
        command, {"value of namespace label from alert": "prod eu/1", "app": "api"}
    )
    assert filled == "kubectl -n 'prod eu/1' get pods -l app=api"
    assert fill_params(command, {}) == command  # no value: left as written
    assert params_of(["sort <in.txt >out.txt"]) == ()  # redirections, not a placeholder


def test_values_are_kept_per_incident() -> None:
    on_screen = ["PINC201"]
    values = IncidentParams(lambda: on_screen[0])
    values["redis_host"] = "cache-201"
    assert fill_params("redis-cli -h {{redis_host}}", values) == "redis-cli -h cache-201"
    on_screen[0] = "PINC200"
    assert values.get("redis_host") is None and "redis_host" not in values and len(values) == 0
    assert fill_params("redis-cli -h {{redis_host}}", values) == "redis-cli -h {{redis_host}}"
    values["redis_host"] = "cache-200"
    on_screen[0] = "PINC201"
    assert dict(values) == {"redis_host": "cache-201"}
    assert values.for_incident("PINC200") == {"redis_host": "cache-200"}


def test_a_pattern_python_warns_about_is_judged_without_a_warning() -> None:
    """'[[' makes Python's re warn (a possible nested set) while it is judged: a warning
    printed on the terminal would tear the screen, and under -W error it was an exception
    (found by the fuzz test)."""
    import warnings

    from cockpit.runbooks.patterns import pattern_problem

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert pattern_problem("[[").startswith("not a valid regex")
