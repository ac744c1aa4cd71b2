"""Team mode: the squad's laptops share batons (and, later, runs, handoffs, drills and
insights) through a PostgreSQL team store, and each laptop still works offline.

The team store holds one append-only ``events`` table (:mod:`cockpit.team.schema`); each
laptop keeps what waits to go up and the watermark of what came down in ``team.db`` beside
its store (:mod:`cockpit.team.local`); :mod:`cockpit.team.exchange` pushes and pulls, and
:mod:`cockpit.team.apply` turns pulled events into rows of the local store through one
module per shared kind (:mod:`~cockpit.team.batons`, :mod:`~cockpit.team.runs`,
:mod:`~cockpit.team.handoffs`, :mod:`~cockpit.team.records`). psycopg is
imported only here, inside functions, so the rest of the cockpit runs without the ``team``
extra.
"""
