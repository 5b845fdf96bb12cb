// Package sqldb is central's database handle: one database/sql pool on
// SQLite or PostgreSQL, the few differences between the two (placeholders,
// row locks, locks across replicas, LISTEN), the clock stored times come
// from, and the forward-only migrations of central's schema (applied under
// a lock, so replicas may start at once). Every store of sync/central works
// through one DB; none opens its own connection.
package sqldb

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx"
	_ "github.com/mattn/go-sqlite3"    // driver "sqlite3"

	"github.com/kinderdeur/kiosk/attendance/sqlitedsn"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFS embed.FS

// Dialect names the SQL database behind a DB.
type Dialect string

// The dialects central runs on.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// busyTimeout is how long a SQLite statement waits for the write lock
// (central has several writers: ingest, admin pages, retention).
const busyTimeout = 10 * time.Second

// DB is the shared handle. Its zero value is not usable: call Open.
type DB struct {
	sql     *sql.DB
	dialect Dialect
	now     func() time.Time
	dsn     string // for the LISTEN connection (PostgreSQL)
}

// IsPostgresURL reports whether dsn selects PostgreSQL.
func IsPostgresURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// SQLiteDSN is the connection string for a SQLite file with the durability
// pragmas central requires (WAL, synchronous=FULL).
func SQLiteDSN(path string) string { return sqlitedsn.DSN(path, busyTimeout) }

// Open opens and migrates the database: a postgres:// URL or a SQLite file
// path. now is the clock for stored times (nil: time.Now).
func Open(ctx context.Context, dsn string, now func() time.Time) (*DB, error) {
	if now == nil {
		now = time.Now
	}
	d := &DB{now: now, dsn: dsn}
	var err error
	if IsPostgresURL(dsn) {
		d.dialect = Postgres
		d.sql, err = sql.Open("pgx", dsn)
		if err != nil {
			return nil, fmt.Errorf("central: open postgres: %w", err)
		}
		// Keep the connections open: database/sql keeps only 2 idle by
		// default, and under load every further request then paid a new
		// PostgreSQL backend (a fork and a login) (the fleet benchmark).
		d.sql.SetMaxOpenConns(16)
		d.sql.SetMaxIdleConns(16)
		d.sql.SetConnMaxIdleTime(5 * time.Minute)
	} else {
		d.dialect = SQLite
		if dir := filepath.Dir(dsn); dir != "" {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("central: data dir: %w", err)
			}
		}
		d.sql, err = sql.Open("sqlite3", SQLiteDSN(dsn))
		if err != nil {
			return nil, fmt.Errorf("central: open sqlite %s: %w", dsn, err)
		}
		d.sql.SetMaxOpenConns(4)
		d.sql.SetMaxIdleConns(4)
	}
	if err := d.ping(ctx); err != nil {
		d.sql.Close()
		return nil, fmt.Errorf("central: connect %s: %w", d.dialect, err)
	}
	if d.dialect == SQLite {
		if err := d.checkPragmas(ctx); err != nil {
			d.sql.Close()
			return nil, err
		}
	}
	// Replicas starting at once: one migrates, the others wait and then
	// find nothing left to do.
	if err := d.Exclusive(ctx, "migrate", d.migrate); err != nil {
		d.sql.Close()
		return nil, err
	}
	return d, nil
}

