"""Make remote and runbook text safe to show.

Textual writes control characters inside a widget's text straight to the terminal, so a
title holding ``ESC ] 52`` could write the clipboard. Every remote string (titles, notes,
labels) and all runbook text goes through :func:`safe` before the TUI, the CLI or an export
shows it; the store keeps the raw text.
"""

from __future__ import annotations

import re

_KEEP = {"\n", "\t"}
# C0 (except newline and tab), DEL, and C1.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]")


def _picture(match: re.Match[str]) -> str:
    char = match.group(0)
    code = ord(char)
    if code < 0x20:
        # Unicode "Control Pictures": U+2400 + code shows ESC as a visible glyph.
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    return "\ufffd"


def safe(text: str | None) -> str:
    """Return ``text`` with C0/C1 control characters replaced by visible glyphs.

    Newline and tab are kept. ``None`` becomes the empty string.
    """
    if not text:
        return ""
    if "\r\n" in text:
        text = text.replace("\r\n", "\n")
    return _CONTROL.sub(_picture, text)


def safe_line(text: str | None) -> str:
    """Like :func:`safe`, but for a single line: newlines and tabs become spaces."""
    return safe(text).replace("\n", " ").replace("\t", " ")


# Intraword ``_`` does nothing in CommonMark, and the export never starts a line with remote
# text (so a ``#`` cannot make a heading): both stay as typed.
_MARKDOWN = re.compile(r"([\\`*\[\]<>|])")


def markdown_line(text: str | None) -> str:
    """:func:`safe_line`, with Markdown's punctuation escaped, for remote text in an export:
    a title holding ``[x](javascript:...)``, ``<img>``, ``|`` or ``*`` reads as the words it
    is, not as a link, HTML, a table cell or emphasis."""
    return _MARKDOWN.sub(r"\\\1", safe_line(text))


def count(n: int, noun: str, plural: str = "") -> str:
    """``1 step``, ``2 steps``, ``1 log entry``/``2 log entries`` (pass the plural when it is
    not the noun plus s)."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
