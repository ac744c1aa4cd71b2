-- Schema version 6: what `cockpit stats` keeps per UTC week (issue 17 item 6).
--
-- stats_weeks holds one whole week's partial report (metrics/weeks.py: its pages folded and
-- counted, its incidents' times to acknowledge and resolve, the flywheel's counts). A week is
-- its Monday (UTC) as a day number since 1970-01-01. The triggers below delete a kept week
-- whenever anything its figures read changes, so a kept week is always current. A report
-- stores the weeks it computed in the transaction it read them in (upgraded to a write, which
-- SQLite refuses when anyone committed since the read began), so a week read before a sync
-- changed it is never kept. Each trigger first checks that some week is kept at all, so a
-- first sync into an empty store pays little more than the triggers' existence.
CREATE TABLE stats_weeks (
	week INTEGER NOT NULL, 
	data TEXT NOT NULL, 
	PRIMARY KEY (week)
);
-- The stats leave drills out through a list of them (metrics/pagelog._NOTIFY_MICROS): this
-- index holds exactly those rows. Without it, once the store has statistics, SQLite judged
-- is_drill = 1 as common as is_drill = 0 and scanned every incident for the list (15 ms per
-- read at 100,000 incidents).
CREATE INDEX ix_incidents_drills ON incidents (id) WHERE is_drill = 1;
-- Notify rows touch their own week and, since a week keeps only the number of the incidents
-- all of whose notify rows it holds, their incident's week too; acknowledgements, runs, steps
-- and insights their incident's week (MTTA/MTTR, time to rollback, the flywheel), insights
-- and change events their own; an incident turned drill (or back), deleted, or given a
-- delivered baton every week its notify rows are in.
CREATE TRIGGER stats_timeline_added AFTER INSERT ON timeline_events
  WHEN (NEW.kind IN ('notify', 'acknowledge')) AND EXISTS (SELECT 1 FROM stats_weeks)
BEGIN
  DELETE FROM stats_weeks WHERE NEW.kind = 'notify' AND week IN (SELECT ((CAST(strftime('%s', NEW.at) AS INTEGER) / 86400) - ((CAST(strftime('%s', NEW.at) AS INTEGER) / 86400) + 3) % 7));
  DELETE FROM stats_weeks WHERE week IN (SELECT ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) + 3) % 7) FROM incidents WHERE id = NEW.incident_id);
END;
CREATE TRIGGER stats_timeline_removed AFTER DELETE ON timeline_events
  WHEN (OLD.kind IN ('notify', 'acknowledge')) AND EXISTS (SELECT 1 FROM stats_weeks)
BEGIN
  DELETE FROM stats_weeks WHERE OLD.kind = 'notify' AND week IN (SELECT ((CAST(strftime('%s', OLD.at) AS INTEGER) / 86400) - ((CAST(strftime('%s', OLD.at) AS INTEGER) / 86400) + 3) % 7));
  DELETE FROM stats_weeks WHERE week IN (SELECT ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) + 3) % 7) FROM incidents WHERE id = OLD.incident_id);
END;
CREATE TRIGGER stats_timeline_changed AFTER UPDATE ON timeline_events
  WHEN ((OLD.kind IN ('notify', 'acknowledge') OR NEW.kind IN ('notify', 'acknowledge'))
    AND (OLD.at IS NOT NEW.at OR OLD.kind IS NOT NEW.kind OR OLD.person_id IS NOT NEW.person_id
      OR OLD.is_drill IS NOT NEW.is_drill OR OLD.incident_id IS NOT NEW.incident_id)) AND EXISTS (SELECT 1 FROM stats_weeks)
