"""Parsing: every construct, real-world layouts, hostile input."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from cockpit.runbooks import Finding, load_runbook, parse_runbook
from cockpit.runbooks.render import render_checklist

TEMPLATE = """\
---
id: cache-stampede
title: Cache stampede
owner: storefront-oncall
services: [product-api]
match:
  title: "(?i)latency.*product"
---
# Cache stampede

## Trigger
p95 above 800 ms for 5 minutes.

## Checks
- [ ] Open the [dashboard](https://grafana.example.com/d/product)
- [ ] Cache hit ratio dropped? `redis-cli info stats | grep keyspace_hits`

## Actions
1. [ ] ⚠ Turn on stale-while-revalidate {#swr-on}
   ```sh
   flagctl enable product.swr --env {{env}} --region <region>
   ```
2. [ ] Watch the error rate (wait 5m)
3. [ ] (risky) Purge the CDN (timer 2m)
4. [ ] **risky** flush keys, wait 30s

## Decision points
- Is the 5xx rate below 1%? {#fixed}
  - yes: go to [Validation](#validation)
  - no: go to [Rollback](#rollback)
  - again: go to [watch](#swr-on)

## Rollback
1. [ ] `flagctl disable product.swr --env prod`

## Validation
- [ ] p95 below 300 ms

## Owner
storefront-oncall
"""

REAL_WORLD = """\
# KubePodCrashLooping

## Meaning

Pod is in CrashLoopBackOff state for [bold]15 minutes[/bold].

## Impact

Service degraded.

## Diagnosis

Check the pod logs:

```console
$ kubectl -n $NAMESPACE logs $POD --previous
Error: config missing
$ kubectl -n $NAMESPACE describe pod $POD \\
    --show-events
```

### Review events

| col | col |
| --- | --- |
| a | b |

1. Look at the events
   * nested note
     * deeper note
2. Check the node

## Mitigation

Fix the configuration and redeploy.

Roll back the deployment if it was a bad release.
"""


def test_template_sections_and_metadata() -> None:
    runbook = parse_runbook(TEMPLATE, "rb.md")
    assert runbook.id == "cache-stampede"
    assert runbook.title == "Cache stampede"
    assert [s.kind for s in runbook.sections] == [
        "trigger",
        "checks",
        "actions",
        "decisions",
        "rollback",
        "validation",
        "owner",
    ]
    assert runbook.owner == "storefront-oncall"
    assert runbook.services == ("product-api",)
    assert runbook.findings == ()
    assert runbook.sections[1].line == 14


def test_steps_commands_timers_risk_params() -> None:
    runbook = parse_runbook(TEMPLATE, "rb.md")
    swr = runbook.step("swr-on")
    assert swr is not None and swr.explicit_id and swr.risky
    assert swr.command == "flagctl enable product.swr --env {{env}} --region <region>"
    assert swr.params == ("env", "region")
    assert swr.line == 19
    watch = runbook.step("actions.watch-the-error-rate")
    assert watch is not None and watch.timer_seconds == 300 and not watch.risky
    purge = runbook.step("actions.purge-the-cdn")
    assert purge is not None and purge.risky and purge.timer_seconds == 120
    flush = runbook.steps_of("actions")[3]
    assert flush.risky and flush.timer_seconds == 30
    inline = runbook.steps_of("checks")[1]
    assert inline.command == "redis-cli info stats | grep keyspace_hits"
    only_code = runbook.steps_of("rollback")[0]
    assert only_code.command == "flagctl disable product.swr --env prod"
    assert runbook.steps_of("checks")[0].commands == ()


def test_decisions_resolve_to_sections_and_steps() -> None:
    runbook = parse_runbook(TEMPLATE, "rb.md")
    (decision,) = runbook.decisions
    assert decision.id == "fixed"
    labels = {b.label: b for b in decision.branches}
    assert runbook.sections[labels["yes"].target_section or 0].kind == "validation"
    assert runbook.sections[labels["no"].target_section or 0].kind == "rollback"
    assert labels["again"].target_step == "swr-on"


def test_derived_ids_stable_and_deduplicated() -> None:
    text = "## Checks\n- [ ] Look\n- [ ] Look\n- [ ] Other {#look}\n- [ ] Look\n"
    runbook = parse_runbook(text, "x.md")
    assert [s.id for s in runbook.steps] == [
        "checks.look",
        "checks.look-2",
        "look",
        "checks.look-3",
    ]
    reordered = parse_runbook("## Checks\n- [ ] Other {#look}\n- [ ] Look\n", "x.md")
    assert reordered.steps[0].id == "look" and reordered.steps[1].id == "checks.look"


def test_real_world_layout_opens_as_checklist() -> None:
    runbook = parse_runbook(REAL_WORLD, "KubePodCrashLooping.md")
    assert runbook.title == "KubePodCrashLooping"
    kinds = {s.title: s.kind for s in runbook.sections}
    assert kinds == {
        "Meaning": "trigger",
        "Impact": "context",
        "Diagnosis": "checks",
        "Review events": "checks",
        "Mitigation": "actions",
    }
    checks = runbook.steps_of("checks")
    assert checks[0].text == "Check the pod logs:"
    assert checks[0].command == (
        "kubectl -n $NAMESPACE logs $POD --previous\n"
        "kubectl -n $NAMESPACE describe pod $POD \\\n    --show-events"
    )
    assert [s.text for s in checks[1:]] == ["Look at the events", "Check the node"]
    assert checks[1].details == ("nested note",)
    actions = runbook.steps_of("actions")
    assert [s.text for s in actions] == [
        "Fix the configuration and redeploy.",
        "Roll back the deployment if it was a bad release.",
    ]


def test_markup_and_control_characters_raw_in_model_safe_in_show() -> None:
    text = "## Checks\n- [ ] Run [bold]x[/bold] \x1b]52;c;SGVsbG8=\x07 now\n"
    runbook = parse_runbook(text, "evil.md")
    assert runbook.steps[0].text == "Run [bold]x[/bold] \x1b]52;c;SGVsbG8=\x07 now"
    shown = "\n".join(render_checklist(runbook))
    assert "[bold]x[/bold]" in shown
    assert "\x1b" not in shown and "\x07" not in shown
    assert "\u241b" in shown


def test_front_matter_errors_are_findings_with_lines() -> None:
    runbook = parse_runbook("---\nid: x\ntitle: [unclosed\n---\n## Checks\n- a\n", "b.md")
    (finding,) = runbook.findings
    assert finding.severity == "error" and finding.line >= 3
    assert str(finding).startswith("b.md:")
    assert runbook.steps[0].line == 6
    listed = parse_runbook("---\n- a\n- b\n---\n", "c.md")
    assert "mapping" in listed.findings[0].message
    unclosed = parse_runbook("---\nid: x\n", "d.md")
    assert unclosed.findings[0].severity == "warning"


def test_load_runbook_handles_bad_utf8(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bin.md"
    path.write_bytes(b"## Checks\n- [ ] caf\xe9 \xff\n")
    runbook = load_runbook(path)
    assert any("UTF-8" in f.message for f in runbook.findings)
    assert runbook.steps[0].text.startswith("caf")


_PIECES = [
    "- [ ] ",
    "1. ",
    "```sh\n",
    "```\n",
    "---\n",
    "{#a}",
    "## Checks\n",
    "## Decision points\n",
    "  - yes: [x](#nowhere)\n",
    "> ",
    "\n",
    "$ ",
    "<id>",
    "{{p}}",
    "(wait 5m)",
    "\u26a0",
    "\x1b",
    "\x00",
    "[bold]",
    "|a|b|\n|-|-|\n",
]
markdownish = st.lists(
    st.one_of(st.sampled_from(_PIECES), st.text(alphabet=string.printable, max_size=20)),
    max_size=40,
).map("".join)


@settings(max_examples=200, deadline=None)
@given(markdownish)
def test_hostile_markdown_never_raises(text: str) -> None:
    runbook = parse_runbook(text, "h.md")
    assert all(isinstance(f, Finding) for f in runbook.findings)
    render_checklist(runbook)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_hostile_bytes_never_raise(tmp_path_factory, data: bytes) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("h") / "h.md"
    path.write_bytes(data)
    render_checklist(load_runbook(path))
