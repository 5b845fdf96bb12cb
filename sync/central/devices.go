package central

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kinderdeur/kiosk/sync/central/sqldb"
	"github.com/kinderdeur/kiosk/sync/protocol"
)

// Devices holds the enrolled kiosks: enrolment tokens, public keys,
// revocation and the nonces of signed requests.
type Devices struct {
	db    *sqldb.DB
	sites *Sites
}

func hashToken(tok string) string {
	s := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(s[:])
}

// CreateEnrolmentToken makes a one-time enrolment token for a location,
// valid for ttl. Only its hash is stored: the token is shown once.
func (s *Devices) CreateEnrolmentToken(ctx context.Context, locationID string, ttl time.Duration, note string) (string, error) {
	if _, err := s.sites.Location(ctx, locationID); err != nil {
		return "", err
	}
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("central: enrolment token: %w", err)
	}
	tok := "enr_" + hex.EncodeToString(b[:])
	return tok, s.putEnrolmentToken(ctx, tok, locationID, s.db.Now().Add(ttl), sql.NullInt64{Int64: 1, Valid: true}, note)
}

func (s *Devices) putEnrolmentToken(ctx context.Context, tok, locationID string, expires time.Time, uses sql.NullInt64, note string) error {
	_, err := s.db.Exec(ctx, nil, `INSERT INTO enrolment_tokens (token_hash, location_id, expires_ns, uses_left, note, created_ns)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (token_hash) DO UPDATE SET expires_ns = excluded.expires_ns, uses_left = excluded.uses_left`,
		hashToken(tok), locationID, expires.UnixNano(), uses, note, s.db.Now().UnixNano())
	if err != nil {
		return fmt.Errorf("central: enrolment token: %w", err)
	}
	return nil
}

// Device is an enrolled kiosk.
type Device struct {
	ID           string            `json:"id"`
	LocationID   string            `json:"location_id"`
	Name         string            `json:"name"`
	PublicKey    ed25519.PublicKey `json:"-"`
	EnrolledAt   time.Time         `json:"enrolled_at"`
	RevokedAt    time.Time         `json:"revoked_at,omitzero"`
	AckedThrough int64             `json:"acked_through"`
	LastSeenAt   time.Time         `json:"last_seen_at,omitzero"`
}

