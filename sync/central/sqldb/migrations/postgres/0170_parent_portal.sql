-- Parents' portal (issue 17). A guardian is invited by the e-mail address
-- the centre keeps for them at central (guardian_emails: central only, never
-- in a roster snapshot, so never on a kiosk). A parent account is one
-- e-mail address; it reaches every (location, person) that address is kept
-- for, so a family with children at two locations has one account.
CREATE TABLE guardian_emails (
	location_id TEXT NOT NULL,
	person_id   TEXT NOT NULL,
	email       TEXT NOT NULL,
	withdrawn   INTEGER NOT NULL DEFAULT 0, -- rights withdrawn: the portal shows nothing
	updated_ns  BIGINT NOT NULL,
	PRIMARY KEY (location_id, person_id)
);
CREATE INDEX guardian_emails_email ON guardian_emails (email);
CREATE TABLE parent_accounts (
	id         TEXT PRIMARY KEY,
	email      TEXT NOT NULL UNIQUE,
	handle     TEXT NOT NULL UNIQUE, -- WebAuthn user handle (hex of 32 random bytes)
	created_ns BIGINT NOT NULL
);
-- One pending e-mail code per address: only its argon2id hash is stored.
CREATE TABLE parent_codes (
	email      TEXT PRIMARY KEY,
	code_hash  TEXT NOT NULL,
	expires_ns BIGINT NOT NULL,
	attempts   INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE parent_passkeys (
	id           TEXT PRIMARY KEY, -- credential id, base64url
	account_id   TEXT NOT NULL,
	credential   TEXT NOT NULL,    -- webauthn.Credential as JSON (public key, counters)
	created_ns   BIGINT NOT NULL,
	last_used_ns BIGINT NOT NULL
);
CREATE INDEX parent_passkeys_account ON parent_passkeys (account_id);
CREATE TABLE parent_sessions (
	id_hash      TEXT PRIMARY KEY,
	user_id      TEXT NOT NULL,
	user_name    TEXT NOT NULL,
	role         TEXT NOT NULL,
	csrf_token   TEXT NOT NULL,
	created_ns   BIGINT NOT NULL,
	last_seen_ns BIGINT NOT NULL
);
CREATE INDEX parent_sessions_user ON parent_sessions (user_id);
-- Absences reported by parents: billing reads them (kind sick, late_cancel
-- or cancel) and staff see the expected children without them.
CREATE TABLE parent_absences (
	id          TEXT PRIMARY KEY,
	account_id  TEXT NOT NULL,
	location_id TEXT NOT NULL,
	child_id    TEXT NOT NULL,
	day         TEXT NOT NULL, -- YYYY-MM-DD
	kind        TEXT NOT NULL,
	note        TEXT NOT NULL DEFAULT '',
	reported_ns BIGINT NOT NULL,
	withdrawn_ns BIGINT
);
CREATE INDEX parent_absences_loc_day ON parent_absences (location_id, day);
