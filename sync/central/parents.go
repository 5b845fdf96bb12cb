package central

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/sync/central/auth"
	"github.com/kinderdeur/kiosk/sync/central/sqldb"
)

// Parents holds what the parents' portal keeps at central: the e-mail
// addresses the centre invites guardians by (never part of a roster, so
// never on a kiosk), parent accounts, pending e-mail codes, passkeys,
// portal sessions (auth.SessionStore) and reported absences.
type Parents struct {
	db    *sqldb.DB
	sites *Sites
	kick  atomic.Pointer[func()] // wakes the notice worker (OnNotice)
}

// GuardianLink is one guardian record an e-mail address stands for.
type GuardianLink struct {
	LocationID string `json:"location_id"`
	PersonID   string `json:"person_id"`
	Email      string `json:"email"`
	Withdrawn  bool   `json:"withdrawn"` // rights withdrawn: the portal shows nothing
	// NotifyCheckout: the guardian opted in to an e-mail when someone else
	// checks their child out.
	NotifyCheckout bool `json:"notify_checkout"`
}

// ParentAccount is one parent's sign-in identity: an e-mail address.
type ParentAccount struct {
	ID      string
	Email   string
	Handle  []byte // WebAuthn user handle
	Created time.Time
}

// NormParentEmail lower-cases and checks an e-mail address.
func NormParentEmail(s string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(s))
	local, domain, ok := strings.Cut(e, "@")
	if !ok || local == "" || domain == "" || len(e) > 254 || strings.ContainsAny(e, " \t\r\n<>,;\"\\") {
		return "", fmt.Errorf("%w: e-mail address", ErrMalformed)
	}
	return e, nil
}

// SetGuardianEmail keeps (or, with email "", forgets) the e-mail address
// of a guardian of a location: the portal's invitation.
func (s *Parents) SetGuardianEmail(ctx context.Context, locationID, personID, email string) error {
	if email == "" {
		_, err := s.db.Exec(ctx, nil, "DELETE FROM guardian_emails WHERE location_id = ? AND person_id = ?", locationID, personID)
		return err
	}
	e, err := NormParentEmail(email)
	if err != nil {
		return err
	}
	_, err = s.db.Exec(ctx, nil, `INSERT INTO guardian_emails (location_id, person_id, email, withdrawn, updated_ns) VALUES (?, ?, ?, 0, ?)
		ON CONFLICT (location_id, person_id) DO UPDATE SET email = excluded.email, updated_ns = excluded.updated_ns`,
		locationID, personID, e, s.db.Now().UnixNano())
	if err != nil {
		return fmt.Errorf("central: guardian e-mail: %w", err)
	}
	return nil
}

