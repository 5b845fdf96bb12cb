package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/roster"
)

func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "kiosk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func checkIn(child string) attendance.Event {
	return attendance.Event{Type: attendance.ChildCheckIn, ChildID: child, Wall: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC), BootID: "b1"}
}

func TestEventsSurviveReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kiosk.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	got, err := s.Append(ctx, checkIn("c-1"), checkIn("c-2"))
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Seq != 1 || got[1].Seq != 2 || got[0].ID == "" || got[0].DeviceID != s.DeviceID() {
		t.Fatalf("append assigned %+v", got)
	}
	dev := s.DeviceID()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.DeviceID() != dev {
		t.Errorf("device id changed across reopen: %q -> %q", dev, s.DeviceID())
	}
	var seen []string
	if err := s.Events(ctx, 0, func(e attendance.Event) error { seen = append(seen, e.ChildID); return nil }); err != nil {
		t.Fatal(err)
	}
	if strings.Join(seen, ",") != "c-1,c-2" {
		t.Errorf("after reopen: %v", seen)
	}
	more, err := s.Append(ctx, checkIn("c-3"))
	if err != nil {
		t.Fatal(err)
	}
	if more[0].Seq != 3 {
		t.Errorf("seq after reopen = %d, want 3", more[0].Seq)
	}
}

func TestPragmaCheckRefusesUnsafeDatabase(t *testing.T) {
	for _, tt := range []struct{ name, query, want string }{
		{"no wal", "_synchronous=FULL&_busy_timeout=5000&_foreign_keys=on", "journal_mode=delete"},
		{"normal sync", "_journal_mode=WAL&_synchronous=NORMAL&_busy_timeout=5000&_foreign_keys=on", "synchronous=1"},
		{"no foreign keys", "_journal_mode=WAL&_synchronous=FULL&_busy_timeout=5000&_foreign_keys=off", "foreign_keys=off"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "kiosk.db")
			_, err := openDSN(path, "file:"+path+"?"+tt.query, Options{})
			if !errors.Is(err, ErrPragma) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("open = %v, want ErrPragma mentioning %q", err, tt.want)
			}
		})
	}
}

// TestMigrateFromEachVersion builds a database at every older schema version
// with data in it, then opens it with the current code.
// schemaAt creates a database at path as the store of schema version v
// left it (no rows), and returns an open handle to fill it.
func schemaAt(t *testing.T, path string, v int) *sql.DB {
	t.Helper()
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite3", DSN(path))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	for _, m := range ms[:v] {
		if _, err := db.Exec(m.sql); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(fmt.Sprintf("PRAGMA user_version = %d", v)); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestMigrateFromEachVersion(t *testing.T) {
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	for from := 0; from < len(ms); from++ {
		t.Run(fmt.Sprintf("from v%d", from), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "kiosk.db")
			db := schemaAt(t, path, from)
			if from >= 1 {
				if _, err := db.Exec(`INSERT INTO events (seq, event_id, type, child_id, wall_ns, body) VALUES
					(1, 'e1', 'child_check_in', 'c-1', 0, '{"event_id":"e1","seq":1,"type":"child_check_in","child_id":"c-1"}')`); err != nil {
					t.Fatal(err)
				}
				if _, err := db.Exec(`INSERT INTO meta (key, value) VALUES ('last_seq', '1')`); err != nil {
					t.Fatal(err)
				}
			}
			db.Close()
			s, err := Open(path)
			if err != nil {
				t.Fatalf("migrate from v%d: %v", from, err)
			}
			defer s.Close()
			var v int
			s.db.QueryRow("PRAGMA user_version").Scan(&v)
			if v != len(ms) {
				t.Errorf("user_version = %d, want %d", v, len(ms))
			}
			evs, err := s.Append(context.Background(), checkIn("c-2"))
			if err != nil {
				t.Fatal(err)
			}
			if want := int64(min(from, 1) + 1); evs[0].Seq != want {
				t.Errorf("seq = %d, want %d", evs[0].Seq, want)
			}
			if from >= 1 {
				if _, err := os.Stat(fmt.Sprintf("%s.pre-v%d.bak", path, len(ms))); err != nil {
					t.Errorf("no backup taken before migrating: %v", err)
				}
			}
		})
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kiosk.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s.db.Exec(fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion()+1))
	s.Close()
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), "newer than this build") {
		t.Fatalf("open newer schema = %v", err)
	}
}

