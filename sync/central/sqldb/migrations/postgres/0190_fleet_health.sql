-- Fleet health (issue 16). The latest health report of each kiosk, sent with
-- every batch (protocol.HealthReport: versions, counts, reader states; no
-- personal data), and the problems the fleet check found, one row per
-- problem from when it began until it cleared. The open row of a (device,
-- problem) is unique: the replica whose INSERT or UPDATE changes it is the
-- one that notifies, so a problem is mailed once however many replicas run
-- the check.
CREATE TABLE device_health (
	device_id   TEXT PRIMARY KEY,
	reported_ns BIGINT NOT NULL, -- central's clock when the report arrived
	report      TEXT NOT NULL    -- protocol.HealthReport as JSON
);
CREATE TABLE fleet_problems (
	device_id  TEXT NOT NULL,
	problem    TEXT NOT NULL, -- silent, reader_down:NAME, reader_degraded:NAME, clock_unsynced, low_disk, storage
	detail     TEXT NOT NULL,
	since_ns   BIGINT NOT NULL,
	cleared_ns BIGINT,        -- NULL while the problem lasts
	PRIMARY KEY (device_id, problem, since_ns)
);
CREATE UNIQUE INDEX fleet_problems_open ON fleet_problems (device_id, problem) WHERE cleared_ns IS NULL;
