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

	"github.com/kinderdeur/kiosk/sync/central/auth"
	"github.com/kinderdeur/kiosk/sync/central/sqldb"
)

// Users holds the people who sign in to the admin pages and the API
// tokens of people and scripts (auth.UserStore, and with TokenStore
// auth.TokenStore).
type Users struct{ db *sqldb.DB }

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
func (s *Users) CreateUser(ctx context.Context, email, name string, role auth.Role, passwordHash string) (User, error) {
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
	u := User{ID: "usr-" + uuid.NewString(), Email: e, Name: name, Role: role, Created: s.db.Now().UTC()}
	var n int
	if err := s.db.QueryRow(ctx, nil, "SELECT count(*) FROM users WHERE email = ?", e).Scan(&n); err != nil {
		return User{}, fmt.Errorf("central: create user: %w", err)
	}
	if n > 0 {
		return User{}, fmt.Errorf("%w: %s", ErrUserExists, e)
	}
	if _, err := s.db.Exec(ctx, nil, "INSERT INTO users (id, email, name, role, password_hash, disabled, created_ns) VALUES (?, ?, ?, ?, ?, 0, ?)",
		u.ID, u.Email, u.Name, string(u.Role), passwordHash, u.Created.UnixNano()); err != nil {
		return User{}, fmt.Errorf("central: create user: %w", err)
	}
	return u, nil
}

// Users lists the users by e-mail.
func (s *Users) Users(ctx context.Context) ([]User, error) {
	rows, err := s.db.Query(ctx, nil, "SELECT id, email, name, role, disabled, created_ns FROM users ORDER BY email")
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
func (s *Users) SetUserDisabled(ctx context.Context, id string, disabled bool) error {
	v := 0
	if disabled {
		v = 1
	}
	tx, err := s.db.SQL().BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("central: disable user: %w", err)
	}
	defer tx.Rollback()
	res, err := s.db.Exec(ctx, tx, "UPDATE users SET disabled = ? WHERE id = ?", v, id)
	if err != nil {
		return fmt.Errorf("central: disable user: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("central: user %q: %w", id, ErrNotFound)
	}
	if disabled {
		if _, err := s.db.Exec(ctx, tx, "DELETE FROM sessions WHERE user_id = ?", id); err != nil {
			return fmt.Errorf("central: disable user: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("central: disable user: %w", err)
	}
	return nil
}

// LookupUser implements auth.UserStore: users by e-mail, case-insensitive.
func (s *Users) LookupUser(ctx context.Context, username string) (auth.User, error) {
	var u auth.User
	var role string
	var dis int
	err := s.db.QueryRow(ctx, nil, "SELECT id, email, role, password_hash, disabled FROM users WHERE email = ?",
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
func (s *Users) SetPasswordHash(ctx context.Context, userID, hash string) error {
	res, err := s.db.Exec(ctx, nil, "UPDATE users SET password_hash = ? WHERE id = ?", hash, userID)
	if err != nil {
		return fmt.Errorf("central: set password: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return auth.ErrUnknownUser
	}
	return nil
}

var _ auth.UserStore = (*Users)(nil)