// Enrol consumes an enrolment token and registers the device with its
// public key. A device id that is already enrolled is refused (ErrConflict):
// a kiosk cannot take over another's identity by enrolling again. A revoked
// device may be enrolled again (a new key, e.g. after its SD card was
// replaced); that takes a fresh token from an admin.
func (s *Devices) Enrol(ctx context.Context, req protocol.EnrolRequest) (protocol.EnrolResponse, error) {
	var resp protocol.EnrolResponse
	pub, err := protocol.DecodePublicKey(req.PublicKey)
	if err != nil {
		return resp, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if req.DeviceID == "" || len(req.DeviceID) > 100 || !oneSegment(req.DeviceID) {
		return resp, fmt.Errorf("%w: device_id missing, longer than 100, or not one plain URL path segment (no spaces, control characters, / ? # %% \\ or a bare . or ..)", ErrMalformed)
	}
	if len(req.Name) > 200 || strings.IndexFunc(req.Name, hiddenRune) >= 0 {
		return resp, fmt.Errorf("%w: name longer than 200 bytes or with control characters", ErrMalformed)
	}
	tx, err := s.db.SQL().BeginTx(ctx, nil)
	if err != nil {
		return resp, fmt.Errorf("central: enrol: %w", err)
	}
	defer tx.Rollback()
	var loc string
	var expires int64
	var uses sql.NullInt64
	err = s.db.QueryRow(ctx, tx, "SELECT location_id, expires_ns, uses_left FROM enrolment_tokens WHERE token_hash = ?"+s.db.ForUpdate(),
		hashToken(req.Token)).Scan(&loc, &expires, &uses)
	if errors.Is(err, sql.ErrNoRows) {
		return resp, ErrBadToken
	}
	if err != nil {
		return resp, fmt.Errorf("central: enrol: %w", err)
	}
	now := s.db.Now()
	// A retry of an enrolment that succeeded (the answer was lost): the same
	// token, device and key get the same answer without using the token again.
	var haveLoc, haveKey string
	err = s.db.QueryRow(ctx, tx, "SELECT location_id, public_key FROM devices WHERE id = ? AND revoked_ns IS NULL", req.DeviceID).Scan(&haveLoc, &haveKey)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return resp, fmt.Errorf("central: enrol: %w", err)
	}
	retry := err == nil && haveLoc == loc && haveKey == protocol.EncodePublicKey(pub)
	if !retry && (now.UnixNano() > expires || (uses.Valid && uses.Int64 <= 0)) {
		return resp, ErrBadToken
	}
	if retry {
		var key string
		if err := s.db.QueryRow(ctx, tx, "SELECT badge_key FROM locations WHERE id = ?", loc).Scan(&key); err != nil {
			return resp, fmt.Errorf("central: enrol: %w", err)
		}
		return protocol.EnrolResponse{DeviceID: req.DeviceID, LocationID: loc, BadgeKey: key, PINPepper: s.sites.pinPepper(loc), ServerTime: now.UTC()}, nil
	}
	if uses.Valid {
		if _, err := s.db.Exec(ctx, tx, "UPDATE enrolment_tokens SET uses_left = uses_left - 1 WHERE token_hash = ?", hashToken(req.Token)); err != nil {
			return resp, fmt.Errorf("central: enrol: %w", err)
		}
	}
	// A new device, or a revoked one enrolled again by an admin's token with
	// a new key (its sequence continues: acked_through is kept).
	res, err := s.db.Exec(ctx, tx, `INSERT INTO devices (id, location_id, public_key, name, enrolled_ns) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET location_id = excluded.location_id, public_key = excluded.public_key,
			name = excluded.name, enrolled_ns = excluded.enrolled_ns, revoked_ns = NULL
		WHERE devices.revoked_ns IS NOT NULL`, req.DeviceID, loc, protocol.EncodePublicKey(pub), req.Name, now.UnixNano())
	if err != nil {
		return resp, fmt.Errorf("central: enrol: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return resp, fmt.Errorf("%w: device %q is already enrolled", ErrConflict, req.DeviceID)
	}
	var key string
	if err := s.db.QueryRow(ctx, tx, "SELECT badge_key FROM locations WHERE id = ?", loc).Scan(&key); err != nil {
		return resp, fmt.Errorf("central: enrol: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return resp, fmt.Errorf("central: enrol: %w", err)
	}
	return protocol.EnrolResponse{DeviceID: req.DeviceID, LocationID: loc, BadgeKey: key, PINPepper: s.sites.pinPepper(loc), ServerTime: now.UTC()}, nil
}

// oneSegment reports whether a device id can stand as one segment of a URL
// path as it is (the admin routes /devices/{id}/...): no separators,
// escapes, spaces, control or bidi characters, and not "." or "..".
func oneSegment(id string) bool {
	if id == "." || id == ".." || !utf8.ValidString(id) {
		return false
	}
	for _, r := range id {
		if unicode.IsSpace(r) || hiddenRune(r) || strings.ContainsRune(`/?#%\`, r) {
			return false
		}
	}
	return true
}

// hiddenRune: control, format (bidi overrides, zero widths) and line or
// paragraph separators, which have no place in a name shown on pages and
// in mail.
func hiddenRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029'
}

func nsTime(ns sql.NullInt64) time.Time {
	if !ns.Valid {
		return time.Time{}
	}
	return time.Unix(0, ns.Int64).UTC()
}

const deviceCols = "id, location_id, name, public_key, enrolled_ns, revoked_ns, acked_through, last_seen_ns"

func scanDevice(sc interface{ Scan(...any) error }) (Device, error) {
	var dv Device
	var pub string
	var enrolled int64
	var revoked, seen sql.NullInt64
	if err := sc.Scan(&dv.ID, &dv.LocationID, &dv.Name, &pub, &enrolled, &revoked, &dv.AckedThrough, &seen); err != nil {
		return dv, err
	}
	dv.PublicKey, _ = protocol.DecodePublicKey(pub)
	dv.EnrolledAt = time.Unix(0, enrolled).UTC()
	dv.RevokedAt = nsTime(revoked)
	dv.LastSeenAt = nsTime(seen)
	return dv, nil
}

// Device returns one device.
func (s *Devices) Device(ctx context.Context, id string) (Device, error) {
	dv, err := scanDevice(s.db.QueryRow(ctx, nil, "SELECT "+deviceCols+" FROM devices WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return dv, fmt.Errorf("central: device %q: %w", id, ErrUnknownDevice)
	}
	if err != nil {
		return dv, fmt.Errorf("central: device %q: %w", id, err)
	}
	return dv, nil
}

// Devices lists the devices.
func (s *Devices) Devices(ctx context.Context) ([]Device, error) {
	rows, err := s.db.Query(ctx, nil, "SELECT "+deviceCols+" FROM devices ORDER BY location_id, id")
	if err != nil {
		return nil, fmt.Errorf("central: devices: %w", err)
	}
	defer rows.Close()
	var out []Device
	for rows.Next() {
		dv, err := scanDevice(rows)
		if err != nil {
			return nil, fmt.Errorf("central: devices: %w", err)
		}
		out = append(out, dv)
	}
	return out, rows.Err()
}

// Revoke stops a device: its signatures are refused from now on. Its
// events stay.
func (s *Devices) Revoke(ctx context.Context, id string) error {
	res, err := s.db.Exec(ctx, nil, "UPDATE devices SET revoked_ns = ? WHERE id = ? AND revoked_ns IS NULL", s.db.Now().UnixNano(), id)
	if err != nil {
		return fmt.Errorf("central: revoke %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := s.Device(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// UseNonce records a request nonce; a nonce seen before gives ErrReplay.
// Nonces older than twice the signature window are forgotten (a request
// that old fails the timestamp check anyway).
func (s *Devices) UseNonce(ctx context.Context, deviceID, nonce string) error {
	now := s.db.Now()
	res, err := s.db.Exec(ctx, nil, "INSERT INTO nonces (device_id, nonce, seen_ns) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
		deviceID, nonce, now.UnixNano())
	if err != nil {
		return fmt.Errorf("central: nonce: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrReplay
	}
	return nil
}

// PruneNonces forgets nonces older than twice the signature window.
func (s *Devices) PruneNonces(ctx context.Context) error {
	cut := s.db.Now().Add(-2 * protocol.SignatureWindow).UnixNano()
	if _, err := s.db.Exec(ctx, nil, "DELETE FROM nonces WHERE seen_ns < ?", cut); err != nil {
		return fmt.Errorf("central: prune nonces: %w", err)
	}
	return nil
}
