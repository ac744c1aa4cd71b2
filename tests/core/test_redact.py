"""Secrets out of kept command output: each shape masked, the surrounding line kept."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cockpit.redact import MASK, MAX_KEPT, kept_output, redact

CASES = [
    ("DB_PASSWORD=hunter2hunter2", "hunter2hunter2", "DB_PASSWORD="),
    ('{"api_key": "abcd1234efgh"}', "abcd1234efgh", '"api_key"'),
    ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9abc", "eyJhbGciOiJIUzI1NiJ9abc", "Authorization"),
    ("Authorization: Token token=y_NbAkKc66ryYTWUXYEu", "y_NbAkKc66ryYTWUXYEu", "Token"),
    ("postgres://app:s3cr3t-pw@db.internal:5432/app", "s3cr3t-pw", "db.internal:5432"),
    ("mysql --password s3cr3tpass -h db", "s3cr3tpass", "mysql"),
    ("export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG", "wJalrXUtnFEMI/K7MDENG", "export"),
    ("key id AKIAIOSFODNN7EXAMPLE in use", "AKIAIOSFODNN7EXAMPLE", "key id"),
    (
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789 pushed",
        "ghp_abcdefghijklmnopqrstuvwxyz0123",
        "pushed",
    ),
    ("webhook xoxb-1234567890-abcdefghij", "xoxb-1234567890-abcdefghij", "webhook"),
    (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----\nnext",
        "MIIEow",
        "next",
    ),
    ("jwt eyJhbGciOiJIUzI1.eyJzdWIiOiIxMjM0.SflKxwRJSMeKKF2QT4", "SflKxwRJSMeKKF2QT4", "jwt"),
]


@pytest.mark.parametrize(("text", "secret", "kept"), CASES)
def test_each_secret_shape_is_masked_and_the_line_still_reads(
    text: str, secret: str, kept: str
) -> None:
    out = redact(text)
    assert secret not in out
    assert MASK in out and kept in out


def test_known_secrets_are_masked_anywhere() -> None:
    assert (
        redact("got 403 for abc123xyz789 today", ("abc123xyz789",)) == f"got 403 for {MASK} today"
    )


def test_ordinary_output_is_left_alone() -> None:
    text = "ok\nreplicas 3/3 ready\nlatency p99 120ms\nkeys: 12004 expires: 300"
    assert redact(text) == text


def test_long_output_keeps_its_tail_and_says_so() -> None:
    out = kept_output("x" * (MAX_KEPT + 10) + "\nthe end")
    assert out.startswith("… ") and "characters before" in out and out.endswith("the end")
    assert len(out) < MAX_KEPT + 100


@given(st.text(max_size=300))
def test_redaction_never_raises_and_is_stable(text: str) -> None:
    once = redact(text)
    assert redact(once) == once
