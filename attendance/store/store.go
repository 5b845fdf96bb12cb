// Package store is the kiosk's durable memory: one SQLite file holding the
// event log (with the watermark of what central has, which makes the rest
// the sync outbox), the last good roster and the device's own facts. Every
// tap's events commit in one transaction,
// and the door answers only after that commit, so an acknowledged tap
// survives kill -9 and power loss (WAL, synchronous=FULL, one writer).
package store

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/mattn/go-sqlite3"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/attendance/sqlitedsn"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

var (
	// ErrStaleRoster: a roster not newer than the one applied.
	ErrStaleRoster = errors.New("store: roster is not newer than the current one")
	// ErrDiskFull: the database could not grow. Nothing was written.
	ErrDiskFull = errors.New("store: disk full")
	// ErrPragma: the database was opened without the durability settings.
	ErrPragma = errors.New("store: unsafe pragma")
)

// Store is the kiosk database. It is safe for concurrent use; writes are
// serialised on its single connection.
type Store struct {
	db       *sql.DB
	path     string
	deviceID string
	now      func() time.Time

	// seqMu guards lastSeq, the persisted counter's value: the store is the
	// only writer, so the tap path need not read it back every time.
	seqMu   sync.Mutex
	lastSeq int64

	// The tap path's statements, prepared once (a prepare costs about as
	// much as the insert itself).
	insEvent *sql.Stmt

	// writes counts the commits of the tap and sync paths and lastWrite is
	// the monotonic time of the newest (ns since the store opened): Maintain
	// checkpoints the WAL once the door has been quiet for a moment, so that
	// no tap pays for a checkpoint. Atomics, not a channel: waking a
	// goroutine on every commit costs the tap more than the bookkeeping.
	writes    atomic.Int64
	lastWrite atomic.Int64
	opened    time.Time

	asItIs bool // Options.AsItIs: the connection is query_only
}

// Options tune Open; the zero value is right for production.
type Options struct {
	Now func() time.Time
	// MaxPages caps the database size in pages (tests of a full disk).
	MaxPages int
	// AsItIs opens the database without migrating it and without writing
	// to it (SQLite's query_only: every write fails; Append says
	// ErrAsItIs): kioskctl opens the live database beside kioskd, which
	// may be an older or newer build, and only kioskd may change its
	// schema. The file must exist and be a database.
	AsItIs bool
}

// ErrAsItIs: a write through a store opened with Options.AsItIs.
var ErrAsItIs = errors.New("store: opened as it is (kioskctl): it does not write events")

// walSizeLimit is the size in bytes the WAL file is trimmed to when it
// starts over: twice what SQLite's own checkpoint (1,000 pages of 4 KiB)
// lets it reach.
const walSizeLimit = 8 << 20

// busyTimeout is how long a statement waits for the write lock.
const busyTimeout = 5 * time.Second

// DSN returns the connection string with the durability pragmas the store
// requires. They live in the DSN so that every connection gets them.
func DSN(path string) string { return sqlitedsn.DSN(path, busyTimeout) }

// Open opens (creating if needed) the database at path and migrates it.
func Open(path string) (*Store, error) { return OpenWith(path, Options{}) }

// OpenWith is Open with options.
func OpenWith(path string, o Options) (*Store, error) {
	if o.AsItIs {
		if err := isDatabase(path); err != nil {
			return nil, err
		}
		return openDSN(path, DSN(path)+"&_query_only=true", o)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return openDSN(path, DSN(path), o)
}

// isDatabase checks that path is an SQLite database before a store
// opened as it is touches it (SQLite would make an empty file a database).
func isDatabase(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("store: no kiosk database: %w", err)
	}
	defer f.Close()
	head := make([]byte, 16)
	if _, err := io.ReadFull(f, head); err != nil || string(head) != "SQLite format 3\x00" {
		return fmt.Errorf("store: no kiosk database: %s is not an SQLite database", path)
	}
	return nil
}

