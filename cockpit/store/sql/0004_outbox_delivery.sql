-- Schema version 4: the write path's recovery rules (cockpit/sync/push.py).
-- holder: who is sending an item (host:pid:process start), so a dead sender's item is taken
--   back at once instead of after a lease.
-- not_before: an item whose earlier send may still be in flight at the server waits until
--   the server must have finished it, then is checked (never re-sent blind).
-- warning: what a delivered write did beyond what was asked (an acknowledgement reopened a
--   resolved incident), shown loudly until the user looks at it.
ALTER TABLE outbox ADD COLUMN holder VARCHAR NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN not_before TEXT;
ALTER TABLE outbox ADD COLUMN warning VARCHAR NOT NULL DEFAULT '';
CREATE INDEX ix_outbox_incident ON outbox (incident_id, id);
-- A note's remote id names its incident: some servers number notes per incident, and
-- "pagerduty:1" on two incidents broke the unique key while recording a delivered note.
UPDATE notes SET remote_id = incident_id || '/' || substr(remote_id, instr(remote_id, ':') + 1)
  WHERE remote_id IS NOT NULL AND instr(remote_id, '/') = 0;
