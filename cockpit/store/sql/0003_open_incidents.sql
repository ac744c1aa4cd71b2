-- Schema version 3: the incident switcher's query (open, not a drill, newest first) walked
-- every incident through the drill index; this one finds the few open ones directly.
CREATE INDEX ix_incidents_status_drill ON incidents (status, is_drill, created_at);
