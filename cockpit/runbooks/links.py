"""A step's inline Markdown as plain pieces: text, inline code and links with their URLs.

Runbook steps keep their Markdown as written (``Open the [dashboard](https://...)``). Shown
raw, a link is noise and its URL cannot be picked out; shown as Markdown, the URL is lost
over SSH where no browser opens. These pieces let the TUI show the link text with its URL
beside it (dimmed, copyable) and the CLI print the same. Pieces stay raw: whoever shows them
passes them through ``cockpit.text.safe``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

TEXT = "text"
CODE = "code"
LINK = "link"
# Bare URLs in prose (CommonMark only links <https://...> and [text](url)).
_BARE = re.compile(r"https?://[^\s<>()\[\]`\"']+[^\s<>()\[\]`\"'.,;:!?]")
_parser: list[MarkdownIt] = []
# Longer than any link a runbook or a paging service has reason to carry.
MAX_LINK = 2048
# Default_Ignorable_Code_Point characters that are not format controls (Cf): shown as
# nothing, so a link could hide them.
_INVISIBLE = frozenset(
    [0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x3164, 0xFFA0]
    + list(range(0x180B, 0x1810))
    + list(range(0xFE00, 0xFE10))
    + list(range(0xE0100, 0xE01F0))
)


def _md() -> MarkdownIt:
    # Built on first use: the cockpit's first frame does not wait for markdown-it.
    if not _parser:
        from markdown_it import MarkdownIt

        _parser.append(MarkdownIt("commonmark"))
    return _parser[0]


@dataclass(frozen=True)
class Piece:
    kind: str  # text | code | link
    text: str
    url: str = ""
    strong: bool = False


@lru_cache(maxsize=4096)
def pieces(markdown: str) -> tuple[Piece, ...]:
    """The inline pieces of one line of Markdown, in order (adjacent text joined)."""
    out: list[Piece] = []
    tokens = _md().parseInline(markdown)
    children = tokens[0].children if tokens and tokens[0].children else []
    url = ""
    strong = 0
    for token in children:
        kind = token.type
        if kind == "link_open":
            url = str(token.attrs.get("href", ""))
        elif kind == "link_close":
            url = ""
        elif kind == "strong_open":
            strong += 1
        elif kind == "strong_close":
            strong = max(0, strong - 1)
        elif kind == "code_inline":
            out.append(Piece(CODE, token.content))
        elif kind in ("softbreak", "hardbreak"):
            _add_text(out, " ", url, bool(strong))
        elif kind == "image":
            _add_text(out, token.content or "image", str(token.attrs.get("src", "")), False)
        elif kind in ("text", "html_inline"):
            if url:
                _add_text(out, token.content, url, bool(strong))
            else:
                _add_prose(out, token.content, bool(strong))
    return tuple(out)


def _add_prose(out: list[Piece], text: str, strong: bool) -> None:
    at = 0
    for match in _BARE.finditer(text):
        _add_text(out, text[at : match.start()], "", strong)
        out.append(Piece(LINK, match.group(0), match.group(0), strong))
        at = match.end()
    _add_text(out, text[at:], "", strong)


def _add_text(out: list[Piece], text: str, url: str, strong: bool) -> None:
    if not text:
        return
    kind = LINK if url else TEXT
    last = out[-1] if out else None
    if last is not None and last.kind == kind and last.url == url and last.strong == strong:
        out[-1] = Piece(kind, last.text + text, url, strong)
    else:
        out.append(Piece(kind, text, url, strong))


def urls(markdown: str) -> list[str]:
    """Every link target in ``markdown``, first seen first, without repeats."""
    return list(dict.fromkeys(p.url for p in pieces(markdown) if p.url))


def plain(markdown: str) -> str:
    """The line as a reader says it: link text kept, URLs and Markdown marks dropped."""
    return "".join(p.text for p in pieces(markdown)).strip()


def refusal(url: str) -> str:
    """Why ``url`` may not be offered (copied, opened or listed as a link); "" when it may.

    A link is offered only when it is one ``http``/``https`` URL with a host, and nothing
    in it that the reader cannot see or that a terminal or shell would take apart:
    whitespace, line breaks, control characters, bidi controls, zero-width or other
    invisible characters. A user name or password before the host (``https://a@b/``) is
    refused too: it hides the real host behind a familiar one, or carries a secret.
    """
    if not url:
        return "it is empty"
    if len(url) > MAX_LINK:
        return f"it is {len(url)} characters long (at most {MAX_LINK})"
    for char in url:
        why = _bad_char(char)
        if why:
            return f"it contains {why} (U+{ord(char):04X})"
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in ("http", "https"):
        return "only http:// and https:// links are offered"
    authority = re.split(r"[/?#\\]", rest, maxsplit=1)[0]
    if "@" in authority:
        return "it carries a user name or password before the host"
    host = authority.rsplit(":", 1)[0] if not authority.endswith("]") else authority
    if not host.strip("[]"):
        return "it has no host"
    return ""


def _bad_char(char: str) -> str:
    if char in "\n\r\v\f\x85\u2028\u2029":
        return "a line break"
    category = unicodedata.category(char)
    if char.isspace() or category == "Zs":
        return "whitespace"
    if category == "Cc":
        return "a control character"
    if category == "Cf":
        return "an invisible or direction-changing character"
    if ord(char) in _INVISIBLE:
        return "an invisible character"
    if category in ("Cs", "Co", "Cn"):
        return "a character that cannot be shown"
    return ""


def offerable(links: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """``links`` split into those that may be offered and (link, why not) for the rest."""
    good: list[str] = []
    refused: list[tuple[str, str]] = []
    for url in links:
        why = refusal(url)
        if why:
            refused.append((url, why))
        else:
            good.append(url)
    return good, refused
