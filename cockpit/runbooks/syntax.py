"""The small inline constructs of a runbook step: ids, timers, risk marks, parameters.

Kept apart from the Markdown walk so the README's examples map one to one onto this file.
"""

from __future__ import annotations

import re
import unicodedata

from cockpit.runbooks.model import (
    ACTIONS,
    CHECKS,
    CONTEXT,
    DECISIONS,
    OWNER,
    ROLLBACK,
    TRIGGER,
    VALIDATION,
)

# `{#warm-cache}` at the end of a step, decision or branch gives it an explicit id.
EXPLICIT_ID = re.compile(r"\s*\{#([A-Za-z0-9][A-Za-z0-9_.:-]{0,79})\}\s*$")
_TIMER = re.compile(
    r"\(?\b(?:wait|timer|sleep)\s+(\d{1,6})\s*"
    r"(seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h)\b\)?",
    re.IGNORECASE,
)
_UNIT = {"s": 1, "m": 60, "h": 3600}
# A risky step: a warning sign, `(risky)` or `**risky**` anywhere in its text.
_RISK = re.compile(r"\u26a0|\(risky\)|\*\*risky\*\*|__risky__", re.IGNORECASE)
_CHECKBOX = re.compile(r"^\[([ xX])\]\s+")
# `{{cluster}}` or `<region name>` placeholders inside a command. The <...> form allows
# spaces, `.`, `:`, `/` and `-` inside, not at the end: `sort <in.txt >out` is redirections.
PARAM = re.compile(
    r"\{\{\s*([A-Za-z_][\w.-]{0,59})\s*\}\}"
    r"|<([A-Za-z](?:[\w .:/-]{0,58}[\w.:/-])?)>"
)
_PROMPT = re.compile(r"^\s*(?:\$|[\w.@~:/-]*[$#%]|>)\s")
_SHELL_LANGS = {"console", "shell", "sh", "bash", "zsh", "shell-session", "terminal", "ps1"}
_BRANCH = re.compile(r"^\s*\**([A-Za-z][\w /'-]{0,30}?)\**\s*[:\u2192]\s*(.*)$", re.DOTALL)

# Section names seen in the wild, mapped onto the template. Normalised: lower case,
# punctuation and leading numbering removed.
SECTION_NAMES: dict[str, str] = {}
for _kind, _names in {
    TRIGGER: "trigger|triggers|meaning|alert|when|symptom trigger",
    CONTEXT: "impact|summary|description|overview|alert description|context|background|"
    "notes|additional notes|additional resources|references|see also|prevention|"
    "default definition|links|about|related|further reading",
    CHECKS: "checks|check|diagnosis|diagnose|investigation|investigate|triage|symptoms|"
    "verification steps|troubleshooting|troubleshoot|debugging|debug|analysis|"
    "cli checks|detection",
    ACTIONS: "actions|action|mitigation|mitigations|remediation|resolution|fix|fixes|steps|"
    "procedure|recommended actions|workaround|response|solution|recovery|remedy",
    DECISIONS: "decision points|decision point|decisions|decision",
    ROLLBACK: "rollback|roll back|revert|undo|rollback plan|back out|backout",
    VALIDATION: "validation|validate|verify|recovery check|verification|post checks|"
    "confirm|done when",
    OWNER: "owner|owners|escalation|escalate|escalations|contacts|contact|ownership",
}.items():
    for _name in _names.split("|"):
        SECTION_NAMES[_name] = _kind

# For headings whose full name is unknown: first keyword that appears wins.
_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("rollback", ROLLBACK),
    ("roll back", ROLLBACK),
    ("revert", ROLLBACK),
    ("decision", DECISIONS),
    ("validat", VALIDATION),
    ("escalat", OWNER),
    ("diagnos", CHECKS),
    ("troubleshoot", CHECKS),
    ("investigat", CHECKS),
    ("mitigat", ACTIONS),
    ("remediat", ACTIONS),
)


def normalise_title(title: str) -> str:
    text = re.sub(r"^[\s\d.)#:-]+", "", title.lower())
    text = re.sub(r"[^\w ]+", " ", text)
    return " ".join(text.split())


