-- Schema version 3: the incident switcher's query (open, not a drill, newest first) walked
-- every incident through the (is_drill, created_at) index. Open incidents get their own
-- index, and the time-window index leads with the time, so an equality on is_drill alone
-- no longer looks like the best way in.
DROP INDEX ix_incidents_drill_created;
CREATE INDEX ix_incidents_created_drill ON incidents (created_at, is_drill);
CREATE INDEX ix_incidents_status_drill ON incidents (status, is_drill, created_at);
