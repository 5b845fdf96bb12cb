// Package audit keeps an append-only, hash-chained audit trail in SQL
// (SQLite on the kiosk, SQLite or PostgreSQL at central). Every entry commits
// to the hash of the one before it, so changing, removing or reordering a
// stored entry breaks the chain and Verify reports the first broken sequence
// number. Triggers in the database refuse UPDATE and DELETE on the table, so
// tampering needs deliberate schema changes as well.
//
// Entries name people and things by id only (child id, staff id, device id,
// request id): never a raw badge UID, a BSN, a password, a PIN or a token.
package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"
)

// Action names what was done. The strings are stored and hashed: never
// rename one.
type Action string

const (
	PickupConfirmed    Action = "pickup_confirmed"
	PickupRefused      Action = "pickup_refused"
	RatioOverride      Action = "ratio_override"
	ManualCheckIn      Action = "manual_check_in"
	ManualCheckOut     Action = "manual_check_out"
	PersonalDataExport Action = "personal_data_export"
	PersonalDataChange Action = "personal_data_change" // correction or completion
	ProcessingRestrict Action = "processing_restricted"
	RosterChange       Action = "roster_change"
	SignIn             Action = "sign_in"
	SignInFailed       Action = "sign_in_failed"
	SignOut            Action = "sign_out"
	StaffPINLocked     Action = "staff_pin_locked"
	ErasureRequested   Action = "erasure_requested"
	Erasure            Action = "erasure"
	RetentionRun       Action = "retention_run"
	LegalHoldSet       Action = "legal_hold_set"
	LegalHoldReleased  Action = "legal_hold_released"
	DeviceEnrolled     Action = "device_enrolled"
	DeviceRevoked      Action = "device_revoked"
	TokenIssued        Action = "token_issued"
	TokenRevoked       Action = "token_revoked"
	UserChange         Action = "user_change"
	BillingRun         Action = "billing_run"      // invoices issued (a month, or its corrections)
	BillingSettings    Action = "billing_settings" // provider details, SEPA mandates, collections
	// StayCorrected: staff or a manager corrected a stay (a check-in or
	// check-out time, a missed stay, a wrong one), with the reason.
	StayCorrected Action = "stay_corrected"
	// The parents' portal (actor "parent:<account id>").
	PickupAnnounced   Action = "pickup_announced"
	PickupWithdrawn   Action = "pickup_withdrawn"
	IndependenceGrant Action = "independence_granted"
	IndependenceEnd   Action = "independence_revoked"
	AbsenceReported   Action = "absence_reported"
	AbsenceWithdrawn  Action = "absence_withdrawn"
	ConsentChange     Action = "consent_change"
	PasskeyAdded      Action = "passkey_added"
	SubjectRequested  Action = "subject_request"
	// Outgoing webhooks: an endpoint made, changed, its secret rotated or
	// deleted (details "op"), a delivery retried by hand.
	WebhookChange Action = "webhook_change"
)

// Actions lists every known action, in a stable order.
var Actions = []Action{
	PickupConfirmed, PickupRefused, RatioOverride, ManualCheckIn, ManualCheckOut,
	PersonalDataExport, PersonalDataChange, ProcessingRestrict, RosterChange,
	SignIn, SignInFailed, SignOut, StaffPINLocked, ErasureRequested, Erasure,
	RetentionRun, LegalHoldSet, LegalHoldReleased, DeviceEnrolled, DeviceRevoked,
	TokenIssued, TokenRevoked, UserChange, BillingRun, BillingSettings,
	PickupAnnounced, PickupWithdrawn, IndependenceGrant, IndependenceEnd,
	AbsenceReported, AbsenceWithdrawn, ConsentChange, PasskeyAdded, SubjectRequested,
	StayCorrected,
	WebhookChange,
}

// Valid reports whether a is a known action.
func (a Action) Valid() bool {
	for _, k := range Actions {
		if a == k {
			return true
		}
	}
	return false
}

// GenesisHash is the prev_hash of the first entry.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// TimeLayout is the stored and hashed form of an entry's time: UTC with
// microseconds (PostgreSQL's precision), sortable as text.
const TimeLayout = "2006-01-02T15:04:05.000000Z"

