package audit_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/kinderdeur/kiosk/attendance/audit"
)

// BenchmarkAppendSQLite measures one audited entry per transaction on a
// real SQLite file (WAL, synchronous=FULL): the kiosk's case.
func BenchmarkAppendSQLite(b *testing.B) {
	tdb := openSQLite(b)
	l := audit.New(tdb.db, tdb.dialect)
	ctx := context.Background()
	rec := audit.Record{Actor: "staff:S1", Action: audit.PickupConfirmed, Subject: "child:C1", Details: map[string]any{"pickup": "P3", "id_checked": "passport"}}
	b.ResetTimer()
	for b.Loop() {
		if _, err := l.Append(ctx, rec); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkVerifySQLite measures a full chain walk of 10,000 entries.
func BenchmarkVerifySQLite(b *testing.B) {
	tdb := openSQLite(b)
	ctx := context.Background()
	const n = 10000
	tx, err := tdb.db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	l := audit.New(tdb.db, tdb.dialect)
	for i := range n {
		if _, err := l.AppendTx(ctx, tx, audit.Record{Actor: "system", Action: audit.RetentionRun, Subject: fmt.Sprint(i), Details: map[string]int{"i": i}}); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		got, err := l.Verify(ctx)
		if err != nil || got != n {
			b.Fatalf("Verify = %d, %v", got, err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkAppendPostgres measures one entry per transaction (with the
// table lock) on KIOSK_TEST_PG: central's case.
func BenchmarkAppendPostgres(b *testing.B) {
	tdb := openPG(b)
	l := audit.New(tdb.db, tdb.dialect)
	ctx := context.Background()
	rec := audit.Record{Actor: "user:u1", Action: audit.PersonalDataExport, Subject: "child:C1", Details: map[string]any{"format": "json"}}
	for b.Loop() {
		if _, err := l.Append(ctx, rec); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}
