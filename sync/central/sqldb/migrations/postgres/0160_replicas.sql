-- Several replicas on one database (issue 16): what must not live in one
-- process's memory lives here.

-- Shared token buckets (auth.Limiter.Shared): the sign-in limits hold
-- across every replica behind the load balancer.
CREATE TABLE rate_buckets (
	limiter TEXT NOT NULL,
	key     TEXT NOT NULL,
	tokens  DOUBLE PRECISION NOT NULL,
	taken   INTEGER NOT NULL DEFAULT 0,
	rate    DOUBLE PRECISION NOT NULL, -- tokens per nanosecond
	burst   DOUBLE PRECISION NOT NULL,
	last_ns BIGINT NOT NULL,
	PRIMARY KEY (limiter, key)
);
CREATE INDEX rate_buckets_last ON rate_buckets (last_ns);

-- Scheduled work runs once per schedule across replicas: a replica claims
-- a due job with a conditional UPDATE (next run moved on, lease taken).
CREATE TABLE scheduled_jobs (
	name           TEXT PRIMARY KEY,
	next_run_ns    BIGINT NOT NULL DEFAULT 0,
	lease_until_ns BIGINT NOT NULL DEFAULT 0,
	holder         TEXT NOT NULL DEFAULT '',
	last_run_ns    BIGINT NOT NULL DEFAULT 0,
	last_error     TEXT NOT NULL DEFAULT '',
	runs           BIGINT NOT NULL DEFAULT 0
);

-- Settings every replica must agree on (the PIN pepper's fingerprint).
CREATE TABLE central_meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);

-- Any new or rewritten roster version, from any replica and any code path,
-- wakes the kiosks' roster long-polls on every replica (LISTEN).
CREATE FUNCTION kinderdeur_roster_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('kinderdeur_roster', TG_TABLE_SCHEMA || ' ' || NEW.location_id);
	RETURN NULL;
END
$$;
CREATE TRIGGER rosters_notify AFTER INSERT OR UPDATE ON rosters
	FOR EACH ROW EXECUTE FUNCTION kinderdeur_roster_notify();
