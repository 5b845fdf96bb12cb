package sqlitedsn_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	_ "github.com/mattn/go-sqlite3"

	"github.com/kinderdeur/kiosk/attendance/sqlitedsn"
)

func TestDSN(t *testing.T) {
	got := sqlitedsn.DSN("/data/kiosk.db", 5*time.Second)
	want := "file:/data/kiosk.db?_busy_timeout=5000&_foreign_keys=on&_journal_mode=WAL&_synchronous=FULL&_txlock=immediate"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func open(t *testing.T, dsn func(path string) string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", dsn(filepath.Join(t.TempDir(), "x.db")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestCheckSafe(t *testing.T) {
	db := open(t, func(p string) string { return sqlitedsn.DSN(p, time.Second) })
	if got, err := sqlitedsn.Check(context.Background(), db); err != nil || len(got) != 0 {
		t.Errorf("Check = %q, %v; want none", got, err)
	}
}

func TestCheckUnsafe(t *testing.T) {
	db := open(t, func(p string) string {
		return "file:" + p + "?_synchronous=NORMAL&_busy_timeout=1000&_foreign_keys=off"
	})
	got, err := sqlitedsn.Check(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"journal_mode=delete (want wal)", "synchronous=1 (want 2, FULL)", "foreign_keys=off (want on)"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
