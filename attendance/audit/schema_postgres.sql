-- Audit trail, PostgreSQL. Same columns as SQLite; details stay TEXT (not
-- JSONB, which would reorder keys and break the hashes).
CREATE TABLE IF NOT EXISTS audit_log (
	seq       BIGINT PRIMARY KEY,
	at        TEXT   NOT NULL,
	actor     TEXT   NOT NULL,
	action    TEXT   NOT NULL,
	subject   TEXT   NOT NULL,
	details   TEXT   NOT NULL,
	prev_hash TEXT   NOT NULL,
	hash      TEXT   NOT NULL UNIQUE
);
CREATE INDEX IF NOT EXISTS audit_log_subject ON audit_log (subject, seq);
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP;
END
$$;
CREATE OR REPLACE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
	FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE OR REPLACE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
	FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
