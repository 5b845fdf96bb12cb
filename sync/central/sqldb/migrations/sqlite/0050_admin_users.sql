-- Admin side (admin helper): people who sign in to the admin pages, their
-- server-side sessions (only the SHA-256 of a session id is stored) and
-- data-subject requests with their one-month deadline.
CREATE TABLE users (
	id            TEXT PRIMARY KEY,
	email         TEXT NOT NULL UNIQUE,
	name          TEXT NOT NULL,
	role          TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	disabled      INTEGER NOT NULL DEFAULT 0,
	created_ns    BIGINT NOT NULL
);
CREATE TABLE sessions (
	id_hash      TEXT PRIMARY KEY,
	user_id      TEXT NOT NULL,
	user_name    TEXT NOT NULL,
	role         TEXT NOT NULL,
	csrf_token   TEXT NOT NULL,
	created_ns   BIGINT NOT NULL,
	last_seen_ns BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE TABLE subject_requests (
	id          TEXT PRIMARY KEY,
	kind        TEXT NOT NULL,
	subject     TEXT NOT NULL,
	received_ns BIGINT NOT NULL,
	deadline_ns BIGINT NOT NULL,
	done_ns     BIGINT,
	outcome     TEXT NOT NULL DEFAULT '',
	actor       TEXT NOT NULL
);