func openDSN(path, dsn string, o Options) (*Store, error) {
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	// One connection: one writer, and every statement sees the pragmas.
	db.SetMaxOpenConns(1)
	db.SetConnMaxIdleTime(0)
	db.SetConnMaxLifetime(0)
	s := &Store{db: db, path: path, now: time.Now, opened: time.Now(), asItIs: o.AsItIs}
	if o.Now != nil {
		s.now = o.Now
	}
	ctx := context.Background()
	if err := checkPragmas(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	// The WAL is overwritten in place after each checkpoint, never
	// truncated (see checkpointIdle); should a long burst or a reader that
	// held checkpoints back have grown it, the next start over trims it.
	if _, err := db.ExecContext(ctx, "PRAGMA journal_size_limit = "+strconv.Itoa(walSizeLimit)); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: journal_size_limit: %w", err)
	}
	if o.MaxPages > 0 {
		if _, err := db.ExecContext(ctx, "PRAGMA max_page_count = "+strconv.Itoa(o.MaxPages)); err != nil {
			db.Close()
			return nil, fmt.Errorf("store: max_page_count: %w", err)
		}
	}
	if o.AsItIs {
		if id, err := s.Meta(ctx, "device_id"); err == nil {
			s.deviceID = id
		}
	} else {
		if err := s.migrate(ctx); err != nil {
			db.Close()
			return nil, err
		}
		if err := s.ensureDeviceID(ctx); err != nil {
			db.Close()
			return nil, err
		}
	}
	// The newest event's seq is exact after any crash (it commits with the
	// event); a floor raised by BumpSeq (restore from backup) or kept by
	// older versions of the store never lets it go back.
	err = db.QueryRowContext(ctx, `SELECT max(
		coalesce((SELECT max(seq) FROM events), 0),
		coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'last_seq'), 0),
		coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'seq_floor'), 0))`).Scan(&s.lastSeq)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: read seq: %w", err)
	}
	if o.AsItIs {
		return s, nil // nothing to prepare: Append refuses
	}
	if err := s.prepare(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// checkPragmas refuses a connection without WAL, synchronous=FULL and
// foreign keys: durability is not optional.
func checkPragmas(ctx context.Context, db *sql.DB) error {
	bad, err := sqlitedsn.Check(ctx, db)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w: %s", ErrPragma, strings.Join(bad, ", "))
	}
	return nil
}

type migration struct {
	version int
	name    string
	sql     string
}

func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var ms []migration
	for i, n := range names {
		b, err := migrationFS.ReadFile(n)
		if err != nil {
			return nil, err
		}
		base := filepath.Base(n)
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil || v != i+1 {
			return nil, fmt.Errorf("store: migration %s: want version %d", base, i+1)
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	return ms, nil
}

// SchemaVersion is the newest schema this build knows.
func SchemaVersion() int {
	ms, _ := migrations()
	return len(ms)
}

// migrate applies the migrations the database lacks, forward only, all
// of them in one transaction: the database is as it was or fully
// migrated, never in between. Before touching a database that already
// holds data, it takes a backup next to it (VACUUM INTO), so a failed
// upgrade can be rolled back by hand; a migration that does not commit
// removes that backup again (the old build needs the space to go on).
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	var have int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&have); err != nil {
		return fmt.Errorf("store: read user_version: %w", err)
	}
	if have > len(ms) {
		return fmt.Errorf("store: database schema v%d is newer than this build (v%d): refusing to downgrade", have, len(ms))
	}
	if have == len(ms) {
		return nil
	}
	backup := ""
	if have > 0 {
		backup = fmt.Sprintf("%s.pre-v%d.bak", s.path, len(ms))
		removeBackup(backup) // VACUUM INTO refuses an existing file; a stale one is useless
		if err := s.roomToMigrate(); err != nil {
			return err
		}
		if err := s.Backup(ctx, backup); err != nil {
			removeBackup(backup)
			return fmt.Errorf("store: before migrating: %w", err)
		}
	}
	committed, err := s.applyMigrations(ctx, ms[have:])
	if !committed && backup != "" {
		removeBackup(backup)
	}
	return err
}

// removeBackup removes a migration backup and the journal a VACUUM INTO
// that failed may have left beside it.
func removeBackup(path string) {
	os.Remove(path)
	os.Remove(path + "-journal")
}