func TestOutboxAckQuarantine(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		if _, err := s.Append(ctx, checkIn(fmt.Sprint("c-", i))); err != nil {
			t.Fatal(err)
		}
	}
	items, err := s.Outbox(ctx, 0, 3)
	if err != nil || len(items) != 3 || items[0].Seq != 1 {
		t.Fatalf("outbox = %v, %v", items, err)
	}
	again, _ := s.Outbox(ctx, 0, 3)
	if string(again[0].Body) != string(items[0].Body) {
		t.Error("outbox body changed between reads")
	}
	if err := s.Ack(ctx, 2, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.Quarantine(ctx, 3, "unknown child"); err != nil {
		t.Fatal(err)
	}
	items, _ = s.Outbox(ctx, 0, 10)
	if len(items) != 2 || items[0].Seq != 4 {
		t.Fatalf("after ack+quarantine: %+v", items)
	}
	if err := s.Ack(ctx, 1, time.Now()); err != nil { // an old ack does not go backwards
		t.Fatal(err)
	}
	st, err := s.SyncStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st != (SyncStatus{LastSeq: 5, AckedThrough: 2, Pending: 2, Quarantined: 1, LastAckAt: st.LastAckAt, OldestPending: st.OldestPending}) || st.LastAckAt.IsZero() || st.OldestPending.IsZero() {
		t.Errorf("status = %+v", st)
	}
	if err := s.BumpSeq(ctx, 100); err != nil {
		t.Fatal(err)
	}
	evs, _ := s.Append(ctx, checkIn("c-x"))
	if evs[0].Seq != 101 {
		t.Errorf("seq after bump = %d, want 101", evs[0].Seq)
	}
}

func TestRosterAtomicAndVersioned(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	if _, err := s.Roster(ctx); !errors.Is(err, attendance.ErrNotFound) {
		t.Fatalf("empty roster = %v", err)
	}
	r, _ := roster.Demo(attendance.MustDate("2026-03-02"))
	if err := s.ApplyRoster(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := s.ApplyRoster(ctx, r); !errors.Is(err, ErrStaleRoster) {
		t.Errorf("same version again = %v, want ErrStaleRoster", err)
	}
	bad := r
	bad.Version++
	bad.Children = append([]roster.Child{{ID: "c-x", FirstName: "X", GroupID: "nope"}}, r.Children...)
	if err := s.ApplyRoster(ctx, bad); err == nil {
		t.Error("invalid roster applied")
	}
	got, err := s.Roster(ctx)
	if err != nil || got.Version != r.Version || len(got.Children) != len(r.Children) {
		t.Errorf("roster after refused update: v%d, %d children, %v", got.Version, len(got.Children), err)
	}
}

func TestDiskFullLosesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kiosk.db")
	s, err := OpenWith(path, Options{MaxPages: 40})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	var ok int64
	var full error
	for i := 0; i < 10000; i++ {
		e := checkIn(fmt.Sprint("c-", i))
		e.Note = strings.Repeat("x", 500)
		if _, err := s.Append(ctx, e); err != nil {
			full = err
			break
		}
		ok++
	}
	if !errors.Is(full, ErrDiskFull) {
		t.Fatalf("want ErrDiskFull, got %v after %d events", full, ok)
	}
	var n int64
	s.Events(ctx, 0, func(attendance.Event) error { n++; return nil })
	if n != ok {
		t.Errorf("stored %d events, %d were acknowledged", n, ok)
	}
	st, _ := s.SyncStatus(ctx)
	if st.LastSeq != ok {
		t.Errorf("last seq %d after full disk, want %d", st.LastSeq, ok)
	}
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Error(err)
	}
}

