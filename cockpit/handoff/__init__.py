"""Handoff at rotation change: draft from the store, sign, accept (passes the batons), export."""

from __future__ import annotations

from cockpit.handoff.draft import HandoffDraft, OpenItem, draft_handoff
from cockpit.handoff.flow import (
    HandoffError,
    accept_handoff,
    edit_notes,
    get_handoff,
    held_by,
    post_notes,
    save_handoff,
    sign_handoff,
    status_of,
)
from cockpit.handoff.markdown import render_markdown

__all__ = [
    "HandoffDraft",
    "HandoffError",
    "OpenItem",
    "accept_handoff",
    "draft_handoff",
    "edit_notes",
    "get_handoff",
    "held_by",
    "post_notes",
    "render_markdown",
    "save_handoff",
    "sign_handoff",
    "status_of",
]
