-- Retention (issue 15): the anchor of every term and the data central keeps
-- per subject beside the roster. Subjects are "child:ID", "person:ID",
-- "staff:ID" or "applicant:ID".
--
-- care_periods: the administration record (category administration for
-- children and persons, staff and applicant for the others): start and end
-- of care, employment or the application procedure, legal name and BSN.
-- ended_ns is the last contract day (end_source 'contract'), the time the
-- subject left the roster (end_source 'roster', kept up to date by each
-- retention run) or an erasure request ('erasure'); NULL while care runs.
-- extended: a labour dispute (staff) or consent to keep 1 year (applicant).
CREATE TABLE care_periods (
	subject     TEXT NOT NULL,
	location_id TEXT NOT NULL,
	started_ns  BIGINT NOT NULL,
	ended_ns    BIGINT,
	end_source  TEXT NOT NULL DEFAULT '',
	extended    INTEGER NOT NULL DEFAULT 0,
	legal_name  TEXT NOT NULL DEFAULT '',
	bsn         TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (subject, location_id)
);
-- contact_details: category contact (2 years at most after care ends).
CREATE TABLE contact_details (
	subject      TEXT NOT NULL,
	location_id  TEXT NOT NULL,
	address      TEXT NOT NULL DEFAULT '',
	postcode     TEXT NOT NULL DEFAULT '',
	city         TEXT NOT NULL DEFAULT '',
	email        TEXT NOT NULL DEFAULT '',
	phone        TEXT NOT NULL DEFAULT '',
	bank_account TEXT NOT NULL DEFAULT '',
	updated_ns   BIGINT NOT NULL,
	PRIMARY KEY (subject, location_id)
);
CREATE INDEX events_staff ON events (location_id, staff_id);
CREATE INDEX events_child ON events (location_id, child_id);
