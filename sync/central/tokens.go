package central

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/kinderdeur/kiosk/sync/central/auth"
)

// CreateAPIToken makes an admin-API token for a person or script with a
// role. The plain token is returned once; only its hash is stored.
func (s *Users) CreateAPIToken(ctx context.Context, name string, role auth.Role) (string, auth.Principal, error) {
	if !role.Valid() || role == auth.RoleDevice {
		return "", auth.Principal{}, fmt.Errorf("%w: role %q (devices enrol instead)", ErrMalformed, role)
	}
	plain, hash, err := auth.NewToken("kda")
	if err != nil {
		return "", auth.Principal{}, err
	}
	p := auth.Principal{ID: "tok-" + uuid.NewString(), Name: name, Role: role}
	if _, err := s.db.Exec(ctx, nil, "INSERT INTO api_tokens (hash, id, name, role, created_ns) VALUES (?, ?, ?, ?, ?)",
		hash, p.ID, p.Name, string(p.Role), s.db.Now().UnixNano()); err != nil {
		return "", p, fmt.Errorf("central: create token: %w", err)
	}
	return plain, p, nil
}

// RevokeAPIToken stops a token by its id.
func (s *Users) RevokeAPIToken(ctx context.Context, id string) error {
	res, err := s.db.Exec(ctx, nil, "UPDATE api_tokens SET revoked_ns = ? WHERE id = ? AND revoked_ns IS NULL", s.db.Now().UnixNano(), id)
	if err != nil {
		return fmt.Errorf("central: revoke token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("central: token %q: %w", id, ErrNotFound)
	}
	return nil
}

// LookupToken implements auth.TokenStore over the api_tokens table.
func (s *Users) LookupToken(ctx context.Context, hash string) (auth.Principal, error) {
	var p auth.Principal
	var role string
	var revoked sql.NullInt64
	err := s.db.QueryRow(ctx, nil, "SELECT id, name, role, revoked_ns FROM api_tokens WHERE hash = ?", hash).Scan(&p.ID, &p.Name, &role, &revoked)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && revoked.Valid) {
		return p, auth.ErrUnknownToken
	}
	if err != nil {
		return p, fmt.Errorf("central: token lookup: %w", err)
	}
	p.Role = auth.Role(role)
	return p, nil
}

// TokenStore accepts the tokens in the database and, as admins, the
// static tokens given (the -admin-token flag).
type TokenStore struct {
	users  *Users
	static *auth.MemoryTokens
}

var _ auth.TokenStore = (*TokenStore)(nil)

// NewTokenStore returns the API tokens of users (nil: none) plus static admin tokens
// (empty ones are ignored).
func NewTokenStore(users *Users, staticAdminTokens ...string) *TokenStore {
	ts := &TokenStore{users: users, static: auth.NewMemoryTokens()}
	for i, t := range staticAdminTokens {
		if t != "" {
			ts.static.Add(auth.HashToken(t), auth.Principal{ID: fmt.Sprintf("admin-token-%d", i+1), Name: "admin (-admin-token)", Role: auth.RoleAdmin})
		}
	}
	return ts
}

// LookupToken implements auth.TokenStore.
func (ts *TokenStore) LookupToken(ctx context.Context, hash string) (auth.Principal, error) {
	if p, err := ts.static.LookupToken(ctx, hash); err == nil {
		return p, nil
	}
	if ts.users == nil {
		return auth.Principal{}, auth.ErrUnknownToken
	}
	return ts.users.LookupToken(ctx, hash)
}
