"""Runbook parameters: values put into a command so that each stays one literal word.

A step's command names its parameters as ``{{cluster}}`` or ``<region name>`` (see
``syntax.params_of``). When it is copied or run, :func:`fill_params` puts each value in,
quoted for the place it stands in a POSIX shell command, so that what the user typed is
never read as shell syntax (``<region name>`` left in is a redirection; ``x; rm -rf ~``
typed as a value is one argument):

- in the open (``kubectl -n {{ns}}``): ``shlex.quote``, nothing added to a plain word;
- inside ``"..."``: ``\\``, ``"``, ``$`` and a backquote escaped with a backslash;
- inside ``'...'``: each ``'`` closed, escaped and reopened (``'\\''``);
- inside ``$'...'``: ``\\`` and ``'`` escaped;
- inside `` `...` ``: the backquoted command is filled as a command of its own (one level
  of backslashes taken off first, put back after);
- in a here-document: ``\\``, ``$`` and a backquote escaped, as inside ``"..."`` (nothing
  when its delimiter is quoted, as the shell expands nothing there); ``$( )`` inside either
  is a command of its own again.

A placeholder without a value stays as written. Line breaks in a value become spaces.
:class:`IncidentParams` keeps the values typed for each incident apart.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from cockpit.runbooks.syntax import PARAM

# Contexts of the scanner.
_PLAIN, _SINGLE, _DOUBLE, _ANSI, _SUBST, _COMMENT = (
    "plain",
    "single",
    "double",
    "ansi",
    "subst",
    "comment",
)
_HEREDOC, _HEREDOC_RAW = "heredoc", "heredoc-raw"  # a here-doc body: expanded, or not
_WORD_START = frozenset(" \t\n;&|()<>")
_HEREDOC_START = re.compile(r"<<(-?)[ \t]*((?:[^\s;&|<>()]|\\.)+)")


class _Scanner:
    """Walks a command left to right, keeping the stack of shell contexts it is in.

    A backquote that opens a command substitution is not entered: :meth:`advance_to` stops
    on it, and :func:`_fill` fills what is inside as a command of its own (a backquoted
    command is read again after one level of backslashes is taken off).
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        # [context, depth of ( ) inside $( ), here-doc delimiter, here-doc with <<-]
        self.stack: list[list[Any]] = [[_PLAIN, 0, "", False]]
        self.pending: list[tuple[str, bool, bool]] = []  # here-docs: (delimiter, raw, dash)
        self.line_start = False  # in a here-doc body, at the start of one of its lines

    @property
    def context(self) -> str:
        return str(self.stack[-1][0])

    def advance_to(self, end: int) -> int | None:
        """Scan up to ``end``; stop early at a backquote that opens a substitution and return
        its index (``pos`` stays on it)."""
        text = self.text
        while self.pos < end:
            top = self.stack[-1]
            context = top[0]
            char = text[self.pos]
            step = 1
            if context in (_HEREDOC, _HEREDOC_RAW) and self.line_start:
                self.line_start = False
                if self._heredoc_ends():
                    continue
            if context == _COMMENT:
                if char == "\n":
                    self.stack.pop()
                    self._newline()
            elif context == _SINGLE:
                if char == "'":
                    self.stack.pop()
            elif context == _ANSI:
                if char == "\\":
                    step = 2
                elif char == "'":
                    self.stack.pop()
            elif context == _HEREDOC_RAW:
                self.line_start = char == "\n"
            elif context in (_DOUBLE, _HEREDOC):
                if char == "\\":
                    step = 2
                elif char == '"' and context == _DOUBLE:
                    self.stack.pop()
                elif text.startswith("$(", self.pos):
                    self.stack.append([_SUBST, 0, "", False])
                    step = 2
                elif char == "`":
                    return self.pos
                elif char == "\n" and context == _HEREDOC:
                    self.line_start = True
            else:  # plain, or inside $( )
                if char == "`":
                    return self.pos
                step = self._plain(char, top)
            self.pos += step
        return None

    def _plain(self, char: str, top: list[Any]) -> int:
        text, pos = self.text, self.pos
        if char == "\\":
            return 2
        if char == "'":
            self.stack.append([_SINGLE, 0, "", False])
        elif text.startswith("$'", pos):
            self.stack.append([_ANSI, 0, "", False])
            return 2
        elif char == '"':
            self.stack.append([_DOUBLE, 0, "", False])
        elif text.startswith("$(", pos):
            self.stack.append([_SUBST, 0, "", False])
            return 2
        elif char == "(" and top[0] == _SUBST:
            top[1] += 1
        elif char == ")" and top[0] == _SUBST:
            if top[1] == 0:
                self.stack.pop()
            else:
                top[1] -= 1
        elif char == "#" and (pos == 0 or text[pos - 1] in _WORD_START):
            self.stack.append([_COMMENT, 0, "", False])
        elif char == "<" and text.startswith("<<", pos) and not text.startswith("<<<", pos):
            found = _HEREDOC_START.match(text, pos)
            if found:
                word = found.group(2)
                raw = any(quote in word for quote in "'\"\\")
                delimiter = re.sub(r"\\(.)", r"\1", word).replace("'", "").replace('"', "")
                self.pending.append((delimiter, raw, found.group(1) == "-"))
                return found.end() - pos
        elif char == "\n":
            self._newline()
        return 1

    def _newline(self) -> None:
        """At a line break outside quotes: a here-document started on this line begins."""
        if self.pending:
            delimiter, raw, dash = self.pending.pop(0)
            self.stack.append([_HEREDOC_RAW if raw else _HEREDOC, 0, delimiter, dash])
            self.line_start = True

    def _heredoc_ends(self) -> bool:
        """At the start of a body line: if it is the delimiter, leave the here-document."""
        _, _, delimiter, dash = self.stack[-1]
        newline = self.text.find("\n", self.pos)
        stop = newline if newline >= 0 else len(self.text)
        line = self.text[self.pos : stop]
        if (line.lstrip("\t") if dash else line) != delimiter:
            return False
        self.stack.pop()
        self.pos = min(stop + 1, len(self.text))
        self._newline()  # the next here-document of the same line, if any
        return True


