"""Secrets out of text the cockpit keeps or shows: a command's output before it goes to the
timeline, an error before it is stored or printed, a URL before it is displayed.

A runbook command run during an incident prints what it prints: an environment dump, a
connection string, a curl with an Authorization header. The store, its exports and the
handoff must not carry those, so kept output passes through :func:`redact` first. It masks
what is recognisably a secret (the value, not the name, so the line still reads), and it
errs towards masking: a lost token is worse than a masked harmless value.

Every secret the user has configured is masked wherever it appears, whoever calls: the
tokens in the keyring, in ``COCKPIT_*`` variables and in the settings, and the user name and
password of a URL (:func:`known_secrets`, gathered by
``cockpit.credentials.known_secrets``, and the ones remembered in
``cockpit.seen_secrets``). A URL's userinfo (``user:password@``)
is masked as a whole in any text, configured or not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from cockpit.seen_secrets import MIN_KNOWN, remembered

MASK = "«redacted»"
# Kept output is the tail: the end of a long log is where the answer is.
MAX_KEPT = 64 * 1024

_NAME = (
    r"(?:pass(?:word|wd)?|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|"
    r"private[_-]?key|client[_-]?secret|auth(?:orization)?|credentials?|session[_-]?id|"
    r"cookie|signature)"
)
# user:password@ (or a token as the user name) in URLs: the userinfo, whole. (Bounded
# repeats: "a://a://..." must not scan the rest of the text from every start.)
_USERINFO = re.compile(
    rf"(?i)\b([a-z][a-z0-9+.-]{{0,30}}://)(?!{re.escape(MASK)}@)[^/\s@?#]{{1,512}}@"
)
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # -----BEGIN ... PRIVATE KEY----- blocks, whole.
    (
        re.compile(
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)", re.S
        ),
        MASK,
    ),
    # Authorization headers: "Bearer x", "Token token=x", "Basic x".
    (
        re.compile(r"(?i)\b(bearer|basic|token token=|token)(\s*)([A-Za-z0-9._~+/=-]{8,})"),
        rf"\1\2{MASK}",
    ),
    (_USERINFO, rf"\1{MASK}@"),
    # NAME=value, NAME: value, "NAME": "value", --NAME value / --NAME=value.
    # (Bounded repeats: an unbounded one around the name's alternation backtracks
    # quadratically on a long run of word characters.)
    (
        re.compile(rf"""(?ix)
        (["']?\b[\w.-]{{0,40}}?{_NAME}[\w.-]{{0,40}}["']?)  # the name, maybe quoted/prefixed
        (\s*[:=]\s*|\s+)                         # = or : (or a flag's space)
        (["']?)                                  # an opening quote
        (?!{re.escape(MASK)}|(?:bearer|basic|token|digest)\b)  # a value, not a scheme
        ([^\s"',;&]{{3,}})
    """),
        rf"\1\2\3{MASK}",
    ),
    # Well-known token shapes, wherever they appear.
    (re.compile(r"\bAKIA[0-9A-Z]{16}\b"), MASK),  # AWS access key id
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"), MASK),  # GitHub
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b"), MASK),  # Slack
    (re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}\b"), MASK),  # GitLab
    (re.compile(r"\bsk_(?:live|test)_[A-Za-z0-9]{16,}\b"), MASK),  # Stripe
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), MASK),  # JWT
)


def known_secrets(extra: Iterable[str] = ()) -> tuple[str, ...]:
    """Every secret to mask: ``extra``, the ones remembered, and the user's configured ones
    (keyring, environment), longest first (so a secret inside another goes with it)."""
    found = {s for s in extra if s and len(s) >= MIN_KNOWN}
    found |= remembered()
    # Imported here: the keyring is loaded only once something is redacted.
    from cockpit.credentials import known_secrets as configured

    found.update(s for s in configured() if len(s) >= MIN_KNOWN)
    return tuple(sorted(found, key=lambda s: (-len(s), s)))


def mask_userinfo(text: str) -> str:
    """``text`` with the userinfo of every URL in it masked (``http://«redacted»@host``):
    for showing a configured URL, without the cost of :func:`redact`'s keyring look-up."""
    return _USERINFO.sub(rf"\1{MASK}@", text)


def redact(text: str, known: tuple[str, ...] = ()) -> str:
    """``text`` with secrets masked: the ``known`` ones and every configured one (the
    user's own tokens, see :func:`known_secrets`) anywhere, then everything that looks like
    one."""
    if not text:
        return text
    for secret in known_secrets(known):
        if secret in text:
            text = text.replace(secret, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def kept_output(output: str, known: tuple[str, ...] = ()) -> str:
    """What the timeline keeps of a command's output: its last ``MAX_KEPT`` characters,
    redacted, saying how much was left out."""
    if len(output) > MAX_KEPT:
        cut = len(output) - MAX_KEPT
        output = f"… {cut} characters before\n{output[-MAX_KEPT:]}"
    return redact(output, known)
