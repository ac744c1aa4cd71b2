"""Nothing a widget shows can act on the terminal.

Textual 8 writes a widget's text to the terminal as it is, control characters included, so
remote text passes :func:`cockpit.text.safe` / :func:`~cockpit.text.safe_line` where it is
put in a widget (visible symbols: ``␛``, ``⟦U+202E⟧``). Two structural layers make a
forgotten call site harmless:

- :func:`inert` sanitises a whole Rich ``Text`` (styles kept): the dialogs run their title,
  body and choices through it, the app its notifications, titles and crash output.
- :class:`InertFilter` is a line filter on every line every widget renders (the app adds it
  in ``get_line_filters``): any character of :data:`cockpit.text.UNSAFE` still in a
  rendered line is dropped (it takes no cell, so the layout stays right) before the line
  reaches the driver. It is the guard, not the display: what it drops shows nowhere.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.cells import cell_len
from rich.segment import Segment
from rich.text import Span, Text
from textual.color import Color
from textual.filter import LineFilter

from cockpit.text import TEXT_LIMIT, UNSAFE, safe, visible

_KEEP = ("\n", "\t")


def inert(text: Text | str, *, single_line: bool = False) -> Text:
    """``text`` as a ``Text`` with every unsafe character made visible, its styles kept;
    newlines and tabs are kept unless ``single_line`` (then spaces). Cut to
    :data:`TEXT_LIMIT` characters."""
    if isinstance(text, str):
        text = Text(text)
    plain = text.plain
    if len(plain) > TEXT_LIMIT:
        text = text[:TEXT_LIMIT]
        text.append(f"… ({len(plain) - TEXT_LIMIT:,} more characters)")
        plain = text.plain
    marks = [m.start() for m in UNSAFE.finditer(plain) if single_line or m.group() not in _KEEP]
    if not marks:
        return text
    result = text.blank_copy()
    wanted = set(marks)
    offset = 0
    for piece in text.divide(sorted({*marks, *(m + 1 for m in marks)})):
        start, offset = offset, offset + len(piece)
        piece.style = ""
        if start in wanted and len(piece) == 1:
            char = piece.plain
            shown = " " if char in _KEEP else visible(char)
            piece = Text(shown, spans=[Span(0, len(shown), s.style) for s in piece.spans])
        result.append_text(piece)
    return result


def inert_segments(segments: Iterable[Segment]) -> list[Segment]:
    """Rendered segments (a crash report) with the text of each made safe; control
    segments (cursor moves made by Rich itself) are kept."""
    return [
        segment if segment.control else Segment(safe(segment.text), segment.style, segment.control)
        for segment in segments
    ]


def _drop(text: str) -> str:
    # A character that takes cells is replaced by as many U+FFFD, so the line keeps its width.
    return UNSAFE.sub(lambda m: "\ufffd" * cell_len(m.group()), text)


class InertFilter(LineFilter):
    """Drops control, bidi and invisible characters from every rendered line (see module)."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        search = UNSAFE.search
        if not any(search(segment.text) for segment in segments if not segment.control):
            return segments
        return [
            segment
            if segment.control or not search(segment.text)
            else Segment(_drop(segment.text), segment.style, segment.control)
            for segment in segments
        ]