// applyMigrations runs ms in one transaction and refuses to commit if a
// foreign key was left dangling. SQLite's table rebuild (migration 5)
// needs foreign keys off, which cannot change inside a transaction: the
// migrations run on one pinned connection with them off, and they are on
// again after. Temporary tables live in memory meanwhile (migration 5
// copies the events through one). committed says whether the migrations
// are in the database, also when an error comes after.
func (s *Store) applyMigrations(ctx context.Context, ms []migration) (committed bool, err error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("store: migrate: %w", err)
	}
	defer conn.Close()
	for _, p := range []string{"PRAGMA foreign_keys = OFF", "PRAGMA temp_store = MEMORY"} {
		if _, err := conn.ExecContext(ctx, p); err != nil {
			return false, fmt.Errorf("store: migrate: %s: %w", p, err)
		}
	}
	defer func() {
		for _, p := range []string{"PRAGMA foreign_keys = ON", "PRAGMA temp_store = DEFAULT"} {
			if _, perr := conn.ExecContext(ctx, p); perr != nil && err == nil {
				err = fmt.Errorf("store: after migrating: %s: %w", p, perr)
			}
		}
	}()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("store: migrate: %w", mapErr(err))
	}
	defer tx.Rollback()
	for _, m := range ms {
		if err := applyMigration(ctx, tx, m); err != nil {
			return false, err
		}
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("store: migrate to v%d: %w", ms[len(ms)-1].version, mapErr(err))
	}
	return true, nil
}

// migrateSpare is the room a migration leaves free after it is done:
// kioskd's data directory counts as full below 50 MiB (datadir.MinFree).
const migrateSpare = 50 << 20

// roomToMigrate refuses to start a migration the disk cannot hold: the
// backup is a copy of the database, a migration that rebuilds a table (v5)
// writes it again through the WAL, and kioskd wants its spare room after
// that. Refusing first keeps a restart loop from writing a whole backup
// each time only to fail, and a migration from committing on a disk it
// then leaves too full for the next tap.
func (s *Store) roomToMigrate() error {
	var size int64
	for _, f := range []string{s.path, s.path + "-wal"} {
		if fi, err := os.Stat(f); err == nil {
			size += fi.Size()
		}
	}
	free, err := freeBytes(filepath.Dir(s.path))
	if err != nil {
		return nil // unknown: let SQLite say so if it runs out
	}
	if need := 2*size + migrateSpare; free < need {
		return fmt.Errorf("%w: migrating the database needs %d MiB free beside it (a backup, a rebuild and kioskd's spare room), %d MiB are",
			ErrDiskFull, need>>20, free>>20)
	}
	return nil
}

// applyMigration runs one migration in tx and refuses it if it left a
// foreign key dangling.
func applyMigration(ctx context.Context, tx *sql.Tx, m migration) error {
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("store: migrate %s: %w", m.name, mapErr(err))
	}
	var table string
	var rowid, parent, fkid any
	switch err := tx.QueryRowContext(ctx, "PRAGMA foreign_key_check").Scan(&table, &rowid, &parent, &fkid); {
	case err == nil:
		return fmt.Errorf("store: migrate %s: a row of %s refers to a missing %v", m.name, table, parent)
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("store: migrate %s: foreign key check: %w", m.name, err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", m.version)); err != nil {
		return fmt.Errorf("store: migrate %s: %w", m.name, err)
	}
	return nil
}

func (s *Store) prepare(ctx context.Context) error {
	var err error
	for _, p := range []struct {
		stmt **sql.Stmt
		sql  string
	}{
		{&s.insEvent, "INSERT INTO events (seq, event_id, type, child_id, staff_id, wall_ns, body) VALUES (?, ?, ?, ?, ?, ?, ?)"},
	} {
		if *p.stmt, err = s.db.PrepareContext(ctx, p.sql); err != nil {
			return fmt.Errorf("store: prepare: %w", err)
		}
	}
	return nil
}

func (s *Store) ensureDeviceID(ctx context.Context) error {
	id, err := s.Meta(ctx, "device_id")
	if errors.Is(err, attendance.ErrNotFound) {
		id = "kiosk-" + uuid.NewString()
		err = s.SetMeta(ctx, "device_id", id)
	}
	if err != nil {
		return err
	}
	s.deviceID = id
	return nil
}

