-- Corrections of stays (attendance.CorrectionEvent). Those made at a kiosk
-- arrive as events (table events) and are copied here at ingest; those a
-- manager makes at central live only here (device_id 'central'). cursor_no
-- numbers a location's corrections without gaps, assigned while the
-- location row is locked, so a kiosk reading "after N" never skips one
-- that commits late. at_ns is the earliest time the correction touches
-- (its stay's start or a new time), to read them by period.
CREATE TABLE corrections (
	location_id TEXT NOT NULL REFERENCES locations (id),
	cursor_no   BIGINT NOT NULL,
	event_id    TEXT NOT NULL UNIQUE,
	device_id   TEXT NOT NULL,
	child_id    TEXT NOT NULL,
	kind        TEXT NOT NULL,
	target      TEXT NOT NULL,
	at_ns       BIGINT NOT NULL,
	made_ns     BIGINT NOT NULL,
	by_whom     TEXT NOT NULL,
	reason      TEXT NOT NULL,
	body        TEXT NOT NULL,
	PRIMARY KEY (location_id, cursor_no)
);
CREATE INDEX corrections_at ON corrections (location_id, at_ns);
-- A correction names its stay by an event id of any device.
CREATE INDEX events_event_id ON events (event_id);
