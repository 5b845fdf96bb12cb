package store

import (
	"context"
	"database/sql"
	"fmt"
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

// BenchmarkAppend is one tap's durable write: the event, its outbox row and
// the sequence counter in one transaction.
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
