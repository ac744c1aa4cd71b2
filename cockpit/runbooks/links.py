"""A step's inline Markdown as plain pieces: text, inline code and links with their URLs.

Runbook steps keep their Markdown as written (``Open the [dashboard](https://...)``). Shown
raw, a link is noise and its URL cannot be picked out; shown as Markdown, the URL is lost
over SSH where no browser opens. These pieces let the TUI show the link text with its URL
beside it (dimmed, copyable) and the CLI print the same. Pieces stay raw: whoever shows them
passes them through ``cockpit.text.safe``.
"""

from __future__ import annotations

import re
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
        _add_text(out, text[at:match.start()], "", strong)
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
