package staffpin

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
)

// Policy sets the attempt limits.
type Policy struct {
	// StaffMaxAttempts wrong PINs in a row for one staff member lock that
	// staff member out for StaffLockout, doubling with each further lock-out.
	StaffMaxAttempts int
	StaffLockout     time.Duration
	// StaffWindow: failures older than this (with no new one) are forgotten.
	StaffWindow time.Duration
	// KioskMaxAttempts wrong PINs on one kiosk (for any staff id, known or
	// not) within KioskWindow lock PIN entry on that kiosk for
	// KioskLockout, doubling likewise. It stops guessing spread over many
	// staff members. A correct PIN does not reset it.
	KioskMaxAttempts int
	KioskWindow      time.Duration
	KioskLockout     time.Duration
	// MaxLockout caps the doubling; after MaxLockout without a failure the
	// doubling starts again from the base.
	MaxLockout time.Duration
}

// DefaultPolicy: 5 wrong -> 5 minutes, then 10, 20, ... up to 24 hours;
// 20 wrong on one kiosk within 15 minutes -> that kiosk's PIN entry locked
// 5 minutes, doubling likewise.
var DefaultPolicy = Policy{
	StaffMaxAttempts: 5,
	StaffLockout:     5 * time.Minute,
	StaffWindow:      time.Hour,
	KioskMaxAttempts: 20,
	KioskWindow:      15 * time.Minute,
	KioskLockout:     5 * time.Minute,
	MaxLockout:       24 * time.Hour,
}

// Scope says which counter locked.
type Scope string

const (
	ScopeStaff Scope = "staff"
	ScopeKiosk Scope = "kiosk"
)

// Sentinel errors of Guard.Verify.
var (
	ErrWrongPIN = errors.New("staffpin: wrong PIN")
	ErrLocked   = errors.New("staffpin: locked out")
)

// WrongPINError is a wrong PIN that did not (yet) lock; Remaining is the
// number of tries left for this staff member before a lock-out.
type WrongPINError struct{ Remaining int }

func (e *WrongPINError) Error() string {
	return fmt.Sprintf("staffpin: wrong PIN (%d tries left)", e.Remaining)
}
func (e *WrongPINError) Unwrap() error { return ErrWrongPIN }

// LockedError says PIN entry is locked until Until. JustLocked is set on
// the attempt that caused the lock (the caller audits it once).
type LockedError struct {
	Scope      Scope
	Until      time.Time
	JustLocked bool
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("staffpin: %s locked out until %s", e.Scope, e.Until.Format(time.RFC3339))
}
func (e *LockedError) Unwrap() error { return ErrLocked }

// State is one counter, for Snapshot and Restore.
type State struct {
	Scope       Scope     `json:"scope"`
	Key         string    `json:"key"` // staff id or kiosk id
	Failures    int       `json:"failures"`
	Locks       int       `json:"locks"`
	LockedUntil time.Time `json:"locked_until"`
	LastFailure time.Time `json:"last_failure"`
}

type counter struct {
	failures    int
	locks       int
	lockedUntil time.Time
	lastFailure time.Time
}

// Guard verifies staff PINs under the attempt limits. It is safe for
// concurrent use; attempts are serialised (a kiosk has one keypad, and one
// argon2 buffer at a time bounds memory), so no burst of parallel guesses
// gets past a limit.
type Guard struct {
	lookup HashLookup
	pepper func() Pepper // nil or nil result: no pepper (unpeppered hashes only)
	policy Policy
	now    func() time.Time
	dummy  string // hash checked for unknown staff so timing does not tell

	attempt sync.Mutex // held for a whole Verify
	mu      sync.Mutex // guards the maps (Snapshot may run during Verify)
	staff   map[string]*counter
	kiosk   map[string]*counter
}

// NewGuard returns a Guard. now may be nil (time.Now).
func NewGuard(lookup HashLookup, policy Policy, now func() time.Time) (*Guard, error) {
	if policy.StaffMaxAttempts < 1 || policy.KioskMaxAttempts < 1 || policy.StaffLockout <= 0 || policy.KioskLockout <= 0 || policy.MaxLockout <= 0 {
		return nil, errors.New("staffpin: policy needs positive attempts and lock-outs")
	}
	if now == nil {
		now = time.Now
	}
	dummy, err := Hash("00000000", KioskParams)
	if err != nil {
		return nil, err
	}
	return &Guard{lookup: lookup, policy: policy, now: now, dummy: dummy,
		staff: map[string]*counter{}, kiosk: map[string]*counter{}}, nil
}

// SetPepper sets where the guard finds the site's PIN pepper (the kiosk's
// secrets); call it before the first Verify.
func (g *Guard) SetPepper(f func() Pepper) { g.pepper = f }

