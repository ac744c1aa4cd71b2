-- Schema version 6: what `cockpit stats` keeps per UTC week (issue 17 item 6).
--
-- stats_weeks holds one week's partial report (metrics/weeks.py: its pages folded and
-- counted, its incidents' times to acknowledge and resolve, the flywheel's counts), stored
-- with the week's change count as it was when the week was read. stats_week_marks counts the
-- changes to everything a week's figures read: the triggers below bump the count of every
-- week a change touches, so a kept week is used only while its count is unchanged, and a
-- report that read a week before a sync changed it can never store it as current.
-- A week is its Monday (UTC) as a day number since 1970-01-01.
CREATE TABLE stats_week_marks (
	week INTEGER NOT NULL, 
	changes INTEGER NOT NULL, 
	PRIMARY KEY (week)
);
CREATE TABLE stats_weeks (
	week INTEGER NOT NULL, 
	changes INTEGER NOT NULL, 
	data TEXT NOT NULL, 
	PRIMARY KEY (week)
);
-- The stats leave drills out through a list of them (metrics/pagelog._NOTIFY_MICROS): this
-- index holds exactly those rows. Without it, once the store has statistics, SQLite judged
-- is_drill = 1 as common as is_drill = 0 and scanned every incident for the list (15 ms per
-- read at 100,000 incidents, twice per report).
CREATE INDEX ix_incidents_drills ON incidents (id) WHERE is_drill = 1;
-- Every change a week's figures read bumps that week's count (a week: its UTC Monday as a
-- day number). Notify rows count in their own week and, since a part keeps only the number of
-- the incidents all of whose notify rows it holds, in their incident's week too;
-- acknowledgements, runs, steps and insights in their incident's week (MTTA/MTTR, time to
-- rollback, the flywheel), insights and change events in their own; an incident turned
-- drill (or back), deleted, or given a delivered baton in every week its notify rows are in.
CREATE TRIGGER stats_notify_added AFTER INSERT ON timeline_events
  WHEN NEW.kind = 'notify'
BEGIN
  INSERT INTO stats_week_marks (week, changes) SELECT week, 1 FROM (SELECT ((CAST(strftime('%s', NEW.at) AS INTEGER) / 86400) - ((CAST(strftime('%s', NEW.at) AS INTEGER) / 86400) + 3) % 7) AS week) WHERE week IS NOT NULL
    ON CONFLICT (week) DO UPDATE SET changes = changes + 1;
END;
CREATE TRIGGER stats_notify_elsewhere AFTER INSERT ON timeline_events
  WHEN NEW.kind = 'notify'
BEGIN
  INSERT INTO stats_week_marks (week, changes) SELECT week, 1 FROM (SELECT ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) + 3) % 7) AS week FROM incidents WHERE id = NEW.incident_id) WHERE week IS NOT NULL
    ON CONFLICT (week) DO UPDATE SET changes = changes + 1;
END;
CREATE TRIGGER stats_notify_removed AFTER DELETE ON timeline_events
  WHEN OLD.kind = 'notify'
BEGIN
  INSERT INTO stats_week_marks (week, changes) SELECT week, 1 FROM (SELECT ((CAST(strftime('%s', OLD.at) AS INTEGER) / 86400) - ((CAST(strftime('%s', OLD.at) AS INTEGER) / 86400) + 3) % 7) AS week) WHERE week IS NOT NULL
    ON CONFLICT (week) DO UPDATE SET changes = changes + 1;
END;
CREATE TRIGGER stats_ack_added AFTER INSERT ON timeline_events
  WHEN NEW.kind = 'acknowledge'
BEGIN
  INSERT INTO stats_week_marks (week, changes) SELECT week, 1 FROM (SELECT ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) + 3) % 7) AS week FROM incidents WHERE id = NEW.incident_id) WHERE week IS NOT NULL
    ON CONFLICT (week) DO UPDATE SET changes = changes + 1;
END;
CREATE TRIGGER stats_ack_removed AFTER DELETE ON timeline_events
  WHEN OLD.kind = 'acknowledge'
BEGIN
  INSERT INTO stats_week_marks (week, changes) SELECT week, 1 FROM (SELECT ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) + 3) % 7) AS week FROM incidents WHERE id = OLD.incident_id) WHERE week IS NOT NULL
    ON CONFLICT (week) DO UPDATE SET changes = changes + 1;
