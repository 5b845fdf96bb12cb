package central

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/retention"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/sync/central/sqldb"
)

// NewRetentionEngine returns a retention engine over central's data:
// events (category attendance: anonymised when their term ends, counted
// from the end of the year of care) and roster entries of children and
// persons (category contact, or child_family for the be-vl profile:
// removed from every stored roster version when disposed of).
func (s *Subjects) NewRetentionEngine(cfg retention.Config, auditFn retention.AuditFunc) (*retention.Engine, error) {
	e, err := retention.NewEngine(cfg)
	if err != nil {
		return nil, err
	}
	e.Audit = auditFn
	if _, ok := cfg.Policies[retention.Attendance]; ok {
		if err := e.Register(retention.Attendance, eventStore{s.db}); err != nil {
			return nil, err
		}
	}
	rc := retention.Contact
	if _, ok := cfg.Policies[rc]; !ok {
		rc = retention.ChildFamily
	}
	if _, ok := cfg.Policies[rc]; ok {
		if err := e.Register(rc, rosterStore{s.sites, rc}); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// eventStore is the attendance category over the events table. Record id:
// the event id; subject: child:ID; anchor: 1 January after the event (end
// of the year of care).
type eventStore struct{ db *sqldb.DB }

func yearEnd(ns int64) time.Time {
	t := time.Unix(0, ns).UTC()
	return time.Date(t.Year()+1, time.January, 1, 0, 0, 0, 0, time.UTC)
}

func (s eventStore) records(ctx context.Context, where string, args ...any) ([]retention.Record, error) {
	rows, err := s.db.Query(ctx, nil, "SELECT event_id, child_id, time_ns FROM events WHERE child_id IS NOT NULL AND child_id <> '' "+where+" ORDER BY time_ns", args...)
	if err != nil {
		return nil, fmt.Errorf("central: retention events: %w", err)
	}
	defer rows.Close()
	var out []retention.Record
	for rows.Next() {
		var id, child string
		var ns int64
		if err := rows.Scan(&id, &child, &ns); err != nil {
			return nil, fmt.Errorf("central: retention events: %w", err)
		}
		out = append(out, retention.Record{ID: id, Category: retention.Attendance, Subject: "child:" + child, Anchor: yearEnd(ns)})
	}
	return out, rows.Err()
}

func (s eventStore) Candidates(ctx context.Context, _ retention.Category, before time.Time) ([]retention.Record, error) {
	return s.records(ctx, "AND time_ns < ?", before.UnixNano())
}

func (s eventStore) BySubject(ctx context.Context, _ retention.Category, subject string) ([]retention.Record, error) {
	kind, id, _ := strings.Cut(subject, ":")
	if kind != SubjectChild {
		return nil, nil
	}
	return s.records(ctx, "AND child_id = ?", id)
}

// SetAnchor: an event's term always runs (from the end of its year).
func (s eventStore) SetAnchor(context.Context, retention.Category, []string, time.Time) error {
	return nil
}

// Delete anonymises too: attendance is evidence for the aggregate figures
// (benefit, inspection) and the ingest's exactly-once bookkeeping keeps
// the (device, seq) row.
func (s eventStore) Delete(ctx context.Context, c retention.Category, ids []string) (int64, error) {
	return s.Anonymise(ctx, c, ids)
}

// Anonymise removes the child and the acting person from the event: the
// child_id column and the child_id/actor_id fields of the stored body.
func (s eventStore) Anonymise(ctx context.Context, _ retention.Category, ids []string) (int64, error) {
	tx, err := s.db.SQL().BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("central: anonymise events: %w", err)
	}
	defer tx.Rollback()
	var n int64
	for _, id := range ids {
		var dev, body string
		var seq int64
		err := s.db.QueryRow(ctx, tx, "SELECT device_id, seq, body FROM events WHERE event_id = ?", id).Scan(&dev, &seq, &body)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return n, fmt.Errorf("central: anonymise event %s: %w", id, err)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			return n, fmt.Errorf("central: anonymise event %s: %w", id, err)
		}
		delete(m, "child_id")
		delete(m, "actor_id")
		nb, _ := json.Marshal(m)
		if _, err := s.db.Exec(ctx, tx, "UPDATE events SET child_id = NULL, body = ? WHERE device_id = ? AND seq = ?", string(nb), dev, seq); err != nil {
			return n, fmt.Errorf("central: anonymise event %s: %w", id, err)
		}
		n++
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("central: anonymise events: %w", err)
	}
	return n, nil
}

