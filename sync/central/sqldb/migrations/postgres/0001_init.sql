-- Central schema v1 (PostgreSQL). Times are unix nanoseconds (BIGINT), booleans 0/1,
-- so that SQLite and PostgreSQL share one code path.
CREATE TABLE locations (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	badge_key  TEXT NOT NULL,
	created_ns BIGINT NOT NULL
);
CREATE TABLE rosters (
	location_id TEXT NOT NULL REFERENCES locations (id),
	version     BIGINT NOT NULL,
	body        TEXT NOT NULL,
	created_ns  BIGINT NOT NULL,
	PRIMARY KEY (location_id, version)
);
-- Enrolment tokens are stored as SHA-256 hashes; uses_left NULL = unlimited (demo only).
CREATE TABLE enrolment_tokens (
	token_hash  TEXT PRIMARY KEY,
	location_id TEXT NOT NULL REFERENCES locations (id),
	expires_ns  BIGINT NOT NULL,
	uses_left   BIGINT,
	note        TEXT NOT NULL,
	created_ns  BIGINT NOT NULL
);
CREATE TABLE devices (
	id            TEXT PRIMARY KEY,
	location_id   TEXT NOT NULL REFERENCES locations (id),
	public_key    TEXT NOT NULL,
	name          TEXT NOT NULL,
	enrolled_ns   BIGINT NOT NULL,
	revoked_ns    BIGINT,
	acked_through BIGINT NOT NULL DEFAULT 0,
	last_seen_ns  BIGINT
);
-- Each event once: unique (device, seq) and (device, event id).
CREATE TABLE events (
	device_id    TEXT NOT NULL REFERENCES devices (id),
	seq          BIGINT NOT NULL,
	event_id     TEXT NOT NULL,
	type         TEXT NOT NULL,
	location_id  TEXT NOT NULL,
	child_id     TEXT,
	staff_id     TEXT,
	boot_id      TEXT NOT NULL,
	mono_ns      BIGINT NOT NULL,
	wall_ns      BIGINT NOT NULL,
	clock_synced INTEGER NOT NULL,
	time_ns      BIGINT NOT NULL,
	time_quality TEXT NOT NULL,
	received_ns  BIGINT NOT NULL,
	body         TEXT NOT NULL,
	PRIMARY KEY (device_id, seq),
	UNIQUE (device_id, event_id)
);
CREATE INDEX events_location_time ON events (location_id, time_ns);
CREATE INDEX events_boot ON events (device_id, boot_id, time_quality);
-- Events central refused: kept for admins, never dropped.
CREATE TABLE rejected_events (
	device_id   TEXT NOT NULL,
	seq         BIGINT NOT NULL,
	event_id    TEXT NOT NULL,
	reason      TEXT NOT NULL,
	body        TEXT NOT NULL,
	received_ns BIGINT NOT NULL,
	PRIMARY KEY (device_id, seq, event_id)
);
CREATE TABLE alerts (
	id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	device_id  TEXT NOT NULL,
	kind       TEXT NOT NULL,
	seq        BIGINT NOT NULL,
	event_id   TEXT NOT NULL,
	detail     TEXT NOT NULL,
	created_ns BIGINT NOT NULL
);
-- The best clock anchor seen per boot: a synchronised (wall, mono) pair.
CREATE TABLE boot_anchors (
	device_id TEXT NOT NULL,
	boot_id   TEXT NOT NULL,
	wall_ns   BIGINT NOT NULL,
	mono_ns   BIGINT NOT NULL,
	PRIMARY KEY (device_id, boot_id)
);
CREATE TABLE nonces (
	device_id TEXT NOT NULL,
	nonce     TEXT NOT NULL,
	seen_ns   BIGINT NOT NULL,
	PRIMARY KEY (device_id, nonce)
);
CREATE INDEX nonces_seen ON nonces (seen_ns);
