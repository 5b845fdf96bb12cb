package staffpin

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/kinderdeur/kiosk/attendance/passhash"
)

// A PIN has 10,000 values (4 digits): a leaked argon2id hash alone is
// cracked offline in seconds however costly the hash. So stored PIN hashes
// are peppered with a per-site secret that is never in a database: central
// holds a master pepper in a file and derives each site's (SitePepper); a
// kiosk receives its site's pepper at enrolment and keeps it with its
// other secrets.
//
// A peppered hash is the argon2id key of the PIN, then HMAC-SHA256 under
// the pepper:
//
//	$kdpin-argon2id-hmac$v=19$m=<KiB>,t=<n>,p=<lanes>$<salt>$<HMAC(pepper, argon2id(pin, salt))>
//
// The HMAC comes last (not first) so that central can pepper a hash it
// already holds without knowing the PIN (Wrap): hashes made before peppers
// existed are upgraded on the next roster update, and one without the
// pepper cannot test a single guess against a stored hash.

// PepperedPrefix starts a peppered hash.
const PepperedPrefix = "$kdpin-argon2id-hmac$"

// innerKeyLen is the length of the argon2id key under the HMAC.
const innerKeyLen = 32

// PepperLen is the length of a pepper in bytes.
const PepperLen = 32

// Pepper is a site's PIN pepper.
type Pepper []byte

// ErrNoPepper: a peppered hash cannot be checked without the site's pepper.
var ErrNoPepper = errors.New("staffpin: peppered PIN hash but no pepper")

// NewPepper returns a random pepper.
func NewPepper() (Pepper, error) {
	p := make(Pepper, PepperLen)
	if _, err := rand.Read(p); err != nil {
		return nil, fmt.Errorf("staffpin: pepper: %w", err)
	}
	return p, nil
}

// ParsePepper parses the hex form of a pepper.
func ParsePepper(s string) (Pepper, error) {
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != PepperLen {
		return nil, fmt.Errorf("staffpin: pepper must be %d bytes of hex", PepperLen)
	}
	return b, nil
}

// String is the hex form (for the kiosk's secrets, never for logs).
func (p Pepper) String() string { return hex.EncodeToString(p) }

// SitePepper derives a site's pepper from central's master pepper, so
// peppers differ per site and one master secret is kept.
func SitePepper(master []byte, locationID string) Pepper {
	m := hmac.New(sha256.New, master)
	m.Write([]byte("kinderdeur staff PIN pepper v1\x00" + locationID))
	return m.Sum(nil)
}

// IsPeppered reports whether encoded is a peppered hash.
func IsPeppered(encoded string) bool { return strings.HasPrefix(encoded, PepperedPrefix) }

func mac(pepper Pepper, key []byte) []byte {
	m := hmac.New(sha256.New, pepper)
	m.Write(key)
	return m.Sum(nil)
}

func encodePeppered(p Params, salt, tag []byte) string {
	return PepperedPrefix + strings.TrimPrefix(passhash.Encode(p, salt, tag), "$argon2id$")
}

func decodePeppered(encoded string) (Params, []byte, []byte, error) {
	p, salt, tag, err := passhash.Decode("$argon2id$"+strings.TrimPrefix(encoded, PepperedPrefix), kioskLimits)
	if err != nil {
		return Params{}, nil, nil, malformed(err)
	}
	if len(tag) != sha256.Size {
		return Params{}, nil, nil, fmt.Errorf("%w: tag length", ErrMalformedHash)
	}
	return p, salt, tag, nil
}

// HashPeppered returns the peppered hash of pin under p.
func HashPeppered(pin string, pepper Pepper, p Params) (string, error) {
	if len(pepper) == 0 {
		return "", ErrNoPepper
	}
	if _, err := ParsePIN(pin); err != nil {
		return "", err
	}
	p.KeyLen = innerKeyLen
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("staffpin: salt: %w", err)
	}
	return encodePeppered(p, salt, mac(pepper, passhash.Key(pin, salt, p))), nil
}

// Wrap peppers an unpeppered hash without the PIN. A peppered hash comes
// back unchanged (changed false); an empty one (no PIN) too.
func Wrap(encoded string, pepper Pepper) (string, bool, error) {
	if encoded == "" || IsPeppered(encoded) {
		return encoded, false, nil
	}
	if len(pepper) == 0 {
		return "", false, ErrNoPepper
	}
	p, salt, key, err := DecodeHash(encoded)
	if err != nil {
		return "", false, err
	}
	if len(key) != innerKeyLen {
		return "", false, fmt.Errorf("%w: key of %d bytes cannot be peppered", ErrMalformedHash, len(key))
	}
	return encodePeppered(p, salt, mac(pepper, key)), true, nil
}

// CheckPeppered reports whether pin matches encoded, peppered or not (an
// unpeppered hash is checked as Check does, so hashes from before peppers
// keep working). A peppered hash without a pepper is ErrNoPepper, never a
// match.
func CheckPeppered(encoded, pin string, pepper Pepper) (bool, error) {
	if !IsPeppered(encoded) {
		return Check(encoded, pin)
	}
	p, salt, tag, err := decodePeppered(encoded)
	if err != nil {
		return false, err
	}
	if len(pepper) == 0 {
		return false, ErrNoPepper
	}
	p.KeyLen = innerKeyLen
	return subtle.ConstantTimeCompare(mac(pepper, passhash.Key(pin, salt, p)), tag) == 1, nil
}
