"""Secrets this process has seen, to mask wherever text is kept or shown: a token it used,
the password of a URL it was given. Below both ``cockpit.credentials`` (which remembers the
tokens it loads) and ``cockpit.redact`` (which masks them, and asks the credentials for the
configured ones), so the credentials never import ``redact``.
"""

from __future__ import annotations

import threading

# A known secret shorter than this is not searched for in free text (it would mask words).
MIN_KNOWN = 6
_remembered: set[str] = set()
_lock = threading.Lock()


def remember(*secrets: str) -> None:
    """Mask these wherever ``cockpit.redact`` looks from now on (a token this process used)."""
    with _lock:
        _remembered.update(s for s in secrets if s and len(s) >= MIN_KNOWN)


def remembered() -> set[str]:
    """A copy of every secret remembered so far."""
    with _lock:
        return set(_remembered)


def url_secrets(url: str) -> list[str]:
    """The secret parts of ``url``'s userinfo: all of it as written, and the password (or a
    user name standing alone, a token used as one) as written and decoded. [] without one."""
    from urllib.parse import unquote, urlsplit

    try:
        netloc = urlsplit(url.strip()).netloc
    except ValueError:
        return []
    userinfo, at, _host = netloc.rpartition("@")
    if not at or not userinfo:
        return []
    user, colon, password = userinfo.partition(":")
    secret = password if colon else user
    return [s for s in dict.fromkeys((userinfo, secret, unquote(secret))) if s]
