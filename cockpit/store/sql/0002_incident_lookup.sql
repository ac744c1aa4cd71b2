-- Schema version 2: look incidents up by their remote id or PagerDuty number without a
-- table scan (`cockpit show 1234` on a store of 100,000 incidents).
CREATE INDEX ix_incidents_remote ON incidents (remote_id, created_at);
CREATE INDEX ix_incidents_number ON incidents (number, created_at);
