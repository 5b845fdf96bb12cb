-- Parents' portal, second round.
-- An absence is reported once per child and day: earlier duplicates (the
-- latest report stands) are withdrawn, then a partial unique index keeps it so.
UPDATE parent_absences SET withdrawn_ns = reported_ns
WHERE withdrawn_ns IS NULL AND EXISTS (
	SELECT 1 FROM parent_absences b
	WHERE b.location_id = parent_absences.location_id AND b.child_id = parent_absences.child_id
	  AND b.day = parent_absences.day AND b.withdrawn_ns IS NULL
	  AND (b.reported_ns < parent_absences.reported_ns OR (b.reported_ns = parent_absences.reported_ns AND b.id < parent_absences.id)));
CREATE UNIQUE INDEX parent_absences_once ON parent_absences (location_id, child_id, day) WHERE withdrawn_ns IS NULL;
-- A guardian's opt-in: an e-mail when their child is checked out by
-- someone other than themselves.
ALTER TABLE guardian_emails ADD COLUMN notify_checkout INTEGER NOT NULL DEFAULT 0;
-- The outbox of those e-mails. Ingest writes a notice per stored check-out
-- of a location with an opted-in guardian, in its own transaction; the
-- notice worker expands it into one mail per recipient (unique per event
-- and address: deduplicated) and sends them with a lease (at least once).
CREATE TABLE checkout_notices (
	event_id    TEXT PRIMARY KEY,
	location_id TEXT NOT NULL,
	child_id    TEXT NOT NULL,
	actor_id    TEXT NOT NULL DEFAULT '',
	time_ns     BIGINT NOT NULL,
	created_ns  BIGINT NOT NULL,
	expanded_ns BIGINT
);
CREATE INDEX checkout_notices_open ON checkout_notices (expanded_ns, created_ns);
CREATE TABLE parent_mails (
	id          TEXT PRIMARY KEY,
	event_id    TEXT NOT NULL,
	email       TEXT NOT NULL,
	subject     TEXT NOT NULL,
	body        TEXT NOT NULL,
	status      TEXT NOT NULL, -- pending, sent, dead
	attempts    INTEGER NOT NULL DEFAULT 0,
	next_ns     BIGINT NOT NULL,
	lease_ns    BIGINT NOT NULL DEFAULT 0,
	last_error  TEXT NOT NULL DEFAULT '',
	created_ns  BIGINT NOT NULL,
	finished_ns BIGINT,
	UNIQUE (event_id, email)
);
CREATE INDEX parent_mails_due ON parent_mails (status, next_ns);
