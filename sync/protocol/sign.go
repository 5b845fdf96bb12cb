package protocol

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Request-signing headers. Every device request carries all four.
const (
	HeaderDevice    = "Kiosk-Device"
	HeaderTimestamp = "Kiosk-Timestamp" // unix milliseconds, central's time as the kiosk estimates it
	HeaderNonce     = "Kiosk-Nonce"     // 32 hex characters, random per request
	HeaderSignature = "Kiosk-Signature" // base64 (std) Ed25519 signature of SigningString
	// HeaderPINPepper on central's answer to a roster pull carries the
	// site's PIN pepper (hex), for kiosks enrolled before central had one.
	HeaderPINPepper = "Kiosk-Pin-Pepper"
)

// SignatureWindow is how far a signed timestamp may be from central's clock.
const SignatureWindow = 5 * time.Minute

// Signing errors.
var (
	ErrUnsigned     = errors.New("protocol: request is not signed")
	ErrBadSignature = errors.New("protocol: bad signature")
	ErrClockSkew    = errors.New("protocol: signed timestamp outside the window")
)

// SigningString is what a device signs: a domain tag, the method, the
// request URI (path and query, as sent), the device id, the timestamp, the
// nonce and the SHA-256 of the body, one per line.
func SigningString(method, requestURI, deviceID, timestamp, nonce string, body []byte) []byte {
	sum := sha256.Sum256(body)
	return []byte(strings.Join([]string{"kinderdeur-sync-v1", method, requestURI, deviceID, timestamp, nonce, hex.EncodeToString(sum[:])}, "\n"))
}

// Sign adds the signing headers to req for body (which must be the bytes
// req sends), at time now.
func Sign(req *http.Request, deviceID string, key ed25519.PrivateKey, body []byte, now time.Time) error {
	var n [16]byte
	if _, err := rand.Read(n[:]); err != nil {
		return fmt.Errorf("protocol: sign: nonce: %w", err)
	}
	nonce := hex.EncodeToString(n[:])
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	sig := ed25519.Sign(key, SigningString(req.Method, req.URL.RequestURI(), deviceID, ts, nonce, body))
	req.Header.Set(HeaderDevice, deviceID)
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderNonce, nonce)
	req.Header.Set(HeaderSignature, base64.StdEncoding.EncodeToString(sig))
	return nil
}

// Signed is what a verifier learns from a request's headers.
type Signed struct {
	DeviceID string
	At       time.Time
	Nonce    string
	sig      []byte
	ts       string
}

// ParseSigned reads the signing headers of r, without verifying them.
func ParseSigned(h http.Header) (Signed, error) {
	s := Signed{DeviceID: h.Get(HeaderDevice), ts: h.Get(HeaderTimestamp), Nonce: h.Get(HeaderNonce)}
	sig := h.Get(HeaderSignature)
	if s.DeviceID == "" || s.ts == "" || s.Nonce == "" || sig == "" {
		return s, ErrUnsigned
	}
	ms, err := strconv.ParseInt(s.ts, 10, 64)
	if err != nil {
		return s, fmt.Errorf("%w: timestamp %q", ErrBadSignature, truncate(s.ts, 20))
	}
	s.At = time.UnixMilli(ms)
	if len(s.Nonce) != 32 {
		return s, fmt.Errorf("%w: nonce must be 32 hex characters", ErrBadSignature)
	}
	if _, err := hex.DecodeString(s.Nonce); err != nil {
		return s, fmt.Errorf("%w: nonce not hex", ErrBadSignature)
	}
	s.sig, err = base64.StdEncoding.DecodeString(sig)
	if err != nil || len(s.sig) != ed25519.SignatureSize {
		return s, fmt.Errorf("%w: signature not base64 Ed25519", ErrBadSignature)
	}
	return s, nil
}

// Verify checks the signature with the device's public key and the
// timestamp against now. It does not check the nonce for replays: the
// caller records nonces (central keeps them for twice the window).
func (s Signed) Verify(pub ed25519.PublicKey, method, requestURI string, body []byte, now time.Time) error {
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("%w: no valid public key", ErrBadSignature)
	}
	if !ed25519.Verify(pub, SigningString(method, requestURI, s.DeviceID, s.ts, s.Nonce, body), s.sig) {
		return ErrBadSignature
	}
	if d := now.Sub(s.At); d > SignatureWindow || d < -SignatureWindow {
		return fmt.Errorf("%w: off by %s", ErrClockSkew, d.Round(time.Second))
	}
	return nil
}

// EncodePublicKey is the enrolment form of a public key.
func EncodePublicKey(pub ed25519.PublicKey) string { return base64.StdEncoding.EncodeToString(pub) }

// DecodePublicKey parses the enrolment form of a public key.
func DecodePublicKey(s string) (ed25519.PublicKey, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, errors.New("protocol: public key must be a base64 Ed25519 key")
	}
	return ed25519.PublicKey(b), nil
}
