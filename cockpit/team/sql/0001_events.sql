-- The team store: one append-only table of events from every member's laptop.
-- Members are PostgreSQL roles granted cockpit_team; the author of a row is the role of the
-- connection that inserted it (a column DEFAULT a member cannot set, checked again by
-- row-level security). Nobody but the owner may update or delete.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'cockpit_team') THEN
        CREATE ROLE cockpit_team NOLOGIN;
    END IF;
END
$$;

CREATE TABLE events (
    id uuid PRIMARY KEY,                       -- UUIDv7 made by the laptop: push is idempotent
    kind text NOT NULL CHECK (kind IN (
        'run_event', 'baton_offer', 'baton_accept', 'handoff_draft', 'handoff_signed',
        'handoff_accepted', 'drill', 'insight', 'note')),
    incident_key text NOT NULL DEFAULT '',     -- 'pagerduty:Q1ABC' (source:remote id), no data
    payload jsonb NOT NULL DEFAULT '{}'::jsonb,
    origin text NOT NULL DEFAULT '',           -- which laptop
    author text NOT NULL DEFAULT current_user, -- from the connection, never from the client
    -- The commit-order position: the inserting transaction's id. Pull reads only rows whose
    -- transaction id is below the oldest transaction still running, so a row committed late
    -- can never land behind a watermark already handed out.
    tx xid8 NOT NULL DEFAULT pg_current_xact_id(),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_position ON events (tx, id);
CREATE INDEX events_incident ON events (incident_key, tx);
CREATE INDEX events_created ON events (created_at);
-- One acceptance per baton offer: the first to reach the team store wins.
CREATE UNIQUE INDEX events_one_accept ON events ((payload ->> 'offer')) WHERE kind = 'baton_accept';

ALTER TABLE events ENABLE ROW LEVEL SECURITY;
CREATE POLICY events_read ON events FOR SELECT TO cockpit_team USING (true);
CREATE POLICY events_write ON events FOR INSERT TO cockpit_team WITH CHECK (author = current_user);

GRANT USAGE ON SCHEMA public TO cockpit_team;
GRANT SELECT ON events TO cockpit_team;
-- Only these columns: author, tx and created_at are always the server's.
GRANT INSERT (id, kind, incident_key, payload, origin) ON events TO cockpit_team;
GRANT SELECT ON team_schema_migrations TO cockpit_team;

CREATE FUNCTION events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('cockpit_team', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER events_notify AFTER INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_notify();
