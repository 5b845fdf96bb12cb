-- Audit trail, SQLite. seq is assigned by the appender (max+1), never by
-- AUTOINCREMENT, so that a gap means a deleted entry. Times and details are
-- TEXT so that the hashed bytes are exactly the stored bytes.
CREATE TABLE IF NOT EXISTS audit_log (
	seq       INTEGER PRIMARY KEY,
	at        TEXT    NOT NULL,
	actor     TEXT    NOT NULL,
	action    TEXT    NOT NULL,
	subject   TEXT    NOT NULL,
	details   TEXT    NOT NULL,
	prev_hash TEXT    NOT NULL,
	hash      TEXT    NOT NULL UNIQUE
);
CREATE INDEX IF NOT EXISTS audit_log_subject ON audit_log (subject, seq);
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
	SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
	SELECT RAISE(ABORT, 'audit_log is append-only');
END;
