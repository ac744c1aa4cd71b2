"""Drills: practice runs of a runbook against a made-up incident, timed and debriefed.

Nothing in a drill reaches the paging service (:class:`PracticeProvider` refuses every
write, and drill incidents never enqueue an outbox item) and no command is executed
(:func:`may_execute`).
"""

from __future__ import annotations

from cockpit.drills.analysis import DrillAnalysis, analyse
from cockpit.drills.practice import PracticeProvider, PracticeWriteRefused
from cockpit.drills.scenario import Scenario, load_scenario, scenario_from_runbook
from cockpit.drills.service import finish_drill, last_drilled
from cockpit.drills.start import DrillError, may_execute, start_drill

__all__ = [
    "DrillAnalysis",
    "DrillError",
    "PracticeProvider",
    "PracticeWriteRefused",
    "Scenario",
    "analyse",
    "finish_drill",
    "last_drilled",
    "load_scenario",
    "may_execute",
    "scenario_from_runbook",
    "start_drill",
]
