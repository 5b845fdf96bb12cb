package central

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kinderdeur/kiosk/attendance/audit"
	"github.com/kinderdeur/kiosk/sync/central/auth"
)

// User is a person who signs in to the admin pages.
type User struct {
	ID       string    `json:"id"`
	Email    string    `json:"email"`
	Name     string    `json:"name"`
	Role     auth.Role `json:"role"`
	Disabled bool      `json:"disabled"`
	Created  time.Time `json:"created"`
}

// ErrUserExists is returned when an e-mail address is taken.
var ErrUserExists = errors.New("central: a user with this e-mail exists")

// normEmail lower-cases and checks an e-mail address (user names are
// e-mail addresses, compared case-insensitively). Demo addresses without a
// dot in the domain (admin@demo) are accepted.
func normEmail(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || len(s) > 254 {
		return "", fmt.Errorf("%w: e-mail %q", ErrMalformed, s)
	}
	return s, nil
}

// CreateUser adds a user with an already hashed password (auth.Hasher).
// Devices are not users.
func (d *DB) CreateUser(ctx context.Context, email, name string, role auth.Role, passwordHash string) (User, error) {
	e, err := normEmail(email)
	if err != nil {
		return User{}, err
	}
	if !role.Valid() || role == auth.RoleDevice {
		return User{}, fmt.Errorf("%w: role %q", ErrMalformed, role)
	}
	if _, _, _, err := auth.ParsePasswordHash(passwordHash); err != nil {
		return User{}, fmt.Errorf("central: create user: %w", err)
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 {
		return User{}, fmt.Errorf("%w: name must be 1-200 bytes", ErrMalformed)
	}
	u := User{ID: "usr-" + uuid.NewString(), Email: e, Name: name, Role: role, Created: d.now().UTC()}
	var n int
	if err := d.queryRow(ctx, d.sql, "SELECT count(*) FROM users WHERE email = ?", e).Scan(&n); err != nil {
		return User{}, fmt.Errorf("central: create user: %w", err)
	}
	if n > 0 {
		return User{}, fmt.Errorf("%w: %s", ErrUserExists, e)
	}
	if _, err := d.exec(ctx, d.sql, "INSERT INTO users (id, email, name, role, password_hash, disabled, created_ns) VALUES (?, ?, ?, ?, ?, 0, ?)",
		u.ID, u.Email, u.Name, string(u.Role), passwordHash, u.Created.UnixNano()); err != nil {
		return User{}, fmt.Errorf("central: create user: %w", err)
	}
	return u, nil
}

// Users lists the users by e-mail.
func (d *DB) Users(ctx context.Context) ([]User, error) {
	rows, err := d.query(ctx, d.sql, "SELECT id, email, name, role, disabled, created_ns FROM users ORDER BY email")
	if err != nil {
		return nil, fmt.Errorf("central: users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		var u User
		var role string
		var dis int
		var created int64
		if err := rows.Scan(&u.ID, &u.Email, &u.Name, &role, &dis, &created); err != nil {
			return nil, fmt.Errorf("central: users: %w", err)
		}
		u.Role, u.Disabled, u.Created = auth.Role(role), dis != 0, time.Unix(0, created).UTC()
		out = append(out, u)
	}
	return out, rows.Err()
}

// SetUserDisabled disables (or enables) a user; disabling ends the user's
// sessions at once.
func (d *DB) SetUserDisabled(ctx context.Context, id string, disabled bool) error {
	v := 0
	if disabled {
		v = 1
	}
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("central: disable user: %w", err)
	}
	defer tx.Rollback()
	res, err := d.exec(ctx, tx, "UPDATE users SET disabled = ? WHERE id = ?", v, id)
	if err != nil {
		return fmt.Errorf("central: disable user: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("central: user %q: %w", id, ErrNotFound)
	}
	if disabled {
		if _, err := d.exec(ctx, tx, "DELETE FROM sessions WHERE user_id = ?", id); err != nil {
			return fmt.Errorf("central: disable user: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("central: disable user: %w", err)
	}
	return nil
}

// LookupUser implements auth.UserStore: users by e-mail, case-insensitive.
func (d *DB) LookupUser(ctx context.Context, username string) (auth.User, error) {
	var u auth.User
	var role string
	var dis int
	err := d.queryRow(ctx, d.sql, "SELECT id, email, role, password_hash, disabled FROM users WHERE email = ?",
		strings.ToLower(strings.TrimSpace(username))).Scan(&u.ID, &u.Username, &role, &u.PasswordHash, &dis)
	if errors.Is(err, sql.ErrNoRows) {
		return u, auth.ErrUnknownUser
	}
	if err != nil {
		return u, fmt.Errorf("central: lookup user: %w", err)
	}
	u.Role, u.Disabled = auth.Role(role), dis != 0
	return u, nil
}

// SetPasswordHash implements auth.UserStore.
func (d *DB) SetPasswordHash(ctx context.Context, userID, hash string) error {
	res, err := d.exec(ctx, d.sql, "UPDATE users SET password_hash = ? WHERE id = ?", hash, userID)
	if err != nil {
		return fmt.Errorf("central: set password: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return auth.ErrUnknownUser
	}
	return nil
}

// PutSession implements auth.SessionStore.
func (d *DB) PutSession(ctx context.Context, s auth.Session) error {
	_, err := d.exec(ctx, d.sql, `INSERT INTO sessions (id_hash, user_id, user_name, role, csrf_token, created_ns, last_seen_ns)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id_hash) DO UPDATE SET last_seen_ns = excluded.last_seen_ns`,
		s.IDHash, s.Principal.ID, s.Principal.Name, string(s.Principal.Role), s.CSRFToken, s.Created.UnixNano(), s.LastSeen.UnixNano())
	if err != nil {
		return fmt.Errorf("central: put session: %w", err)
	}
	return nil
}

// GetSession implements auth.SessionStore. A session of a user disabled
// since is gone (SetUserDisabled deletes it).
func (d *DB) GetSession(ctx context.Context, idHash string) (auth.Session, error) {
	s := auth.Session{IDHash: idHash}
	var role string
	var created, seen int64
	err := d.queryRow(ctx, d.sql, "SELECT user_id, user_name, role, csrf_token, created_ns, last_seen_ns FROM sessions WHERE id_hash = ?", idHash).
		Scan(&s.Principal.ID, &s.Principal.Name, &role, &s.CSRFToken, &created, &seen)
	if errors.Is(err, sql.ErrNoRows) {
		return s, auth.ErrNoSession
	}
	if err != nil {
		return s, fmt.Errorf("central: get session: %w", err)
	}
	s.Principal.Role, s.Created, s.LastSeen = auth.Role(role), time.Unix(0, created), time.Unix(0, seen)
	return s, nil
}

// DeleteSession implements auth.SessionStore.
func (d *DB) DeleteSession(ctx context.Context, idHash string) error {
	if _, err := d.exec(ctx, d.sql, "DELETE FROM sessions WHERE id_hash = ?", idHash); err != nil {
		return fmt.Errorf("central: delete session: %w", err)
	}
	return nil
}

// PruneSessions deletes sessions idle since before idleBefore or created
// before createdBefore and returns how many.
func (d *DB) PruneSessions(ctx context.Context, idleBefore, createdBefore time.Time) (int64, error) {
	res, err := d.exec(ctx, d.sql, "DELETE FROM sessions WHERE last_seen_ns < ? OR created_ns < ?", idleBefore.UnixNano(), createdBefore.UnixNano())
	if err != nil {
		return 0, fmt.Errorf("central: prune sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

var (
	_ auth.UserStore    = (*DB)(nil)
	_ auth.SessionStore = (*DB)(nil)
)

// OpenAudit creates the audit tables in central's database when missing
// and returns the hash-chained audit log on it (with the DB's clock).
func (d *DB) OpenAudit(ctx context.Context) (*audit.Log, error) {
	dia := audit.SQLite
	if d.dialect == Postgres {
		dia = audit.Postgres
	}
	if err := audit.Migrate(ctx, d.sql, dia); err != nil {
		return nil, fmt.Errorf("central: audit: %w", err)
	}
	return audit.New(d.sql, dia, audit.WithClock(d.now)), nil
}

// AuthOptions configure NewAuthenticator.
type AuthOptions struct {
	StaticAdminTokens []string    // the -admin-token flag
	Secure            bool        // served over TLS (__Host- cookie, Secure)
	Hasher            auth.Hasher // zero: auth.ServerParams
	Audit             auth.AuditFunc
	Now               func() time.Time // session clock; nil: the DB's
}

// NewAuthenticator returns the authenticator of central: bearer tokens
// (api_tokens plus static admin tokens), users from the users table and
// sessions in the sessions table.
func NewAuthenticator(d *DB, o AuthOptions) *auth.Authenticator {
	if o.Hasher.Params == (auth.PasswordParams{}) {
		o.Hasher = auth.Hasher{Params: auth.ServerParams}
	}
	now := o.Now
	if now == nil {
		now = d.now
	}
	sess := auth.NewSessions(d)
	sess.Now = now
	return &auth.Authenticator{
		Tokens:   NewTokenStore(d, o.StaticAdminTokens...),
		Sessions: sess,
		Users:    d,
		Hasher:   o.Hasher,
		Secure:   o.Secure,
		Audit:    o.Audit,
	}
}

// Demo users: central -demo creates one user per role, all with the
// password DemoPassword. Never use them on a real site.
const DemoPassword = "kinderdeur-demo"

// DemoUsers are the e-mail addresses and roles of the demo users.
var DemoUsers = []struct {
	Email string
	Name  string
	Role  auth.Role
}{
	{"admin@demo", "Demo admin", auth.RoleAdmin},
	{"manager@demo", "Demo manager", auth.RoleManager},
	{"billing@demo", "Demo billing", auth.RoleBilling},
	{"inspector@demo", "Demo inspector (GGD)", auth.RoleInspector},
}

// SeedDemoUsers creates the demo users that do not exist yet.
func (d *DB) SeedDemoUsers(ctx context.Context, h auth.Hasher) error {
	for _, du := range DemoUsers {
		if _, err := d.LookupUser(ctx, du.Email); err == nil {
			continue
		}
		hash, err := h.Hash(DemoPassword)
		if err != nil {
			return fmt.Errorf("central: demo user: %w", err)
		}
		if _, err := d.CreateUser(ctx, du.Email, du.Name, du.Role, hash); err != nil && !errors.Is(err, ErrUserExists) {
			return err
		}
	}
	return nil
}
