package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
)

func report(b *testing.B, ds []time.Duration) {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	b.ReportMetric(float64(ds[len(ds)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(ds[len(ds)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkAppend is one tap's durable write: the event (in the outbox by
// being above the acknowledged watermark) in one transaction.
func BenchmarkAppend(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "kiosk.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	ds := make([]time.Duration, 0, b.N)
	for i := range b.N {
		e := attendance.Event{Type: attendance.ChildCheckIn, ChildID: fmt.Sprint("c-", i%500), GroupID: "g-1", Wall: time.Now(), BootID: "b", Reader: "entrance"}
		start := time.Now()
		if _, err := s.Append(ctx, e); err != nil {
			b.Fatal(err)
		}
		ds = append(ds, time.Since(start))
	}
	report(b, ds)
}

// BenchmarkBareInsert is the floor: one row per transaction, same pragmas.
func BenchmarkBareInsert(b *testing.B) {
	db, err := sql.Open("sqlite3", DSN(filepath.Join(b.TempDir(), "bare.db")))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	db.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
	body := fmt.Sprintf("%0400d", 0)
	ds := make([]time.Duration, 0, b.N)
	for range b.N {
		start := time.Now()
		if _, err := db.Exec("INSERT INTO t (body) VALUES (?)", body); err != nil {
			b.Fatal(err)
		}
		ds = append(ds, time.Since(start))
	}
	report(b, ds)
}

// BenchmarkAppendSpaced is taps as they come at a door, with a pause
// between them, scaled down: 6 ms apart, with the idle checkpoint after
// 2 ms of quiet (IdleCheckpointAfter is 2 s in production).
// "autocheckpoint" leaves the checkpoint to SQLite, which runs it inside
// whichever commit passes 1,000 WAL pages, and the next commit starts the
// WAL over (one more fsync); "idle" runs Maintain, which does both in the
// pauses. Each b.N is 1,000 taps. Besides p50/p99 (noisy on a virtual
// disk) it counts, per 1,000 taps, the commits that checkpointed (the main
// file changed) and those that started the WAL over (the WAL header's
// checkpoint number changed): these do not depend on the disk.
func BenchmarkAppendSpaced(b *testing.B) {
	for _, mode := range []string{"autocheckpoint", "idle", "wakeonly"} {
		b.Run(mode, func(b *testing.B) {
			s, err := Open(filepath.Join(b.TempDir(), "kiosk.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if mode == "wakeonly" {
				go s.maintain(ctx, MinRetention, slog.New(slog.DiscardHandler), maintainEvery{idle: 2 * time.Millisecond, minWrites: 1 << 40, purge: time.Hour})
			}
			if mode == "idle" {
				go s.maintain(ctx, MinRetention, slog.New(slog.DiscardHandler), maintainEvery{idle: 2 * time.Millisecond, minWrites: IdleCheckpointMinWrites, purge: time.Hour})
			}
			ds := make([]time.Duration, 0, 1000*b.N)
			var checkpoints, restarts int
			for i := range 1000 * b.N {
				time.Sleep(6 * time.Millisecond)
				e := attendance.Event{Type: attendance.ChildCheckIn, ChildID: fmt.Sprint("c-", i%500), GroupID: "g-1", Wall: time.Now(), BootID: "b", Reader: "entrance"}
				r0, m0 := walHeaderRestarts(b, s), mainStamp(b, s)
				start := time.Now()
				if _, err := s.Append(ctx, e); err != nil {
					b.Fatal(err)
				}
				ds = append(ds, time.Since(start))
				if walHeaderRestarts(b, s) != r0 {
					restarts++
				}
				if mainStamp(b, s) != m0 {
					checkpoints++
				}
			}
			report(b, ds)
			b.ReportMetric(float64(checkpoints)/float64(b.N), "checkpoints/1000-taps")
			b.ReportMetric(float64(restarts)/float64(b.N), "wal-restarts/1000-taps")
		})
	}
}

// walHeaderRestarts is the WAL header's checkpoint sequence number (0 when
// there is no WAL yet).
func walHeaderRestarts(tb testing.TB, s *Store) uint32 {
	f, err := os.Open(s.Path() + "-wal")
	if err != nil {
		return 0
	}
	defer f.Close()
	var hdr [16]byte
	if _, err := f.ReadAt(hdr[:], 0); err != nil {
		return 0
	}
	return binary.BigEndian.Uint32(hdr[12:])
}

func mainStamp(tb testing.TB, s *Store) string {
	fi, err := os.Stat(s.Path())
	if err != nil {
		tb.Fatal(err)
	}
	return fmt.Sprint(fi.Size(), fi.ModTime().UnixNano())
}
