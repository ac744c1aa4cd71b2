"""Make remote and runbook text safe to show: the one sanitiser.

Textual writes control characters inside a widget's text straight to the terminal, so a
title holding ``ESC ] 52`` could write the clipboard; a right-to-left override (U+202E) or a
zero-width space makes a command read differently from what runs ("Trojan Source",
CVE-2021-42574); a 1 MB title froze the first frame. Every remote string (titles, notes,
labels, server errors) and all runbook text goes through :func:`safe` or :func:`safe_line`
before the TUI, the CLI or an export shows it; the store keeps the raw text.

- C0 controls become their Unicode "Control Pictures" (ESC shows as ``␛``), DEL ``␡``.
- C1 controls, format characters (category Cf: bidi embeddings, overrides and isolates,
  zero-width space/joiners, word joiner, BOM, tags), line/paragraph separators, lone
  surrogates and the blank Hangul fillers become a visible marker: ``⟦U+202E⟧``.
- Newline and tab are kept by :func:`safe`; :func:`safe_line` makes them spaces.
- Text is cut to a bound (:data:`LINE_LIMIT`, :data:`TEXT_LIMIT`) with
  ``… (N more characters: <how to see the rest>)``; ``limit=None`` shows it whole.

The TUI adds a last guard over every rendered line (``cockpit.widgets.inert``) built on
:data:`UNSAFE`, so a widget that forgot this module still writes no control character.
"""

from __future__ import annotations

import re
import shlex

# Characters that never reach a screen, a pipe or a file as themselves. Newline and tab are
# separate (kept by `safe`). Cf ranges as of Unicode 14 (Python 3.11), widened to whole
# blocks where later versions add format characters; tests/core/test_hostile_text.py checks
# that every Cf of the running Python is covered.
_INVISIBLE = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160\u180e"
    "\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ufeff\ufff9-\ufffb\uffa0"
    "\ud800-\udfff"
    "\U000110bd\U000110cd\U00013430-\U0001345f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0000-\U000e007f"
)
_CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f"
UNSAFE = re.compile(f"[\n\t{_CONTROLS}{_INVISIBLE}]")
"""Every character :func:`safe_line` replaces (one at a time): the TUI's last guard."""
_BLOCK = re.compile(f"\r\n|[{_CONTROLS}{_INVISIBLE}]")
_LINE = re.compile(f"\r\n|[\n\t{_CONTROLS}{_INVISIBLE}]")

LINE_LIMIT = 300
"""Characters of one line shown (a title, a label, an error): a screen is 80-300 wide."""
TEXT_LIMIT = 10_000
"""Characters of a multi-line text shown (a note, command output, a notification)."""


def visible(char: str) -> str:
    """What one unsafe character looks like on screen: ``␛`` for ESC, ``⟦U+202E⟧``."""
    code = ord(char)
    if code < 0x20:
        # Unicode "Control Pictures": U+2400 + code shows ESC as a visible glyph.
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    return f"\u27e6U+{code:04X}\u27e7"


def _block(match: re.Match[str]) -> str:
    char = match.group(0)
    return "\n" if char == "\r\n" else visible(char)


def _line(match: re.Match[str]) -> str:
    char = match.group(0)
    return " " if char in ("\r\n", "\n", "\t") else visible(char)


def _more(count: int, more: str) -> str:
    return f"… ({count:,} more characters{f': {more}' if more else ''})"


def _prefix(text: str, pattern: re.Pattern[str], line: bool, budget: int) -> tuple[str, int]:
    """The sanitised start of ``text``, at most ``budget`` characters long, and how many
    characters of ``text`` it shows. Never cuts a marker in two."""
    replace = _line if line else _block
    # Each character shown stands for at most two of the text ("\r\n"), so this is enough.
    window = text[: 2 * budget + 2]
    parts: list[str] = []
    used = pos = 0
    for match in pattern.finditer(window):
        start = match.start()
        take = min(start - pos, budget - used)
        parts.append(window[pos : pos + take])
        used += take
        if pos + take < start:
            return "".join(parts), pos + take
        shown = replace(match)
        if used + len(shown) > budget:
            return "".join(parts), start
        parts.append(shown)
        used += len(shown)
        pos = match.end()
    take = min(len(window) - pos, budget - used)
    parts.append(window[pos : pos + take])
    return "".join(parts), pos + take


def _clean(text: str | None, line: bool, limit: int | None, lines: int | None, more: str) -> str:
    if not text:
        return ""
    pattern = _LINE if line else _BLOCK
    end = len(text)
    if lines is not None and not line and limit is not None:
        cut = -1
        for _ in range(lines):
            cut = text.find("\n", cut + 1, limit + 1)
            if cut == -1:
                break
        else:
            end = cut
    if limit is None or (end == len(text) and end <= limit):
        shown = pattern.sub(_line if line else _block, text)
        if limit is None or len(shown) <= limit:
            return shown
    # The suffix for the whole text is the longest one, so head + suffix stays in `limit`
    # (and a second pass changes nothing).
    budget = max(limit - len(_more(len(text), more)), 0)
    head, used = _prefix(text[:end], pattern, line, budget)
    return head + _more(len(text) - used, more)


def safe(
    text: str | None,
    *,
    limit: int | None = TEXT_LIMIT,
    lines: int | None = None,
    more: str = "",
) -> str:
    """``text`` with control, bidi and invisible characters made visible (see the module),
    newlines and tabs kept, cut to ``limit`` characters (``None``: whole) and ``lines``
    lines; ``more`` says where the rest can be read (:func:`full_hint`). ``None`` becomes
    the empty string."""
    return _clean(text, False, limit, lines, more)


def safe_line(text: str | None, *, limit: int | None = LINE_LIMIT, more: str = "") -> str:
    """Like :func:`safe`, for a single line: newlines and tabs become spaces."""
    return _clean(text, True, limit, None, more)


def full_hint(incident: str) -> str:
    """Where a cut title or note can be read whole: ``cockpit show ID --full``."""
    return f"cockpit show {shlex.quote(safe_line(incident, limit=80))} --full"


# Intraword ``_`` does nothing in CommonMark, and the export never starts a line with remote
# text (so a ``#`` cannot make a heading): both stay as typed.
_MARKDOWN = re.compile(r"([\\`*\[\]<>|])")


def markdown_line(text: str | None, *, limit: int | None = LINE_LIMIT, more: str = "") -> str:
    """:func:`safe_line`, with Markdown's punctuation escaped, for remote text in an export:
    a title holding ``[x](javascript:...)``, ``<img>``, ``|`` or ``*`` reads as the words it
    is, not as a link, HTML, a table cell or emphasis."""
    return _MARKDOWN.sub(r"\\\1", safe_line(text, limit=limit, more=more))


def count(n: int, noun: str, plural: str = "") -> str:
    """``1 step``, ``2 steps``, ``1 log entry``/``2 log entries`` (pass the plural when it is
    not the noun plus s)."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
