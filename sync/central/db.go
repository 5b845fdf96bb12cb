package central

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/kinderdeur/kiosk/attendance/audit"
	"github.com/kinderdeur/kiosk/sync/central/fleet"
	"github.com/kinderdeur/kiosk/sync/central/sqldb"
)

// Dialect names the SQL database behind a DB.
type Dialect = sqldb.Dialect

// The dialects central runs on.
const (
	SQLite   = sqldb.SQLite
	Postgres = sqldb.Postgres
)

// DB is central's storage, opened once: the shared handle (connection,
// dialect, clock, migrations; package sqldb) and one store per job. Each
// store is safe for concurrent use; the parts of central take the stores
// they need, not the DB.
type DB struct {
	h *sqldb.DB

	Sites    *Sites       // locations and their roster versions
	Devices  *Devices     // enrolment, device keys, revocation, request nonces
	Events   *EventStore  // ingest and the stored events, alerts and rejects
	Users    *Users       // admin users and API tokens
	Sessions *Sessions    // sign-in sessions of the admin pages
	Reports  *Reports     // attendance, presence and the inspection timeline
	Subjects *Subjects    // data-subject exports, requests and retention
	Parents  *Parents     // parents' portal: guardian e-mails, accounts, passkeys, sessions, absences
	Demo     *Demo        // demo organisation, users and history
	Billing  *Billing     // provider details, mandates, billing runs and invoices
	Fleet    *fleet.Store // kiosks' health reports and the problems the fleet check found
	// Corrections holds the corrections of stays (made here or at kiosks).
	Corrections *CorrectionStore
	Webhooks    *Webhooks   // outgoing webhook endpoints and their delivery outbox
	Limits      *Limits     // shared rate-limit buckets (sign-in), one per account across replicas
	Jobs        *Jobs       // scheduled work, once per schedule across replicas
	Rosters     *RosterFeed // wakes kiosks' roster long-polls on any replica
}

// IsPostgresURL reports whether dsn selects PostgreSQL.
func IsPostgresURL(dsn string) bool { return sqldb.IsPostgresURL(dsn) }

// SQLiteDSN is the connection string for a SQLite file with the durability
// pragmas central requires (WAL, synchronous=FULL).
func SQLiteDSN(path string) string { return sqldb.SQLiteDSN(path) }

// Open opens and migrates the database: a postgres:// URL or a SQLite file
// path. now is the clock for stored times (nil: time.Now).
func Open(ctx context.Context, dsn string, now func() time.Time) (*DB, error) {
	h, err := sqldb.Open(ctx, dsn, now)
	if err != nil {
		return nil, err
	}
	return newDB(h), nil
}

// newDB builds the stores on h.
func newDB(h *sqldb.DB) *DB {
	d := &DB{h: h}
	d.Sites = &Sites{db: h}
	d.Rosters = newRosterFeed(h, d.Sites)
	d.Sites.feed = d.Rosters
	d.Limits = &Limits{db: h}
	d.Jobs = &Jobs{db: h, holder: newHolder()}
	d.Devices = &Devices{db: h, sites: d.Sites}
	d.Corrections = &CorrectionStore{db: h, sites: d.Sites}
	d.Webhooks = &Webhooks{db: h}
	d.Events = &EventStore{db: h, corrections: d.Corrections, webhooks: d.Webhooks}
	d.Users = &Users{db: h}
	d.Sessions = &Sessions{db: h}
	d.Reports = &Reports{db: h, sites: d.Sites, events: d.Events, corrections: d.Corrections}
	d.Subjects = &Subjects{db: h, sites: d.Sites, events: d.Events, reports: d.Reports}
	d.Parents = &Parents{db: h, sites: d.Sites}
	d.Events.parents = d.Parents
	d.Billing = &Billing{db: h, sites: d.Sites, reports: d.Reports, parents: d.Parents}
	d.Fleet = fleet.New(h)
	d.Demo = &Demo{parents: d.Parents, db: h, sites: d.Sites, devices: d.Devices, events: d.Events, users: d.Users}
	return d
}

// Close stops the roster feed's LISTEN connection and closes the database.
func (d *DB) Close() error {
	d.Rosters.close()
	return d.h.Close()
}

// Exclusive runs fn while no other replica on this database runs
// Exclusive with the same name (a PostgreSQL advisory lock; SQLite is one
// process): start-up work such as demo seeding and pepper rewrites.
func (d *DB) Exclusive(ctx context.Context, name string, fn func(context.Context) error) error {
	return d.h.Exclusive(ctx, name, fn)
}

// Dialect reports which database this is.
func (d *DB) Dialect() Dialect { return d.h.Dialect() }

// SQL exposes the handle for tests and benchmarks of this module.
func (d *DB) SQL() *sql.DB { return d.h.SQL() }

// OpenAudit creates the audit tables in central's database when missing
// and returns the hash-chained audit log on it (with the DB's clock).
func (d *DB) OpenAudit(ctx context.Context) (*audit.Log, error) {
	dia := audit.SQLite
	if d.h.Dialect() == Postgres {
		dia = audit.Postgres
	}
	if err := audit.Migrate(ctx, d.h.SQL(), dia); err != nil {
		return nil, fmt.Errorf("central: audit: %w", err)
	}
	return audit.New(d.h.SQL(), dia, audit.WithClock(d.h.Clock())), nil
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
