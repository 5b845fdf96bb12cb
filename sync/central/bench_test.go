package central_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/sync/central"
	"github.com/kinderdeur/kiosk/sync/central/centraltest"
	"github.com/kinderdeur/kiosk/sync/protocol"
)

const benchBatch = 500

// benchEvents makes n events of one device with seqs from first.
func benchEvents(deviceID string, first int64, n int) ([]attendance.Event, []json.RawMessage) {
	evs := make([]attendance.Event, n)
	raws := make([]json.RawMessage, n)
	t0 := time.Date(2026, 11, 16, 7, 0, 0, 0, time.UTC)
	for i := range evs {
		id, _ := uuid.NewV7()
		seq := first + int64(i)
		evs[i] = attendance.Event{ID: id.String(), DeviceID: deviceID, Seq: seq, Type: attendance.ChildCheckIn,
			LocationID: "loc-regenboog", GroupID: "g-rupsen", ChildID: fmt.Sprint("c-", seq%40), ActorRole: attendance.RoleGuardian,
			ActorID: "p-sanne", Reader: "entrance", Wall: t0.Add(time.Duration(seq) * time.Second), MonoNS: seq * 1e9,
			BootID: "bench-boot", ClockSynced: true, PolicyVersion: "nl-kdv/2019", RosterVersion: 20261116}
		raws[i], _ = json.Marshal(evs[i])
	}
	return evs, raws
}

func benchDB(b *testing.B, be centraltest.Backend) (*central.DB, string) {
	db, err := central.Open(context.Background(), be.DSN(b), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if err := db.Demo.SeedDemo(context.Background(), attendance.MustDate("2026-11-16")); err != nil {
		b.Fatal(err)
	}
	dev := "kiosk-" + uuid.NewString()
	_, err = db.Devices.Enrol(context.Background(), protocol.EnrolRequest{Token: protocol.DemoEnrolToken, DeviceID: dev,
		PublicKey: protocol.EncodePublicKey(make([]byte, 32))})
	if err != nil {
		b.Fatal(err)
	}
	return db, dev
}

// BenchmarkIngest measures central's ingest of batches of 500 new events
// (one transaction each, with duplicate detection, time grading and the
// acknowledgement), on SQLite and PostgreSQL.
func BenchmarkIngest(b *testing.B) {
	for _, be := range centraltest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			db, dev := benchDB(b, be)
			ctx := context.Background()
			// Build the batches before timing.
			batches := make([]protocol.Batch, b.N)
			evss := make([][]attendance.Event, b.N)
			for i := range batches {
				evs, raws := benchEvents(dev, int64(i*benchBatch+1), benchBatch)
				batches[i] = protocol.Batch{Protocol: 1, DeviceID: dev, Clock: protocol.ClockProbe{BootID: "bench-boot", MonoNS: 1e12, Wall: time.Now(), Synced: true}, Events: raws}
				evss[i] = evs
			}
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				r, err := db.Events.Ingest(ctx, dev, batches[i], evss[i])
				if err != nil {
					b.Fatal(err)
				}
				if r.AckedThroughSeq != int64((i+1)*benchBatch) {
					b.Fatalf("acked %d", r.AckedThroughSeq)
				}
			}
			b.ReportMetric(float64(b.N*benchBatch)/time.Since(start).Seconds(), "events/s")
		})
	}
}

// BenchmarkBareInsert is the limit BenchmarkIngest is measured against:
// the same rows into the same table, one multi-row INSERT per 500 in one
// transaction, with no checks at all.
func BenchmarkBareInsert(b *testing.B) {
	for _, be := range centraltest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			db, dev := benchDB(b, be)
			ctx := context.Background()
			type prepared struct {
				q    string
				args []any
			}
			ps := make([]prepared, b.N)
			for i := range ps {
				evs, raws := benchEvents(dev, int64(i*benchBatch+1), benchBatch)
				var q strings.Builder
				q.WriteString(`INSERT INTO events (device_id, seq, event_id, type, location_id, child_id, staff_id, boot_id, mono_ns,
					wall_ns, clock_synced, time_ns, time_quality, received_ns, body) VALUES `)
				args := make([]any, 0, benchBatch*15)
				n := 0
				for k, e := range evs {
					if k > 0 {
						q.WriteString(",")
					}
					ph := make([]string, 15)
					for j := range ph {
						n++
						if db.Dialect() == central.Postgres {
							ph[j] = fmt.Sprintf("$%d", n)
						} else {
							ph[j] = "?"
						}
					}
					q.WriteString("(" + strings.Join(ph, ",") + ")")
					args = append(args, dev, e.Seq, e.ID, string(e.Type), "loc-regenboog", e.ChildID, nil, e.BootID, e.MonoNS,
						e.Wall.UnixNano(), 1, e.Wall.UnixNano(), "ok", time.Now().UnixNano(), string(raws[k]))
				}
				ps[i] = prepared{q.String(), args}
			}
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				tx, err := db.SQL().BeginTx(ctx, nil)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := tx.ExecContext(ctx, ps[i].q, ps[i].args...); err != nil {
					b.Fatal(err)
				}
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*benchBatch)/time.Since(start).Seconds(), "events/s")
		})
	}
}
