package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Session is server-side login state. The store never sees the session id
// itself, only its hash, so a leaked session table cannot be replayed.
type Session struct {
	IDHash    string
	Principal Principal
	CSRFToken string // synchronizer token bound to this session
	Created   time.Time
	LastSeen  time.Time
}

// SessionStore keeps sessions by the hash of their id.
type SessionStore interface {
	PutSession(ctx context.Context, s Session) error
	GetSession(ctx context.Context, idHash string) (Session, error) // ErrNoSession
	DeleteSession(ctx context.Context, idHash string) error
}

// Sessions creates and checks sessions with idle and absolute timeouts.
type Sessions struct {
	Store    SessionStore
	Idle     time.Duration // no request for this long ends the session
	Absolute time.Duration // a session never lives longer than this
	Now      func() time.Time
}

// Default timeouts (OWASP's guidance for applications with personal data).
const (
	DefaultIdleTimeout     = 30 * time.Minute
	DefaultAbsoluteTimeout = 12 * time.Hour
)

// NewSessions returns Sessions with the default timeouts and time.Now.
func NewSessions(store SessionStore) *Sessions {
	return &Sessions{Store: store, Idle: DefaultIdleTimeout, Absolute: DefaultAbsoluteTimeout, Now: time.Now}
}

func randomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Create starts a session for p and returns its id (for the cookie only).
func (m *Sessions) Create(ctx context.Context, p Principal) (string, Session, error) {
	id, err := randomString(32)
	if err != nil {
		return "", Session{}, fmt.Errorf("auth: session id: %w", err)
	}
	csrf, err := randomString(32)
	if err != nil {
		return "", Session{}, fmt.Errorf("auth: csrf token: %w", err)
	}
	now := m.Now()
	s := Session{IDHash: HashToken(id), Principal: p, CSRFToken: csrf, Created: now, LastSeen: now}
	if err := m.Store.PutSession(ctx, s); err != nil {
		return "", Session{}, fmt.Errorf("auth: store session: %w", err)
	}
	return id, s, nil
}

// Lookup returns the live session for id and records the activity.
// Expired sessions are deleted and reported as ErrNoSession.
func (m *Sessions) Lookup(ctx context.Context, id string) (Session, error) {
	if id == "" {
		return Session{}, ErrNoSession
	}
	h := HashToken(id)
	s, err := m.Store.GetSession(ctx, h)
	if err != nil {
		return Session{}, err
	}
	now := m.Now()
	if now.Sub(s.LastSeen) >= m.Idle || now.Sub(s.Created) >= m.Absolute {
		if err := m.Store.DeleteSession(ctx, h); err != nil {
			return Session{}, fmt.Errorf("auth: delete expired session: %w", err)
		}
		return Session{}, ErrNoSession
	}
	// Write activity at most once a minute: the idle timeout does not need
	// more precision and the store is spared a write per request.
	if now.Sub(s.LastSeen) >= time.Minute {
		s.LastSeen = now
		if err := m.Store.PutSession(ctx, s); err != nil {
			return Session{}, fmt.Errorf("auth: touch session: %w", err)
		}
	}
	return s, nil
}

// End deletes the session (sign-out).
func (m *Sessions) End(ctx context.Context, id string) error {
	return m.Store.DeleteSession(ctx, HashToken(id))
}

// CheckCSRF compares a submitted token with the session's in constant time.
func CheckCSRF(s Session, submitted string) bool {
	return submitted != "" && s.CSRFToken != "" &&
		subtle.ConstantTimeCompare([]byte(submitted), []byte(s.CSRFToken)) == 1
}

// MemorySessions is an in-memory SessionStore.
type MemorySessions struct {
	mu sync.Mutex
	m  map[string]Session
}

// NewMemorySessions returns an empty store.
func NewMemorySessions() *MemorySessions { return &MemorySessions{m: map[string]Session{}} }

func (s *MemorySessions) PutSession(_ context.Context, sess Session) error {
	s.mu.Lock()
	s.m[sess.IDHash] = sess
	s.mu.Unlock()
	return nil
}

func (s *MemorySessions) GetSession(_ context.Context, idHash string) (Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.m[idHash]
	if !ok {
		return Session{}, ErrNoSession
	}
	return sess, nil
}

func (s *MemorySessions) DeleteSession(_ context.Context, idHash string) error {
	s.mu.Lock()
	delete(s.m, idHash)
	s.mu.Unlock()
	return nil
}

// Prune drops sessions idle since before idleBefore or created before
// createdBefore; the service calls it now and then so abandoned sessions
// do not pile up. It returns the number dropped.
func (s *MemorySessions) Prune(idleBefore, createdBefore time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, sess := range s.m {
		if sess.LastSeen.Before(idleBefore) || sess.Created.Before(createdBefore) {
			delete(s.m, k)
			n++
		}
	}
	return n
}

// Len returns the number of stored sessions.
func (s *MemorySessions) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// errIs reports whether err is target, tolerating stores that wrap.
func errIs(err, target error) bool { return errors.Is(err, target) }
