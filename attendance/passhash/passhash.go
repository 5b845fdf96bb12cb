// Package passhash is the one argon2id hash format of the project: staff
// PINs on the kiosk (attendance/staffpin) and admin passwords at central
// (sync/central/auth) are stored as PHC strings
//
//	$argon2id$v=19$m=<KiB>,t=<iterations>,p=<lanes>$<salt>$<key>
//
// with unpadded standard base64. Each caller picks its own costs and the
// largest costs it accepts from a stored hash (Limits), so a planted hash
// cannot make it allocate gigabytes or spin for minutes.
package passhash

import (
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

// Limits bound the costs a stored hash may ask for.
type Limits struct {
	MaxMemory uint32 // KiB
	MaxTime   uint32
}

// ErrMalformed is wrapped by every parse error; the error text says what
// is wrong.
var ErrMalformed = errors.New("passhash: malformed hash")

// MalformedError is a parse error: Part names what is wrong ("salt",
// "parameters out of range", ...).
type MalformedError struct{ Part string }

func (e *MalformedError) Error() string { return "passhash: malformed hash: " + e.Part }

// Unwrap makes errors.Is(err, ErrMalformed) hold.
func (e *MalformedError) Unwrap() error { return ErrMalformed }

// Hash returns the PHC string of secret under p with a random salt.
func Hash(secret string, p Params) (string, error) {
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("passhash: salt: %w", err)
	}
	return Encode(p, salt, Key(secret, salt, p)), nil
}

// Key derives the argon2id key of secret.
func Key(secret string, salt []byte, p Params) []byte {
	return argon2.IDKey([]byte(secret), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
}

// Encode formats a PHC string.
func Encode(p Params, salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Decode parses a PHC argon2id string into its parameters (SaltLen and
// KeyLen from the decoded lengths), salt and key. Errors are
// *MalformedError.
func Decode(s string, lim Limits) (Params, []byte, []byte, error) {
	bad := func(part string) (Params, []byte, []byte, error) {
		return Params{}, nil, nil, &MalformedError{Part: part}
	}
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return bad("not a $argon2id$ PHC string")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return bad("version " + parts[2])
	}
	var p Params
	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return bad("parameters " + parts[3])
	}
	for i, name := range []string{"m", "t", "p"} {
		v, ok := strings.CutPrefix(kv[i], name+"=")
		bits := 32
		if name == "p" {
			bits = 8
		}
		n, err := strconv.ParseUint(v, 10, bits)
		if !ok || err != nil || n == 0 || v != strconv.FormatUint(n, 10) {
			return bad("parameter " + kv[i])
		}
		switch name {
		case "m":
			p.Memory = uint32(n)
		case "t":
			p.Time = uint32(n)
		case "p":
			p.Threads = uint8(n)
		}
	}
	if p.Memory > lim.MaxMemory || p.Time > lim.MaxTime || p.Memory < 8*uint32(p.Threads) {
		return bad("parameters out of range")
	}
	b64 := base64.RawStdEncoding.Strict()
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 || len(salt) > 64 {
		return bad("salt")
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return bad("key")
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}

// Verify reports whether secret matches encoded, comparing in constant
// time, and returns the parameters the hash was made with. A malformed
// hash is an error, never a match.
func Verify(encoded, secret string, lim Limits) (bool, Params, error) {
	p, salt, key, err := Decode(encoded, lim)
	if err != nil {
		return false, p, err
	}
	return Matches(secret, p, salt, key), p, nil
}

// Matches reports whether secret derives key under p and salt (a decoded
// hash), comparing in constant time.
func Matches(secret string, p Params, salt, key []byte) bool {
	return subtle.ConstantTimeCompare(Key(secret, salt, p), key) == 1
}
