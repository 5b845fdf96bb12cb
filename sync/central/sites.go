package central

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/attendance/staffpin"
	"github.com/kinderdeur/kiosk/sync/central/sqldb"
)

// Sites holds the locations and the versions of their rosters.
type Sites struct {
	db   *sqldb.DB
	feed *RosterFeed // woken after every roster write
	// pepper is the master staff PIN pepper (SetPINPepper), held outside
	// the database; nil: PIN hashes are stored as they come.
	pepper []byte
}

// SetPINPepper sets the master staff PIN pepper (from central's pepper
// file, never the database) and peppers every unpeppered PIN hash in every
// stored roster version of every location, in place (the hashes stay
// valid for the same PINs, so no new roster version is needed). Call it
// once at start-up, before serving.
func (d *DB) SetPINPepper(ctx context.Context, master []byte) error {
	if len(master) < 16 {
		return fmt.Errorf("central: PIN pepper: at least 16 bytes")
	}
	if err := d.checkPepper(ctx, master); err != nil {
		return err
	}
	d.Sites.pepper = append([]byte(nil), master...)
	// The same master key, kept outside the database, seals the webhook
	// secrets at rest.
	if err := d.Webhooks.SetSecretKey(master); err != nil {
		return err
	}
	if _, err := d.Webhooks.SealStoredSecrets(ctx); err != nil {
		return err
	}
	locs, err := d.Sites.Locations(ctx)
	if err != nil {
		return err
	}
	for _, l := range locs {
		var werr error
		err := d.Sites.rewriteRosterVersions(ctx, l.ID, func(r roster.Roster) (roster.Roster, bool) {
			changed, err := d.Sites.pepperPINs(&r)
			werr = errors.Join(werr, err)
			return r, changed
		})
		if err := errors.Join(err, werr); err != nil {
			return fmt.Errorf("central: pepper PIN hashes of %s: %w", l.ID, err)
		}
	}
	return nil
}

// ErrPepperMismatch: the pepper file is not the one the database's PIN
// hashes were peppered with (a replica started with its own new file).
var ErrPepperMismatch = errors.New("central: this PIN pepper is not the one the database was peppered with: every replica needs a copy of the same -pin-pepper-file")

// checkPepper compares master with the fingerprint in central_meta (the
// first start records it), so replicas never pepper with different files.
func (d *DB) checkPepper(ctx context.Context, master []byte) error {
	m := hmac.New(sha256.New, master)
	m.Write([]byte("kinderdeur pin pepper fingerprint"))
	fp := hex.EncodeToString(m.Sum(nil))[:32]
	if _, err := d.h.Exec(ctx, nil, "INSERT INTO central_meta (key, value) VALUES ('pin_pepper_fingerprint', ?) ON CONFLICT (key) DO NOTHING", fp); err != nil {
		return fmt.Errorf("central: PIN pepper: %w", err)
	}
	var have string
	if err := d.h.QueryRow(ctx, nil, "SELECT value FROM central_meta WHERE key = 'pin_pepper_fingerprint'").Scan(&have); err != nil {
		return fmt.Errorf("central: PIN pepper: %w", err)
	}
	if have != fp {
		return ErrPepperMismatch
	}
	return nil
}

// pinPepper is the hex pepper of a location's kiosks ("" without one).
func (s *Sites) pinPepper(locationID string) string {
	if s.pepper == nil {
		return ""
	}
	return staffpin.SitePepper(s.pepper, locationID).String()
}

// pepperPINs peppers r's unpeppered PIN hashes (staffpin.Wrap) in place.
// A hash that cannot be read is refused: it would never verify anyway.
func (s *Sites) pepperPINs(r *roster.Roster) (bool, error) {
	if s.pepper == nil {
		return false, nil
	}
	pep := staffpin.SitePepper(s.pepper, r.Location.ID)
	changed := false
	r.Staff = append([]roster.Staff(nil), r.Staff...)
	for i := range r.Staff {
		h, ch, err := staffpin.Wrap(r.Staff[i].PINHash, pep)
		if err != nil {
			return false, fmt.Errorf("%w: staff %s: PIN hash: %v", ErrMalformed, r.Staff[i].ID, err)
		}
		r.Staff[i].PINHash, changed = h, changed || ch
	}
	return changed, nil
}

// Location is a site as central knows it.
type Location struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	BadgeKey string `json:"-"` // hex; only enrolled devices receive it
}

// PutLocation creates a location or renames it; an existing badge key is
// kept (changing it would orphan every badge hash).
func (s *Sites) PutLocation(ctx context.Context, id, name string, key attendance.BadgeKey) error {
	if id == "" {
		return fmt.Errorf("central: location: missing id")
	}
	if key == nil {
		var err error
		if key, err = attendance.NewBadgeKey(); err != nil {
			return err
		}
	}
	_, err := s.db.Exec(ctx, nil, `INSERT INTO locations (id, name, badge_key, created_ns) VALUES (?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name`, id, name, key.String(), s.db.Now().UnixNano())
	if err != nil {
		return fmt.Errorf("central: put location %s: %w", id, err)
	}
	return nil
}

