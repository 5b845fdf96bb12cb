package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// Principal is who a request acts as.
type Principal struct {
	ID   string `json:"id"`   // user id, token id or device id
	Name string `json:"name"` // for display and audit
	Role Role   `json:"role"`
}

// Sentinel errors for lookups; stores return them (wrapped or not).
var (
	ErrUnknownToken   = errors.New("auth: unknown or revoked token")
	ErrUnknownUser    = errors.New("auth: unknown user")
	ErrNoSession      = errors.New("auth: no such session")
	ErrBadCredentials = errors.New("auth: wrong user name or password")
)

// tokenBytes of randomness in a token: 256 bits.
const tokenBytes = 32

// NewToken returns a fresh token as shown once to its owner (prefix_ then
// 43 base64url characters) and the hash to store. The prefix (e.g. "kda"
// for admin tokens, "kdd" for devices) lets secret scanners recognise a
// leaked token; it must be short lower-case letters.
func NewToken(prefix string) (plain, hash string, err error) {
	for _, r := range prefix {
		if r < 'a' || r > 'z' {
			return "", "", fmt.Errorf("auth: token prefix %q: want a-z", prefix)
		}
	}
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("auth: token: %w", err)
	}
	plain = prefix + "_" + base64.RawURLEncoding.EncodeToString(b)
	return plain, HashToken(plain), nil
}

// HashToken returns the hex SHA-256 of a token: what the store keeps and
// looks up. A token has 256 random bits, so a fast hash is enough (unlike
// a password) and lookups stay an index probe.
func HashToken(plain string) string {
	sum := sha256.Sum256([]byte(plain))
	return hex.EncodeToString(sum[:])
}

// TokenStore finds the principal of a token by its hash. Unknown and
// revoked tokens return ErrUnknownToken.
type TokenStore interface {
	LookupToken(ctx context.Context, hash string) (Principal, error)
}

// MemoryTokens is an in-memory TokenStore.
type MemoryTokens struct {
	mu sync.RWMutex
	m  map[string]Principal
}

// NewMemoryTokens returns an empty store.
func NewMemoryTokens() *MemoryTokens { return &MemoryTokens{m: map[string]Principal{}} }

// Add stores a token hash for p.
func (s *MemoryTokens) Add(hash string, p Principal) {
	s.mu.Lock()
	s.m[hash] = p
	s.mu.Unlock()
}

// Revoke removes a token hash.
func (s *MemoryTokens) Revoke(hash string) {
	s.mu.Lock()
	delete(s.m, hash)
	s.mu.Unlock()
}

// LookupToken implements TokenStore.
func (s *MemoryTokens) LookupToken(_ context.Context, hash string) (Principal, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, ok := s.m[hash]
	if !ok {
		return Principal{}, ErrUnknownToken
	}
	return p, nil
}

// User is an admin-side account.
type User struct {
	ID           string
	Username     string
	Role         Role
	PasswordHash string // PHC argon2id
	Disabled     bool
}

// UserStore finds users by name and stores upgraded password hashes.
type UserStore interface {
	LookupUser(ctx context.Context, username string) (User, error) // ErrUnknownUser
	SetPasswordHash(ctx context.Context, userID, hash string) error
}

// MemoryUsers is an in-memory UserStore.
type MemoryUsers struct {
	mu sync.RWMutex
	m  map[string]User // by lower-cased username
}

// NewMemoryUsers returns an empty store.
func NewMemoryUsers() *MemoryUsers { return &MemoryUsers{m: map[string]User{}} }

// Put adds or replaces a user.
func (s *MemoryUsers) Put(u User) {
	s.mu.Lock()
	s.m[strings.ToLower(u.Username)] = u
	s.mu.Unlock()
}

// LookupUser implements UserStore; user names are case-insensitive.
func (s *MemoryUsers) LookupUser(_ context.Context, username string) (User, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, ok := s.m[strings.ToLower(username)]
	if !ok {
		return User{}, ErrUnknownUser
	}
	return u, nil
}

// SetPasswordHash implements UserStore.
func (s *MemoryUsers) SetPasswordHash(_ context.Context, userID, hash string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, u := range s.m {
		if u.ID == userID {
			u.PasswordHash = hash
			s.m[k] = u
			return nil
		}
	}
	return ErrUnknownUser
}
