-- Version 5: one B-tree page per tap. A tap's commit wrote three pages:
-- the events row, its entry in the event_id index (UNIQUE) and its outbox
-- row. Each page is a WAL frame to write and fsync, and brings SQLite's
-- automatic checkpoint (every 1,000 frames) three times closer.
--
-- The outbox becomes a watermark: an event waits for central while its seq
-- is above sync_ack.acked_through and it is not quarantined (central's
-- acknowledgement is a prefix, protocol.BatchResponse). The event_id index
-- goes: event ids are UUIDv7 made by Append, nothing on the kiosk looks an
-- event up by id alone (a remote correction this device made is found by
-- its seq, then its id), and central enforces uniqueness per device.
--
-- The migration runs with foreign keys off and is checked before it
-- commits (store.migrate), as SQLite's documented table rebuild requires.
-- The events go through a temporary copy (in memory: store.migrate sets
-- temp_store) so that the new table takes the pages the old one frees:
-- the file does not grow, and the WAL holds about one copy of the events.
CREATE TEMP TABLE events_v4 AS
	SELECT seq, event_id, type, child_id, staff_id, wall_ns, body FROM events;

-- Nothing waiting may be forgotten: should the outbox hold a row at or
-- below the watermark (it never should), the watermark moves back below
-- it. Central takes a resend as a duplicate; a lost event is lost.
UPDATE sync_ack SET acked_through = (SELECT min(seq) - 1 FROM outbox)
	WHERE acked_through >= (SELECT min(seq) FROM outbox);

DROP TABLE outbox;
DROP TABLE events;
CREATE TABLE events (
	seq      INTEGER PRIMARY KEY,
	event_id TEXT NOT NULL,
	type     TEXT NOT NULL,
	child_id TEXT,
	staff_id TEXT,
	wall_ns  INTEGER NOT NULL,
	body     TEXT NOT NULL
) STRICT;
INSERT INTO events (seq, event_id, type, child_id, staff_id, wall_ns, body)
	SELECT seq, event_id, type, child_id, staff_id, wall_ns, body FROM temp.events_v4 ORDER BY seq;
DROP TABLE temp.events_v4;
