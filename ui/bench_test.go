package ui

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kinderdeur/kiosk/attendance/store"
)

func percentiles(ds []time.Duration) (p50, p99 time.Duration) {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2], ds[len(ds)*99/100]
}

// BenchmarkTapToScreen measures a tap through the door (decision, durable
// commit of event + outbox row, presence) until a websocket client has the
// decision message. Each b.N is 1,000 taps; p50/p99 are reported.
func BenchmarkTapToScreen(b *testing.B) {
	ts, d := newTestServer(b)
	c, _, err := websocket.DefaultDialer.Dial("ws"+ts.URL[len("http"):]+"/ws", nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	var m map[string]any
	c.ReadJSON(&m) // snapshot
	uid := []byte{0x2B, 0x3C, 0x4D, 0x5E}
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		ds := make([]time.Duration, 0, 1000)
		for range 1000 {
			start := time.Now()
			if _, err := d.Tap(ctx, "entrance", uid); err != nil {
				b.Fatal(err)
			}
			for {
				var msg struct {
					Type     string
					Decision struct{ Committed bool }
				}
				if err := c.ReadJSON(&msg); err != nil {
					b.Fatal(err)
				}
				if msg.Type == "decision" {
					break
				}
			}
			ds = append(ds, time.Since(start))
		}
		p50, p99 := percentiles(ds)
		b.ReportMetric(float64(p50.Microseconds()), "p50-µs")
		b.ReportMetric(float64(p99.Microseconds()), "p99-µs")
	}
}

// BenchmarkBareDurableInsert is the limit: one INSERT per transaction on a
// SQLite file with the same pragmas (WAL, synchronous=FULL).
func BenchmarkBareDurableInsert(b *testing.B) {
	path := filepath.Join(b.TempDir(), "bare.db")
	db, err := sql.Open("sqlite3", store.DSN(path))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"); err != nil {
		b.Fatal(err)
	}
	body := fmt.Sprintf("%0300d", 0) // about the size of an event
	b.ResetTimer()
	for range b.N {
		ds := make([]time.Duration, 0, 1000)
		for range 1000 {
			start := time.Now()
			tx, err := db.Begin()
			if err != nil {
				b.Fatal(err)
			}
			if _, err := tx.Exec("INSERT INTO t (body) VALUES (?)", body); err != nil {
				b.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
			ds = append(ds, time.Since(start))
		}
		p50, p99 := percentiles(ds)
		b.ReportMetric(float64(p50.Microseconds()), "p50-µs")
		b.ReportMetric(float64(p99.Microseconds()), "p99-µs")
	}
}