// ping connects. A new SQLite file turned to WAL by two processes at once
// answers "database is locked" to one of them before any busy handler
// runs: that one tries again for a few seconds.
func (d *DB) ping(ctx context.Context) error {
	var err error
	for wait := 20 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		err = d.sql.PingContext(ctx)
		if err == nil || d.dialect != SQLite || !strings.Contains(err.Error(), "locked") || wait >= time.Second {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

// Close closes the database.
func (d *DB) Close() error { return d.sql.Close() }

// Dialect reports which database this is.
func (d *DB) Dialect() Dialect { return d.dialect }

// SQL is the pool itself: for transactions (BeginTx), the audit log, and
// tests and benchmarks of central.
func (d *DB) SQL() *sql.DB { return d.sql }

// Now is the clock of stored times.
func (d *DB) Now() time.Time { return d.now() }

// Clock returns the clock function (for parts that take one).
func (d *DB) Clock() func() time.Time { return d.now }

func (d *DB) checkPragmas(ctx context.Context) error {
	bad, err := sqlitedsn.Check(ctx, d.sql)
	if err != nil {
		return fmt.Errorf("central: %w", err)
	}
	if len(bad) > 0 {
		return fmt.Errorf("central: unsafe sqlite pragmas: %s", strings.Join(bad, ", "))
	}
	return nil
}

// Rebind turns ? placeholders into $1.. for PostgreSQL. Central's queries
// never hold a literal '?'.
func (d *DB) Rebind(q string) string {
	if d.dialect != Postgres {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// ForUpdate locks a selected row in PostgreSQL; SQLite's immediate
// transactions already hold the write lock.
func (d *DB) ForUpdate() string {
	if d.dialect == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// Querier is a pool or a transaction.
type Querier interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// Exec runs a statement with ? placeholders on q (nil: the pool).
func (d *DB) Exec(ctx context.Context, q Querier, query string, args ...any) (sql.Result, error) {
	return d.on(q).ExecContext(ctx, d.Rebind(query), args...)
}

// Query runs a query with ? placeholders on q (nil: the pool).
func (d *DB) Query(ctx context.Context, q Querier, query string, args ...any) (*sql.Rows, error) {
	return d.on(q).QueryContext(ctx, d.Rebind(query), args...)
}

// QueryRow runs a one-row query with ? placeholders on q (nil: the pool).
func (d *DB) QueryRow(ctx context.Context, q Querier, query string, args ...any) *sql.Row {
	return d.on(q).QueryRowContext(ctx, d.Rebind(query), args...)
}

func (d *DB) on(q Querier) Querier {
	if q == nil {
		return d.sql
	}
	return q
}

// migrate applies the embedded migrations the database lacks, forward
// only, in file-name order. Applied migrations are recorded by file name
// (version = the order they were applied in), so several authors can add
// files with gaps in their numbers; a database holding a migration this
// build does not know is refused (it is newer than the binary).
func (d *DB) migrate(ctx context.Context) error {
	dir := "migrations/" + string(d.dialect)
	names, err := fs.Glob(migrationFS, dir+"/*.sql")
	if err != nil {
		return fmt.Errorf("central: migrations: %w", err)
	}
	sort.Strings(names)
	if _, err := d.sql.ExecContext(ctx,
		"CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_ns BIGINT NOT NULL)"); err != nil {
		return fmt.Errorf("central: migrations table: %w", err)
	}
	applied, last, err := d.appliedMigrations(ctx)
	if err != nil {
		return err
	}
	known := map[string]bool{}
	for _, n := range names {
		known[filepath.Base(n)] = true
	}
	for n := range applied {
		if !known[n] {
			return fmt.Errorf("central: the database has migration %s, which this build does not know: it is newer than this binary; refusing to run", n)
		}
	}
	for _, n := range names {
		if applied[filepath.Base(n)] {
			continue
		}
		last++
		if err := d.applyMigration(ctx, n, last); err != nil {
			return err
		}
	}
	return nil
}

// appliedMigrations returns the names of the applied migrations and the
// highest version.
func (d *DB) appliedMigrations(ctx context.Context) (map[string]bool, int64, error) {
	applied := map[string]bool{}
	var last int64
	rows, err := d.sql.QueryContext(ctx, "SELECT version, name FROM schema_migrations")
	if err != nil {
		return nil, 0, fmt.Errorf("central: schema version: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var v int64
		var n string
		if err := rows.Scan(&v, &n); err != nil {
			return nil, 0, fmt.Errorf("central: schema version: %w", err)
		}
		applied[n] = true
		last = max(last, v)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("central: schema version: %w", err)
	}
	return applied, last, nil
}

// applyMigration runs one migration file and records it as version, in
// one transaction.
func (d *DB) applyMigration(ctx context.Context, name string, version int64) error {
	base := filepath.Base(name)
	body, err := migrationFS.ReadFile(name)
	if err != nil {
		return fmt.Errorf("central: migration %s: %w", base, err)
	}
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("central: migration %s: %w", base, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return fmt.Errorf("central: migration %s: %w", base, err)
	}
	if _, err := d.Exec(ctx, tx, "INSERT INTO schema_migrations (version, name, applied_ns) VALUES (?, ?, ?)",
		version, base, d.now().UnixNano()); err != nil {
		return fmt.Errorf("central: migration %s: %w", base, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("central: migration %s: %w", base, err)
	}
	return nil
}
