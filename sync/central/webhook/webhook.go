// Package webhook delivers signed HTTP callbacks ("webhooks") to systems
// outside central: the signature scheme receivers verify, the guard that
// keeps central from being pointed at its own network (SSRF), the sender,
// the retry schedule and a worker that drains a durable queue.
//
// The queue is the caller's (a table written in the same transaction as
// the fact it announces, see sync/central): this package only asks it for
// due jobs (Queue.Claim) and reports each attempt (Queue.Finish). Delivery
// is at least once; every job carries a delivery id that stays the same
// across attempts, sent as the Kinderdeur-Delivery header, so receivers
// drop what they already have.
//
// The signature header is Kinderdeur-Signature: t=<unix seconds>,v1=<hex
// HMAC-SHA256(secret, t + "." + body)>: the timestamp is signed with the
// body so a captured request cannot be replayed later (Verify checks it
// against a tolerance).
package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The headers of every delivery.
const (
	HeaderSignature = "Kinderdeur-Signature"
	HeaderDelivery  = "Kinderdeur-Delivery" // the idempotency key: one per job, the same on every attempt
	HeaderEvent     = "Kinderdeur-Event"    // the payload's event type
	UserAgent       = "Kinderdeur-Webhooks/1"
)

// DefaultTolerance is how far a signature's timestamp may lie from the
// receiver's clock in Verify.
const DefaultTolerance = 5 * time.Minute

// Errors of Verify.
var (
	ErrNoSignature  = errors.New("webhook: missing or malformed signature header")
	ErrBadSignature = errors.New("webhook: signature does not match")
	ErrTooOld       = errors.New("webhook: signature timestamp outside the tolerance")
)

// NewSecret returns a fresh signing secret: "whsec_" and 32 random bytes
// in base64url. The HMAC key is the whole string as UTF-8.
func NewSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("webhook: secret: %w", err)
	}
	return "whsec_" + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// Sign returns the Kinderdeur-Signature value of body sent at t.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks a Kinderdeur-Signature header value against body, as a
// receiver does: one of the v1 signatures must match and t must lie
// within tolerance of now (0: DefaultTolerance). Several v1 entries are
// allowed so a sender may sign with an old and a new secret while they
// are rotated.
func Verify(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance == 0 {
		tolerance = DefaultTolerance
	}
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return ErrNoSignature
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			b, err := hex.DecodeString(v)
			if err != nil || len(b) != sha256.Size {
				return ErrNoSignature
			}
			sigs = append(sigs, b)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrNoSignature
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return ErrTooOld
	}
	want := mac(secret, ts, body)
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			return nil
		}
	}
	return ErrBadSignature
}
