package central

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/roster"
)

// The absences parents report in the portal travel to the door with the
// roster: every roster version central writes (PutRoster) carries the
// standing absences of today and tomorrow at the location (child, day,
// kind; never the parent's note), read from parent_absences, which stays
// the one source. A reported or withdrawn absence for today or tomorrow
// writes a new version (the portal calls AbsencesChanged), and the
// scheduled job roster-absences (RefreshAbsences) writes one when the days
// move on, so a kiosk never waits for an unrelated roster change.

// absenceDays are today and tomorrow in the location's time zone.
func absenceDays(r *roster.Roster, now time.Time) (today, tomorrow attendance.Date) {
	tz := time.UTC
	if l, err := time.LoadLocation(r.Location.TimeZone); err == nil {
		tz = l
	}
	local := now.In(tz)
	return attendance.DateOf(local), attendance.DateOf(time.Date(local.Year(), local.Month(), local.Day()+1, 12, 0, 0, 0, tz))
}

// rosterAbsences are the standing absences of r's children today and
// tomorrow, as the roster carries them.
func (s *Sites) rosterAbsences(ctx context.Context, r *roster.Roster) ([]roster.Absence, error) {
	today, tomorrow := absenceDays(r, s.db.Now())
	rows, err := s.db.Query(ctx, nil, "SELECT child_id, day, kind FROM parent_absences WHERE location_id = ? AND day >= ? AND day <= ? AND withdrawn_ns IS NULL ORDER BY day, child_id, reported_ns",
		r.Location.ID, today.String(), tomorrow.String())
	if err != nil {
		return nil, fmt.Errorf("central: roster absences: %w", err)
	}
	defer rows.Close()
	children := map[string]bool{}
	for _, c := range r.Children {
		children[c.ID] = true
	}
	var out []roster.Absence
	seen := map[[2]string]bool{}
	for rows.Next() {
		var child, day, kind string
		if err := rows.Scan(&child, &day, &kind); err != nil {
			return nil, fmt.Errorf("central: roster absences: %w", err)
		}
		d, err := attendance.ParseDate(day)
		k := [2]string{child, day}
		if err != nil || !children[child] || seen[k] {
			continue // a child no longer on the roster; a second report of the day
		}
		switch kind {
		case roster.AbsenceSick, roster.AbsenceCancel, roster.AbsenceLateCancel:
		default:
			continue
		}
		seen[k] = true
		out = append(out, roster.Absence{ChildID: child, Date: d, Kind: kind})
	}
	return out, rows.Err()
}

// AbsencesChanged writes a new roster version for a location when an
// absence of day d was reported or withdrawn and d is today or tomorrow
// there (the version carries the new list: PutRoster fills it in).
func (s *Sites) AbsencesChanged(ctx context.Context, locationID string, d attendance.Date) error {
	_, err := s.EditRoster(ctx, locationID, func(r *roster.Roster) error {
		if today, tomorrow := absenceDays(r, s.db.Now()); d.Before(today) || tomorrow.Before(d) {
			return errNoChange
		}
		return nil
	})
	if errors.Is(err, errNoChange) {
		return nil
	}
	return err
}

var errNoChange = errors.New("central: roster unchanged")

// RefreshAbsences writes a new roster version for every location whose
// newest version carries another absence list than today's and
// tomorrow's (after midnight, mostly). The job roster-absences runs it.
func (s *Sites) RefreshAbsences(ctx context.Context) error {
	locs, err := s.Locations(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, l := range locs {
		_, err := s.EditRoster(ctx, l.ID, func(r *roster.Roster) error {
			want, err := s.rosterAbsences(ctx, r)
			if err != nil {
				return err
			}
			if slices.Equal(want, r.Absences) {
				return errNoChange
			}
			return nil
		})
		if err != nil && !errors.Is(err, errNoChange) && !errors.Is(err, ErrNotFound) { // a location without a roster yet
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("central: refresh absences: %w", errors.Join(errs...))
	}
	return nil
}