func TestBackup(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	s.Append(ctx, checkIn("c-1"))
	dest := filepath.Join(t.TempDir(), "backup.db")
	if err := s.Backup(ctx, dest); err != nil {
		t.Fatal(err)
	}
	if err := s.Backup(ctx, dest); err == nil {
		t.Error("backup over an existing file succeeded")
	}
	b, err := Open(dest)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	st, _ := b.SyncStatus(ctx)
	if st.LastSeq != 1 || b.DeviceID() != s.DeviceID() {
		t.Errorf("backup: %+v %s", st, b.DeviceID())
	}
}

func TestPurgeKeepsUnsyncedRecentAndPresence(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	s, err := OpenWith(filepath.Join(t.TempDir(), "kiosk.db"), Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	old := now.Add(-60 * 24 * time.Hour)
	ev := func(typ attendance.EventType, child string, at time.Time) attendance.Event {
		return attendance.Event{Type: typ, ChildID: child, Wall: at}
	}
	// c-1 came and went long ago; c-2 checked in long ago and is still in
	// (a forgotten check-out); c-3 is recent; the last old event is unsynced.
	s.Append(ctx,
		ev(attendance.ChildCheckIn, "c-1", old), ev(attendance.ChildCheckOut, "c-1", old.Add(time.Hour)),
		ev(attendance.ChildCheckIn, "c-1", old.Add(24*time.Hour)), ev(attendance.ChildCheckOut, "c-1", old.Add(25*time.Hour)),
		ev(attendance.ChildCheckIn, "c-2", old),
		ev(attendance.ChildCheckIn, "c-3", now.Add(-time.Hour)))
	s.Ack(ctx, 5, now) // central has everything but c-3's check-in
	if _, err := s.Purge(ctx, 2*7*24*time.Hour); !errors.Is(err, ErrRetentionTooShort) {
		t.Errorf("purge with 2 weeks = %v, want ErrRetentionTooShort", err)
	}
	n, err := s.Purge(ctx, MinRetention)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("purged %d events, want 3 (c-1's first visit and its second check-in)", n)
	}
	before := attendance.NewPresence()
	before.Apply(ev(attendance.ChildCheckIn, "c-2", old))
	before.Apply(ev(attendance.ChildCheckIn, "c-3", now))
	after := attendance.NewPresence()
	s.Events(ctx, 0, func(e attendance.Event) error { after.Apply(e); return nil })
	if after.CountChildren() != 2 {
		t.Errorf("presence after purge: %v", after.Children())
	}
	if _, ok := after.Child("c-2"); !ok {
		t.Error("the forgotten check-out of c-2 was purged")
	}
}