// Entry is one stored audit record.
type Entry struct {
	Seq      int64           `json:"seq"`
	Time     time.Time       `json:"at"`
	Actor    string          `json:"actor"`
	Action   Action          `json:"action"`
	Subject  string          `json:"subject"`
	Details  json.RawMessage `json:"details"`
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
}

// Record is what a caller appends; the log assigns seq, time (unless set)
// and the hashes.
type Record struct {
	Actor   string // who acted: "staff:S12", "user:anna", "device:kiosk-1", "system"
	Action  Action
	Subject string // what it concerns: "child:C7", "request:R3", ...
	Details any    // marshalled to a JSON object; nil means {}
	Time    time.Time
}

// Sentinel errors callers branch on.
var (
	// ErrBroken is wrapped by every *ChainError.
	ErrBroken = errors.New("audit: chain broken")
	// ErrInvalid marks a record that cannot be appended.
	ErrInvalid = errors.New("audit: invalid record")
)

// ChainError reports the first entry at which the chain does not hold.
type ChainError struct {
	Seq    int64  // the first broken entry (or the missing seq)
	Reason string // hash mismatch, prev_hash mismatch, gap, ...
}

func (e *ChainError) Error() string {
	return fmt.Sprintf("audit: chain broken at seq %d: %s", e.Seq, e.Reason)
}

func (e *ChainError) Unwrap() error { return ErrBroken }

// Dialect selects SQL differences between SQLite and PostgreSQL.
type Dialect int

const (
	SQLite Dialect = iota
	Postgres
)

func (d Dialect) String() string {
	if d == Postgres {
		return "postgres"
	}
	return "sqlite"
}

// Log appends to and verifies the audit table in one database.
type Log struct {
	db      *sql.DB
	dialect Dialect
	now     func() time.Time
	// mu serialises this Log's own-transaction appends (it spares SQLite
	// opened without _txlock=immediate a lock upgrade race); the database
	// lock (SQLite's single writer, PostgreSQL's LOCK TABLE) serialises
	// everything else.
	mu sync.Mutex
}

// Option configures a Log.
type Option func(*Log)

// WithClock injects the clock used for entries without a time.
func WithClock(now func() time.Time) Option { return func(l *Log) { l.now = now } }

// New returns a Log over db, which must already hold the schema (Migrate).
func New(db *sql.DB, dialect Dialect, opts ...Option) *Log {
	l := &Log{db: db, dialect: dialect, now: time.Now}
	for _, o := range opts {
		o(l)
	}
	return l
}

// Append adds one entry in its own transaction.
func (l *Log) Append(ctx context.Context, r Record) (Entry, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return Entry{}, fmt.Errorf("audit: begin: %w", err)
	}
	defer tx.Rollback()
	e, err := l.appendTx(ctx, tx, r)
	if err != nil {
		return Entry{}, err
	}
	if err := tx.Commit(); err != nil {
		return Entry{}, fmt.Errorf("audit: commit: %w", err)
	}
	return e, nil
}

// AppendTx adds one entry inside the caller's transaction, so that an
// audited action and its audit entry commit or roll back together. On
// SQLite open the database with _txlock=immediate so that concurrent
// writers queue instead of failing with SQLITE_BUSY.
//
// AppendTx does not take the Log's own mutex: the caller's transaction may
// already hold the database's write lock, and waiting for an Append that
// waits for that lock would deadlock. The database serialises instead.
func (l *Log) AppendTx(ctx context.Context, tx *sql.Tx, r Record) (Entry, error) {
	return l.appendTx(ctx, tx, r)
}

