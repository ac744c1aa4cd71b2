r"""Runbook ``match`` regexes, searched in linear time with RE2 (the ``google-re2`` binding).

Python's ``re`` backtracks: ``^(\w+\s?)*$`` against ``"a" * 30 + "!"`` takes minutes, and
it holds the GIL while it does, so not even a worker thread keeps the TUI drawing. RE2 runs
in time linear in the text for every pattern, so matching stays on the UI thread.

The patterns are written in Python's dialect (the README's, and what people know); before
RE2 compiles one, the escapes whose meaning differs are rewritten so that the match is what
Python's would be: ``\w \W \d \D \s \S`` are Unicode classes as in Python (RE2's are
ASCII; inside brackets only ``\w \d \s`` are rewritten), ``\Z`` is RE2's ``\z``, ``\uXXXX``,
``\UXXXXXXXX`` and ``\N{NAME}`` become ``\x{...}``, and ``{,n}`` is ``{0,n}``. ``\b`` stays
RE2's (an ASCII word boundary).

What RE2 cannot do (lookahead and lookbehind, backreferences, atomic groups, possessive
quantifiers, ``(?x)``) is refused: :func:`pattern_problem` says why, lint reports it as an
error, and matching treats the pattern as one that matches nothing. Texts are searched up
to their first :data:`MAX_TEXT` characters.
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import re2

MAX_TEXT = 64 * 1024  # characters of a title or label value that are searched

_WORD = r"\p{L}\p{N}_"
_SPACE = r"\s\v\x1c-\x1f\x85\p{Z}"  # Python's str.isspace(); RE2's \s is ASCII only
_OUTSIDE = {
    "w": f"[{_WORD}]",
    "W": f"[^{_WORD}]",
    "d": r"\p{Nd}",
    "D": r"\P{Nd}",
    "s": f"[{_SPACE}]",
    "S": f"[^{_SPACE}]",
    "Z": r"\z",
}
_INSIDE = {"w": _WORD, "d": r"\p{Nd}", "s": _SPACE}
_BOUNDED_FROM = re.compile(r"\{,(\d+)\}")


def _options() -> Any:
    options = re2.Options()
    options.log_errors = False  # RE2 would print to the terminal under the TUI
    return options


def to_re2(source: str) -> str:
    """``source`` (Python's dialect) rewritten so that RE2 matches what Python would."""
    out: list[str] = []
    i, n = 0, len(source)
    in_class = False
    class_start = -1
    while i < n:
        char = source[i]
        if char == "\\" and i + 1 < n:
            letter = source[i + 1]
            table = _INSIDE if in_class else _OUTSIDE
            if letter in table:
                out.append(table[letter])
                i += 2
                continue
            hexa = _unicode_escape(source, i)
            if hexa is not None:
                code, length = hexa
                out.append(f"\\x{{{code:x}}}")
                i += length
                continue
            out.append(source[i : i + 2])
            i += 2
            continue
        if in_class:
            # A ] right after [ or [^ is a literal, in Python and in RE2.
            if char == "]" and i > class_start:
                in_class = False
            out.append(char)
            i += 1
            continue
        if char == "[":
            in_class = True
            class_start = i + 1
            if source.startswith("^", i + 1):
                class_start += 1
            out.append(char)
            i += 1
            continue
        if char == "{":
            bounded = _BOUNDED_FROM.match(source, i)
            if bounded:
                out.append(f"{{0,{bounded.group(1)}}}")
                i = bounded.end()
                continue
        out.append(char)
        i += 1
    return "".join(out)


def _unicode_escape(source: str, i: int) -> tuple[int, int] | None:
    """(code point, length) of a ``\\uXXXX``, ``\\UXXXXXXXX`` or ``\\N{NAME}`` at ``i``."""
    letter = source[i + 1]
    if letter in "uU":
        width = 4 if letter == "u" else 8
        digits = source[i + 2 : i + 2 + width]
        if len(digits) == width and all(c in "0123456789abcdefABCDEF" for c in digits):
            code = int(digits, 16)
            return (code, 2 + width) if code <= 0x10FFFF else None
        return None
    if letter == "N" and source.startswith("{", i + 2):
        end = source.find("}", i + 3)
        if end > 0:
            try:
                return ord(unicodedata.lookup(source[i + 3 : end])), end + 1 - i
            except KeyError:
                return None
    return None


@dataclass(frozen=True)
class Compiled:
    """A pattern ready to search, or why it cannot be used (``regex`` None)."""

    source: str
    regex: Any
    problem: str = ""

    def search(self, text: str) -> bool:
        if self.regex is None:
            return False
        # Bytes: a bool is all that is wanted, and RE2 maps no offsets back to characters.
        data = text[:MAX_TEXT].encode("utf-8", "surrogatepass")
        return self.regex.search(data) is not None


@lru_cache(maxsize=1024)
def compile_pattern(source: str) -> Compiled:
    """The pattern compiled by RE2, cached; never raises."""
    try:
        regex = re2.compile(to_re2(source), _options())
    except re2.error as error:
        return Compiled(source, None, _why(source, error))
    except (TypeError, ValueError, UnicodeError) as error:
        return Compiled(source, None, f"not a valid regex: {error}")
    return Compiled(source, regex)


def _why(source: str, error: Exception) -> str:
    detail = error.args[0] if error.args else str(error)
    if isinstance(detail, bytes):
        detail = detail.decode("utf-8", "replace")
    if "too large" in detail:  # RE2's memory budget (8 MiB a pattern): \w{1000}
        return f"too large to match: {detail}"
    try:
        # Python warns on some patterns ("[[": a possible nested set): a FutureWarning
        # printed on the terminal would tear the screen, and only the error is wanted here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            re.compile(source)
    except (re.error, RecursionError, OverflowError, ValueError) as python_error:
        return f"not a valid regex: {python_error}"
    return (
        f"uses what the cockpit's linear-time matcher (RE2) does not support: {detail} "
        "(lookarounds, backreferences, atomic groups, possessive quantifiers and (?x) "
        "are not available); it matches nothing"
    )


def pattern_problem(pattern: object) -> str:
    """Why a ``match`` pattern cannot be used, or "" when it can."""
    return compile_pattern(str(pattern)).problem


def search(pattern: object, text: str) -> bool:
    """Whether ``pattern`` (Python dialect) is found in ``text``; False when it is unusable."""
    return compile_pattern(str(pattern)).search(text)


def backtracking_risk(pattern: object) -> str:
    """A note when ``pattern`` nests a variable quantifier inside another (``(a+)+``,
    ``(\\w+\\s?)*``): it backtracks catastrophically in Python, PCRE or JavaScript, though not
    in the cockpit. "" otherwise, or when Python cannot parse the pattern."""
    from re import _parser  # type: ignore[attr-defined]

    try:
        parsed = _parser.parse(str(pattern))
    except Exception:  # noqa: BLE001 - Python's parser on RE2-only syntax: nothing to say
        return ""
    return _nested_repeat(parsed, 0, _parser)


def _nested_repeat(sub: Any, depth: int, p: Any) -> str:
    """``depth``: how many variable repeats (maximum above 1) enclose ``sub``."""
    for op, av in sub:
        children: list[Any] = []
        if op in (p.MAX_REPEAT, p.MIN_REPEAT):
            low, high, item = av
            variable = high > 1 and high != low
            if variable and depth > 0:
                return "a quantifier inside a quantified group"
            if _nested_repeat(item, depth + (1 if variable else 0), p):
                return "a quantifier inside a quantified group"
        elif op == p.SUBPATTERN:
            children = [av[3]]
        elif op == p.BRANCH:
            children = list(av[1])
        elif op in (p.ASSERT, p.ASSERT_NOT):
            children = [av[1]]
        elif op == getattr(p, "ATOMIC_GROUP", None):
            children = [av]
        for child in children:
            found = _nested_repeat(child, depth, p)
            if found:
                return found
    return ""
