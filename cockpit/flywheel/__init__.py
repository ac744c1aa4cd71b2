"""The flywheel: every resolved incident leaves an insight, a guardrail with an owner, and
(when no runbook fit or the run went off-script) a runbook draft in the template.

``insights`` records insights and guardrails and counts the flywheel per week; ``draft``
builds a runbook draft from what was actually done and writes it where drafts go.
"""

from __future__ import annotations

from cockpit.flywheel.insights import (
    GUARDRAILS,
    FlywheelError,
    FlywheelWeek,
    draft_runbook,
    flywheel_weeks,
    guardrail_name,
    needs_draft,
    record_insight,
)

__all__ = [
    "GUARDRAILS",
    "FlywheelError",
    "FlywheelWeek",
    "draft_runbook",
    "flywheel_weeks",
    "guardrail_name",
    "needs_draft",
    "record_insight",
]
