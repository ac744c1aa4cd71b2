-- Schema version 1: the first schema. Frozen: never edit; add a new numbered file instead.
CREATE TABLE change_events (
	id VARCHAR NOT NULL, 
	source VARCHAR NOT NULL, 
	service_name VARCHAR NOT NULL, 
	summary VARCHAR NOT NULL, 
	at TEXT NOT NULL, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_changes_service_at ON change_events (service_name, at);
CREATE TABLE handoffs (
	id INTEGER NOT NULL, 
	from_person VARCHAR NOT NULL, 
	to_person VARCHAR NOT NULL, 
	created_at TEXT NOT NULL, 
	signed_at TEXT, 
	accepted_at TEXT, 
	shift_start TEXT, 
	shift_end TEXT, 
	body_md VARCHAR NOT NULL, 
	draft TEXT NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE incidents (
	id VARCHAR NOT NULL, 
	source VARCHAR NOT NULL, 
	remote_id VARCHAR NOT NULL, 
	number INTEGER, 
	title VARCHAR NOT NULL, 
	status VARCHAR NOT NULL, 
	urgency VARCHAR NOT NULL, 
	priority VARCHAR NOT NULL, 
	service_id VARCHAR NOT NULL, 
	service_name VARCHAR NOT NULL, 
	team VARCHAR NOT NULL, 
	escalation_policy_id VARCHAR NOT NULL, 
	assignees TEXT NOT NULL, 
	html_url VARCHAR NOT NULL, 
	runbook_url VARCHAR NOT NULL, 
	incident_key VARCHAR NOT NULL, 
	labels TEXT NOT NULL, 
	annotations TEXT NOT NULL, 
	created_at TEXT NOT NULL, 
	updated_at TEXT NOT NULL, 
	acknowledged_at TEXT, 
	resolved_at TEXT, 
	snoozed_until TEXT, 
	is_drill BOOLEAN NOT NULL, 
	synced_at TEXT, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_incidents_drill_created ON incidents (is_drill, created_at);
CREATE INDEX ix_incidents_service ON incidents (service_name, created_at);
CREATE INDEX ix_incidents_status_created ON incidents (status, created_at);
CREATE INDEX ix_incidents_updated ON incidents (updated_at);
CREATE TABLE oncall_shifts (
	id INTEGER NOT NULL, 
	source VARCHAR NOT NULL, 
	person_id VARCHAR NOT NULL, 
	escalation_policy_id VARCHAR NOT NULL, 
	escalation_policy_name VARCHAR NOT NULL, 
	escalation_level INTEGER NOT NULL, 
	schedule_id VARCHAR NOT NULL, 
	schedule_name VARCHAR NOT NULL, 
	start TEXT, 
	"end" TEXT, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_oncall_shift UNIQUE (source, person_id, escalation_policy_id, escalation_level, start)
);
CREATE INDEX ix_oncall_person_start ON oncall_shifts (person_id, start);
CREATE INDEX ix_oncall_start_end ON oncall_shifts (start, "end");
CREATE TABLE people (
	id VARCHAR NOT NULL, 
	source VARCHAR NOT NULL, 
	name VARCHAR NOT NULL, 
	email VARCHAR NOT NULL, 
	time_zone VARCHAR NOT NULL, 
	teams TEXT NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE sync_state (
	"key" VARCHAR NOT NULL, 
	watermark TEXT, 
	updated_at TEXT NOT NULL, 
	last_ok_at TEXT, 
	last_error VARCHAR NOT NULL, 
	cursor TEXT NOT NULL, 
	PRIMARY KEY ("key")
);
CREATE TABLE alerts (
	id VARCHAR NOT NULL, 
	incident_id VARCHAR NOT NULL, 
	summary VARCHAR NOT NULL, 
	status VARCHAR NOT NULL, 
	severity VARCHAR NOT NULL, 
	fingerprint VARCHAR NOT NULL, 
	labels TEXT NOT NULL, 
	annotations TEXT NOT NULL, 
	runbook_url VARCHAR NOT NULL, 
	generator_url VARCHAR NOT NULL, 
	created_at TEXT NOT NULL, 
	updated_at TEXT, 
	PRIMARY KEY (id), 
	FOREIGN KEY(incident_id) REFERENCES incidents (id) ON DELETE CASCADE
);
CREATE INDEX ix_alerts_incident ON alerts (incident_id);
CREATE TABLE baton_passes (
	id INTEGER NOT NULL, 
	incident_id VARCHAR NOT NULL, 
	from_person VARCHAR NOT NULL, 
	to_person VARCHAR NOT NULL, 
	note VARCHAR NOT NULL, 
	offered_at TEXT NOT NULL, 
	accepted_at TEXT, 
	state VARCHAR NOT NULL, 
	handoff_id INTEGER, 
	PRIMARY KEY (id), 
	FOREIGN KEY(incident_id) REFERENCES incidents (id) ON DELETE CASCADE
);
CREATE INDEX ix_baton_incident ON baton_passes (incident_id, offered_at);
CREATE TABLE insights (
	id INTEGER NOT NULL, 
	incident_id VARCHAR NOT NULL, 
	text VARCHAR NOT NULL, 
	whys TEXT NOT NULL, 
	guardrail VARCHAR NOT NULL, 
	guardrail_owner VARCHAR NOT NULL, 
	runbook_draft VARCHAR NOT NULL, 
	created_at TEXT NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(incident_id) REFERENCES incidents (id) ON DELETE CASCADE
);
CREATE INDEX ix_insights_created ON insights (created_at);
CREATE TABLE notes (
	id INTEGER NOT NULL, 
	incident_id VARCHAR NOT NULL, 
	content VARCHAR NOT NULL, 
	author VARCHAR NOT NULL, 
	created_at TEXT NOT NULL, 
	remote_id VARCHAR, 
	state VARCHAR NOT NULL, 
	outbox_id INTEGER, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_notes_remote_id UNIQUE (remote_id), 
	FOREIGN KEY(incident_id) REFERENCES incidents (id) ON DELETE CASCADE
);
CREATE INDEX ix_notes_incident ON notes (incident_id, created_at);
CREATE TABLE outbox (
	id INTEGER NOT NULL, 
	source VARCHAR NOT NULL, 
	incident_id VARCHAR NOT NULL, 
	action VARCHAR NOT NULL, 
	payload TEXT NOT NULL, 
	created_at TEXT NOT NULL, 
	state VARCHAR NOT NULL, 
	attempts INTEGER NOT NULL, 
	last_error VARCHAR NOT NULL, 
	last_attempt_at TEXT, 
	sent_at TEXT, 
	remote_ref VARCHAR NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(incident_id) REFERENCES incidents (id) ON DELETE CASCADE
);
CREATE INDEX ix_outbox_state ON outbox (state, id);
CREATE TABLE runbook_runs (
	id INTEGER NOT NULL, 
	incident_id VARCHAR NOT NULL, 
	runbook_id VARCHAR NOT NULL, 
	runbook_path VARCHAR NOT NULL, 
	runbook_hash VARCHAR NOT NULL, 
	started_at TEXT NOT NULL, 
	finished_at TEXT, 
	outcome VARCHAR, 
	started_by VARCHAR NOT NULL, 
	is_drill BOOLEAN NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(incident_id) REFERENCES incidents (id) ON DELETE CASCADE
);
CREATE INDEX ix_runs_incident ON runbook_runs (incident_id, started_at);
CREATE TABLE timeline_events (
	id INTEGER NOT NULL, 
	incident_id VARCHAR NOT NULL, 
	at TEXT NOT NULL, 
	kind VARCHAR NOT NULL, 
	summary VARCHAR NOT NULL, 
	actor VARCHAR NOT NULL, 
	person_id VARCHAR NOT NULL, 
	channel VARCHAR NOT NULL, 
	remote_id VARCHAR, 
	is_drill BOOLEAN NOT NULL, 
	details TEXT NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_timeline_remote_id UNIQUE (remote_id), 
	FOREIGN KEY(incident_id) REFERENCES incidents (id) ON DELETE CASCADE
);
CREATE INDEX ix_timeline_incident_at ON timeline_events (incident_id, at);
CREATE INDEX ix_timeline_kind_at ON timeline_events (kind, at);
CREATE INDEX ix_timeline_person_at ON timeline_events (person_id, at);
CREATE TABLE drills (
	id INTEGER NOT NULL, 
	run_id INTEGER, 
	incident_id VARCHAR NOT NULL, 
	runbook_id VARCHAR NOT NULL, 
	scenario TEXT NOT NULL, 
	expected_branch VARCHAR NOT NULL, 
	started_at TEXT NOT NULL, 
	finished_at TEXT, 
	participant VARCHAR NOT NULL, 
	report_md VARCHAR NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(run_id) REFERENCES runbook_runs (id), 
	FOREIGN KEY(incident_id) REFERENCES incidents (id) ON DELETE CASCADE
);
CREATE INDEX ix_drills_runbook ON drills (runbook_id, started_at);
CREATE TABLE step_events (
	id INTEGER NOT NULL, 
	run_id INTEGER NOT NULL, 
	seq INTEGER NOT NULL, 
	at TEXT NOT NULL, 
	kind VARCHAR NOT NULL, 
	step_id VARCHAR NOT NULL, 
	branch VARCHAR NOT NULL, 
	reason VARCHAR NOT NULL, 
	actor VARCHAR NOT NULL, 
	details TEXT NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_step_event_seq UNIQUE (run_id, seq), 
	FOREIGN KEY(run_id) REFERENCES runbook_runs (id) ON DELETE CASCADE
);
