-- Version 4: corrections made elsewhere (a manager at central, staff at
-- another door), pulled from central after a cursor (meta
-- sync.corrections_cursor). Kept apart from events: they are not this
-- device's, get no seq and are never pushed back. event_id makes applying
-- them idempotent.
CREATE TABLE remote_corrections (
	event_id  TEXT PRIMARY KEY,
	cursor_no INTEGER NOT NULL,
	wall_ns   INTEGER NOT NULL,
	body      TEXT NOT NULL
) STRICT;
