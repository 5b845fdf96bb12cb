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
func TestMigrateFromEachVersion(t *testing.T) {
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	for from := 0; from < len(ms); from++ {
		t.Run(fmt.Sprintf("from v%d", from), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "kiosk.db")
			db, err := sql.Open("sqlite3", DSN(path))
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range ms[:from] {
				if _, err := db.Exec(m.sql); err != nil {
					t.Fatal(err)
				}
				if _, err := db.Exec(fmt.Sprintf("PRAGMA user_version = %d", m.version)); err != nil {
					t.Fatal(err)
				}
			}
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
