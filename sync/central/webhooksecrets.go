package central

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Webhook signing secrets are stored sealed: AES-256-GCM under a key
// derived from central's master key file (the PIN pepper file, kept outside
// the database and its backups), bound to the endpoint's id. A copy of the
// database alone, or a secret copied to another endpoint's row, signs
// nothing. Central must know each secret to sign with it, so a hash would
// not do.

// sealedPrefix marks a sealed secret; a value without it is a plaintext
// secret from before sealing (SealStoredSecrets seals those at start-up).
const sealedPrefix = "sealed:v1:"

// ErrSecretSealed: a sealed secret and no key, or not this key.
var ErrSecretSealed = errors.New("central: webhook secret is sealed with another key (is -pin-pepper-file the one this database was started with?)")

type secretBox struct{ aead cipher.AEAD }

// SetSecretKey derives the sealing key from the master key (at least 16
// bytes). Central calls it at start-up (SetPINPepper does), before it
// serves; until then secrets are stored as they are (tests).
func (w *Webhooks) SetSecretKey(master []byte) error {
	if len(master) < 16 {
		return fmt.Errorf("central: webhook secret key: at least 16 bytes")
	}
	m := hmac.New(sha256.New, master)
	m.Write([]byte("kinderdeur webhook secret sealing key v1"))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		return fmt.Errorf("central: webhook secret key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return fmt.Errorf("central: webhook secret key: %w", err)
	}
	w.box.Store(&secretBox{aead: aead})
	return nil
}

// sealSecret is the stored form of an endpoint's secret.
func (w *Webhooks) sealSecret(endpointID, secret string) (string, error) {
	b := w.box.Load()
	if b == nil {
		return secret, nil
	}
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("central: seal webhook secret: %w", err)
	}
	out := b.aead.Seal(nonce, nonce, []byte(secret), []byte(endpointID))
	return sealedPrefix + base64.RawURLEncoding.EncodeToString(out), nil
}

// openSecret is an endpoint's secret from its stored form.
func (w *Webhooks) openSecret(endpointID, stored string) (string, error) {
	rest, sealed := strings.CutPrefix(stored, sealedPrefix)
	if !sealed {
		return stored, nil
	}
	b := w.box.Load()
	if b == nil {
		return "", ErrSecretSealed
	}
	raw, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil || len(raw) < b.aead.NonceSize() {
		return "", fmt.Errorf("central: webhook %s: stored secret is damaged", endpointID)
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, raw[:n], raw[n:], []byte(endpointID))
	if err != nil {
		return "", fmt.Errorf("webhook %s: %w", endpointID, ErrSecretSealed)
	}
	return string(plain), nil
}

// SealStoredSecrets seals every secret still stored in plaintext (stored
// before sealing, or by a replica of an older version) and returns how
// many it sealed. Central runs it at start-up, after SetSecretKey.
func (w *Webhooks) SealStoredSecrets(ctx context.Context) (int, error) {
	if w.box.Load() == nil {
		return 0, fmt.Errorf("central: seal webhook secrets: no key")
	}
	rows, err := w.db.Query(ctx, nil, "SELECT id, secret FROM webhook_endpoints WHERE secret NOT LIKE 'sealed:%'")
	if err != nil {
		return 0, fmt.Errorf("central: seal webhook secrets: %w", err)
	}
	type plain struct{ id, secret string }
	var todo []plain
	for rows.Next() {
		var p plain
		if err := rows.Scan(&p.id, &p.secret); err != nil {
			rows.Close()
			return 0, fmt.Errorf("central: seal webhook secrets: %w", err)
		}
		todo = append(todo, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("central: seal webhook secrets: %w", err)
	}
	for _, p := range todo {
		sealed, err := w.sealSecret(p.id, p.secret)
		if err != nil {
			return 0, err
		}
		// Only if unchanged meanwhile (a rotation on another replica).
		if _, err := w.db.Exec(ctx, nil, "UPDATE webhook_endpoints SET secret = ? WHERE id = ? AND secret = ?", sealed, p.id, p.secret); err != nil {
			return 0, fmt.Errorf("central: seal webhook secret of %s: %w", p.id, err)
		}
	}
	return len(todo), nil
}