BEGIN
  DELETE FROM stats_weeks WHERE week IN (SELECT ((CAST(strftime('%s', OLD.at) AS INTEGER) / 86400) - ((CAST(strftime('%s', OLD.at) AS INTEGER) / 86400) + 3) % 7));
  DELETE FROM stats_weeks WHERE week IN (SELECT ((CAST(strftime('%s', NEW.at) AS INTEGER) / 86400) - ((CAST(strftime('%s', NEW.at) AS INTEGER) / 86400) + 3) % 7));
  DELETE FROM stats_weeks WHERE week IN (SELECT ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) + 3) % 7) FROM incidents WHERE id = OLD.incident_id);
  DELETE FROM stats_weeks WHERE week IN (SELECT ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) + 3) % 7) FROM incidents WHERE id = NEW.incident_id);
END;
CREATE TRIGGER stats_incident_added AFTER INSERT ON incidents
  WHEN EXISTS (SELECT 1 FROM stats_weeks)
BEGIN
  DELETE FROM stats_weeks WHERE week IN (SELECT ((CAST(strftime('%s', NEW.created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', NEW.created_at) AS INTEGER) / 86400) + 3) % 7));
END;
CREATE TRIGGER stats_incident_changed AFTER UPDATE ON incidents
  WHEN (OLD.created_at IS NOT NEW.created_at OR OLD.acknowledged_at IS NOT NEW.acknowledged_at
    OR OLD.resolved_at IS NOT NEW.resolved_at OR OLD.service_name IS NOT NEW.service_name
    OR OLD.team IS NOT NEW.team OR OLD.is_drill IS NOT NEW.is_drill) AND EXISTS (SELECT 1 FROM stats_weeks)
BEGIN
  DELETE FROM stats_weeks WHERE week IN (SELECT ((CAST(strftime('%s', OLD.created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', OLD.created_at) AS INTEGER) / 86400) + 3) % 7));
  DELETE FROM stats_weeks WHERE week IN (SELECT ((CAST(strftime('%s', NEW.created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', NEW.created_at) AS INTEGER) / 86400) + 3) % 7));
  DELETE FROM stats_weeks WHERE OLD.is_drill IS NOT NEW.is_drill AND week IN (SELECT ((CAST(strftime('%s', at) AS INTEGER) / 86400) - ((CAST(strftime('%s', at) AS INTEGER) / 86400) + 3) % 7) FROM timeline_events WHERE incident_id = NEW.id AND kind = 'notify');
  DELETE FROM stats_weeks WHERE OLD.is_drill IS NOT NEW.is_drill AND week IN (SELECT ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) + 3) % 7) FROM insights WHERE incident_id = NEW.id);
END;
CREATE TRIGGER stats_incident_removed BEFORE DELETE ON incidents
  WHEN EXISTS (SELECT 1 FROM stats_weeks)
BEGIN
  DELETE FROM stats_weeks WHERE week IN (SELECT ((CAST(strftime('%s', OLD.created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', OLD.created_at) AS INTEGER) / 86400) + 3) % 7));
  DELETE FROM stats_weeks WHERE week IN (SELECT ((CAST(strftime('%s', at) AS INTEGER) / 86400) - ((CAST(strftime('%s', at) AS INTEGER) / 86400) + 3) % 7) FROM timeline_events WHERE incident_id = OLD.id AND kind = 'notify');
  DELETE FROM stats_weeks WHERE week IN (SELECT ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) + 3) % 7) FROM insights WHERE incident_id = OLD.id);
END;
CREATE TRIGGER stats_run_added AFTER INSERT ON runbook_runs
  WHEN EXISTS (SELECT 1 FROM stats_weeks)
BEGIN
  DELETE FROM stats_weeks WHERE week IN (SELECT ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) + 3) % 7) FROM incidents WHERE id = NEW.incident_id);
END;
CREATE TRIGGER stats_run_removed AFTER DELETE ON runbook_runs
  WHEN EXISTS (SELECT 1 FROM stats_weeks)
BEGIN
  DELETE FROM stats_weeks WHERE week IN (SELECT ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) + 3) % 7) FROM incidents WHERE id = OLD.incident_id);
END;
CREATE TRIGGER stats_run_changed AFTER UPDATE ON runbook_runs
  WHEN (OLD.is_drill IS NOT NEW.is_drill OR OLD.incident_id IS NOT NEW.incident_id) AND EXISTS (SELECT 1 FROM stats_weeks)
BEGIN
  DELETE FROM stats_weeks WHERE week IN (SELECT ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) + 3) % 7) FROM incidents WHERE id = OLD.incident_id);
  DELETE FROM stats_weeks WHERE week IN (SELECT ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) + 3) % 7) FROM incidents WHERE id = NEW.incident_id);
END;
CREATE TRIGGER stats_step_added AFTER INSERT ON step_events
  WHEN EXISTS (SELECT 1 FROM stats_weeks)
BEGIN
  DELETE FROM stats_weeks WHERE week IN (SELECT ((CAST(strftime('%s', i.created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', i.created_at) AS INTEGER) / 86400) + 3) % 7) FROM runbook_runs AS r JOIN incidents AS i ON i.id = r.incident_id WHERE r.id = NEW.run_id);
END;
CREATE TRIGGER stats_step_removed AFTER DELETE ON step_events
  WHEN EXISTS (SELECT 1 FROM stats_weeks)
BEGIN
  DELETE FROM stats_weeks WHERE week IN (SELECT ((CAST(strftime('%s', i.created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', i.created_at) AS INTEGER) / 86400) + 3) % 7) FROM runbook_runs AS r JOIN incidents AS i ON i.id = r.incident_id WHERE r.id = OLD.run_id);
END;
CREATE TRIGGER stats_step_changed AFTER UPDATE ON step_events
  WHEN EXISTS (SELECT 1 FROM stats_weeks)
BEGIN
  DELETE FROM stats_weeks WHERE week IN (SELECT ((CAST(strftime('%s', i.created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', i.created_at) AS INTEGER) / 86400) + 3) % 7) FROM runbook_runs AS r JOIN incidents AS i ON i.id = r.incident_id WHERE r.id = OLD.run_id);
  DELETE FROM stats_weeks WHERE week IN (SELECT ((CAST(strftime('%s', i.created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', i.created_at) AS INTEGER) / 86400) + 3) % 7) FROM runbook_runs AS r JOIN incidents AS i ON i.id = r.incident_id WHERE r.id = NEW.run_id);
END;
CREATE TRIGGER stats_insight_added AFTER INSERT ON insights
  WHEN EXISTS (SELECT 1 FROM stats_weeks)
BEGIN
  DELETE FROM stats_weeks WHERE week IN (SELECT ((CAST(strftime('%s', NEW.created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', NEW.created_at) AS INTEGER) / 86400) + 3) % 7));
  DELETE FROM stats_weeks WHERE week IN (SELECT ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) + 3) % 7) FROM incidents WHERE id = NEW.incident_id);
END;
CREATE TRIGGER stats_insight_removed AFTER DELETE ON insights
  WHEN EXISTS (SELECT 1 FROM stats_weeks)
BEGIN
  DELETE FROM stats_weeks WHERE week IN (SELECT ((CAST(strftime('%s', OLD.created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', OLD.created_at) AS INTEGER) / 86400) + 3) % 7));
  DELETE FROM stats_weeks WHERE week IN (SELECT ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) + 3) % 7) FROM incidents WHERE id = OLD.incident_id);
END;
CREATE TRIGGER stats_insight_changed AFTER UPDATE ON insights
  WHEN EXISTS (SELECT 1 FROM stats_weeks)
BEGIN
  DELETE FROM stats_weeks WHERE week IN (SELECT ((CAST(strftime('%s', OLD.created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', OLD.created_at) AS INTEGER) / 86400) + 3) % 7));
  DELETE FROM stats_weeks WHERE week IN (SELECT ((CAST(strftime('%s', NEW.created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', NEW.created_at) AS INTEGER) / 86400) + 3) % 7));
  DELETE FROM stats_weeks WHERE week IN (SELECT ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) + 3) % 7) FROM incidents WHERE id = OLD.incident_id);
  DELETE FROM stats_weeks WHERE week IN (SELECT ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) + 3) % 7) FROM incidents WHERE id = NEW.incident_id);
END;
CREATE TRIGGER stats_change_added AFTER INSERT ON change_events
  WHEN EXISTS (SELECT 1 FROM stats_weeks)
BEGIN
  DELETE FROM stats_weeks WHERE week IN (SELECT ((CAST(strftime('%s', NEW.at) AS INTEGER) / 86400) - ((CAST(strftime('%s', NEW.at) AS INTEGER) / 86400) + 3) % 7));
END;
CREATE TRIGGER stats_change_removed AFTER DELETE ON change_events
  WHEN EXISTS (SELECT 1 FROM stats_weeks)
BEGIN
  DELETE FROM stats_weeks WHERE week IN (SELECT ((CAST(strftime('%s', OLD.at) AS INTEGER) / 86400) - ((CAST(strftime('%s', OLD.at) AS INTEGER) / 86400) + 3) % 7));
END;
CREATE TRIGGER stats_change_changed AFTER UPDATE ON change_events
  WHEN EXISTS (SELECT 1 FROM stats_weeks)
BEGIN
  DELETE FROM stats_weeks WHERE week IN (SELECT ((CAST(strftime('%s', OLD.at) AS INTEGER) / 86400) - ((CAST(strftime('%s', OLD.at) AS INTEGER) / 86400) + 3) % 7));
  DELETE FROM stats_weeks WHERE week IN (SELECT ((CAST(strftime('%s', NEW.at) AS INTEGER) / 86400) - ((CAST(strftime('%s', NEW.at) AS INTEGER) / 86400) + 3) % 7));
END;
CREATE TRIGGER stats_baton_added AFTER INSERT ON outbox
  WHEN (NEW.action = 'reassign') AND EXISTS (SELECT 1 FROM stats_weeks)
BEGIN
  DELETE FROM stats_weeks WHERE week IN (SELECT ((CAST(strftime('%s', at) AS INTEGER) / 86400) - ((CAST(strftime('%s', at) AS INTEGER) / 86400) + 3) % 7) FROM timeline_events WHERE incident_id = NEW.incident_id AND kind = 'notify');
END;
CREATE TRIGGER stats_baton_removed AFTER DELETE ON outbox
  WHEN (OLD.action = 'reassign') AND EXISTS (SELECT 1 FROM stats_weeks)
BEGIN
  DELETE FROM stats_weeks WHERE week IN (SELECT ((CAST(strftime('%s', at) AS INTEGER) / 86400) - ((CAST(strftime('%s', at) AS INTEGER) / 86400) + 3) % 7) FROM timeline_events WHERE incident_id = OLD.incident_id AND kind = 'notify');
END;
CREATE TRIGGER stats_baton_changed AFTER UPDATE ON outbox
  WHEN (OLD.action = 'reassign' OR NEW.action = 'reassign') AND EXISTS (SELECT 1 FROM stats_weeks)
BEGIN
  DELETE FROM stats_weeks WHERE week IN (SELECT ((CAST(strftime('%s', at) AS INTEGER) / 86400) - ((CAST(strftime('%s', at) AS INTEGER) / 86400) + 3) % 7) FROM timeline_events WHERE incident_id = OLD.incident_id AND kind = 'notify');
  DELETE FROM stats_weeks WHERE week IN (SELECT ((CAST(strftime('%s', at) AS INTEGER) / 86400) - ((CAST(strftime('%s', at) AS INTEGER) / 86400) + 3) % 7) FROM timeline_events WHERE incident_id = NEW.incident_id AND kind = 'notify');
END;
