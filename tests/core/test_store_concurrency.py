"""Two processes writing the same store: the busy timeout and BEGIN IMMEDIATE mean no
"database is locked" failure and no lost write."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from cockpit.store import Store

WRITER = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime
    from cockpit.store import Store, Incident, Note
    from cockpit.store import queries

    store = Store.open(sys.argv[1])
    tag = sys.argv[2]
    for n in range(150):
        with store.write() as session:
            now = datetime.now(UTC)
            session.merge(Incident(id=f"pagerduty:{tag}{n}", source="pagerduty",
                remote_id=f"{tag}{n}", title=tag, status="triggered",
                created_at=now, updated_at=now))
            session.flush()
            session.add(Note(incident_id=f"pagerduty:{tag}{n}", content=f"{tag} {n}"))
        with store.read() as session:
            queries.open_incidents(session, limit=20)
    store.close()
    print("ok")
    """
)


def test_two_processes_write_at_once_without_locking_errors(tmp_path: Path) -> None:
    Store.open(tmp_path).close()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(tmp_path), tag],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for tag in ("A", "B")
    ]
    results = [proc.communicate(timeout=120) for proc in procs]
    for proc, (out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
        assert "locked" not in err
        assert out.strip() == "ok"
    store = Store.open(tmp_path)
    assert store.execute("SELECT count(*) FROM incidents")[0][0] == 300
    assert store.execute("SELECT count(*) FROM notes")[0][0] == 300
    assert store.integrity_check() == ["ok"]
    store.close()
