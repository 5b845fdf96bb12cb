// Package centraltest gives tests and benchmarks of the sync packages real
// central databases: a SQLite file in a temporary folder and, when the
// environment variable KIOSK_TEST_PG names a PostgreSQL server, a fresh
// schema on it per test, dropped afterwards. With CI=true a missing
// KIOSK_TEST_PG fails the PostgreSQL runs instead of skipping them.
package centraltest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx"
)

// EnvPG names the PostgreSQL server URL for tests.
const EnvPG = "KIOSK_TEST_PG"

// Backend is one database a test runs against.
type Backend struct {
	Name string // "sqlite" or "postgres"
	DSN  func(tb testing.TB) string
}

// Backends returns SQLite and PostgreSQL (the latter checks KIOSK_TEST_PG
// when its DSN is asked for).
func Backends() []Backend {
	return []Backend{
		{Name: "sqlite", DSN: SQLiteDSN},
		{Name: "postgres", DSN: PostgresDSN},
	}
}

// SQLiteDSN returns a fresh SQLite file path in tb's temp dir.
func SQLiteDSN(tb testing.TB) string {
	return filepath.Join(tb.TempDir(), "central.db")
}

// PostgresDSN creates a fresh schema on the KIOSK_TEST_PG server and returns
// a URL whose search_path selects it; the schema is dropped at cleanup. It
// skips (or, with CI=true, fails) when KIOSK_TEST_PG is unset.
func PostgresDSN(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(EnvPG)
	if base == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("%s is not set: PostgreSQL tests must run in CI (eval \"$(scripts/pg-test-env)\")", EnvPG)
		}
		tb.Skipf("%s not set: skipping PostgreSQL (run: eval \"$(scripts/pg-test-env)\")", EnvPG)
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "kt_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatalf("open %s: %v", EnvPG, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		tb.Fatalf("create schema on %s: %v", EnvPG, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("%s: %v", EnvPG, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