def section_kind(title: str) -> str | None:
    """The template section a heading maps to, or None when the name says nothing."""
    name = normalise_title(title)
    if name in SECTION_NAMES:
        return SECTION_NAMES[name]
    return None


def section_kind_by_keyword(title: str) -> str | None:
    name = normalise_title(title)
    for keyword, kind in _KEYWORDS:
        if keyword in name:
            return kind
    return None


def slugify(text: str, limit: int = 48) -> str:
    """GitHub-like anchor slug: lower case, ASCII letters, digits and hyphens."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"`|\*\*|__|\[([^\]]*)\]\([^)]*\)", r"\1", text.lower())
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    if len(slug) > limit:
        slug = slug[:limit].rsplit("-", 1)[0] or slug[:limit]
    return slug


def anchor(title: str) -> str:
    """The anchor GitHub gives a heading (``## Decision points`` -> ``decision-points``)."""
    text = unicodedata.normalize("NFKC", title).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def split_explicit_id(text: str) -> tuple[str, str]:
    """``("Warm the cache", "warm-cache")`` for ``Warm the cache {#warm-cache}``."""
    match = EXPLICIT_ID.search(text)
    if not match:
        return text, ""
    return text[: match.start()].rstrip(), match.group(1)


def split_checkbox(text: str) -> tuple[str, bool | None]:
    """Strip a task-list box; the bool says whether it was ticked, None when there was none."""
    match = _CHECKBOX.match(text)
    if not match:
        return text, None
    return text[match.end() :], match.group(1) != " "


def timer_seconds(text: str) -> int | None:
    match = _TIMER.search(text)
    if not match:
        return None
    return int(match.group(1)) * _UNIT[match.group(2)[0].lower()]


def is_risky(text: str) -> bool:
    return bool(_RISK.search(text))


def params_of(commands: list[str]) -> tuple[str, ...]:
    found: list[str] = []
    for command in commands:
        for match in PARAM.finditer(command):
            found.append((match.group(1) or match.group(2)).strip())
    return tuple(dict.fromkeys(found))


def step_slug(text: str) -> str:
    """The text part of a derived step id: marks, timers and links stripped, then slugged."""
    text = _RISK.sub(" ", text)
    text = _TIMER.sub(" ", text)
    return slugify(text) or "step"


def is_shell(lang: str) -> bool:
    return lang.lower() in _SHELL_LANGS or lang == ""


def strip_prompts(code: str, lang: str) -> str:
    """Keep the command lines of a console transcript, without their ``$ `` prompts.

    When any line starts with ``$ ``, lines without a prompt are output and dropped, except
    continuation lines after a trailing backslash. Otherwise the block is a script: kept.
    """
    lines = code.rstrip("\n").split("\n")
    if not any(line.lstrip().startswith("$ ") or line.strip() == "$" for line in lines):
        return code.rstrip("\n")
    kept: list[str] = []
    continuing = False
    for line in lines:
        stripped = line.lstrip()
        if stripped.startswith("$ ") or stripped == "$":
            kept.append(stripped[2:])
            continuing = line.rstrip().endswith("\\")
        elif continuing:
            kept.append(line)
            continuing = line.rstrip().endswith("\\")
    return "\n".join(kept).strip("\n")


def split_branch(text: str) -> tuple[str, str] | None:
    """``("yes", "go to [Validation](#validation)")`` for ``yes: go to ...``."""
    match = _BRANCH.match(text)
    if not match:
        return None
    return match.group(1).strip(), match.group(2).strip()


def inline_commands(text: str) -> list[str]:
    """Inline code spans that look like commands (more than one word)."""
    spans = re.findall(r"(?<!`)`([^`\n]+)`(?!`)", text)
    stripped = text.strip()
    if len(spans) == 1 and stripped == f"`{spans[0]}`":
        return [spans[0].strip().removeprefix("$ ")]
    return [s.strip().removeprefix("$ ") for s in spans if " " in s.strip()]
