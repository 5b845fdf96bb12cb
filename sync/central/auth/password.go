package auth

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

// PasswordParams are argon2id cost parameters.
type PasswordParams struct {
	Time    uint32 // iterations
	Memory  uint32 // KiB
	Threads uint8
	KeyLen  uint32
	SaltLen uint32
}

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

// Hash returns the PHC string $argon2id$v=19$m=..,t=..,p=..$salt$key.
func (h Hasher) Hash(password string) (string, error) {
	if len(password) < MinPasswordLen || len(password) > MaxPasswordLen {
		return "", ErrWeakPassword
	}
	p := h.Params
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
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
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	if subtle.ConstantTimeCompare(got, key) != 1 {
		return false, false, nil
	}
	return true, p != h.Params, nil
}

// ParsePasswordHash parses a PHC argon2id string. Costs beyond sane server
// limits are refused so a planted hash cannot exhaust memory.
func ParsePasswordHash(s string) (PasswordParams, []byte, []byte, error) {
	bad := func(what string) (PasswordParams, []byte, []byte, error) {
		return PasswordParams{}, nil, nil, fmt.Errorf("%w: %s", ErrMalformedHash, what)
	}
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return bad("not a $argon2id$ PHC string")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return bad("version " + parts[2])
	}
	var p PasswordParams
	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return bad("parameters")
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
	if p.Memory > 1<<20 || p.Time > 64 || p.Memory < 8*uint32(p.Threads) {
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