// Verify checks pin for staffID typed on kioskID. It returns nil on a
// match, *LockedError while locked (without looking at the PIN),
// *WrongPINError or a *LockedError with JustLocked on a miss, ErrBadPIN
// for input that is no PIN (not counted), or a lookup error.
func (g *Guard) Verify(ctx context.Context, kioskID, staffID, pin string) error {
	if _, err := ParsePIN(pin); err != nil {
		return err
	}
	g.attempt.Lock()
	defer g.attempt.Unlock()
	now := g.now()

	g.mu.Lock()
	kc := g.get(g.kiosk, kioskID, now, g.policy.KioskWindow)
	sc := g.get(g.staff, staffID, now, g.policy.StaffWindow)
	var locked *LockedError
	if now.Before(kc.lockedUntil) {
		locked = &LockedError{Scope: ScopeKiosk, Until: kc.lockedUntil}
	} else if now.Before(sc.lockedUntil) {
		locked = &LockedError{Scope: ScopeStaff, Until: sc.lockedUntil}
	}
	g.mu.Unlock()
	if locked != nil {
		return locked
	}

	hash, err := g.lookup.PINHash(ctx, staffID)
	unknown := false
	switch {
	case errors.Is(err, attendance.ErrNotFound) || (err == nil && hash == ""):
		// Unknown staff (or no PIN set): a miss that counts, after the same
		// work as a real check so timing does not tell.
		hash, unknown = g.dummy, true
	case err != nil:
		// The store failed: not the typist's fault, not counted.
		return fmt.Errorf("staffpin: lookup %s: %w", staffID, err)
	}
	var pepper Pepper
	if g.pepper != nil && !unknown {
		pepper = g.pepper()
	}
	ok, cerr := CheckPeppered(hash, pin, pepper)
	if cerr != nil {
		// A stored hash we cannot read: do not let it be a free guess.
		ok = false
	}
	ok = ok && !unknown

	g.mu.Lock()
	defer g.mu.Unlock()
	if ok {
		delete(g.staff, staffID)
		return nil
	}
	kLock := g.fail(kc, now, g.policy.KioskMaxAttempts, g.policy.KioskLockout)
	sLock := g.fail(sc, now, g.policy.StaffMaxAttempts, g.policy.StaffLockout)
	g.staff[staffID], g.kiosk[kioskID] = sc, kc
	g.prune(now)
	switch {
	case sLock:
		return &LockedError{Scope: ScopeStaff, Until: sc.lockedUntil, JustLocked: true}
	case kLock:
		return &LockedError{Scope: ScopeKiosk, Until: kc.lockedUntil, JustLocked: true}
	}
	if cerr != nil && !unknown {
		return fmt.Errorf("staffpin: stored hash of %s: %w", staffID, cerr)
	}
	return &WrongPINError{Remaining: g.policy.StaffMaxAttempts - sc.failures}
}

// get returns the counter for key with stale failures forgotten; the
// caller stores it back if it changes.
func (g *Guard) get(m map[string]*counter, key string, now time.Time, window time.Duration) *counter {
	c, ok := m[key]
	if !ok {
		return &counter{}
	}
	if !c.lastFailure.IsZero() && now.Sub(c.lastFailure) > window {
		c.failures = 0
	}
	if !c.lastFailure.IsZero() && now.Sub(c.lastFailure) > g.policy.MaxLockout && !now.Before(c.lockedUntil) {
		c.locks = 0
	}
	return c
}

// fail counts a miss and reports whether it started a lock-out.
func (g *Guard) fail(c *counter, now time.Time, max int, base time.Duration) bool {
	c.failures++
	c.lastFailure = now
	if c.failures < max {
		return false
	}
	c.failures = 0
	c.locks++
	d := base
	for i := 1; i < c.locks && d < g.policy.MaxLockout; i++ {
		d *= 2
	}
	d = min(d, g.policy.MaxLockout)
	c.lockedUntil = now.Add(d)
	return true
}

// maxCounters bounds memory when someone types many made-up staff ids.
const maxCounters = 4096

// prune drops idle, unlocked counters once there are too many.
func (g *Guard) prune(now time.Time) {
	for _, m := range []map[string]*counter{g.staff, g.kiosk} {
		if len(m) <= maxCounters {
			continue
		}
		for k, c := range m {
			if !now.Before(c.lockedUntil) && now.Sub(c.lastFailure) > g.policy.StaffWindow {
				delete(m, k)
			}
		}
	}
}

// Snapshot returns the counters, for a daemon that saves them on shutdown.
func (g *Guard) Snapshot() []State {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []State
	for scope, m := range map[Scope]map[string]*counter{ScopeStaff: g.staff, ScopeKiosk: g.kiosk} {
		for k, c := range m {
			out = append(out, State{Scope: scope, Key: k, Failures: c.failures, Locks: c.locks, LockedUntil: c.lockedUntil, LastFailure: c.lastFailure})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Scope != out[j].Scope {
			return out[i].Scope < out[j].Scope
		}
		return out[i].Key < out[j].Key
	})
	return out
}

// Restore loads counters saved by Snapshot, replacing the current ones.
func (g *Guard) Restore(states []State) error {
	staff, kiosk := map[string]*counter{}, map[string]*counter{}
	for _, s := range states {
		c := &counter{failures: s.Failures, locks: s.Locks, lockedUntil: s.LockedUntil, lastFailure: s.LastFailure}
		switch s.Scope {
		case ScopeStaff:
			staff[s.Key] = c
		case ScopeKiosk:
			kiosk[s.Key] = c
		default:
			return fmt.Errorf("staffpin: restore: unknown scope %q", s.Scope)
		}
	}
	g.mu.Lock()
	g.staff, g.kiosk = staff, kiosk
	g.mu.Unlock()
	return nil
}
