-- One acceptance per handoff, as per baton offer: the first to reach the team store wins;
-- the other laptop's push inserts nothing and is told who accepted.
CREATE UNIQUE INDEX events_one_handoff_accept ON events ((payload ->> 'handoff'))
    WHERE kind = 'handoff_accepted';