// Close closes the database. The last connection to close (kioskd's, at
// shutdown) has SQLite fold the WAL in and remove it. Close never
// checkpoints by itself: kioskctl opens the live database beside kioskd
// (backup, status), and a checkpoint at its Close would truncate kioskd's
// WAL, or with TRUNCATE stall its taps while it waits for readers.
func (s *Store) Close() error {
	return s.db.Close()
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// LastSeq is the newest event's seq (or the floor BumpSeq raised).
func (s *Store) LastSeq() int64 {
	s.seqMu.Lock()
	defer s.seqMu.Unlock()
	return s.lastSeq
}

// DeviceID is this kiosk's stable identity, "kiosk-<uuid>" by default.
func (s *Store) DeviceID() string { return s.deviceID }

// Meta returns a device fact, attendance.ErrNotFound when unset.
func (s *Store) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("store: meta %q: %w", key, attendance.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("store: meta %q: %w", key, err)
	}
	return v, nil
}

// SetMeta stores a device fact.
func (s *Store) SetMeta(ctx context.Context, key, value string) error {
	_, err := s.db.ExecContext(ctx,
		"INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", key, value)
	if err != nil {
		return fmt.Errorf("store: set meta %q: %w", key, mapErr(err))
	}
	return nil
}

// Append commits events in one transaction: each gets the device id, an
// event id (UUIDv7) if it has none, and the next sequence number, and goes
// into the outbox (every event above the acknowledged watermark is in it).
// It returns the events as committed. When Append returns
// nil the events are on disk.
func (s *Store) Append(ctx context.Context, evs ...attendance.Event) ([]attendance.Event, error) {
	if len(evs) == 0 {
		return nil, nil
	}
	if s.asItIs {
		return nil, ErrAsItIs
	}
	s.seqMu.Lock()
	defer s.seqMu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: append: %w", mapErr(err))
	}
	defer tx.Rollback()
	last := s.lastSeq
	out := make([]attendance.Event, len(evs))
	for i, e := range evs {
		last++
		e.Seq = last
		e.DeviceID = s.deviceID
		if e.ID == "" {
			id, err := uuid.NewV7()
			if err != nil {
				return nil, fmt.Errorf("store: append: event id: %w", err)
			}
			e.ID = id.String()
		}
		e.Wall = e.Wall.UTC().Round(0) // the stored form carries no monotonic reading
		body, err := json.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("store: append: encode: %w", err)
		}
		if _, err := tx.StmtContext(ctx, s.insEvent).ExecContext(ctx,
			e.Seq, e.ID, string(e.Type), nullable(e.ChildID), nullable(e.StaffID), e.Wall.UnixNano(), string(body)); err != nil {
			return nil, fmt.Errorf("store: append %s: %w", e.Type, mapErr(err))
		}
		out[i] = e
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("store: append: commit: %w", mapErr(err))
	}
	s.lastSeq = last
	s.noteWrite()
	return out, nil
}

// noteWrite tells Maintain that the WAL has new frames.
func (s *Store) noteWrite() {
	s.lastWrite.Store(int64(time.Since(s.opened)))
	s.writes.Add(1)
}

// quietFor is how long since the last commit noteWrite saw.
func (s *Store) quietFor() time.Duration {
	return time.Since(s.opened) - time.Duration(s.lastWrite.Load())
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// mapErr turns SQLite's full-disk errors into ErrDiskFull.
func mapErr(err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) && se.Code == sqlite3.ErrFull {
		return fmt.Errorf("%w: %v", ErrDiskFull, err)
	}
	return err
}