func (l *Log) appendTx(ctx context.Context, tx *sql.Tx, r Record) (Entry, error) {
	e, err := l.prepare(r)
	if err != nil {
		return Entry{}, err
	}
	if l.dialect == Postgres {
		// EXCLUSIVE lets readers in but queues every other appender until
		// this transaction ends, so seq and prev_hash cannot race.
		if _, err := tx.ExecContext(ctx, `LOCK TABLE audit_log IN EXCLUSIVE MODE`); err != nil {
			return Entry{}, fmt.Errorf("audit: lock: %w", err)
		}
	}
	var lastSeq int64
	prev := GenesisHash
	err = tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&lastSeq, &prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Entry{}, fmt.Errorf("audit: read head: %w", err)
	}
	e.Seq = lastSeq + 1
	e.PrevHash = prev
	e.Hash = EntryHash(e)
	_, err = tx.ExecContext(ctx,
		`INSERT INTO audit_log (seq, at, actor, action, subject, details, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		e.Seq, e.Time.Format(TimeLayout), e.Actor, string(e.Action), e.Subject, string(e.Details), e.PrevHash, e.Hash)
	if err != nil {
		return Entry{}, fmt.Errorf("audit: insert seq %d: %w", e.Seq, err)
	}
	return e, nil
}

func (l *Log) prepare(r Record) (Entry, error) {
	if !r.Action.Valid() {
		return Entry{}, fmt.Errorf("%w: unknown action %q", ErrInvalid, r.Action)
	}
	if r.Actor == "" {
		return Entry{}, fmt.Errorf("%w: %s: empty actor", ErrInvalid, r.Action)
	}
	var raw []byte
	if r.Details == nil {
		raw = []byte("{}")
	} else if rm, ok := r.Details.(json.RawMessage); ok {
		raw = rm
	} else {
		b, err := json.Marshal(r.Details)
		if err != nil {
			return Entry{}, fmt.Errorf("%w: %s details: %v", ErrInvalid, r.Action, err)
		}
		raw = b
	}
	details, err := CanonicalJSON(raw)
	if err != nil {
		return Entry{}, fmt.Errorf("%w: %s details: %v", ErrInvalid, r.Action, err)
	}
	t := r.Time
	if t.IsZero() {
		t = l.now()
	}
	return Entry{
		Time:    t.UTC().Truncate(time.Microsecond),
		Actor:   r.Actor,
		Action:  r.Action,
		Subject: r.Subject,
		Details: details,
	}, nil
}

// CanonicalJSON returns the canonical form of a JSON object: compact, keys
// sorted, numbers kept as written. It is idempotent; anything but a single
// JSON object is an error.
func CanonicalJSON(b []byte) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after JSON object")
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, errors.New("details must be a JSON object")
	}
	out, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// EntryHash computes the hex SHA-256 over the canonical encoding of e
// (seq, time, actor, action, subject, details, prev_hash, each length
// prefixed so that no two entries encode alike). e.Hash is ignored.
func EntryHash(e Entry) string {
	h := sha256.New()
	h.Write([]byte("kinderdeur-audit-v1\x00"))
	var n [8]byte
	field := func(s string) {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	field(strconv.FormatInt(e.Seq, 10))
	field(e.Time.UTC().Format(TimeLayout))
	field(e.Actor)
	field(string(e.Action))
	field(e.Subject)
	field(string(e.Details))
	field(e.PrevHash)
	return hex.EncodeToString(h.Sum(nil))
}

// Head returns the last entry's seq and hash (0 and GenesisHash when empty).
// Storing the head elsewhere (central keeps each kiosk's last head) is what
// detects a truncated tail, which a chain alone cannot.
func (l *Log) Head(ctx context.Context) (int64, string, error) {
	var seq int64
	hash := GenesisHash
	err := l.db.QueryRowContext(ctx, `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&seq, &hash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, "", fmt.Errorf("audit: head: %w", err)
	}
	return seq, hash, nil
}

// Verify walks the whole chain in seq order and returns the number of
// entries checked. A broken chain returns a *ChainError (errors.Is
// ErrBroken) naming the first bad seq.
func (l *Log) Verify(ctx context.Context) (int64, error) {
	var c checker
	err := l.scan(ctx, func(e Entry) error { return c.next(e, false) })
	return c.n, err
}

