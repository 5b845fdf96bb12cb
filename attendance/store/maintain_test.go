package store

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
)

// lockedBuffer is a log sink the maintenance goroutine and the test share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestMaintainPurgesAtOnceAndStopsWithItsContext(t *testing.T) {
	s := openTemp(t)
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	// A keep below the minimum makes every purge fail loudly: the log shows
	// that one ran at start and again on the purge ticker.
	go func() {
		done <- s.maintain(ctx, time.Hour, log, maintainEvery{idle: time.Millisecond, minWrites: 1, purge: 5 * time.Millisecond})
	}()
	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(logs.String(), "retention purge") < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("maintain() = %v, want nil after cancel", err)
	}
	got := logs.String()
	if n := strings.Count(got, "retention purge"); n < 2 || strings.Contains(got, "wal checkpoint") {
		t.Errorf("log after maintenance (%d purges, want >= 2 and no checkpoint warning):\n%s", n, got)
	}
}

// eventsInMainFile counts the events in a copy of the database file alone,
// without its WAL: what a checkpoint has folded in (-1 while the file does
// not even hold the schema).
func eventsInMainFile(t *testing.T, s *Store) int {
	t.Helper()
	data, err := os.ReadFile(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	cp := filepath.Join(t.TempDir(), "main-only.db")
	if err := os.WriteFile(cp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite3", "file:"+cp+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM events").Scan(&n); err != nil {
		if strings.Contains(err.Error(), "no such table") {
			return -1
		}
		t.Fatalf("read the copy of the main file: %v", err)
	}
	return n
}

func walSize(t *testing.T, s *Store) int64 {
	t.Helper()
	fi, err := os.Stat(s.Path() + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestMaintainCheckpointsWhenTheDoorGoesQuiet: once commits stop for the
// idle time, the WAL is folded into the database file, and the next commit
// writes the WAL from its start again (the file does not grow), so that
// taps neither pay for a checkpoint nor for a growing file.
func TestMaintainCheckpointsWhenTheDoorGoesQuiet(t *testing.T) {
	s := openTemp(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- s.maintain(ctx, MinRetention, slog.New(slog.DiscardHandler), maintainEvery{idle: 50 * time.Millisecond, minWrites: 1, purge: time.Hour})
	}()
	defer func() {
		cancel()
		<-done
	}()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("after 10 s: %s", what)
			}
		}
	}
	for i := range 40 {
		if _, err := s.Append(ctx, checkIn(fmt.Sprint("c-", i))); err != nil {
			t.Fatal(err)
		}
	}
	waitFor("the 40 events are in the database file", func() bool { return eventsInMainFile(t, s) == 40 })
	size := walSize(t, s)
	if size == 0 {
		t.Fatal("the idle checkpoint truncated the WAL; the next commits would grow it again")
	}
	if _, err := s.Append(ctx, checkIn("c-after")); err != nil {
		t.Fatal(err)
	}
	if got := walSize(t, s); got != size {
		t.Errorf("WAL after one more commit: %d bytes, want %d (written from its start, not appended)", got, size)
	}
	waitFor("the 41st event is in the database file", func() bool { return eventsInMainFile(t, s) == 41 })
}

// TestIdleCheckpointLeavesNothingForTheNextTap: after the idle checkpoint
// the next tap's commit neither checkpoints (the main file is untouched)
// nor starts the WAL over (the header sync that costs one more fsync). The
// control shows what a bare checkpoint would leave to the tap.
func TestIdleCheckpointLeavesNothingForTheNextTap(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	for i := range 300 { // more than 1,000 WAL pages: SQLite checkpoints on its own
		if _, err := s.Append(ctx, checkIn(fmt.Sprint("c-", i))); err != nil {
			t.Fatal(err)
		}
	}
	if done, err := s.checkpointIdle(ctx); !done || err != nil {
		t.Fatalf("checkpointIdle() = %v, %v; want done", done, err)
	}
	restarts, stamp := walHeaderRestarts(t, s), mainStamp(t, s)
	for i := range 20 {
		if _, err := s.Append(ctx, checkIn(fmt.Sprint("next-", i))); err != nil {
			t.Fatal(err)
		}
		if got := walHeaderRestarts(t, s); got != restarts {
			t.Fatalf("tap %d after the idle checkpoint started the WAL over (%d -> %d)", i, restarts, got)
		}
		if got := mainStamp(t, s); got != stamp {
			t.Fatalf("tap %d after the idle checkpoint wrote the database file", i)
		}
	}

	// Control: a checkpoint without the restart leaves it to the next tap.
	if _, err := s.db.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
		t.Fatal(err)
	}
	restarts = walHeaderRestarts(t, s)
	if _, err := s.Append(ctx, checkIn("control")); err != nil {
		t.Fatal(err)
	}
	if walHeaderRestarts(t, s) == restarts {
		t.Fatal("control: the tap after a bare checkpoint did not start the WAL over; the check above proves nothing")
	}
}

// TestWALSizeLimitIsSet: a WAL grown by a long burst is trimmed when it
// starts over, since Maintain no longer truncates it.
func TestWALSizeLimitIsSet(t *testing.T) {
	s := openTemp(t)
	var limit int
	if err := s.db.QueryRow("PRAGMA journal_size_limit").Scan(&limit); err != nil {
		t.Fatal(err)
	}
	if limit != walSizeLimit {
		t.Errorf("journal_size_limit = %d, want %d", limit, walSizeLimit)
	}
}

// TestSecondHandleLeavesTheWAL: kioskctl opens the live database beside
// kioskd (the daily backup); its Close leaves kioskd's WAL as it is (it
// used to checkpoint with TRUNCATE: the WAL went to 0 bytes and the next
// tap started a new one). kioskd's own Close, the last, folds the WAL in.
func TestSecondHandleLeavesTheWAL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kiosk.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 30 {
		if _, err := s.Append(ctx, checkIn(fmt.Sprint("c-", i))); err != nil {
			t.Fatal(err)
		}
	}
	size, restarts := walSize(t, s), walHeaderRestarts(t, s)
	other, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Backup(ctx, filepath.Join(t.TempDir(), "backup.db")); err != nil {
		t.Fatal(err)
	}
	if err := other.Close(); err != nil {
		t.Fatal(err)
	}
	if got := walSize(t, s); got != size {
		t.Errorf("WAL after the second handle closed: %d bytes, want %d", got, size)
	}
	if _, err := s.Append(ctx, checkIn("c-after")); err != nil {
		t.Fatal(err)
	}
	if got := walHeaderRestarts(t, s); got != restarts {
		t.Errorf("the tap after the second handle closed started a new WAL (%d -> %d)", restarts, got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + "-wal"); !os.IsNotExist(err) {
		t.Errorf("WAL still there after the last Close: %v", err)
	}
	again, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	n := 0
	if err := again.Events(ctx, 0, func(attendance.Event) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 31 {
		t.Errorf("%d events after reopening, want 31", n)
	}
}
