-- Several replicas on one database (issue 16). SQLite is one process, so
-- these tables only keep the code path the same as PostgreSQL's; roster
-- changes wake long-polls in process (central.RosterFeed).

CREATE TABLE rate_buckets (
	limiter TEXT NOT NULL,
	key     TEXT NOT NULL,
	tokens  REAL NOT NULL,
	taken   INTEGER NOT NULL DEFAULT 0,
	rate    REAL NOT NULL, -- tokens per nanosecond
	burst   REAL NOT NULL,
	last_ns INTEGER NOT NULL,
	PRIMARY KEY (limiter, key)
);
CREATE INDEX rate_buckets_last ON rate_buckets (last_ns);

CREATE TABLE scheduled_jobs (
	name           TEXT PRIMARY KEY,
	next_run_ns    INTEGER NOT NULL DEFAULT 0,
	lease_until_ns INTEGER NOT NULL DEFAULT 0,
	holder         TEXT NOT NULL DEFAULT '',
	last_run_ns    INTEGER NOT NULL DEFAULT 0,
	last_error     TEXT NOT NULL DEFAULT '',
	runs           INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE central_meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
