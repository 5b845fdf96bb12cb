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
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id cost parameters.
type Params struct {
	Time    uint32 // iterations
	Memory  uint32 // KiB
	Threads uint8
	KeyLen  uint32
	SaltLen uint32
}

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

// Hash returns a PHC-format argon2id hash of pin with a random salt:
// $argon2id$v=19$m=8192,t=1,p=1$<salt>$<key> (unpadded base64).
func Hash(pin string, p Params) (string, error) {
	if _, err := ParsePIN(pin); err != nil {
		return "", err
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("staffpin: salt: %w", err)
	}
	key := argon2.IDKey([]byte(pin), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return encode(p, salt, key), nil
}

func encode(p Params, salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// DecodeHash parses a PHC argon2id string into its parameters, salt and key.
func DecodeHash(s string) (Params, []byte, []byte, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return Params{}, nil, nil, ErrMalformedHash
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return Params{}, nil, nil, fmt.Errorf("%w: version %q", ErrMalformedHash, parts[2])
	}
	var p Params
	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return Params{}, nil, nil, fmt.Errorf("%w: parameters %q", ErrMalformedHash, parts[3])
	}
	for i, want := range []string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(kv[i], want)
		if !ok {
			return Params{}, nil, nil, fmt.Errorf("%w: parameters %q", ErrMalformedHash, parts[3])
		}
		bits := 32
		if i == 2 {
			bits = 8
		}
		n, err := strconv.ParseUint(v, 10, bits)
		if err != nil || n == 0 || v != strconv.FormatUint(n, 10) {
			return Params{}, nil, nil, fmt.Errorf("%w: parameter %s%s", ErrMalformedHash, want, v)
		}
		switch i {
		case 0:
			p.Memory = uint32(n)
		case 1:
			p.Time = uint32(n)
		case 2:
			p.Threads = uint8(n)
		}
	}
	// Refuse costs no kiosk would set: a hostile hash must not make the
	// kiosk allocate gigabytes or spin for minutes.
	if p.Memory > 256*1024 || p.Time > 16 || p.Memory < 8*uint32(p.Threads) {
		return Params{}, nil, nil, fmt.Errorf("%w: parameters out of range", ErrMalformedHash)
	}
	b64 := base64.RawStdEncoding.Strict()
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 || len(salt) > 64 {
		return Params{}, nil, nil, fmt.Errorf("%w: salt", ErrMalformedHash)
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return Params{}, nil, nil, fmt.Errorf("%w: key", ErrMalformedHash)
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}

// Check reports whether pin matches the PHC hash, comparing in constant
// time. A malformed hash is an error, never a match.
func Check(encoded, pin string) (bool, error) {
	p, salt, key, err := DecodeHash(encoded)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(pin), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return subtle.ConstantTimeCompare(got, key) == 1, nil
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
