"""Plain-text helpers."""

from __future__ import annotations


def test_count_says_one_thing_and_many_things() -> None:
    from cockpit.text import count

    assert count(1, "decision") == "1 decision"
    assert count(0, "decision") == "0 decisions"
    assert count(2, "log entry", "log entries") == "2 log entries"
