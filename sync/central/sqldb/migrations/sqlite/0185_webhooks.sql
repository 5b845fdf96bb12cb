-- Signed outgoing webhooks (issue 16). An endpoint is a centre's own system
-- that wants attendance events; webhook_deliveries is the outbox: ingest
-- writes a row per (endpoint, event, type) in its own transaction, and the
-- webhook worker (on any replica) claims due rows with a lease, posts them
-- and records the outcome. Finished rows are pruned after 30 days.
CREATE TABLE webhook_endpoints (
	id                 TEXT PRIMARY KEY,
	location_id        TEXT NOT NULL DEFAULT '', -- '' = every location
	url                TEXT NOT NULL,
	secret             TEXT NOT NULL,            -- the HMAC key; shown to the admin once
	events             TEXT NOT NULL,            -- comma-separated event types
	include_first_name INTEGER NOT NULL DEFAULT 0,
	active             INTEGER NOT NULL DEFAULT 1,
	description        TEXT NOT NULL DEFAULT '',
	created_ns         BIGINT NOT NULL,
	updated_ns         BIGINT NOT NULL
);
CREATE TABLE webhook_deliveries (
	id              TEXT PRIMARY KEY, -- Kinderdeur-Delivery: the receiver's idempotency key
	endpoint_id     TEXT NOT NULL,
	event_id        TEXT NOT NULL,    -- the door event
	event_type      TEXT NOT NULL,    -- the webhook event type
	location_id     TEXT NOT NULL,
	body            TEXT NOT NULL,    -- the payload, fixed when queued
	status          TEXT NOT NULL,    -- pending, delivered, dead
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_ns         BIGINT NOT NULL,  -- when the next attempt is due (pending)
	lease_ns        BIGINT NOT NULL DEFAULT 0, -- a worker holds the attempt until then
	expires_ns      BIGINT NOT NULL,  -- no automatic retry after this
	last_attempt_ns BIGINT,
	last_code       INTEGER NOT NULL DEFAULT 0,
	last_error      TEXT NOT NULL DEFAULT '',
	created_ns      BIGINT NOT NULL,
	finished_ns     BIGINT,
	UNIQUE (endpoint_id, event_id, event_type)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_ns);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_ns);
