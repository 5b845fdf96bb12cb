package attendance

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// BadgeKey is the per-site secret that turns a card UID into a badge
// reference. UIDs are never stored or sent anywhere: only
// HMAC-SHA256(key, uid) in hex, so a leaked database does not reveal which
// cards open the door, and hashes from one site are useless at another.
type BadgeKey []byte

// NewBadgeKey returns a fresh random 32-byte key.
func NewBadgeKey() (BadgeKey, error) {
	k := make(BadgeKey, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("badge key: %w", err)
	}
	return k, nil
}

// ParseBadgeKey decodes a hex key of at least 16 bytes.
func ParseBadgeKey(s string) (BadgeKey, error) {
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("badge key: not hex: %w", err)
	}
	if len(b) < 16 {
		return nil, errors.New("badge key: shorter than 16 bytes")
	}
	return BadgeKey(b), nil
}

// String returns the key in hex (for storing it; never log it).
func (k BadgeKey) String() string { return hex.EncodeToString(k) }

// Hash returns the badge reference of a UID.
func (k BadgeKey) Hash(uid []byte) string {
	m := hmac.New(sha256.New, k)
	m.Write(uid)
	return hex.EncodeToString(m.Sum(nil))
}

// ParseUID decodes a UID written in hex, with or without ':' or ' '
// separators, and checks it has an ISO 14443A length (4, 7 or 10 bytes).
func ParseUID(s string) ([]byte, error) {
	clean := strings.NewReplacer(":", "", " ", "", "-", "").Replace(strings.TrimSpace(s))
	b, err := hex.DecodeString(clean)
	if err != nil {
		return nil, fmt.Errorf("uid %q: not hex", s)
	}
	switch len(b) {
	case 4, 7, 10:
		return b, nil
	}
	return nil, fmt.Errorf("uid %q: %d bytes, want 4, 7 or 10", s, len(b))
}