def _backquote_end(text: str, start: int) -> int:
    """Index of the backquote closing the one at ``start`` (``len(text)`` if none)."""
    i = start + 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
        elif text[i] == "`":
            return i
        else:
            i += 1
    return len(text)


def _unescape_backquoted(text: str, in_double: bool) -> str:
    specials = '$`\\"' if in_double else "$`\\"
    return re.sub(r"\\([" + re.escape(specials) + "])", r"\1", text)


def _escape_backquoted(text: str, in_double: bool) -> str:
    specials = '$`\\"' if in_double else "$`\\"
    return re.sub(r"([" + re.escape(specials) + "])", r"\\\1", text)


def _quote(value: str, context: str) -> str:
    """``value`` as one literal word where ``context`` says the placeholder stands."""
    if context == _DOUBLE:
        return re.sub(r'([\\"$`])', r"\\\1", value)
    if context == _SINGLE:
        return value.replace("'", "'\\''")
    if context == _ANSI:
        return value.replace("\\", "\\\\").replace("'", "\\'")
    if context == _HEREDOC:
        return re.sub(r"([\\$`])", r"\\\1", value)
    if context == _HEREDOC_RAW:
        return value
    return shlex.quote(value)


def fill_params(command: str, values: Mapping[str, str]) -> str:
    """``command`` with every placeholder that has a non-empty value replaced by the value,
    quoted for where it stands (see the module's doc); the others stay as written."""
    # A line break could end a here-document early: the rest of the value would run.
    return _fill(
        command,
        {name: re.sub(r"\r\n|[\r\n]", " ", str(value)) for name, value in values.items() if value},
    )


def _fill(command: str, values: Mapping[str, str]) -> str:
    scanner = _Scanner(command)
    out: list[str] = []
    last = 0
    matches = [m for m in PARAM.finditer(command) if values.get((m.group(1) or m.group(2)).strip())]
    index = 0
    while True:
        target = matches[index].start() if index < len(matches) else len(command)
        tick = scanner.advance_to(target)
        if tick is not None:
            # A backquoted command: filled as a command of its own, then escaped back.
            close = _backquote_end(command, tick)
            in_double = scanner.context == _DOUBLE
            inner = _unescape_backquoted(command[tick + 1 : close], in_double)
            filled = _fill(inner, values)
            if filled != inner:
                out.append(command[last : tick + 1])
                out.append(_escape_backquoted(filled, in_double))
                last = close
            scanner.pos = close + 1
            while index < len(matches) and matches[index].start() < scanner.pos:
                index += 1
            continue
        if index >= len(matches):
            break
        match = matches[index]
        index += 1
        if scanner.pos > match.start():
            continue  # inside an escape the scanner stepped over (``\<x>``): not a placeholder
        name = (match.group(1) or match.group(2)).strip()
        out.append(command[last : match.start()])
        out.append(_quote(values[name], scanner.context))
        last = match.end()
    out.append(command[last:])
    return "".join(out)


class IncidentParams(dict[str, str]):
    """Parameter values of the incident on screen, and only of it.

    A dict (what the checklist and the screen read and write), whose contents are those of
    the incident that ``current()`` names at the moment of each access: switching to
    another incident puts its own values in (none, the first time) and keeps the others', so
    a value typed on #201 is never filled in, nor run, on #200.
    """

    def __init__(self, current: Callable[[], str | None]) -> None:
        super().__init__()
        self._current = current
        self._incident: str | None = None
        self._kept: dict[str | None, dict[str, str]] = {}

    def _sync(self) -> None:
        incident = self._current()
        if incident == self._incident:
            return
        # dict.items, not dict.copy: a copy of a subclass calls the keys() defined here.
        self._kept[self._incident] = dict(dict.items(self))
        dict.clear(self)
        dict.update(self, self._kept.pop(incident, {}))
        self._incident = incident

    def for_incident(self, incident: str | None) -> dict[str, str]:
        """A copy of the values typed for ``incident``."""
        self._sync()
        if incident == self._incident:
            return dict(dict.items(self))
        return dict(self._kept.get(incident, {}))

    def get(self, key: str, default: Any = None) -> Any:
        self._sync()
        return dict.get(self, key, default)

    def __getitem__(self, key: str) -> str:
        self._sync()
        return dict.__getitem__(self, key)

    def __setitem__(self, key: str, value: str) -> None:
        self._sync()
        dict.__setitem__(self, key, value)

    def __delitem__(self, key: str) -> None:
        self._sync()
        dict.__delitem__(self, key)

    def __contains__(self, key: object) -> bool:
        self._sync()
        return dict.__contains__(self, key)

    def __iter__(self) -> Iterator[str]:
        self._sync()
        return dict.__iter__(self)

    def __len__(self) -> int:
        self._sync()
        return dict.__len__(self)

    def keys(self) -> Any:
        self._sync()
        return dict.keys(self)

    def values(self) -> Any:
        self._sync()
        return dict.values(self)

    def items(self) -> Any:
        self._sync()
        return dict.items(self)

    def copy(self) -> dict[str, str]:
        self._sync()
        return dict(dict.items(self))
