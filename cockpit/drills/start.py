"""Starting a drill in the store: the made-up incident, its drill run and the Drill row (see
``service.py`` for the rest of a drill's life), and the rule that no command of a drill is
ever executed. Below ``replay.py``, which starts a replay through it, and ``service.py``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from cockpit.drills.scenario import Scenario
from cockpit.errors import CockpitError
from cockpit.runbooks.model import Runbook
from cockpit.runbooks.remap import step_texts
from cockpit.runbooks.run_view import StoredRun, runbook_hash
from cockpit.store.engine import Store
from cockpit.store.models import Drill, Incident, TimelineEvent
from cockpit.store.runs import append_event, start_run
from cockpit.store.timefmt import as_utc, utcnow

Clock = Callable[[], datetime]


class DrillError(CockpitError):
    """The drill asked for does not exist or cannot be started."""


def may_execute(run: StoredRun | None, incident: Incident | None = None) -> bool:
    """Whether a command of this run may be executed at all (after the user confirms).

    Never in a drill: neither for a drill run nor on a drill incident, whatever the UI says.
    """
    if run is None or run.is_drill:
        return False
    return not (incident is not None and (incident.is_drill or incident.source == "drill"))


def start_drill(
    store: Store,
    runbook: Runbook,
    scenario: Scenario,
    *,
    participant: str = "",
    clock: Clock = utcnow,
) -> Drill:
    """Create the made-up incident, its drill run (started) and the Drill row."""
    now = as_utc(clock())
    key = uuid.uuid4().hex[:10]
    incident = Incident(
        id=f"drill:{key}",
        source="drill",
        remote_id=key,
        title=scenario.title,
        status="triggered",
        urgency=scenario.urgency or "high",
        service_name=scenario.service,
        created_at=now,
        updated_at=now,
        is_drill=True,
        annotations={"scenario": scenario.text} if scenario.text else {},
    )
    with store.write() as session:
        session.add(incident)
        session.flush()
        session.add(
            TimelineEvent(
                incident_id=incident.id,
                at=now,
                kind="drill",
                is_drill=True,
                actor=participant,
                summary=f"Drill started: {runbook.id} ({scenario.difficulty})",
            )
        )
        told = [scenario.text.strip()] if scenario.text.strip() else []
        story = "\n".join(told + [f"symptom: {s}" for s in scenario.symptoms])
        if story:  # the banner has room for a line or two: the whole story is here
            session.add(
                TimelineEvent(
                    incident_id=incident.id,
                    at=now,
                    kind="drill",
                    is_drill=True,
                    actor=participant,
                    summary=f"Scenario: {story}",
                )
            )
        # The same snapshot and hash a live run keeps, so the run service sees the runbook
        # as unchanged (not "1 step added") when the drill opens.
        digest = runbook_hash(runbook)
        run = start_run(
            session,
            incident.id,
            runbook.id,
            runbook_path=runbook.path,
            runbook_hash=digest,
            started_by=participant,
            is_drill=True,
            at=now,
        )
        append_event(
            session,
            run,
            kind="started",
            at=now,
            actor=participant,
            details={"steps": step_texts(runbook), "hash": digest},
        )
        drill = Drill(
            run_id=run.id,
            incident_id=incident.id,
            runbook_id=runbook.id,
            scenario=scenario.to_json(),
            expected_branch=scenario.expected_branch,
            started_at=now,
            participant=participant,
        )
        session.add(drill)
        session.flush()
        return drill