END;
CREATE TRIGGER stats_timeline_changed AFTER UPDATE ON timeline_events
  WHEN (OLD.kind IN ('notify', 'acknowledge') OR NEW.kind IN ('notify', 'acknowledge'))
    AND (OLD.at IS NOT NEW.at OR OLD.kind IS NOT NEW.kind OR OLD.person_id IS NOT NEW.person_id
      OR OLD.is_drill IS NOT NEW.is_drill OR OLD.incident_id IS NOT NEW.incident_id)
BEGIN
  INSERT INTO stats_week_marks (week, changes) SELECT week, 1 FROM (SELECT ((CAST(strftime('%s', OLD.at) AS INTEGER) / 86400) - ((CAST(strftime('%s', OLD.at) AS INTEGER) / 86400) + 3) % 7) AS week) WHERE week IS NOT NULL
    ON CONFLICT (week) DO UPDATE SET changes = changes + 1;
  INSERT INTO stats_week_marks (week, changes) SELECT week, 1 FROM (SELECT ((CAST(strftime('%s', NEW.at) AS INTEGER) / 86400) - ((CAST(strftime('%s', NEW.at) AS INTEGER) / 86400) + 3) % 7) AS week) WHERE week IS NOT NULL
    ON CONFLICT (week) DO UPDATE SET changes = changes + 1;
  INSERT INTO stats_week_marks (week, changes) SELECT week, 1 FROM (SELECT ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) + 3) % 7) AS week FROM incidents WHERE id = OLD.incident_id) WHERE week IS NOT NULL
    ON CONFLICT (week) DO UPDATE SET changes = changes + 1;
  INSERT INTO stats_week_marks (week, changes) SELECT week, 1 FROM (SELECT ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) + 3) % 7) AS week FROM incidents WHERE id = NEW.incident_id) WHERE week IS NOT NULL
    ON CONFLICT (week) DO UPDATE SET changes = changes + 1;
