package central

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/sync/protocol"
)

// SeedDemo makes the database serve the demo organisation: the demo
// location with the demo badge key, roster.Demo(today) as its roster (a new
// version whenever the demo roster of today differs from the stored one)
// and the public demo enrolment token protocol.DemoEnrolToken, valid for
// any number of kiosks. Never run it against a real site's database.
func (d *DB) SeedDemo(ctx context.Context, today attendance.Date) error {
	r, _ := roster.Demo(today)
	if err := d.PutLocation(ctx, r.Location.ID, r.Location.Name, roster.DemoBadgeKey); err != nil {
		return err
	}
	cur, _, err := d.Roster(ctx, r.Location.ID)
	switch {
	case err == nil && cur.Version < r.Version:
		// The demo roster's own version (the date) is newer: use it, so a
		// demo kiosk seeded with the same roster agrees on the version.
		if _, err := d.PutRoster(ctx, r); err != nil {
			return fmt.Errorf("central: demo roster: %w", err)
		}
	case err == nil:
		want := r.Version
		r.Version = cur.Version
		a, _ := json.Marshal(cur)
		b, _ := json.Marshal(r)
		if string(a) != string(b) {
			r.Version = max(want, cur.Version+1)
			if _, err := d.PutRoster(ctx, r); err != nil {
				return fmt.Errorf("central: demo roster: %w", err)
			}
		}
	case errors.Is(err, ErrNotFound):
		if _, err := d.PutRoster(ctx, r); err != nil {
			return fmt.Errorf("central: demo roster: %w", err)
		}
	default:
		return err
	}
	return d.putEnrolmentToken(ctx, protocol.DemoEnrolToken, r.Location.ID,
		d.now().Add(100*365*24*time.Hour), sql.NullInt64{}, "demo kiosks (public token)")
}
