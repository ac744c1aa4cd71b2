"""Runbooks: parse, lint, match and run them. Pure core: no Textual, no store.

Submodules are imported lazily so ``import cockpit.runbooks`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Runbook": "model",
    "Section": "model",
    "Step": "model",
    "Decision": "model",
    "Branch": "model",
    "Finding": "model",
    "Command": "model",
    "parse_runbook": "parse",
    "load_runbook": "parse",
    "RunbookError": "parse",
    "lint_runbook": "lint",
    "lint_paths": "lint",
    "has_errors": "lint",
    "default_runbook_dirs": "library",
    "load_library": "library",
    "IncidentFacts": "match",
    "RunbookMatch": "match",
    "match_runbooks": "match",
    "RunbookChange": "remap",
    "remap_steps": "remap",
    "step_texts": "remap",
    "RunEvent": "run_events",
    "RunError": "run_events",
    "RunState": "run",
    "Timer": "run",
    "start": "run_machine",
    "tick": "run_machine",
    "skip": "run_machine",
    "fail": "run_machine",
    "undo": "run_machine",
    "decide": "run_machine",
    "enter_rollback": "run_machine",
    "start_timer": "run_machine",
    "validate": "run_machine",
    "record_command": "run_machine",
    "finish": "run_machine",
    "note_runbook_change": "run_machine",
    "render_checklist": "render",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'cockpit.runbooks' has no attribute {name!r}")
    return getattr(importlib.import_module(f"cockpit.runbooks.{module}"), name)
