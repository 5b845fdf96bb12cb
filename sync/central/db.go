package central

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"github.com/kinderdeur/kiosk/attendance/audit"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx"
	_ "github.com/mattn/go-sqlite3"    // driver "sqlite3"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFS embed.FS

// Dialect names the SQL database behind a DB.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is central's storage: one code path over database/sql for SQLite and
// PostgreSQL. The few differences (placeholders, row locks) live in rebind
// and forUpdate.
type DB struct {
	sql     *sql.DB
	dialect Dialect
	now     func() time.Time
	// doorAudit, when set, audits accountable door actions at ingest.
	doorAudit *audit.Log
}

// IsPostgresURL reports whether dsn selects PostgreSQL.
func IsPostgresURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// SQLiteDSN is the connection string for a SQLite file with the durability
// pragmas central requires (WAL, synchronous=FULL).
func SQLiteDSN(path string) string {
	v := url.Values{}
	v.Set("_journal_mode", "WAL")
	v.Set("_synchronous", "FULL")
	v.Set("_busy_timeout", "10000")
	v.Set("_foreign_keys", "on")
	v.Set("_txlock", "immediate")
	return "file:" + path + "?" + v.Encode()
}

// Open opens and migrates the database: a postgres:// URL or a SQLite file
// path. now is the clock for stored times (nil: time.Now).
func Open(ctx context.Context, dsn string, now func() time.Time) (*DB, error) {
	if now == nil {
		now = time.Now
	}
	d := &DB{now: now}
	var err error
	if IsPostgresURL(dsn) {
		d.dialect = Postgres
		d.sql, err = sql.Open("pgx", dsn)
		if err != nil {
			return nil, fmt.Errorf("central: open postgres: %w", err)
		}
		d.sql.SetMaxOpenConns(16)
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
	}
	if err := d.sql.PingContext(ctx); err != nil {
		d.sql.Close()
		return nil, fmt.Errorf("central: connect %s: %w", d.dialect, err)
	}
	if d.dialect == SQLite {
		if err := d.checkPragmas(ctx); err != nil {
			d.sql.Close()
			return nil, err
		}
	}
	if err := d.migrate(ctx); err != nil {
		d.sql.Close()
		return nil, err
	}
	return d, nil
}

// Close closes the database.
func (d *DB) Close() error { return d.sql.Close() }

// Dialect reports which database this is.
func (d *DB) Dialect() Dialect { return d.dialect }

// SQL exposes the handle for tests and benchmarks of this module.
func (d *DB) SQL() *sql.DB { return d.sql }

func (d *DB) checkPragmas(ctx context.Context) error {
	var mode string
	var syncLevel int
	if err := d.sql.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("central: read journal_mode: %w", err)
	}
	if err := d.sql.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&syncLevel); err != nil {
		return fmt.Errorf("central: read synchronous: %w", err)
	}
	if !strings.EqualFold(mode, "wal") || syncLevel < 2 {
		return fmt.Errorf("central: unsafe sqlite pragmas: journal_mode=%s synchronous=%d (want wal, 2)", mode, syncLevel)
	}
	return nil
}

// rebind turns ? placeholders into $1.. for PostgreSQL. Queries in this
// package never hold a literal '?'.
func (d *DB) rebind(q string) string {
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

// forUpdate locks a selected row in PostgreSQL; SQLite's immediate
// transactions already hold the write lock.
func (d *DB) forUpdate() string {
	if d.dialect == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

type querier interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

func (d *DB) exec(ctx context.Context, q querier, query string, args ...any) (sql.Result, error) {
	return q.ExecContext(ctx, d.rebind(query), args...)
}

func (d *DB) query(ctx context.Context, q querier, query string, args ...any) (*sql.Rows, error) {
	return q.QueryContext(ctx, d.rebind(query), args...)
}

func (d *DB) queryRow(ctx context.Context, q querier, query string, args ...any) *sql.Row {
	return q.QueryRowContext(ctx, d.rebind(query), args...)
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
	applied := map[string]bool{}
	var last int64
	rows, err := d.sql.QueryContext(ctx, "SELECT version, name FROM schema_migrations")
	if err != nil {
		return fmt.Errorf("central: schema version: %w", err)
	}
	for rows.Next() {
		var v int64
		var n string
		if err := rows.Scan(&v, &n); err != nil {
			rows.Close()
			return fmt.Errorf("central: schema version: %w", err)
		}
		applied[n] = true
		last = max(last, v)
	}
	rows.Close()
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
		base := filepath.Base(n)
		if applied[base] {
			continue
		}
		body, err := migrationFS.ReadFile(n)
		if err != nil {
			return fmt.Errorf("central: migration %s: %w", base, err)
		}
		tx, err := d.sql.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("central: migration %s: %w", base, err)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("central: migration %s: %w", base, err)
		}
		last++
		if _, err := d.exec(ctx, tx, "INSERT INTO schema_migrations (version, name, applied_ns) VALUES (?, ?, ?)",
			last, base, d.now().UnixNano()); err != nil {
			tx.Rollback()
			return fmt.Errorf("central: migration %s: %w", base, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("central: migration %s: %w", base, err)
		}
	}
	return nil
}

// Sentinel errors callers branch on.
var (
	ErrNotFound      = errors.New("central: not found")
	ErrMalformed     = errors.New("central: malformed request")
	ErrConflict      = errors.New("central: conflict")
	ErrBadToken      = errors.New("central: enrolment token unknown, used up or expired")
	ErrRevoked       = errors.New("central: device revoked")
	ErrSeqGap        = errors.New("central: batch starts after the acknowledged seq + 1")
	ErrStaleRoster   = errors.New("central: roster version not newer than the current one")
	ErrReplay        = errors.New("central: nonce seen before")
	ErrUnknownDevice = errors.New("central: unknown device")
)
