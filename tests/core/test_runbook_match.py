"""Matching: URL beats heuristics, scores and reasons, deterministic ties."""

from __future__ import annotations

from cockpit.runbooks import IncidentFacts, match_runbooks, parse_runbook
from cockpit.runbooks.model import Runbook


def rb(path: str, front: str) -> Runbook:
    return parse_runbook(f"---\n{front}---\n## Checks\n- a\n", path)


DISK = rb(
    "runbooks/disk-full.md",
    "id: disk-full\nservices: [platform]\nalerts: [DiskFull]\n"
    'match:\n  title: "(?i)disk"\n  urgency: high\n  labels:\n    severity: critical\n',
)
CACHE = rb(
    "runbooks/cache.md",
    "id: cache\nservices: [product-api]\n"
    'runbook_urls: [https://wiki.example.com/rb/cache]\nmatch:\n  title: "(?i)latency"\n',
)
OTHER = rb("runbooks/a-other.md", 'id: a-other\nmatch:\n  title: "(?i)disk"\n')


def test_url_match_beats_every_heuristic() -> None:
    facts = IncidentFacts(
        title="disk full on db-1",
        service="platform",
        alertname="DiskFull",
        runbook_urls=["https://wiki.example.com/rb/cache/"],
    )
    matches = match_runbooks([DISK, CACHE, OTHER], facts)
    assert matches[0].runbook.id == "cache" and matches[0].by_url
    assert "beats every heuristic" in matches[0].reasons[0]
    by_name = match_runbooks(
        [DISK, CACHE],
        IncidentFacts(runbook_urls=["https://github.com/acme/ops/blob/main/runbooks/disk-full.md"]),
    )
    assert [m.runbook.id for m in by_name] == ["disk-full"] and by_name[0].by_url


def test_heuristic_score_and_reasons() -> None:
    facts = IncidentFacts(
        title="Disk almost full",
        service="platform",
        urgency="high",
        labels={"severity": "critical"},
        alertname="DiskFull",
    )
    (first, second) = match_runbooks([OTHER, DISK, CACHE], facts)
    assert first.runbook.id == "disk-full"
    assert first.score == 100 + 50 + 40 + 20 + 10
    assert first.reasons == (
        "alert DiskFull is listed in alerts",
        "service platform is listed",
        "title matches /(?i)disk/",
        "label severity=critical matches /critical/",
        "urgency high as the runbook expects",
    )
    assert second.runbook.id == "a-other" and second.score == 40


def test_mismatch_penalty_and_tie_broken_by_id() -> None:
    low = match_runbooks([DISK], IncidentFacts(title="disk", urgency="low"))
    assert low[0].score == 40 - 15 and "the runbook is for high" in low[0].reasons[-1]
    twin = rb("runbooks/b.md", 'id: b-twin\nmatch:\n  title: "(?i)disk"\n')
    ranked = match_runbooks([twin, OTHER], IncidentFacts(title="disk"))
    assert [m.runbook.id for m in ranked] == ["a-other", "b-twin"]


def test_no_match_is_an_empty_list() -> None:
    assert match_runbooks([DISK, CACHE], IncidentFacts(title="printer on fire")) == []
    broken = rb("x.md", 'id: x\nmatch:\n  title: "("\n')
    assert match_runbooks([broken], IncidentFacts(title="(")) == []