// rosterStore is a subject's roster entries (child or person record with
// its links and badges) in every location. Record id: location/subject.
// Their term starts with an erasure request (the anchor is unset before:
// care has not ended as far as central knows).
type rosterStore struct {
	sites *Sites
	c     retention.Category
}

func (s rosterStore) Candidates(context.Context, retention.Category, time.Time) ([]retention.Record, error) {
	return nil, nil // no anchor until a request: nothing falls due on its own
}

func (s rosterStore) BySubject(ctx context.Context, _ retention.Category, subject string) ([]retention.Record, error) {
	kind, id, _ := strings.Cut(subject, ":")
	if _, err := ParseSubject(kind, id); err != nil {
		return nil, nil
	}
	locs, err := s.sites.Locations(ctx)
	if err != nil {
		return nil, err
	}
	var out []retention.Record
	for _, l := range locs {
		r, _, err := s.sites.Roster(ctx, l.ID)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if _, hit := subjectInRoster(r, kind, id); hit {
			out = append(out, retention.Record{ID: l.ID + "/" + subject, Category: s.c, Subject: subject})
		}
	}
	return out, nil
}

func (s rosterStore) SetAnchor(context.Context, retention.Category, []string, time.Time) error {
	return nil
}

func (s rosterStore) Anonymise(ctx context.Context, c retention.Category, ids []string) (int64, error) {
	return s.Delete(ctx, c, ids)
}

// Delete publishes a roster version without the subject and scrubs the
// subject from every older stored version of that location.
func (s rosterStore) Delete(ctx context.Context, _ retention.Category, ids []string) (int64, error) {
	var n int64
	for _, rid := range ids {
		loc, subject, ok := strings.Cut(rid, "/")
		kind, id, _ := strings.Cut(subject, ":")
		if !ok {
			return n, fmt.Errorf("%w: roster record %q", ErrMalformed, rid)
		}
		cur, _, err := s.sites.Roster(ctx, loc)
		if err != nil {
			return n, err
		}
		next := withoutSubject(cur, kind, id)
		next.Version = 0
		if _, err := s.sites.PutRoster(ctx, next); err != nil {
			return n, err
		}
		if err := s.scrubRosterVersions(ctx, loc, kind, id); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func (s rosterStore) scrubRosterVersions(ctx context.Context, loc, kind, id string) error {
	return s.sites.rewriteRosterVersions(ctx, loc, func(r roster.Roster) (roster.Roster, bool) {
		if _, hit := subjectInRoster(r, kind, id); !hit {
			return r, false
		}
		return withoutSubject(r, kind, id), true
	})
}

// withoutSubject returns r without the child or person and everything that
// links to them.
func withoutSubject(r roster.Roster, kind, id string) roster.Roster {
	isChild := kind == SubjectChild
	drop := func(child, person string) bool {
		return (isChild && child == id) || (!isChild && person == id)
	}
	r.Children = slices.DeleteFunc(slices.Clone(r.Children), func(c roster.Child) bool { return isChild && c.ID == id })
	r.People = slices.DeleteFunc(slices.Clone(r.People), func(p roster.Person) bool { return !isChild && p.ID == id })
	r.Guardianships = slices.DeleteFunc(slices.Clone(r.Guardianships), func(g roster.Guardianship) bool { return drop(g.ChildID, g.PersonID) })
	r.Authorisations = slices.DeleteFunc(slices.Clone(r.Authorisations), func(a roster.Authorisation) bool { return drop(a.ChildID, a.PersonID) })
	r.Announced = slices.DeleteFunc(slices.Clone(r.Announced), func(a roster.AnnouncedPickup) bool { return drop(a.ChildID, a.PersonID) })
	r.ContactBans = slices.DeleteFunc(slices.Clone(r.ContactBans), func(b roster.ContactBan) bool { return drop(b.ChildID, b.PersonID) })
	r.Permissions = slices.DeleteFunc(slices.Clone(r.Permissions), func(p roster.IndependencePermission) bool {
		return isChild && p.ChildID == id
	})
	for i := range r.Permissions {
		if !isChild && r.Permissions[i].GrantedBy == id {
			r.Permissions[i].GrantedBy = ""
		}
	}
	r.Badges = slices.DeleteFunc(slices.Clone(r.Badges), func(b roster.Badge) bool {
		return b.HolderID == id && ((isChild && b.Role == attendance.RoleChild) || (!isChild && b.Role != attendance.RoleChild && b.Role != attendance.RoleStaff))
	})
	return r
}
