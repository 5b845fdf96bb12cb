// Package staffpin checks staff PINs on the kiosk: argon2id hashes sized
// for a Raspberry Pi, constant-time comparison, and attempt limits per staff
// member and per kiosk with lock-out and exponential back-off, so that a
// person at the door cannot guess a PIN by trying them all.
//
// Attempt counters live in memory. A restart of the daemon resets them
// unless it saves Snapshot() on shutdown and calls Restore() at start-up;
// the lock-outs are short (minutes) so the loss on a crash is bounded.
package staffpin

import (
	"context"
	"errors"
	"fmt"

	"github.com/kinderdeur/kiosk/attendance/passhash"
)

// Params are argon2id cost parameters (the shared format of passhash).
type Params = passhash.Params

// KioskParams are sized for a Raspberry Pi 4 (Cortex-A72): about 50 ms per
// hash there. A PIN has few possible values, so the hash cost matters only
// if the kiosk database is stolen; the attempt limits below are what stop
// guessing at the door. See BenchmarkHash for the figures on other hardware.
var KioskParams = Params{Time: 1, Memory: 8 * 1024, Threads: 1, KeyLen: 32, SaltLen: 16}

// Sentinel errors.
var (
	ErrMalformedHash = errors.New("staffpin: malformed hash")
	ErrBadPIN        = errors.New("staffpin: PIN must be 4 to 8 digits")
)

// Length limits of a PIN.
const (
	MinLen = 4
	MaxLen = 8
)

// ParsePIN validates keypad input: 4 to 8 ASCII digits, nothing else (no
// spaces, no other scripts' digits, no sign).
func ParsePIN(s string) (string, error) {
	if len(s) < MinLen || len(s) > MaxLen {
		return "", ErrBadPIN
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", ErrBadPIN
		}
	}
	return s, nil
}

// kioskLimits are the largest costs a stored PIN hash may ask for: no
// kiosk would set more, and a hostile hash must not make the kiosk
// allocate gigabytes or spin for minutes.
var kioskLimits = passhash.Limits{MaxMemory: 256 * 1024, MaxTime: 16}

// Hash returns a PHC-format argon2id hash of pin with a random salt:
// $argon2id$v=19$m=8192,t=1,p=1$<salt>$<key> (unpadded base64).
func Hash(pin string, p Params) (string, error) {
	if _, err := ParsePIN(pin); err != nil {
		return "", err
	}
	h, err := passhash.Hash(pin, p)
	if err != nil {
		return "", fmt.Errorf("staffpin: %w", err)
	}
	return h, nil
}

// DecodeHash parses a PHC argon2id string into its parameters, salt and key.
func DecodeHash(s string) (Params, []byte, []byte, error) {
	p, salt, key, err := passhash.Decode(s, kioskLimits)
	if err != nil {
		return Params{}, nil, nil, malformed(err)
	}
	return p, salt, key, nil
}

// malformed turns a passhash parse error into ErrMalformedHash.
func malformed(err error) error {
	var me *passhash.MalformedError
	if errors.As(err, &me) {
		return fmt.Errorf("%w: %s", ErrMalformedHash, me.Part)
	}
	return err
}

// Check reports whether pin matches the PHC hash, comparing in constant
// time. A malformed hash is an error, never a match.
func Check(encoded, pin string) (bool, error) {
	ok, _, err := passhash.Verify(encoded, pin, kioskLimits)
	if err != nil {
		return false, malformed(err)
	}
	return ok, nil
}

// HashLookup finds a staff member's PIN hash; the kiosk's roster
// implements it. An unknown staff member is attendance.ErrNotFound (wrapped
// or not); an empty hash means no PIN is set. Both count as a wrong PIN.
// Any other error is returned to the caller and not counted.
type HashLookup interface {
	PINHash(ctx context.Context, staffID string) (string, error)
}

// HashLookupFunc adapts a function to HashLookup.
type HashLookupFunc func(ctx context.Context, staffID string) (string, error)

func (f HashLookupFunc) PINHash(ctx context.Context, staffID string) (string, error) {
	return f(ctx, staffID)
}
