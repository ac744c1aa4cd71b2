"""A real PostgreSQL 15 for the team-mode tests: initdb into a temporary folder, postgres on a
Unix socket in that folder (no TCP port), one server per pytest worker, stopped at the end.

initdb refuses to run as root: as root the server runs as the ``postgres`` user (Debian's
package creates it) through ``runuser``. Members are PostgreSQL roles ``alice``, ``bob`` and
``carol`` (trust over the socket, which only this test run can reach); ``owner`` creates the
team schema. Skipped, saying why, only where no PostgreSQL binaries are installed.
"""

from __future__ import annotations

import os
import pwd
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from team_pg import MEMBERS, PgServer, _free_port, _pg_bin


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    folder = _pg_bin()
    if folder is None:
        pytest.skip(
            "PostgreSQL is not installed (Debian: apt-get install postgresql; .ci/run installs it)"
        )
    run_as: str | None = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
            run_as = "postgres"
        except KeyError:
            run_as = "nobody"
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser: initdb refuses root")
    root = Path(tempfile.mkdtemp(prefix="cockpit-pg-"))
    data = root / "data"
    if run_as:
        entry = pwd.getpwnam(run_as)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    server = PgServer(folder, data, root, _free_port(), run_as)
    done = server._run(
        str(folder / "initdb"),
        "-D",
        str(data),
        "-U",
        "owner",
        "--auth=trust",
        "-E",
        "UTF8",
        "--no-sync",
    )
    if done.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {done.stderr}")
    with (data / "postgresql.conf").open("a") as conf:
        conf.write("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n")
    server.start()
    try:
        import psycopg

        with psycopg.connect(server.url("owner", "postgres"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE team")
            for member in MEMBERS:
                conn.execute(f"CREATE ROLE {member} LOGIN")
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def team_db(pg_server: PgServer) -> Iterator[str]:
    """A fresh database with the team schema, the members granted cockpit_team; its name."""
    import uuid

    import psycopg

    from cockpit.team import schema

    name = f"team_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server.url("owner", "postgres"), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    with psycopg.connect(pg_server.url("owner", name), autocommit=True) as conn:
        schema.migrate(conn)
        conn.execute(f"GRANT {schema.MEMBER_ROLE} TO {', '.join(MEMBERS)}")
    yield name
