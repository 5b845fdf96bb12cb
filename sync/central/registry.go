package central

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/sync/protocol"
)

// Location is a site as central knows it.
type Location struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	BadgeKey string `json:"-"` // hex; only enrolled devices receive it
}

// PutLocation creates a location or renames it; an existing badge key is
// kept (changing it would orphan every badge hash).
func (d *DB) PutLocation(ctx context.Context, id, name string, key attendance.BadgeKey) error {
	if id == "" {
		return fmt.Errorf("central: location: missing id")
	}
	if key == nil {
		var err error
		if key, err = attendance.NewBadgeKey(); err != nil {
			return err
		}
	}
	_, err := d.exec(ctx, d.sql, `INSERT INTO locations (id, name, badge_key, created_ns) VALUES (?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name`, id, name, key.String(), d.now().UnixNano())
	if err != nil {
		return fmt.Errorf("central: put location %s: %w", id, err)
	}
	return nil
}

// Location returns one location.
func (d *DB) Location(ctx context.Context, id string) (Location, error) {
	l := Location{ID: id}
	err := d.queryRow(ctx, d.sql, "SELECT name, badge_key FROM locations WHERE id = ?", id).Scan(&l.Name, &l.BadgeKey)
	if errors.Is(err, sql.ErrNoRows) {
		return l, fmt.Errorf("central: location %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return l, fmt.Errorf("central: location %q: %w", id, err)
	}
	return l, nil
}

// Locations lists the locations.
func (d *DB) Locations(ctx context.Context) ([]Location, error) {
	rows, err := d.query(ctx, d.sql, "SELECT id, name, badge_key FROM locations ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("central: locations: %w", err)
	}
	defer rows.Close()
	var out []Location
	for rows.Next() {
		var l Location
		if err := rows.Scan(&l.ID, &l.Name, &l.BadgeKey); err != nil {
			return nil, fmt.Errorf("central: locations: %w", err)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// PutRoster stores a new roster version for its location. Version 0 means
// "the next one"; an explicit version must be above the current one. The
// roster must pass Validate. It returns the stored version.
func (d *DB) PutRoster(ctx context.Context, r roster.Roster) (int64, error) {
	if err := r.Validate(); err != nil {
		return 0, fmt.Errorf("central: roster: %w", err)
	}
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("central: put roster: %w", err)
	}
	defer tx.Rollback()
	var cur int64
	if err := d.queryRow(ctx, tx, "SELECT coalesce(max(version), 0) FROM rosters WHERE location_id = ?", r.Location.ID).Scan(&cur); err != nil {
		return 0, fmt.Errorf("central: put roster: %w", err)
	}
	if r.Version == 0 {
		r.Version = cur + 1
	} else if r.Version <= cur {
		return 0, fmt.Errorf("%w: v%d, current v%d", ErrStaleRoster, r.Version, cur)
	}
	var exists int
	if err := d.queryRow(ctx, tx, "SELECT count(*) FROM locations WHERE id = ?", r.Location.ID).Scan(&exists); err != nil {
		return 0, fmt.Errorf("central: put roster: %w", err)
	}
	if exists == 0 {
		return 0, fmt.Errorf("central: roster for location %q: %w", r.Location.ID, ErrNotFound)
	}
	body, err := json.Marshal(r)
	if err != nil {
		return 0, fmt.Errorf("central: put roster: %w", err)
	}
	if _, err := d.exec(ctx, tx, "INSERT INTO rosters (location_id, version, body, created_ns) VALUES (?, ?, ?, ?)",
		r.Location.ID, r.Version, string(body), d.now().UnixNano()); err != nil {
		return 0, fmt.Errorf("central: put roster: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("central: put roster: %w", err)
	}
	return r.Version, nil
}

// Roster returns the newest roster of a location, as stored (JSON) and
// decoded.
func (d *DB) Roster(ctx context.Context, locationID string) (roster.Roster, []byte, error) {
	var body string
	err := d.queryRow(ctx, d.sql, "SELECT body FROM rosters WHERE location_id = ? ORDER BY version DESC LIMIT 1", locationID).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return roster.Roster{}, nil, fmt.Errorf("central: roster of %q: %w", locationID, ErrNotFound)
	}
	if err != nil {
		return roster.Roster{}, nil, fmt.Errorf("central: roster of %q: %w", locationID, err)
	}
	var r roster.Roster
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		return r, nil, fmt.Errorf("central: roster of %q: decode: %w", locationID, err)
	}
	return r, []byte(body), nil
}

func hashToken(tok string) string {
	s := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(s[:])
}

// CreateEnrolmentToken makes a one-time enrolment token for a location,
// valid for ttl. Only its hash is stored: the token is shown once.
func (d *DB) CreateEnrolmentToken(ctx context.Context, locationID string, ttl time.Duration, note string) (string, error) {
	if _, err := d.Location(ctx, locationID); err != nil {
		return "", err
	}
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("central: enrolment token: %w", err)
	}
	tok := "enr_" + hex.EncodeToString(b[:])
	return tok, d.putEnrolmentToken(ctx, tok, locationID, d.now().Add(ttl), sql.NullInt64{Int64: 1, Valid: true}, note)
}

func (d *DB) putEnrolmentToken(ctx context.Context, tok, locationID string, expires time.Time, uses sql.NullInt64, note string) error {
	_, err := d.exec(ctx, d.sql, `INSERT INTO enrolment_tokens (token_hash, location_id, expires_ns, uses_left, note, created_ns)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (token_hash) DO UPDATE SET expires_ns = excluded.expires_ns, uses_left = excluded.uses_left`,
		hashToken(tok), locationID, expires.UnixNano(), uses, note, d.now().UnixNano())
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
func (d *DB) Enrol(ctx context.Context, req protocol.EnrolRequest) (protocol.EnrolResponse, error) {
	var resp protocol.EnrolResponse
	pub, err := protocol.DecodePublicKey(req.PublicKey)
	if err != nil {
		return resp, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if req.DeviceID == "" || len(req.DeviceID) > 100 || strings.ContainsAny(req.DeviceID, " \t\r\n") {
		return resp, fmt.Errorf("%w: device_id missing, longer than 100 or with spaces", ErrMalformed)
	}
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return resp, fmt.Errorf("central: enrol: %w", err)
	}
	defer tx.Rollback()
	var loc string
	var expires int64
	var uses sql.NullInt64
	err = d.queryRow(ctx, tx, "SELECT location_id, expires_ns, uses_left FROM enrolment_tokens WHERE token_hash = ?"+d.forUpdate(),
		hashToken(req.Token)).Scan(&loc, &expires, &uses)
	if errors.Is(err, sql.ErrNoRows) {
		return resp, ErrBadToken
	}
	if err != nil {
		return resp, fmt.Errorf("central: enrol: %w", err)
	}
	now := d.now()
	// A retry of an enrolment that succeeded (the answer was lost): the same
	// token, device and key get the same answer without using the token again.
	var haveLoc, haveKey string
	err = d.queryRow(ctx, tx, "SELECT location_id, public_key FROM devices WHERE id = ? AND revoked_ns IS NULL", req.DeviceID).Scan(&haveLoc, &haveKey)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return resp, fmt.Errorf("central: enrol: %w", err)
	}
	retry := err == nil && haveLoc == loc && haveKey == protocol.EncodePublicKey(pub)
	if !retry && (now.UnixNano() > expires || (uses.Valid && uses.Int64 <= 0)) {
		return resp, ErrBadToken
	}
	if retry {
		var key string
		if err := d.queryRow(ctx, tx, "SELECT badge_key FROM locations WHERE id = ?", loc).Scan(&key); err != nil {
			return resp, fmt.Errorf("central: enrol: %w", err)
		}
		return protocol.EnrolResponse{DeviceID: req.DeviceID, LocationID: loc, BadgeKey: key, ServerTime: now.UTC()}, nil
	}
	if uses.Valid {
		if _, err := d.exec(ctx, tx, "UPDATE enrolment_tokens SET uses_left = uses_left - 1 WHERE token_hash = ?", hashToken(req.Token)); err != nil {
			return resp, fmt.Errorf("central: enrol: %w", err)
		}
	}
	// A new device, or a revoked one enrolled again by an admin's token with
	// a new key (its sequence continues: acked_through is kept).
	res, err := d.exec(ctx, tx, `INSERT INTO devices (id, location_id, public_key, name, enrolled_ns) VALUES (?, ?, ?, ?, ?)
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
	if err := d.queryRow(ctx, tx, "SELECT badge_key FROM locations WHERE id = ?", loc).Scan(&key); err != nil {
		return resp, fmt.Errorf("central: enrol: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return resp, fmt.Errorf("central: enrol: %w", err)
	}
	return protocol.EnrolResponse{DeviceID: req.DeviceID, LocationID: loc, BadgeKey: key, ServerTime: now.UTC()}, nil
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
func (d *DB) Device(ctx context.Context, id string) (Device, error) {
	dv, err := scanDevice(d.queryRow(ctx, d.sql, "SELECT "+deviceCols+" FROM devices WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return dv, fmt.Errorf("central: device %q: %w", id, ErrUnknownDevice)
	}
	if err != nil {
		return dv, fmt.Errorf("central: device %q: %w", id, err)
	}
	return dv, nil
}

// Devices lists the devices.
func (d *DB) Devices(ctx context.Context) ([]Device, error) {
	rows, err := d.query(ctx, d.sql, "SELECT "+deviceCols+" FROM devices ORDER BY location_id, id")
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
func (d *DB) Revoke(ctx context.Context, id string) error {
	res, err := d.exec(ctx, d.sql, "UPDATE devices SET revoked_ns = ? WHERE id = ? AND revoked_ns IS NULL", d.now().UnixNano(), id)
	if err != nil {
		return fmt.Errorf("central: revoke %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := d.Device(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// UseNonce records a request nonce; a nonce seen before gives ErrReplay.
// Nonces older than twice the signature window are forgotten (a request
// that old fails the timestamp check anyway).
func (d *DB) UseNonce(ctx context.Context, deviceID, nonce string) error {
	now := d.now()
	res, err := d.exec(ctx, d.sql, "INSERT INTO nonces (device_id, nonce, seen_ns) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
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
func (d *DB) PruneNonces(ctx context.Context) error {
	cut := d.now().Add(-2 * protocol.SignatureWindow).UnixNano()
	if _, err := d.exec(ctx, d.sql, "DELETE FROM nonces WHERE seen_ns < ?", cut); err != nil {
		return fmt.Errorf("central: prune nonces: %w", err)
	}
	return nil
}

// Alert is something an admin must look at: a seq reused with another
// event (a kiosk restored from a backup), an event id under two seqs, a
// resent event whose bytes changed.
type Alert struct {
	ID        int64     `json:"id"`
	DeviceID  string    `json:"device_id"`
	Kind      string    `json:"kind"`
	Seq       int64     `json:"seq"`
	EventID   string    `json:"event_id"`
	Detail    string    `json:"detail"`
	CreatedAt time.Time `json:"created_at"`
}

// Alerts lists the alerts, oldest first.
func (d *DB) Alerts(ctx context.Context) ([]Alert, error) {
	rows, err := d.query(ctx, d.sql, "SELECT id, device_id, kind, seq, event_id, detail, created_ns FROM alerts ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("central: alerts: %w", err)
	}
	defer rows.Close()
	var out []Alert
	for rows.Next() {
		var a Alert
		var ns int64
		if err := rows.Scan(&a.ID, &a.DeviceID, &a.Kind, &a.Seq, &a.EventID, &a.Detail, &ns); err != nil {
			return nil, fmt.Errorf("central: alerts: %w", err)
		}
		a.CreatedAt = time.Unix(0, ns).UTC()
		out = append(out, a)
	}
	return out, rows.Err()
}

// RejectedEvent is an event central refused, kept for admins.
type RejectedEvent struct {
	DeviceID   string          `json:"device_id"`
	Seq        int64           `json:"seq"`
	EventID    string          `json:"event_id"`
	Reason     string          `json:"reason"`
	Body       json.RawMessage `json:"event"`
	ReceivedAt time.Time       `json:"received_at"`
}

// Rejected lists the rejected events.
func (d *DB) Rejected(ctx context.Context) ([]RejectedEvent, error) {
	rows, err := d.query(ctx, d.sql, "SELECT device_id, seq, event_id, reason, body, received_ns FROM rejected_events ORDER BY device_id, seq")
	if err != nil {
		return nil, fmt.Errorf("central: rejected: %w", err)
	}
	defer rows.Close()
	var out []RejectedEvent
	for rows.Next() {
		var r RejectedEvent
		var body string
		var ns int64
		if err := rows.Scan(&r.DeviceID, &r.Seq, &r.EventID, &r.Reason, &body, &ns); err != nil {
			return nil, fmt.Errorf("central: rejected: %w", err)
		}
		r.Body = json.RawMessage(body)
		r.ReceivedAt = time.Unix(0, ns).UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}