// Export writes every entry as one JSON object per line (JSON Lines), in
// seq order. VerifyExport checks such a file offline.
func (l *Log) Export(ctx context.Context, w io.Writer) (int64, error) {
	enc := json.NewEncoder(w)
	var n int64
	err := l.scan(ctx, func(e Entry) error {
		if err := enc.Encode(e); err != nil {
			return fmt.Errorf("audit: export: %w", err)
		}
		n++
		return nil
	})
	return n, err
}

// Entries returns the entries with from <= seq <= to (to <= 0: to the end).
func (l *Log) Entries(ctx context.Context, from, to int64) ([]Entry, error) {
	var out []Entry
	err := l.scanRange(ctx, from, to, func(e Entry) error { out = append(out, e); return nil })
	return out, err
}

func (l *Log) scan(ctx context.Context, fn func(Entry) error) error {
	return l.scanRange(ctx, 1, 0, fn)
}

func (l *Log) scanRange(ctx context.Context, from, to int64, fn func(Entry) error) error {
	if to <= 0 {
		to = 1<<63 - 1
	}
	rows, err := l.db.QueryContext(ctx,
		`SELECT seq, at, actor, action, subject, details, prev_hash, hash FROM audit_log WHERE seq >= $1 AND seq <= $2 ORDER BY seq`, from, to)
	if err != nil {
		return fmt.Errorf("audit: query: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e Entry
		var at, action, details string
		if err := rows.Scan(&e.Seq, &at, &e.Actor, &action, &e.Subject, &details, &e.PrevHash, &e.Hash); err != nil {
			return fmt.Errorf("audit: scan: %w", err)
		}
		e.Action = Action(action)
		e.Details = json.RawMessage(details)
		t, err := time.Parse(TimeLayout, at)
		if err != nil {
			// A time that does not parse cannot have been written by
			// Append: report it as a broken entry, not a scan failure.
			return &ChainError{Seq: e.Seq, Reason: fmt.Sprintf("bad time %q", at)}
		}
		e.Time = t
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("audit: query: %w", err)
	}
	return nil
}

// checker holds the running state of a chain walk.
type checker struct {
	n    int64
	seq  int64
	hash string
}

func (c *checker) next(e Entry, canonicalise bool) error {
	if c.hash == "" {
		c.hash = GenesisHash
	}
	want := c.seq + 1
	switch {
	case e.Seq != want:
		return &ChainError{Seq: want, Reason: fmt.Sprintf("expected seq %d, found %d (entry missing or reordered)", want, e.Seq)}
	case e.PrevHash != c.hash:
		return &ChainError{Seq: e.Seq, Reason: "prev_hash does not match the previous entry's hash"}
	}
	if canonicalise {
		d, err := CanonicalJSON(e.Details)
		if err != nil {
			return &ChainError{Seq: e.Seq, Reason: "details: " + err.Error()}
		}
		e.Details = d
	}
	if got := EntryHash(e); got != e.Hash {
		return &ChainError{Seq: e.Seq, Reason: "hash does not match the entry's contents"}
	}
	c.n++
	c.seq = e.Seq
	c.hash = e.Hash
	return nil
}

// VerifyExport checks a JSON Lines export (as written by Export) offline and
// returns the number of entries and the head hash. Details are
// canonicalised before hashing, so re-indenting a line does not matter;
// changing any value does.
func VerifyExport(r io.Reader) (n int64, head string, err error) {
	dec := json.NewDecoder(r)
	c := checker{hash: GenesisHash}
	for {
		var e Entry
		if err := dec.Decode(&e); err == io.EOF {
			break
		} else if err != nil {
			return c.n, c.hash, fmt.Errorf("audit: export line %d: %w", c.n+1, err)
		}
		if err := c.next(e, true); err != nil {
			return c.n, c.hash, err
		}
	}
	return c.n, c.hash, nil
}

// Hook appends an entry from plain values; its signature matches the
// AuditFunc hooks of other packages (sync/central/auth, retention), so
// `log.Hook` can be handed to them without an import between them.
func (l *Log) Hook(ctx context.Context, action, actor, subject string, details map[string]any) error {
	var d any
	if details != nil {
		d = details
	}
	_, err := l.Append(ctx, Record{Actor: actor, Action: Action(action), Subject: subject, Details: d})
	return err
}
