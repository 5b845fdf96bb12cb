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
	"github.com/kinderdeur/kiosk/sync/central/auth"
	"github.com/kinderdeur/kiosk/sync/central/sqldb"
	"github.com/kinderdeur/kiosk/sync/protocol"
)

// Demo seeds the demo organisation: location, roster, enrolment token,
// users and a generated history. Never run it against a real site's
// database.
type Demo struct {
	db      *sqldb.DB
	sites   *Sites
	devices *Devices
	events  *EventStore
	users   *Users
	parents *Parents
}

// DemoGuardianEmails are the invitation addresses of the demo guardians
// (the parents' portal): person id -> e-mail.
var DemoGuardianEmails = map[string]string{
	"p-fatima": "fatima@ouders.demo", "p-kees": "kees@ouders.demo",
	"p-sanne": "sanne@ouders.demo", "p-mark": "mark@ouders.demo",
	"p-ingrid": "ingrid@ouders.demo", "p-youssef": "youssef@ouders.demo",
	"p-linda": "linda@ouders.demo", "p-eva": "eva@ouders.demo", "p-ruben": "ruben@ouders.demo",
}

// SeedDemoParents keeps the demo guardians' e-mail addresses, so they can
// sign in to the parents' portal, and returns Fatima B.'s account (the
// demo -parent-token signs in as her).
func (s *Demo) SeedDemoParents(ctx context.Context) (ParentAccount, error) {
	for person, email := range DemoGuardianEmails {
		if err := s.parents.SetGuardianEmail(ctx, "loc-regenboog", person, email); err != nil {
			return ParentAccount{}, err
		}
	}
	return s.parents.Account(ctx, DemoGuardianEmails["p-fatima"])
}

// SeedDemo makes the database serve the demo organisation: the demo
// location with the demo badge key, roster.Demo(today) as its roster (a new
// version whenever the demo roster of today differs from the stored one)
// and the public demo enrolment token protocol.DemoEnrolToken, valid for
// any number of kiosks. Never run it against a real site's database.
func (s *Demo) SeedDemo(ctx context.Context, today attendance.Date) error {
	r, _ := roster.Demo(today)
	if err := s.sites.PutLocation(ctx, r.Location.ID, r.Location.Name, roster.DemoBadgeKey); err != nil {
		return err
	}
	cur, _, err := s.sites.Roster(ctx, r.Location.ID)
	switch {
	case err == nil && cur.Version < r.Version:
		// The demo roster's own version (the date) is newer: use it, so a
		// demo kiosk seeded with the same roster agrees on the version.
		if _, err := s.sites.PutRoster(ctx, r); err != nil {
			return fmt.Errorf("central: demo roster: %w", err)
		}
	case err == nil:
		want := r.Version
		r.Version = cur.Version
		a, _ := json.Marshal(cur)
		b, _ := json.Marshal(r)
		if string(a) != string(b) {
			r.Version = max(want, cur.Version+1)
			if _, err := s.sites.PutRoster(ctx, r); err != nil {
				return fmt.Errorf("central: demo roster: %w", err)
			}
		}
	case errors.Is(err, ErrNotFound):
		if _, err := s.sites.PutRoster(ctx, r); err != nil {
			return fmt.Errorf("central: demo roster: %w", err)
		}
	default:
		return err
	}
	return s.devices.putEnrolmentToken(ctx, protocol.DemoEnrolToken, r.Location.ID,
		s.db.Now().Add(100*365*24*time.Hour), sql.NullInt64{}, "demo kiosks (public token)")
}

// password DemoPassword. Never use them on a real site.
const DemoPassword = "kinderdeur-demo"

// DemoUsers are the e-mail addresses and roles of the demo users.
var DemoUsers = []struct {
	Email string
	Name  string
	Role  auth.Role
}{
	{"admin@demo", "Demo admin", auth.RoleAdmin},
	{"manager@demo", "Demo manager", auth.RoleManager},
	{"billing@demo", "Demo billing", auth.RoleBilling},
	{"inspector@demo", "Demo inspector (GGD)", auth.RoleInspector},
}

// SeedDemoUsers creates the demo users that do not exist yet.
func (s *Demo) SeedDemoUsers(ctx context.Context, h auth.Hasher) error {
	for _, du := range DemoUsers {
		if _, err := s.users.LookupUser(ctx, du.Email); err == nil {
			continue
		}
		hash, err := h.Hash(DemoPassword)
		if err != nil {
			return fmt.Errorf("central: demo user: %w", err)
		}
		if _, err := s.users.CreateUser(ctx, du.Email, du.Name, du.Role, hash); err != nil && !errors.Is(err, ErrUserExists) {
			return err
		}
	}
	return nil
}