// TestMigrateOutboxToWatermark upgrades a v4 database (outbox table,
// event_id index) holding acknowledged, waiting and quarantined events:
// afterwards exactly the same events wait, nothing refers to a missing
// event, foreign keys are on again, and the sequence goes on.
func TestMigrateOutboxToWatermark(t *testing.T) {
	for _, tc := range []struct {
		name   string
		acked  int    // sync_ack's watermark
		outbox string // the v4 outbox rows
		want   []int64
	}{
		{"as it always is", 5, "(6),(7),(8),(9),(10)", []int64{6, 8, 9, 10}},
		{"all acknowledged", 10, "", nil},
		// States the store never wrote, resolved towards sending again
		// (central takes a resend as a duplicate) rather than forgetting:
		// a row at or below the watermark moves the watermark under it,
		// and an event above it without a row waits.
		{"a row below the watermark", 5, "(4),(6),(7),(8),(9),(10)", []int64{4, 5, 6, 8, 9, 10}},
		{"an event above it without a row", 5, "(6),(7),(9),(10)", []int64{6, 8, 9, 10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "kiosk.db")
			db := schemaAt(t, path, 4)
			for i := 1; i <= 10; i++ {
				if _, err := db.Exec("INSERT INTO events (seq, event_id, type, child_id, wall_ns, body) VALUES (?, ?, 'child_check_in', 'c-1', ?, ?)",
					i, fmt.Sprint("e", i), i, fmt.Sprintf(`{"event_id":"e%d","seq":%d}`, i, i)); err != nil {
					t.Fatal(err)
				}
			}
			for _, q := range []string{
				fmt.Sprintf("INSERT INTO sync_ack (id, acked_through, server_time_ns, acked_ns) VALUES (1, %d, 1, 1)", tc.acked),
				"INSERT INTO quarantine (seq, reason, at_ns) VALUES (7, 'unknown child', 1)",
			} {
				if _, err := db.Exec(q); err != nil {
					t.Fatal(err)
				}
			}
			if tc.outbox != "" {
				if _, err := db.Exec("INSERT INTO outbox (seq) VALUES " + tc.outbox); err != nil {
					t.Fatal(err)
				}
			}
			db.Close()

			s, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			items, err := s.Outbox(ctx, 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, it := range items {
				got = append(got, it.Seq)
				if it.EventID != fmt.Sprint("e", it.Seq) || string(it.Body) != fmt.Sprintf(`{"event_id":"e%d","seq":%d}`, it.Seq, it.Seq) {
					t.Errorf("item %d changed: %q %s", it.Seq, it.EventID, it.Body)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("waiting after the upgrade = %v, want %v", got, tc.want)
			}
			if q, err := s.Quarantined(ctx); err != nil || len(q) != 1 || q[0].Seq != 7 {
				t.Errorf("quarantine = %+v, %v", q, err)
			}
			var fk int
			s.db.QueryRow("PRAGMA foreign_keys").Scan(&fk)
			if fk != 1 {
				t.Error("foreign keys are off after migrating")
			}
			if rows, err := s.db.Query("PRAGMA foreign_key_check"); err != nil || rows.Next() {
				t.Errorf("a dangling reference after migrating (%v)", err)
			}
			var tables int
			s.db.QueryRow("SELECT count(*) FROM sqlite_schema WHERE name IN ('outbox', 'events_v5')").Scan(&tables)
			if tables != 0 {
				t.Error("the old outbox or the rebuild's table is still there")
			}
			evs, err := s.Append(ctx, checkIn("c-2"))
			if err != nil || evs[0].Seq != 11 {
				t.Fatalf("append after the upgrade = %+v, %v", evs, err)
			}
			// The new event waits too, and an ack through it empties the outbox.
			if items, _ := s.Outbox(ctx, 10, 100); len(items) != 1 || items[0].Seq != 11 {
				t.Errorf("new event not waiting: %+v", items)
			}
			if err := s.Ack(ctx, 11, time.Now()); err != nil {
				t.Fatal(err)
			}
			if items, _ := s.Outbox(ctx, 0, 100); len(items) != 0 {
				t.Errorf("outbox after acking everything = %+v", items)
			}
		})
	}
}

// TestMigrationWithADanglingReferenceIsRefused: migrations run with
// foreign keys off (a table rebuild needs that), so each is checked before
// it commits.
func TestMigrationWithADanglingReferenceIsRefused(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.ExecContext(ctx, "PRAGMA foreign_keys = OFF")
	defer conn.ExecContext(ctx, "PRAGMA foreign_keys = ON")
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = applyMigration(ctx, tx, migration{version: 99, name: "099_bad.sql",
		sql: "INSERT INTO quarantine (seq, reason, at_ns) VALUES (12345, 'x', 0)"})
	tx.Rollback()
	if err == nil || !strings.Contains(err.Error(), "refers to a missing") {
		t.Fatalf("a migration leaving a dangling reference = %v", err)
	}
	var n int
	conn.QueryRowContext(ctx, "SELECT count(*) FROM quarantine").Scan(&n)
	if n != 0 {
		t.Error("the refused migration's row was committed")
	}
}

// TestTapWritesOnePage: a tap's commit writes one B-tree page (the events
// table's last leaf), as a bare insert does; it wrote three while the
// outbox was a table and event_id had an index. Each page is a WAL frame
// to write and sync, and SQLite's automatic checkpoint comes every 1,000
// frames. Counted from the WAL's size, so it does not depend on the disk.
func TestTapWritesOnePage(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	if _, err := s.db.Exec("PRAGMA wal_autocheckpoint = 0"); err != nil {
		t.Fatal(err)
	}
	defer s.db.Exec("PRAGMA wal_autocheckpoint = 1000")
	frames := func() int64 {
		fi, err := os.Stat(s.Path() + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		return (fi.Size() - 32) / (4096 + 24)
	}
	tap := func(i int) {
		e := attendance.Event{Type: attendance.ChildCheckIn, ChildID: fmt.Sprint("c-", i%500), GroupID: "g-1",
			Wall: time.Now(), BootID: "b", Reader: "entrance", RosterVersion: 12, LocationID: "loc-1"}
		if _, err := s.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 100 {
		tap(i)
	}
	const n = 500
	f0 := frames()
	for i := range n {
		tap(i)
	}
	// A leaf holds about ten events: a split writes a new leaf and the
	// parent now and then, so a little over one page a tap.
	if per := float64(frames()-f0) / n; per > 1.5 {
		t.Errorf("a tap's commit writes %.2f pages, want about 1", per)
	} else {
		t.Logf("%.2f pages per tap", per)
	}
}

// v4Database writes a database as the v4 store left it: events 1-10, the
// first five acknowledged and the rest in the outbox table.
func v4Database(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kiosk.db")
	db := schemaAt(t, path, 4)
	defer db.Close()
	for _, q := range []string{
		"INSERT INTO meta (key, value) VALUES ('device_id', 'kiosk-v4')",
		"INSERT INTO sync_ack (id, acked_through, server_time_ns, acked_ns) VALUES (1, 5, 1, 1)",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i <= 10; i++ {
		if _, err := db.Exec("INSERT INTO events (seq, event_id, type, child_id, wall_ns, body) VALUES (?, ?, 'child_check_in', 'c-1', ?, '{}')",
			i, fmt.Sprint("e", i), i); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec("INSERT INTO outbox (seq) VALUES (6), (7), (8), (9), (10)"); err != nil {
		t.Fatal(err)
	}
	return path
}

func userVersion(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite3", DSN(path))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v int
	if err := db.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestAsItIsLeavesTheSchemaAlone: kioskctl opens the live database beside
// a kioskd that may be another build. Migrating it there broke the running
// daemon (a v4 kioskd's taps failed with "no such table: outbox" once a v5
// kioskctl had opened its database): opened as it is, nothing changes, a
// backup and the watermarks still work, and writes are refused.
func TestAsItIsLeavesTheSchemaAlone(t *testing.T) {
	path := v4Database(t)
	s, err := OpenWith(path, Options{AsItIs: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if last, acked, err := s.Watermarks(ctx); err != nil || last != 10 || acked != 5 {
		t.Errorf("watermarks = %d, %d, %v; want 10, 5", last, acked, err)
	}
	if s.DeviceID() != "kiosk-v4" {
		t.Errorf("device id = %q", s.DeviceID())
	}
	dest := filepath.Join(t.TempDir(), "backup.db")
	if err := s.Backup(ctx, dest); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, checkIn("c-2")); !errors.Is(err, ErrAsItIs) {
		t.Errorf("append through an as-it-is store = %v", err)
	}
	s.Close()
	if v := userVersion(t, path); v != 4 {
		t.Errorf("the live database is at v%d after kioskctl, want 4", v)
	}
	if v := userVersion(t, dest); v != 4 {
		t.Errorf("the backup is at v%d, want 4 (a copy as it was)", v)
	}
	if _, err := os.Stat(path + ".pre-v5.bak"); err == nil {
		t.Error("opening as it is took a migration backup")
	}
	if _, err := OpenWith(filepath.Join(t.TempDir(), "none.db"), Options{AsItIs: true}); err == nil || !strings.Contains(err.Error(), "no kiosk database") {
		t.Errorf("as it is, no file = %v", err)
	}
	// An empty file stays empty (SQLite would have made it a database).
	empty := filepath.Join(t.TempDir(), "empty.db")
	os.WriteFile(empty, nil, 0o600)
	if _, err := OpenWith(empty, Options{AsItIs: true}); err == nil || !strings.Contains(err.Error(), "not an SQLite database") {
		t.Errorf("as it is, an empty file = %v", err)
	}
	if fi, _ := os.Stat(empty); fi.Size() != 0 {
		t.Errorf("the empty file is now %d bytes", fi.Size())
	}
	// Every write is refused, not only Append.
	s, err = OpenWith(path, Options{AsItIs: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for name, write := range map[string]func() error{
		"SetMeta":    func() error { return s.SetMeta(ctx, "x", "y") },
		"Ack":        func() error { return s.Ack(ctx, 10, time.Now()) },
		"Quarantine": func() error { return s.Quarantine(ctx, 6, "x") },
		"BumpSeq":    func() error { return s.BumpSeq(ctx, 100) },
	} {
		if err := write(); err == nil {
			t.Errorf("%s through an as-it-is store wrote", name)
		}
	}
}

// TestMigrationNeedsRoom: a migration first checks that the backup and the
// rebuild fit; if not it says how much room it needs and leaves the
// database and the disk as they were. One that fails later (here its
// foreign key check) removes its backup: the old build needs that space.
func TestMigrationNeedsRoom(t *testing.T) {
	t.Run("checked before the backup", func(t *testing.T) {
		path := v4Database(t)
		defer func(f func(string) (int64, error)) { freeBytes = f }(freeBytes)
		freeBytes = func(string) (int64, error) { return 100 << 10, nil }
		_, err := Open(path)
		if !errors.Is(err, ErrDiskFull) || !strings.Contains(err.Error(), "MiB free") {
			t.Fatalf("open with 100 KiB free = %v", err)
		}
		if v := userVersion(t, path); v != 4 {
			t.Errorf("schema v%d after a refused migration", v)
		}
		if _, err := os.Stat(path + ".pre-v5.bak"); err == nil {
			t.Error("a backup was written although it could not fit")
		}
	})
	t.Run("a failed migration leaves no backup", func(t *testing.T) {
		path := v4Database(t)
		// A quarantine row whose event is gone (foreign keys were off when
		// it was written): the migration's foreign key check refuses to
		// commit, after the backup was taken.
		db, _ := sql.Open("sqlite3", DSN(path))
		db.Exec("PRAGMA foreign_keys = OFF")
		if _, err := db.Exec("INSERT INTO quarantine (seq, reason, at_ns) VALUES (999, 'x', 0)"); err != nil {
			t.Fatal(err)
		}
		db.Close()
		if _, err := Open(path); err == nil || !strings.Contains(err.Error(), "refers to a missing") {
			t.Fatalf("open with a dangling quarantine row = %v", err)
		}
		if v := userVersion(t, path); v != 4 {
			t.Errorf("schema v%d after a failed migration", v)
		}
		if _, err := os.Stat(path + ".pre-v5.bak"); err == nil {
			t.Error("the failed migration's backup was left behind")
		}
		db, _ = sql.Open("sqlite3", DSN(path))
		db.Exec("DELETE FROM quarantine WHERE seq = 999")
		db.Close()
		s, err := Open(path) // with room, it goes through
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if items, err := s.Outbox(context.Background(), 0, 100); err != nil || len(items) != 5 {
			t.Errorf("outbox after the upgrade = %d items, %v", len(items), err)
		}
		if _, err := os.Stat(path + ".pre-v5.bak"); err != nil {
			t.Errorf("no backup after the upgrade: %v", err)
		}
	})
}

// TestMigrationsAreAllOrNothing: the pending migrations commit together.
// An upgrade from v3 whose last step fails leaves v3 as it was (a v4 left
// behind would match neither build's backup nor the new build).
func TestMigrationsAreAllOrNothing(t *testing.T) {
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	v3 := func(t *testing.T) *Store {
		path := filepath.Join(t.TempDir(), "kiosk.db")
		return &Store{db: schemaAt(t, path, 3), path: path} // not migrated: applyMigrations runs on it
	}
	ctx := context.Background()
	state := func(s *Store) (v, tables, fk int) {
		s.db.QueryRow("PRAGMA user_version").Scan(&v)
		s.db.QueryRow("SELECT count(*) FROM sqlite_schema WHERE name = 'remote_corrections'").Scan(&tables)
		s.db.QueryRow("PRAGMA foreign_keys").Scan(&fk)
		return
	}
	// The control: the same two steps, both sound, commit together.
	s := v3(t)
	if committed, err := s.applyMigrations(ctx, ms[3:5]); err != nil || !committed {
		t.Fatalf("v3 -> v5 = committed %v, %v", committed, err)
	}
	if v, tables, fk := state(s); v != 5 || tables != 1 || fk != 1 {
		t.Errorf("after v3 -> v5: v%d, remote_corrections %d, foreign keys %d", v, tables, fk)
	}
	// The second step fails: the first is not kept either.
	s = v3(t)
	committed, err := s.applyMigrations(ctx, []migration{ms[3], {version: 5, name: "005_broken.sql", sql: "INSERT INTO no_such_table VALUES (1)"}})
	if err == nil || committed || !strings.Contains(err.Error(), "005_broken.sql") {
		t.Fatalf("a failing second step = committed %v, %v", committed, err)
	}
	if v, tables, fk := state(s); v != 3 || tables != 0 || fk != 1 {
		t.Errorf("after a failed upgrade: v%d, remote_corrections %d, foreign keys %d; want v3 as it was, foreign keys on", v, tables, fk)
	}
}

// TestMigrationToV5DoesNotGrowTheFile: roomToMigrate counts on the v5
// rebuild needing the backup and about one copy of the events in the WAL,
// not a second copy in the database file (the first version of the
// migration grew the file by the events' size, and a disk that passed the
// check was full after it). The events go through a temporary table in
// memory, and the new table takes the pages the old one freed.
func TestMigrationToV5DoesNotGrowTheFile(t *testing.T) {
	path := v4Database(t)
	db, err := sql.Open("sqlite3", DSN(path))
	if err != nil {
		t.Fatal(err)
	}
	tx, _ := db.Begin()
	body := fmt.Sprintf(`{"pad":"%0450d"}`, 0)
	for i := 11; i <= 20000; i++ {
		if _, err := tx.Exec("INSERT INTO events (seq, event_id, type, child_id, wall_ns, body) VALUES (?, ?, 'child_check_in', 'c-1', ?, ?)",
			i, fmt.Sprintf("01a24374-8d08-72b9-bdad-%012d", i), i, body); err != nil {
			t.Fatal(err)
		}
	}
	tx.Exec("UPDATE sync_ack SET acked_through = 19990")
	tx.Exec("DELETE FROM outbox")
	tx.Exec("INSERT INTO outbox (seq) SELECT seq FROM events WHERE seq > 19990")
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	db.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	db.Close()
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s.Checkpoint(context.Background())
	after, _ := os.Stat(path)
	if items, _ := s.Outbox(context.Background(), 0, 100); len(items) != 10 {
		t.Errorf("%d waiting after the upgrade, want 10", len(items))
	}
	s.Close()
	if after.Size() > before.Size()+before.Size()/20 {
		t.Errorf("the database grew from %d to %d KiB migrating to v5", before.Size()>>10, after.Size()>>10)
	}
}
