-- API tokens for people and scripts using the admin API (roles from
-- sync/central/auth). Only the SHA-256 of a token is stored.
CREATE TABLE api_tokens (
	hash       TEXT PRIMARY KEY,
	id         TEXT NOT NULL UNIQUE,
	name       TEXT NOT NULL,
	role       TEXT NOT NULL,
	created_ns BIGINT NOT NULL,
	revoked_ns BIGINT
);