// Location returns one location.
func (s *Sites) Location(ctx context.Context, id string) (Location, error) {
	l := Location{ID: id}
	err := s.db.QueryRow(ctx, nil, "SELECT name, badge_key FROM locations WHERE id = ?", id).Scan(&l.Name, &l.BadgeKey)
	if errors.Is(err, sql.ErrNoRows) {
		return l, fmt.Errorf("central: location %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return l, fmt.Errorf("central: location %q: %w", id, err)
	}
	return l, nil
}

// Locations lists the locations.
func (s *Sites) Locations(ctx context.Context) ([]Location, error) {
	rows, err := s.db.Query(ctx, nil, "SELECT id, name, badge_key FROM locations ORDER BY id")
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
// roster must pass Validate and CheckNames. It returns the stored version.
func (s *Sites) PutRoster(ctx context.Context, r roster.Roster) (int64, error) {
	if err := errors.Join(r.Validate(), r.CheckNames()); err != nil {
		return 0, fmt.Errorf("central: roster: %w", err)
	}
	if _, err := s.pepperPINs(&r); err != nil {
		return 0, fmt.Errorf("central: roster: %w", err)
	}
	// Parents' absences of today and tomorrow ride along (rosterabsences.go).
	abs, err := s.rosterAbsences(ctx, &r)
	if err != nil {
		return 0, err
	}
	r.Absences = abs
	tx, err := s.db.SQL().BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("central: put roster: %w", err)
	}
	defer tx.Rollback()
	// The location's row lock serialises roster writers of one location
	// across replicas (an admin's edit on one, a parent's announcement on
	// another), so "current + 1" is never taken twice.
	var locID string
	err = s.db.QueryRow(ctx, tx, "SELECT id FROM locations WHERE id = ?"+s.db.ForUpdate(), r.Location.ID).Scan(&locID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("central: roster for location %q: %w", r.Location.ID, ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("central: put roster: %w", err)
	}
	var cur int64
	if err := s.db.QueryRow(ctx, tx, "SELECT coalesce(max(version), 0) FROM rosters WHERE location_id = ?", r.Location.ID).Scan(&cur); err != nil {
		return 0, fmt.Errorf("central: put roster: %w", err)
	}
	if r.Version == 0 {
		r.Version = cur + 1
	} else if r.Version <= cur {
		return 0, fmt.Errorf("%w: v%d, current v%d", ErrStaleRoster, r.Version, cur)
	}
	body, err := json.Marshal(r)
	if err != nil {
		return 0, fmt.Errorf("central: put roster: %w", err)
	}
	if _, err := s.db.Exec(ctx, tx, "INSERT INTO rosters (location_id, version, body, created_ns) VALUES (?, ?, ?, ?)",
		r.Location.ID, r.Version, string(body), s.db.Now().UnixNano()); err != nil {
		return 0, fmt.Errorf("central: put roster: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("central: put roster: %w", err)
	}
	s.feed.Changed(r.Location.ID) // this replica's long-polls at once; others by NOTIFY
	return r.Version, nil
}

// RosterVersion is the newest roster version of a location (0: none yet).
func (s *Sites) RosterVersion(ctx context.Context, locationID string) (int64, error) {
	var v int64
	if err := s.db.QueryRow(ctx, nil, "SELECT coalesce(max(version), 0) FROM rosters WHERE location_id = ?", locationID).Scan(&v); err != nil {
		return 0, fmt.Errorf("central: roster version of %q: %w", locationID, err)
	}
	return v, nil
}

// Roster returns the newest roster of a location, as stored (JSON) and
// decoded.
func (s *Sites) Roster(ctx context.Context, locationID string) (roster.Roster, []byte, error) {
	var body string
	err := s.db.QueryRow(ctx, nil, "SELECT body FROM rosters WHERE location_id = ? ORDER BY version DESC LIMIT 1", locationID).Scan(&body)
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

// rewriteRosterVersions passes every stored roster version of loc through
// edit and stores the ones it changed, in one transaction (erasure scrubs
// a subject from the history, not only from the newest version).
func (s *Sites) rewriteRosterVersions(ctx context.Context, loc string, edit func(roster.Roster) (roster.Roster, bool)) error {
	tx, err := s.db.SQL().BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("central: scrub rosters: %w", err)
	}
	defer tx.Rollback()
	rows, err := s.db.Query(ctx, tx, "SELECT version, body FROM rosters WHERE location_id = ?", loc)
	if err != nil {
		return fmt.Errorf("central: scrub rosters: %w", err)
	}
	type vb struct {
		v    int64
		body string
	}
	var all []vb
	for rows.Next() {
		var x vb
		if err := rows.Scan(&x.v, &x.body); err != nil {
			rows.Close()
			return fmt.Errorf("central: scrub rosters: %w", err)
		}
		all = append(all, x)
	}
	rows.Close()
	for _, x := range all {
		var r roster.Roster
		if err := json.Unmarshal([]byte(x.body), &r); err != nil {
			return fmt.Errorf("central: scrub roster v%d: %w", x.v, err)
		}
		r, changed := edit(r)
		if !changed {
			continue
		}
		b, _ := json.Marshal(r)
		if _, err := s.db.Exec(ctx, tx, "UPDATE rosters SET body = ? WHERE location_id = ? AND version = ?", string(b), loc, x.v); err != nil {
			return fmt.Errorf("central: scrub roster v%d: %w", x.v, err)
		}
	}
	return tx.Commit()
}