// Events calls fn for every stored event with seq > afterSeq, in seq order.
func (s *Store) Events(ctx context.Context, afterSeq int64, fn func(attendance.Event) error) error {
	rows, err := s.db.QueryContext(ctx, "SELECT body FROM events WHERE seq > ? ORDER BY seq", afterSeq)
	if err != nil {
		return fmt.Errorf("store: events: %w", err)
	}
	defer rows.Close()
	// Decode everything first: fn may call back into the store, and the
	// single connection is busy until rows is closed.
	var evs []attendance.Event
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return fmt.Errorf("store: events: %w", err)
		}
		var e attendance.Event
		if err := json.Unmarshal([]byte(body), &e); err != nil {
			return fmt.Errorf("store: events: decode: %w", err)
		}
		evs = append(evs, e)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: events: %w", err)
	}
	rows.Close()
	for _, e := range evs {
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// OutboxItem is one event waiting for central's acknowledgement.
type OutboxItem struct {
	Seq     int64
	EventID string
	Body    []byte // the event's wire form, byte-identical on every resend
}

// Outbox returns up to limit unacknowledged, unquarantined events with seq >
// afterSeq, in seq order.
func (s *Store) Outbox(ctx context.Context, afterSeq int64, limit int) ([]OutboxItem, error) {
	rows, err := s.db.QueryContext(ctx, `
		SELECT seq, event_id, body FROM events
		WHERE seq > max(?, `+ackedThroughSQL+`) AND seq NOT IN (SELECT seq FROM quarantine)
		ORDER BY seq LIMIT ?`, afterSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("store: outbox: %w", err)
	}
	defer rows.Close()
	var items []OutboxItem
	for rows.Next() {
		var it OutboxItem
		var body string
		if err := rows.Scan(&it.Seq, &it.EventID, &body); err != nil {
			return nil, fmt.Errorf("store: outbox: %w", err)
		}
		it.Body = []byte(body)
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: outbox: %w", err)
	}
	return items, nil
}

// ackedThroughSQL is the watermark as an SQL expression: every event with a
// higher seq waits for central (the outbox), every other one central has.
const ackedThroughSQL = "coalesce((SELECT acked_through FROM sync_ack WHERE id = 1), 0)"

// Ack records central's acknowledgement of every event through seq:
// acknowledged events leave the outbox. An older ack than the one recorded
// is ignored (acks only move forward).
func (s *Store) Ack(ctx context.Context, throughSeq int64, serverTime time.Time) error {
	if _, err := s.db.ExecContext(ctx, `
		INSERT INTO sync_ack (id, acked_through, server_time_ns, acked_ns) VALUES (1, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET
			acked_through = max(acked_through, excluded.acked_through),
			server_time_ns = excluded.server_time_ns, acked_ns = excluded.acked_ns`,
		throughSeq, serverTime.UnixNano(), s.now().UnixNano()); err != nil {
		return fmt.Errorf("store: ack: %w", mapErr(err))
	}
	s.noteWrite()
	return nil
}

// Quarantine keeps an event central rejected out of the push loop, with the
// reason, for staff and admins to resolve. The event itself is kept.
func (s *Store) Quarantine(ctx context.Context, seq int64, reason string) error {
	_, err := s.db.ExecContext(ctx,
		"INSERT INTO quarantine (seq, reason, at_ns) VALUES (?, ?, ?) ON CONFLICT (seq) DO UPDATE SET reason = excluded.reason",
		seq, reason, s.now().UnixNano())
	if err != nil {
		return fmt.Errorf("store: quarantine %d: %w", seq, mapErr(err))
	}
	return nil
}

// QuarantinedEvent is a rejected event and why.
type QuarantinedEvent struct {
	Seq    int64
	Reason string
	At     time.Time
}

// Quarantined lists the rejected events.
func (s *Store) Quarantined(ctx context.Context) ([]QuarantinedEvent, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT seq, reason, at_ns FROM quarantine ORDER BY seq")
	if err != nil {
		return nil, fmt.Errorf("store: quarantined: %w", err)
	}
	defer rows.Close()
	var out []QuarantinedEvent
	for rows.Next() {
		var q QuarantinedEvent
		var at int64
		if err := rows.Scan(&q.Seq, &q.Reason, &at); err != nil {
			return nil, fmt.Errorf("store: quarantined: %w", err)
		}
		q.At = time.Unix(0, at)
		out = append(out, q)
	}
	return out, rows.Err()
}

// SyncStatus summarises the outbox for health checks and the staff screen.
type SyncStatus struct {
	LastSeq      int64     `json:"last_seq"`
	AckedThrough int64     `json:"acked_through"`
	Pending      int64     `json:"pending"`
	Quarantined  int64     `json:"quarantined"`
	LastAckAt    time.Time `json:"last_ack_at,omitzero"`
	// OldestPending is the wall time of the oldest event not yet
	// acknowledged nor quarantined (zero when none): how far behind the
	// outbox is. The kiosk's wall clock, so unsynchronised clocks show.
	OldestPending time.Time `json:"oldest_pending,omitzero"`
}

// SyncStatus reports the outbox's state.
func (s *Store) SyncStatus(ctx context.Context) (SyncStatus, error) {
	var st SyncStatus
	var ackedNS, oldestNS sql.NullInt64
	err := s.db.QueryRowContext(ctx, `
		WITH pending AS (SELECT seq, wall_ns FROM events
			WHERE seq > `+ackedThroughSQL+` AND seq NOT IN (SELECT seq FROM quarantine))
		SELECT
			`+ackedThroughSQL+`,
			(SELECT count(*) FROM pending),
			(SELECT count(*) FROM quarantine),
			(SELECT acked_ns FROM sync_ack WHERE id = 1),
			(SELECT wall_ns FROM pending ORDER BY seq LIMIT 1)`).
		Scan(&st.AckedThrough, &st.Pending, &st.Quarantined, &ackedNS, &oldestNS)
	if err != nil {
		return st, fmt.Errorf("store: sync status: %w", err)
	}
	st.LastSeq = s.LastSeq()
	if ackedNS.Valid {
		st.LastAckAt = time.Unix(0, ackedNS.Int64)
	}
	if oldestNS.Valid {
		st.OldestPending = time.Unix(0, oldestNS.Int64).UTC()
	}
	return st, nil
}

// Watermarks returns the newest event's seq and how far central has
// acknowledged: SyncStatus without the counts, which read every waiting
// event (about 12 ms for 100,000 of them), for the sync client's every
// batch.
func (s *Store) Watermarks(ctx context.Context) (lastSeq, ackedThrough int64, err error) {
	if err := s.db.QueryRowContext(ctx, "SELECT "+ackedThroughSQL).Scan(&ackedThrough); err != nil {
		return 0, 0, fmt.Errorf("store: watermarks: %w", err)
	}
	return s.LastSeq(), ackedThrough, nil
}

// BumpSeq makes sure the next sequence number is above atLeast. The outbox
// calls it when central has acknowledged more than this database holds: the
// database was restored from a backup, and reusing those numbers would make
// central see different events under the same seq.
func (s *Store) BumpSeq(ctx context.Context, atLeast int64) error {
	s.seqMu.Lock()
	defer s.seqMu.Unlock()
	if atLeast <= s.lastSeq {
		return nil
	}
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO meta (key, value) VALUES ('seq_floor', ?)
		ON CONFLICT (key) DO UPDATE SET value = CAST(max(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER)) AS TEXT)`,
		strconv.FormatInt(atLeast, 10))
	if err != nil {
		return fmt.Errorf("store: bump seq: %w", mapErr(err))
	}
	s.lastSeq = atLeast
	return nil
}

// ApplyRoster replaces the roster atomically. A roster that is not newer than
// the current one is refused with ErrStaleRoster; an invalid one with the
// validation errors. The old roster stays in force on any error.
func (s *Store) ApplyRoster(ctx context.Context, r roster.Roster) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("store: roster v%d: %w", r.Version, err)
	}
	body, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("store: roster: encode: %w", err)
	}
	res, err := s.db.ExecContext(ctx, `
		INSERT INTO roster (id, version, body, applied_ns) VALUES (1, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET version = excluded.version, body = excluded.body, applied_ns = excluded.applied_ns
		WHERE excluded.version > roster.version`, r.Version, string(body), s.now().UnixNano())
	if err != nil {
		return fmt.Errorf("store: roster: %w", mapErr(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w (v%d)", ErrStaleRoster, r.Version)
	}
	return nil
}

// Roster returns the roster in force, attendance.ErrNotFound when none.
func (s *Store) Roster(ctx context.Context) (roster.Roster, error) {
	var body string
	err := s.db.QueryRowContext(ctx, "SELECT body FROM roster WHERE id = 1").Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return roster.Roster{}, fmt.Errorf("store: roster: %w", attendance.ErrNotFound)
	}
	if err != nil {
		return roster.Roster{}, fmt.Errorf("store: roster: %w", err)
	}
	var r roster.Roster
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		return roster.Roster{}, fmt.Errorf("store: roster: decode: %w", err)
	}
	return r, nil
}

// Backup writes a consistent copy of the database to dest (VACUUM INTO).
func (s *Store) Backup(ctx context.Context, dest string) error {
	if _, err := os.Stat(dest); err == nil {
		return fmt.Errorf("store: backup: %s exists", dest)
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	defer conn.Close()
	// VACUUM INTO writes only dest, but SQLite refuses it on a query_only
	// connection (Options.AsItIs): lifted for this one statement.
	if s.asItIs {
		if _, err := conn.ExecContext(ctx, "PRAGMA query_only = false"); err != nil {
			return fmt.Errorf("store: backup: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA query_only = true")
	}
	if _, err := conn.ExecContext(ctx, "VACUUM INTO ?", dest); err != nil {
		return fmt.Errorf("store: backup: %w", mapErr(err))
	}
	return nil
}

// checkpointIdle is the checkpoint Maintain runs while the door is quiet.
// It copies what it can of the WAL into the database file without waiting
// for readers and without truncating the WAL file (a WAL that grows again
// costs every commit more to make durable than one that is overwritten,
// BENCHMARKS.md). When all of it was copied, it then restarts the WAL with
// one small write: the first commit after a restart also syncs the new WAL
// header, an fsync that would otherwise fall on the next tap. done is false
// when a reader kept part of the WAL from being copied.
func (s *Store) checkpointIdle(ctx context.Context) (done bool, err error) {
	// Both statements on the one connection, with no commit between them.
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("store: checkpoint: %w", err)
	}
	defer conn.Close()
	var busy, frames, copied int
	if err := conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied); err != nil {
		return false, fmt.Errorf("store: checkpoint: %w", err)
	}
	if busy != 0 || copied != frames {
		return false, nil
	}
	if _, err := conn.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('idle_checkpoint_at', ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, s.now().UTC().Format(time.RFC3339Nano)); err != nil {
		return true, fmt.Errorf("store: checkpoint: restart the WAL: %w", mapErr(err))
	}
	return true, nil
}

// Checkpoint folds the WAL into the database file and truncates the WAL.
func (s *Store) Checkpoint(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return fmt.Errorf("store: checkpoint: %w", err)
	}
	return nil
}

// IntegrityCheck runs PRAGMA integrity_check and returns nil when it says ok.
func (s *Store) IntegrityCheck(ctx context.Context) error {
	var res string
	if err := s.db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&res); err != nil {
		return fmt.Errorf("store: integrity check: %w", err)
	}
	if res != "ok" {
		return fmt.Errorf("store: integrity check: %s", res)
	}
	return nil
}

// Ping checks that the database answers (health checks).
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// MinRetention is the shortest time the kiosk keeps events: the inspection
// window in which attendance lists must be at hand (DOMAIN.md).
const MinRetention = 6 * 7 * 24 * time.Hour

// ErrRetentionTooShort: a purge below MinRetention.
var ErrRetentionTooShort = errors.New("store: retention below the 6-week minimum")

// Purge deletes events older than keep that central has acknowledged. It
// never deletes an event central does not have, a quarantined event, or the
// latest check-in/out of any child or staff member (presence is derived
// from events, so those decide who is in). It returns how many went.
func (s *Store) Purge(ctx context.Context, keep time.Duration) (int64, error) {
	if keep < MinRetention {
		return 0, fmt.Errorf("%w: %v", ErrRetentionTooShort, keep)
	}
	cutoff := s.now().Add(-keep).UnixNano()
	res, err := s.db.ExecContext(ctx, `
		DELETE FROM events
		WHERE wall_ns < ?
		  AND seq <= `+ackedThroughSQL+`
		  AND seq NOT IN (SELECT seq FROM quarantine)
		  AND seq < (SELECT max(seq) FROM events) -- the newest event carries the sequence
		  AND seq NOT IN (SELECT max(seq) FROM events WHERE child_id IS NOT NULL
		                  AND type IN ('child_check_in', 'child_check_out') GROUP BY child_id)
		  AND seq NOT IN (SELECT max(seq) FROM events WHERE staff_id IS NOT NULL
		                  AND type IN ('staff_in', 'staff_out') GROUP BY staff_id)`, cutoff)
	if err != nil {
		return 0, fmt.Errorf("store: purge: %w", mapErr(err))
	}
	n, _ := res.RowsAffected()
	// Corrections pulled from central are central's to keep; here they only
	// serve presence and the retention window.
	if _, err := s.db.ExecContext(ctx, "DELETE FROM remote_corrections WHERE wall_ns < ?", cutoff); err != nil {
		return n, fmt.Errorf("store: purge: %w", mapErr(err))
	}
	return n, nil
}