END;
CREATE TRIGGER stats_incident_added AFTER INSERT ON incidents
BEGIN
  INSERT INTO stats_week_marks (week, changes) SELECT week, 1 FROM (SELECT ((CAST(strftime('%s', NEW.created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', NEW.created_at) AS INTEGER) / 86400) + 3) % 7) AS week) WHERE week IS NOT NULL
    ON CONFLICT (week) DO UPDATE SET changes = changes + 1;
END;
CREATE TRIGGER stats_incident_changed AFTER UPDATE ON incidents
  WHEN OLD.created_at IS NOT NEW.created_at OR OLD.acknowledged_at IS NOT NEW.acknowledged_at
    OR OLD.resolved_at IS NOT NEW.resolved_at OR OLD.service_name IS NOT NEW.service_name
    OR OLD.team IS NOT NEW.team OR OLD.is_drill IS NOT NEW.is_drill
BEGIN
  INSERT INTO stats_week_marks (week, changes) SELECT week, 1 FROM (SELECT ((CAST(strftime('%s', OLD.created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', OLD.created_at) AS INTEGER) / 86400) + 3) % 7) AS week) WHERE week IS NOT NULL
    ON CONFLICT (week) DO UPDATE SET changes = changes + 1;
  INSERT INTO stats_week_marks (week, changes) SELECT week, 1 FROM (SELECT ((CAST(strftime('%s', NEW.created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', NEW.created_at) AS INTEGER) / 86400) + 3) % 7) AS week) WHERE week IS NOT NULL
    ON CONFLICT (week) DO UPDATE SET changes = changes + 1;
END;
CREATE TRIGGER stats_incident_drill_changed AFTER UPDATE ON incidents
  WHEN OLD.is_drill IS NOT NEW.is_drill
BEGIN
  INSERT INTO stats_week_marks (week, changes) SELECT week, 1 FROM (SELECT DISTINCT ((CAST(strftime('%s', at) AS INTEGER) / 86400) - ((CAST(strftime('%s', at) AS INTEGER) / 86400) + 3) % 7) AS week FROM timeline_events WHERE incident_id = NEW.id AND kind = 'notify') WHERE week IS NOT NULL
    ON CONFLICT (week) DO UPDATE SET changes = changes + 1;
  INSERT INTO stats_week_marks (week, changes) SELECT week, 1 FROM (SELECT DISTINCT ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) + 3) % 7) AS week FROM insights WHERE incident_id = NEW.id) WHERE week IS NOT NULL
    ON CONFLICT (week) DO UPDATE SET changes = changes + 1;
END;
CREATE TRIGGER stats_incident_removed BEFORE DELETE ON incidents
BEGIN
  INSERT INTO stats_week_marks (week, changes) SELECT week, 1 FROM (SELECT ((CAST(strftime('%s', OLD.created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', OLD.created_at) AS INTEGER) / 86400) + 3) % 7) AS week) WHERE week IS NOT NULL
    ON CONFLICT (week) DO UPDATE SET changes = changes + 1;
  INSERT INTO stats_week_marks (week, changes) SELECT week, 1 FROM (SELECT DISTINCT ((CAST(strftime('%s', at) AS INTEGER) / 86400) - ((CAST(strftime('%s', at) AS INTEGER) / 86400) + 3) % 7) AS week FROM timeline_events WHERE incident_id = OLD.id AND kind = 'notify') WHERE week IS NOT NULL
    ON CONFLICT (week) DO UPDATE SET changes = changes + 1;
  INSERT INTO stats_week_marks (week, changes) SELECT week, 1 FROM (SELECT DISTINCT ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) + 3) % 7) AS week FROM insights WHERE incident_id = OLD.id) WHERE week IS NOT NULL
    ON CONFLICT (week) DO UPDATE SET changes = changes + 1;
END;
CREATE TRIGGER stats_run_added AFTER INSERT ON runbook_runs
BEGIN
  INSERT INTO stats_week_marks (week, changes) SELECT week, 1 FROM (SELECT ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) + 3) % 7) AS week FROM incidents WHERE id = NEW.incident_id) WHERE week IS NOT NULL
    ON CONFLICT (week) DO UPDATE SET changes = changes + 1;
END;
CREATE TRIGGER stats_run_removed AFTER DELETE ON runbook_runs
BEGIN
  INSERT INTO stats_week_marks (week, changes) SELECT week, 1 FROM (SELECT ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) + 3) % 7) AS week FROM incidents WHERE id = OLD.incident_id) WHERE week IS NOT NULL
    ON CONFLICT (week) DO UPDATE SET changes = changes + 1;
END;
CREATE TRIGGER stats_run_changed AFTER UPDATE ON runbook_runs
  WHEN OLD.is_drill IS NOT NEW.is_drill OR OLD.incident_id IS NOT NEW.incident_id
BEGIN
  INSERT INTO stats_week_marks (week, changes) SELECT week, 1 FROM (SELECT ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) + 3) % 7) AS week FROM incidents WHERE id = OLD.incident_id) WHERE week IS NOT NULL
    ON CONFLICT (week) DO UPDATE SET changes = changes + 1;
  INSERT INTO stats_week_marks (week, changes) SELECT week, 1 FROM (SELECT ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) + 3) % 7) AS week FROM incidents WHERE id = NEW.incident_id) WHERE week IS NOT NULL
    ON CONFLICT (week) DO UPDATE SET changes = changes + 1;
END;
CREATE TRIGGER stats_step_added AFTER INSERT ON step_events
BEGIN
  INSERT INTO stats_week_marks (week, changes) SELECT week, 1 FROM (SELECT ((CAST(strftime('%s', i.created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', i.created_at) AS INTEGER) / 86400) + 3) % 7) AS week FROM runbook_runs AS r JOIN incidents AS i ON i.id = r.incident_id WHERE r.id = NEW.run_id) WHERE week IS NOT NULL
    ON CONFLICT (week) DO UPDATE SET changes = changes + 1;
END;
CREATE TRIGGER stats_step_removed AFTER DELETE ON step_events
BEGIN
  INSERT INTO stats_week_marks (week, changes) SELECT week, 1 FROM (SELECT ((CAST(strftime('%s', i.created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', i.created_at) AS INTEGER) / 86400) + 3) % 7) AS week FROM runbook_runs AS r JOIN incidents AS i ON i.id = r.incident_id WHERE r.id = OLD.run_id) WHERE week IS NOT NULL
    ON CONFLICT (week) DO UPDATE SET changes = changes + 1;
END;
CREATE TRIGGER stats_step_changed AFTER UPDATE ON step_events
BEGIN
  INSERT INTO stats_week_marks (week, changes) SELECT week, 1 FROM (SELECT ((CAST(strftime('%s', i.created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', i.created_at) AS INTEGER) / 86400) + 3) % 7) AS week FROM runbook_runs AS r JOIN incidents AS i ON i.id = r.incident_id WHERE r.id = OLD.run_id) WHERE week IS NOT NULL
    ON CONFLICT (week) DO UPDATE SET changes = changes + 1;
  INSERT INTO stats_week_marks (week, changes) SELECT week, 1 FROM (SELECT ((CAST(strftime('%s', i.created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', i.created_at) AS INTEGER) / 86400) + 3) % 7) AS week FROM runbook_runs AS r JOIN incidents AS i ON i.id = r.incident_id WHERE r.id = NEW.run_id) WHERE week IS NOT NULL
    ON CONFLICT (week) DO UPDATE SET changes = changes + 1;
END;
CREATE TRIGGER stats_insight_added AFTER INSERT ON insights
BEGIN
  INSERT INTO stats_week_marks (week, changes) SELECT week, 1 FROM (SELECT ((CAST(strftime('%s', NEW.created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', NEW.created_at) AS INTEGER) / 86400) + 3) % 7) AS week) WHERE week IS NOT NULL
    ON CONFLICT (week) DO UPDATE SET changes = changes + 1;
  INSERT INTO stats_week_marks (week, changes) SELECT week, 1 FROM (SELECT ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) + 3) % 7) AS week FROM incidents WHERE id = NEW.incident_id) WHERE week IS NOT NULL
    ON CONFLICT (week) DO UPDATE SET changes = changes + 1;
END;
CREATE TRIGGER stats_insight_removed AFTER DELETE ON insights
BEGIN
  INSERT INTO stats_week_marks (week, changes) SELECT week, 1 FROM (SELECT ((CAST(strftime('%s', OLD.created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', OLD.created_at) AS INTEGER) / 86400) + 3) % 7) AS week) WHERE week IS NOT NULL
    ON CONFLICT (week) DO UPDATE SET changes = changes + 1;
  INSERT INTO stats_week_marks (week, changes) SELECT week, 1 FROM (SELECT ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) + 3) % 7) AS week FROM incidents WHERE id = OLD.incident_id) WHERE week IS NOT NULL
    ON CONFLICT (week) DO UPDATE SET changes = changes + 1;
END;
CREATE TRIGGER stats_insight_changed AFTER UPDATE ON insights
BEGIN
  INSERT INTO stats_week_marks (week, changes) SELECT week, 1 FROM (SELECT ((CAST(strftime('%s', OLD.created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', OLD.created_at) AS INTEGER) / 86400) + 3) % 7) AS week) WHERE week IS NOT NULL
    ON CONFLICT (week) DO UPDATE SET changes = changes + 1;
  INSERT INTO stats_week_marks (week, changes) SELECT week, 1 FROM (SELECT ((CAST(strftime('%s', NEW.created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', NEW.created_at) AS INTEGER) / 86400) + 3) % 7) AS week) WHERE week IS NOT NULL
    ON CONFLICT (week) DO UPDATE SET changes = changes + 1;
  INSERT INTO stats_week_marks (week, changes) SELECT week, 1 FROM (SELECT ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) + 3) % 7) AS week FROM incidents WHERE id = OLD.incident_id) WHERE week IS NOT NULL
    ON CONFLICT (week) DO UPDATE SET changes = changes + 1;
  INSERT INTO stats_week_marks (week, changes) SELECT week, 1 FROM (SELECT ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) - ((CAST(strftime('%s', created_at) AS INTEGER) / 86400) + 3) % 7) AS week FROM incidents WHERE id = NEW.incident_id) WHERE week IS NOT NULL
    ON CONFLICT (week) DO UPDATE SET changes = changes + 1;
END;
CREATE TRIGGER stats_change_added AFTER INSERT ON change_events
BEGIN
  INSERT INTO stats_week_marks (week, changes) SELECT week, 1 FROM (SELECT ((CAST(strftime('%s', NEW.at) AS INTEGER) / 86400) - ((CAST(strftime('%s', NEW.at) AS INTEGER) / 86400) + 3) % 7) AS week) WHERE week IS NOT NULL
    ON CONFLICT (week) DO UPDATE SET changes = changes + 1;
END;
CREATE TRIGGER stats_change_removed AFTER DELETE ON change_events
BEGIN
  INSERT INTO stats_week_marks (week, changes) SELECT week, 1 FROM (SELECT ((CAST(strftime('%s', OLD.at) AS INTEGER) / 86400) - ((CAST(strftime('%s', OLD.at) AS INTEGER) / 86400) + 3) % 7) AS week) WHERE week IS NOT NULL
    ON CONFLICT (week) DO UPDATE SET changes = changes + 1;
END;
CREATE TRIGGER stats_change_changed AFTER UPDATE ON change_events
BEGIN
  INSERT INTO stats_week_marks (week, changes) SELECT week, 1 FROM (SELECT ((CAST(strftime('%s', OLD.at) AS INTEGER) / 86400) - ((CAST(strftime('%s', OLD.at) AS INTEGER) / 86400) + 3) % 7) AS week) WHERE week IS NOT NULL
    ON CONFLICT (week) DO UPDATE SET changes = changes + 1;
  INSERT INTO stats_week_marks (week, changes) SELECT week, 1 FROM (SELECT ((CAST(strftime('%s', NEW.at) AS INTEGER) / 86400) - ((CAST(strftime('%s', NEW.at) AS INTEGER) / 86400) + 3) % 7) AS week) WHERE week IS NOT NULL
    ON CONFLICT (week) DO UPDATE SET changes = changes + 1;
END;
CREATE TRIGGER stats_baton_added AFTER INSERT ON outbox
  WHEN NEW.action = 'reassign'
BEGIN
  INSERT INTO stats_week_marks (week, changes) SELECT week, 1 FROM (SELECT DISTINCT ((CAST(strftime('%s', at) AS INTEGER) / 86400) - ((CAST(strftime('%s', at) AS INTEGER) / 86400) + 3) % 7) AS week FROM timeline_events WHERE incident_id = NEW.incident_id AND kind = 'notify') WHERE week IS NOT NULL
    ON CONFLICT (week) DO UPDATE SET changes = changes + 1;
END;
CREATE TRIGGER stats_baton_removed AFTER DELETE ON outbox
  WHEN OLD.action = 'reassign'
BEGIN
  INSERT INTO stats_week_marks (week, changes) SELECT week, 1 FROM (SELECT DISTINCT ((CAST(strftime('%s', at) AS INTEGER) / 86400) - ((CAST(strftime('%s', at) AS INTEGER) / 86400) + 3) % 7) AS week FROM timeline_events WHERE incident_id = OLD.incident_id AND kind = 'notify') WHERE week IS NOT NULL
    ON CONFLICT (week) DO UPDATE SET changes = changes + 1;
END;
CREATE TRIGGER stats_baton_changed AFTER UPDATE ON outbox
  WHEN OLD.action = 'reassign' OR NEW.action = 'reassign'
BEGIN
  INSERT INTO stats_week_marks (week, changes) SELECT week, 1 FROM (SELECT DISTINCT ((CAST(strftime('%s', at) AS INTEGER) / 86400) - ((CAST(strftime('%s', at) AS INTEGER) / 86400) + 3) % 7) AS week FROM timeline_events WHERE incident_id = OLD.incident_id AND kind = 'notify') WHERE week IS NOT NULL
    ON CONFLICT (week) DO UPDATE SET changes = changes + 1;
  INSERT INTO stats_week_marks (week, changes) SELECT week, 1 FROM (SELECT DISTINCT ((CAST(strftime('%s', at) AS INTEGER) / 86400) - ((CAST(strftime('%s', at) AS INTEGER) / 86400) + 3) % 7) AS week FROM timeline_events WHERE incident_id = NEW.incident_id AND kind = 'notify') WHERE week IS NOT NULL
    ON CONFLICT (week) DO UPDATE SET changes = changes + 1;
END;
