package auth

import (
	"errors"
	"fmt"

	"github.com/kinderdeur/kiosk/attendance/passhash"
)

// PasswordParams are argon2id cost parameters (the shared format of
// passhash).
type PasswordParams = passhash.Params

// ServerParams follow RFC 9106's second recommended option (t=3, 64 MiB,
// 4 lanes): about 60-100 ms on a server core. See BenchmarkHashPassword.
var ServerParams = PasswordParams{Time: 3, Memory: 64 * 1024, Threads: 4, KeyLen: 32, SaltLen: 16}

// Password limits. 1024 bytes bounds the hashing work an attacker can ask for.
const (
	MinPasswordLen = 12
	MaxPasswordLen = 1024
)

// Sentinel errors.
var (
	ErrMalformedHash = errors.New("auth: malformed password hash")
	ErrWeakPassword  = fmt.Errorf("auth: password must be %d to %d bytes", MinPasswordLen, MaxPasswordLen)
)

// Hasher hashes and checks passwords with one parameter set.
type Hasher struct{ Params PasswordParams }

// serverLimits are the largest costs a stored password hash may ask for,
// so a planted hash cannot exhaust memory.
var serverLimits = passhash.Limits{MaxMemory: 1 << 20, MaxTime: 64}

// Hash returns the PHC string $argon2id$v=19$m=..,t=..,p=..$salt$key.
func (h Hasher) Hash(password string) (string, error) {
	if len(password) < MinPasswordLen || len(password) > MaxPasswordLen {
		return "", ErrWeakPassword
	}
	s, err := passhash.Hash(password, h.Params)
	if err != nil {
		return "", fmt.Errorf("auth: %w", err)
	}
	return s, nil
}

// Verify checks password against encoded in constant time. rehash is true
// when the hash matched but was made with other parameters than h's: the
// caller should store h.Hash(password) now that it has the plain text.
func (h Hasher) Verify(encoded, password string) (ok, rehash bool, err error) {
	p, salt, key, err := ParsePasswordHash(encoded)
	if err != nil {
		return false, false, err
	}
	if len(password) > MaxPasswordLen {
		return false, false, nil
	}
	if !passhash.Matches(password, p, salt, key) {
		return false, false, nil
	}
	return true, p != h.Params, nil
}

// ParsePasswordHash parses a PHC argon2id string. Costs beyond sane server
// limits are refused so a planted hash cannot exhaust memory.
func ParsePasswordHash(s string) (PasswordParams, []byte, []byte, error) {
	p, salt, key, err := passhash.Decode(s, serverLimits)
	if err != nil {
		var me *passhash.MalformedError
		if errors.As(err, &me) {
			err = fmt.Errorf("%w: %s", ErrMalformedHash, me.Part)
		}
		return PasswordParams{}, nil, nil, err
	}
	return p, salt, key, nil
}
