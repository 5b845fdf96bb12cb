-- Version 3: fewer pages written per tap. Nothing on the tap path reads
-- events by child or staff (presence is folded in memory at start-up; the
-- daily purge can scan), so the two partial indexes only cost each commit
-- two more B-tree pages to write and fsync.
DROP INDEX events_child;
DROP INDEX events_staff;
