-- Version 2: roster snapshots from central, acknowledgements and quarantine.
CREATE TABLE roster (
	id         INTEGER PRIMARY KEY CHECK (id = 1),
	version    INTEGER NOT NULL,
	body       TEXT NOT NULL,
	applied_ns INTEGER NOT NULL
) STRICT;

CREATE TABLE sync_ack (
	id             INTEGER PRIMARY KEY CHECK (id = 1),
	acked_through  INTEGER NOT NULL,
	server_time_ns INTEGER NOT NULL,
	acked_ns       INTEGER NOT NULL
) STRICT;

-- Events central rejected: kept and shown to staff and admins, never resent
-- automatically, never dropped.
CREATE TABLE quarantine (
	seq    INTEGER PRIMARY KEY REFERENCES events (seq),
	reason TEXT NOT NULL,
	at_ns  INTEGER NOT NULL
) STRICT;