// SetGuardianWithdrawn marks a guardian's rights withdrawn (or restored):
// a withdrawn guardian sees nothing in the portal.
func (s *Parents) SetGuardianWithdrawn(ctx context.Context, locationID, personID string, withdrawn bool) error {
	w := 0
	if withdrawn {
		w = 1
	}
	res, err := s.db.Exec(ctx, nil, "UPDATE guardian_emails SET withdrawn = ?, updated_ns = ? WHERE location_id = ? AND person_id = ?",
		w, s.db.Now().UnixNano(), locationID, personID)
	if err != nil {
		return fmt.Errorf("central: guardian withdrawn: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("central: guardian %s/%s: %w", locationID, personID, ErrNotFound)
	}
	return nil
}

// GuardianLinks returns the guardian records kept for an e-mail address.
func (s *Parents) GuardianLinks(ctx context.Context, email string) ([]GuardianLink, error) {
	return s.links(ctx, "WHERE email = ?", email)
}

// GuardianEmails returns the guardian records of a location.
func (s *Parents) GuardianEmails(ctx context.Context, locationID string) ([]GuardianLink, error) {
	return s.links(ctx, "WHERE location_id = ?", locationID)
}

func (s *Parents) links(ctx context.Context, where string, arg string) ([]GuardianLink, error) {
	rows, err := s.db.Query(ctx, nil, "SELECT location_id, person_id, email, withdrawn, notify_checkout FROM guardian_emails "+where+" ORDER BY location_id, person_id", arg)
	if err != nil {
		return nil, fmt.Errorf("central: guardian e-mails: %w", err)
	}
	defer rows.Close()
	var out []GuardianLink
	for rows.Next() {
		var l GuardianLink
		var w, nc int
		if err := rows.Scan(&l.LocationID, &l.PersonID, &l.Email, &w, &nc); err != nil {
			return nil, fmt.Errorf("central: guardian e-mails: %w", err)
		}
		l.Withdrawn, l.NotifyCheckout = w != 0, nc != 0
		out = append(out, l)
	}
	return out, rows.Err()
}

// Account returns the parent account of an e-mail address, creating it
// on first use.
func (s *Parents) Account(ctx context.Context, email string) (ParentAccount, error) {
	e, err := NormParentEmail(email)
	if err != nil {
		return ParentAccount{}, err
	}
	a, err := s.account(ctx, "email", e)
	if !errors.Is(err, ErrNotFound) {
		return a, err
	}
	h := make([]byte, 32)
	rand.Read(h)
	a = ParentAccount{ID: "par-" + uuid.NewString(), Email: e, Handle: h, Created: s.db.Now().UTC()}
	if _, err := s.db.Exec(ctx, nil, "INSERT INTO parent_accounts (id, email, handle, created_ns) VALUES (?, ?, ?, ?) ON CONFLICT (email) DO NOTHING",
		a.ID, a.Email, hex.EncodeToString(h), a.Created.UnixNano()); err != nil {
		return a, fmt.Errorf("central: parent account: %w", err)
	}
	return s.account(ctx, "email", e) // the winner of a race
}

// AccountByID returns a parent account.
func (s *Parents) AccountByID(ctx context.Context, id string) (ParentAccount, error) {
	return s.account(ctx, "id", id)
}

// AccountByHandle returns the account of a WebAuthn user handle.
func (s *Parents) AccountByHandle(ctx context.Context, handle []byte) (ParentAccount, error) {
	return s.account(ctx, "handle", hex.EncodeToString(handle))
}

func (s *Parents) account(ctx context.Context, col, v string) (ParentAccount, error) {
	var a ParentAccount
	var h string
	var created int64
	err := s.db.QueryRow(ctx, nil, "SELECT id, email, handle, created_ns FROM parent_accounts WHERE "+col+" = ?", v).Scan(&a.ID, &a.Email, &h, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("central: parent account: %w", ErrNotFound)
	}
	if err != nil {
		return a, fmt.Errorf("central: parent account: %w", err)
	}
	a.Handle, _ = hex.DecodeString(h)
	a.Created = time.Unix(0, created).UTC()
	return a, nil
}

// PutCode stores the hash of a new e-mail code for email (replacing any
// pending one) valid until expires.
func (s *Parents) PutCode(ctx context.Context, email, codeHash string, expires time.Time) error {
	_, err := s.db.Exec(ctx, nil, `INSERT INTO parent_codes (email, code_hash, expires_ns, attempts) VALUES (?, ?, ?, 0)
		ON CONFLICT (email) DO UPDATE SET code_hash = excluded.code_hash, expires_ns = excluded.expires_ns, attempts = 0`,
		email, codeHash, expires.UnixNano())
	if err != nil {
		return fmt.Errorf("central: put code: %w", err)
	}
	return nil
}

// TakeCodeAttempt counts one attempt at email's pending code and returns
// its hash, expiry and the attempts so far (this one included).
// ErrNotFound: no code pending.
func (s *Parents) TakeCodeAttempt(ctx context.Context, email string) (hash string, expires time.Time, attempts int, err error) {
	if _, err := s.db.Exec(ctx, nil, "UPDATE parent_codes SET attempts = attempts + 1 WHERE email = ?", email); err != nil {
		return "", time.Time{}, 0, fmt.Errorf("central: code: %w", err)
	}
	var exp int64
	err = s.db.QueryRow(ctx, nil, "SELECT code_hash, expires_ns, attempts FROM parent_codes WHERE email = ?", email).Scan(&hash, &exp, &attempts)
	if errors.Is(err, sql.ErrNoRows) {
		return "", time.Time{}, 0, fmt.Errorf("central: code: %w", ErrNotFound)
	}
	if err != nil {
		return "", time.Time{}, 0, fmt.Errorf("central: code: %w", err)
	}
	return hash, time.Unix(0, exp), attempts, nil
}

// DeleteCode drops email's pending code (used or given up).
func (s *Parents) DeleteCode(ctx context.Context, email string) error {
	_, err := s.db.Exec(ctx, nil, "DELETE FROM parent_codes WHERE email = ?", email)
	return err
}

// StoredPasskey is a passkey as stored: its credential as JSON.
type StoredPasskey struct {
	ID        string
	AccountID string
	JSON      string
	Created   time.Time
	LastUsed  time.Time
}

// PutPasskey stores (or updates: sign counters) a passkey of an account.
func (s *Parents) PutPasskey(ctx context.Context, id, accountID, credJSON string) error {
	now := s.db.Now().UnixNano()
	_, err := s.db.Exec(ctx, nil, `INSERT INTO parent_passkeys (id, account_id, credential, created_ns, last_used_ns) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET credential = excluded.credential, last_used_ns = excluded.last_used_ns
		WHERE parent_passkeys.account_id = excluded.account_id`, id, accountID, credJSON, now, now)
	if err != nil {
		return fmt.Errorf("central: put passkey: %w", err)
	}
	return nil
}

// Passkeys lists an account's passkeys.
func (s *Parents) Passkeys(ctx context.Context, accountID string) ([]StoredPasskey, error) {
	rows, err := s.db.Query(ctx, nil, "SELECT id, account_id, credential, created_ns, last_used_ns FROM parent_passkeys WHERE account_id = ? ORDER BY created_ns", accountID)
	if err != nil {
		return nil, fmt.Errorf("central: passkeys: %w", err)
	}
	defer rows.Close()
	var out []StoredPasskey
	for rows.Next() {
		var p StoredPasskey
		var c, u int64
		if err := rows.Scan(&p.ID, &p.AccountID, &p.JSON, &c, &u); err != nil {
			return nil, fmt.Errorf("central: passkeys: %w", err)
		}
		p.Created, p.LastUsed = time.Unix(0, c).UTC(), time.Unix(0, u).UTC()
		out = append(out, p)
	}
	return out, rows.Err()
}

// DeletePasskey removes one of an account's passkeys.
func (s *Parents) DeletePasskey(ctx context.Context, accountID, id string) error {
	res, err := s.db.Exec(ctx, nil, "DELETE FROM parent_passkeys WHERE account_id = ? AND id = ?", accountID, id)
	if err != nil {
		return fmt.Errorf("central: delete passkey: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("central: passkey: %w", ErrNotFound)
	}
	return nil
}

// ---- portal sessions (auth.SessionStore) ----

// PutSession implements auth.SessionStore.
func (s *Parents) PutSession(ctx context.Context, ss auth.Session) error {
	_, err := s.db.Exec(ctx, nil, `INSERT INTO parent_sessions (id_hash, user_id, user_name, role, csrf_token, created_ns, last_seen_ns)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id_hash) DO UPDATE SET last_seen_ns = excluded.last_seen_ns`,
		ss.IDHash, ss.Principal.ID, ss.Principal.Name, string(ss.Principal.Role), ss.CSRFToken, ss.Created.UnixNano(), ss.LastSeen.UnixNano())
	if err != nil {
		return fmt.Errorf("central: put parent session: %w", err)
	}
	return nil
}

// GetSession implements auth.SessionStore.
func (s *Parents) GetSession(ctx context.Context, idHash string) (auth.Session, error) {
	ss := auth.Session{IDHash: idHash}
	var role string
	var created, seen int64
	err := s.db.QueryRow(ctx, nil, "SELECT user_id, user_name, role, csrf_token, created_ns, last_seen_ns FROM parent_sessions WHERE id_hash = ?", idHash).
		Scan(&ss.Principal.ID, &ss.Principal.Name, &role, &ss.CSRFToken, &created, &seen)
	if errors.Is(err, sql.ErrNoRows) {
		return ss, auth.ErrNoSession
	}
	if err != nil {
		return ss, fmt.Errorf("central: get parent session: %w", err)
	}
	ss.Principal.Role, ss.Created, ss.LastSeen = auth.Role(role), time.Unix(0, created), time.Unix(0, seen)
	return ss, nil
}

// DeleteSession implements auth.SessionStore.
func (s *Parents) DeleteSession(ctx context.Context, idHash string) error {
	_, err := s.db.Exec(ctx, nil, "DELETE FROM parent_sessions WHERE id_hash = ?", idHash)
	return err
}

var _ auth.SessionStore = (*Parents)(nil)

// ---- absences ----

// ParentAbsence is an absence a parent reported: kind sick, late_cancel
// (less than the deadline before the day's start) or cancel.
type ParentAbsence struct {
	ID         string          `json:"id"`
	AccountID  string          `json:"-"`
	LocationID string          `json:"location_id"`
	ChildID    string          `json:"child_id"`
	Date       attendance.Date `json:"date"`
	Kind       string          `json:"kind"`
	Note       string          `json:"note,omitempty"`
	Reported   time.Time       `json:"reported"`
	Withdrawn  time.Time       `json:"withdrawn,omitzero"`
}

// AddAbsence records an absence. A child's day is reported once: when a
// standing absence of that child and day exists, it is returned unchanged
// with existed true (idempotent; the partial unique index
// parent_absences_once holds it across replicas).
func (s *Parents) AddAbsence(ctx context.Context, a ParentAbsence) (_ ParentAbsence, existed bool, err error) {
	a.ID = "abs-" + uuid.NewString()
	a.Reported = s.db.Now().UTC()
	res, err := s.db.Exec(ctx, nil, `INSERT INTO parent_absences (id, account_id, location_id, child_id, day, kind, note, reported_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (location_id, child_id, day) WHERE withdrawn_ns IS NULL DO NOTHING`,
		a.ID, a.AccountID, a.LocationID, a.ChildID, a.Date.String(), a.Kind, a.Note, a.Reported.UnixNano())
	if err != nil {
		return a, false, fmt.Errorf("central: add absence: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return a, false, nil
	}
	as, err := s.absences(ctx, "WHERE location_id = ? AND child_id = ? AND day = ? AND withdrawn_ns IS NULL", a.LocationID, a.ChildID, a.Date.String())
	if err != nil {
		return a, false, err
	}
	if len(as) == 0 { // withdrawn meanwhile: report it again
		return s.AddAbsence(ctx, a)
	}
	return as[0], true, nil
}

// Absence returns a standing absence of one of children (the caller's
// family: "location/child" keys); another family's id is ErrNotFound.
func (s *Parents) Absence(ctx context.Context, id string, children map[string]bool) (ParentAbsence, error) {
	as, err := s.absences(ctx, "WHERE id = ? AND withdrawn_ns IS NULL", id)
	if err != nil {
		return ParentAbsence{}, err
	}
	if len(as) == 0 || !children[as[0].LocationID+"/"+as[0].ChildID] {
		return ParentAbsence{}, fmt.Errorf("central: absence: %w", ErrNotFound)
	}
	return as[0], nil
}

// WithdrawAbsence withdraws an absence of one of children (the caller's
// family): another family's id is ErrNotFound. The portal refuses it once
// the day has started (billing depends on it).
func (s *Parents) WithdrawAbsence(ctx context.Context, id string, children map[string]bool) (ParentAbsence, error) {
	a, err := s.Absence(ctx, id, children)
	if err != nil {
		return a, err
	}
	res, err := s.db.Exec(ctx, nil, "UPDATE parent_absences SET withdrawn_ns = ? WHERE id = ? AND withdrawn_ns IS NULL", s.db.Now().UnixNano(), id)
	if err != nil {
		return ParentAbsence{}, fmt.Errorf("central: withdraw absence: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ParentAbsence{}, fmt.Errorf("central: absence: %w", ErrNotFound)
	}
	return a, nil
}

// Absences returns the standing absences of a location in [from, to].
func (s *Parents) Absences(ctx context.Context, locationID string, from, to attendance.Date) ([]ParentAbsence, error) {
	return s.absences(ctx, "WHERE location_id = ? AND day >= ? AND day <= ? AND withdrawn_ns IS NULL", locationID, from.String(), to.String())
}

// ChildAbsences returns a child's standing absences from a day on.
func (s *Parents) ChildAbsences(ctx context.Context, locationID, childID string, from attendance.Date) ([]ParentAbsence, error) {
	return s.absences(ctx, "WHERE location_id = ? AND child_id = ? AND day >= ? AND withdrawn_ns IS NULL", locationID, childID, from.String())
}

func (s *Parents) absences(ctx context.Context, where string, args ...any) ([]ParentAbsence, error) {
	rows, err := s.db.Query(ctx, nil, "SELECT id, account_id, location_id, child_id, day, kind, note, reported_ns, withdrawn_ns FROM parent_absences "+where+" ORDER BY day, child_id, reported_ns", args...)
	if err != nil {
		return nil, fmt.Errorf("central: absences: %w", err)
	}
	defer rows.Close()
	var out []ParentAbsence
	for rows.Next() {
		var a ParentAbsence
		var day string
		var rep int64
		var wd sql.NullInt64
		if err := rows.Scan(&a.ID, &a.AccountID, &a.LocationID, &a.ChildID, &day, &a.Kind, &a.Note, &rep, &wd); err != nil {
			return nil, fmt.Errorf("central: absences: %w", err)
		}
		a.Date, _ = attendance.ParseDate(day)
		a.Reported = time.Unix(0, rep).UTC()
		if wd.Valid {
			a.Withdrawn = time.Unix(0, wd.Int64).UTC()
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// ---- roster edits ----

// EditRoster applies edit to the newest roster of a location and stores
// the result as the next version through PutRoster, the one path every
// roster change takes (so whatever follows a new version, such as the push
// to the kiosks, follows this one too). A concurrent new version makes it
// retry on that one. edit returns an error to store nothing.
func (s *Sites) EditRoster(ctx context.Context, locationID string, edit func(r *roster.Roster) error) (roster.Roster, error) {
	for range 5 {
		r, _, err := s.Roster(ctx, locationID)
		if err != nil {
			return r, err
		}
		if err := edit(&r); err != nil {
			return r, err
		}
		r.Version++
		v, err := s.PutRoster(ctx, r)
		if errors.Is(err, ErrStaleRoster) {
			continue
		}
		if err != nil {
			return r, err
		}
		r.Version = v
		return r, nil
	}
	return roster.Roster{}, fmt.Errorf("central: roster of %s: %w: changed under us five times", locationID, ErrConflict)
}
