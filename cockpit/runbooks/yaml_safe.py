"""The one way the cockpit reads YAML: safe tags, no aliases, bounded size and depth.

Every YAML the cockpit reads (runbook front matter, drill scenarios) goes through
:func:`load_yaml`. ``yaml.safe_load`` alone is not enough for files other people write: an
alias (``*name``) repeats a node without copying it, so nine levels of nine-fold aliases
parse in a millisecond into a value that is 9**9 (387 million) strings once anything walks
it (a ``str()``, a comparison, a regex built from it). That took ``cockpit runbook lint``
past 3.5 GB. So:

- an alias is refused, with the line it is on (anchors alone are harmless and allowed);
- nesting deeper than :data:`MAX_DEPTH` is refused (no RecursionError on ``[[[[...``);
- a text longer than ``max_chars`` is refused before it is parsed;
- every other failure of PyYAML or of its constructors (``2026-13-01`` as a date, an int of
  5,000 digits) becomes the same :class:`YamlError`, never a traceback.

A :class:`YamlError` says ``path:line: problem``; ``line`` is a line of the file (pass
``first_line`` when the YAML starts further down, as front matter does).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import Node

from cockpit.errors import CockpitError

MAX_DEPTH = 32
MAX_CHARS = 64 * 1024  # PyYAML reads ~180 KB a second: a bound of ~0.4 s
# What PyYAML's safe constructors raise on a scalar they cannot build (`!!int ""`,
# `!!timestamp x`, an int of 5,000 digits).
_BUILD_ERRORS = (ValueError, TypeError, ArithmeticError, AttributeError, LookupError)


class YamlError(CockpitError):
    """YAML that the cockpit will not use: ``path:line: problem``."""

    INVALID = "invalid"  # not YAML, or a value no constructor can build
    REFUSED = "refused"  # YAML the cockpit will not read: an alias, too deep, too long
    UNREADABLE = "unreadable"  # the file cannot be read, or is not UTF-8

    def __init__(self, path: str, line: int, problem: str, kind: str = INVALID) -> None:
        super().__init__(f"{path}:{line}: {problem}")
        self.path = path
        self.line = line
        self.problem = problem
        self.kind = kind

    @property
    def refused(self) -> bool:
        return self.kind == self.REFUSED


class _Refused(yaml.MarkedYAMLError):
    """An alias or too deep: raised inside the loader, a YamlError with the mark's line."""


class _Unbuildable(yaml.MarkedYAMLError):
    """A scalar no constructor can build; a YamlError with the node's line."""


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses aliases and deep nesting while composing the node graph."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()
        mark: Any = event.start_mark
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(
                problem=f"YAML alias *{event.anchor} is not allowed (an alias can "
                "expand without bound): write the value out",
                problem_mark=mark,
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(
                    problem=f"YAML nested deeper than {MAX_DEPTH} levels", problem_mark=mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except _BUILD_ERRORS as error:
            # A scalar no constructor can build: an int of 5,000 digits, ``2026-13-01``.
            kind = str(node.tag).rsplit(":", 1)[-1]
            why = f" ({_short(error)})" if isinstance(error, ValueError | ArithmeticError) else ""
            mark: Any = node.start_mark
            raise _Unbuildable(problem=f"not a valid YAML {kind}{why}", problem_mark=mark) from None


def _short(error: BaseException) -> str:
    """The first clause of an exception's message (Python's int limit adds advice)."""
    return str(error).split(";", 1)[0].strip() or type(error).__name__


def _line_of(error: yaml.YAMLError, text: str) -> int:
    """0-based line of the error in ``text`` (0 when PyYAML gives no position)."""
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    if mark is not None:
        return int(mark.line)
    position = getattr(error, "position", None)  # a ReaderError: a character offset
    if isinstance(position, int):
        return text.count("\n", 0, max(0, position))
    return 0


def _problem(error: yaml.YAMLError) -> str:
    problem = getattr(error, "problem", None)
    if problem:
        return str(problem)
    first = str(error).strip().splitlines()
    return first[0] if first else type(error).__name__


def load_yaml(
    text: str, path: str = "<yaml>", *, first_line: int = 1, max_chars: int = MAX_CHARS
) -> Any:
    """The value of one YAML document (None when empty).

    Raises:
        YamlError: not valid YAML, an alias, too deep, too long, or a value no constructor
            can build; its message is ``path:line: problem`` with ``line`` a line of the file.
    """
    if len(text) > max_chars:
        raise YamlError(
            path,
            first_line,
            f"YAML of {len(text):,} characters: at most {max_chars:,} are read",
            YamlError.REFUSED,
        )
    loader: _Loader | None = None
    try:
        loader = _Loader(text)  # the reader refuses control characters here already
        return loader.get_single_data()
    except yaml.YAMLError as error:
        kind = YamlError.REFUSED if isinstance(error, _Refused) else YamlError.INVALID
        raise YamlError(path, first_line + _line_of(error, text), _problem(error), kind) from None
    except (*_BUILD_ERRORS, RecursionError) as error:
        # Built outside construct_object (a mapping's generator): no position to give.
        raise YamlError(path, first_line, f"a value YAML cannot build: {_short(error)}") from None
    finally:
        if loader is not None:
            loader.dispose()


def read_text(path: str | Path, *, max_chars: int = MAX_CHARS) -> str:
    """A UTF-8 file's text (a leading BOM dropped), for :func:`load_yaml`.

    Raises:
        YamlError: unreadable, bigger than ``max_chars`` can be, or not UTF-8 (at its line).
    """
    where = str(path)
    try:
        size = Path(path).stat().st_size
        if size > max_chars * 4:  # more bytes than max_chars characters can take
            raise YamlError(
                where,
                1,
                f"file of {size:,} bytes: at most {max_chars:,} characters are read",
                YamlError.REFUSED,
            )
        data = Path(path).read_bytes()
    except OSError as error:
        raise YamlError(
            where, 1, f"cannot read: {error.strerror or error}", YamlError.UNREADABLE
        ) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise YamlError(
            where,
            line,
            f"not UTF-8: byte 0x{data[error.start]:02x} cannot be decoded (save the file as UTF-8)",
            YamlError.UNREADABLE,
        ) from None
    return text.removeprefix("\ufeff")


def load_yaml_file(path: str | Path, *, max_chars: int = MAX_CHARS) -> Any:
    """:func:`read_text` then :func:`load_yaml`; every failure is a YamlError."""
    return load_yaml(read_text(path, max_chars=max_chars), str(path), max_chars=max_chars)
