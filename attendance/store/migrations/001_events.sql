-- Version 1: the durable event log, its outbox and the device's own facts.
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) STRICT;

-- seq is the per-device sequence (assigned by the store, +1, never reused).
-- body is the event's wire form, byte-identical on every resend.
CREATE TABLE events (
	seq      INTEGER PRIMARY KEY,
	event_id TEXT NOT NULL UNIQUE,
	type     TEXT NOT NULL,
	child_id TEXT,
	staff_id TEXT,
	wall_ns  INTEGER NOT NULL,
	body     TEXT NOT NULL
) STRICT;
CREATE INDEX events_child ON events (child_id, seq) WHERE child_id IS NOT NULL;
CREATE INDEX events_staff ON events (staff_id, seq) WHERE staff_id IS NOT NULL;

-- One row per event central has not acknowledged yet.
CREATE TABLE outbox (
	seq INTEGER PRIMARY KEY REFERENCES events (seq) ON DELETE CASCADE
) STRICT;
