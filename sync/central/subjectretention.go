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
	"github.com/kinderdeur/kiosk/attendance/audit"
	"github.com/kinderdeur/kiosk/attendance/retention"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/sync/central/sqldb"
)

// NewRetentionEngine returns a retention engine over central's data, one
// store per category (PRIVACY.md §3 says which data each covers):
//
//   - attendance: door events, anonymised 7 years after the end of their
//     year (eventStore);
//   - administration: care periods of children and persons (contract
//     dates, legal name, BSN);
//   - contact (child_family in be-vl): contact details and the subject's
//     roster entry (birth date, names at the door, badges, guardianships,
//     pickups, bans, permissions) in every stored roster version;
//   - health: a child's staff alert (allergy, medication, medical) in every
//     stored roster version;
//   - staff: the staff member's care period, contact details, roster entry
//     and badges, and the staff id of their clock events;
//   - applicant: the applicant's care period and contact details.
//
// Terms run from the end of care (the later of the last contract day or
// the day the subject left the roster, and the last attendance). The
// audit trail is not a category: it holds ids only and stays append-only.
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
	contact := retention.Contact
	if _, ok := cfg.Policies[contact]; !ok {
		contact = retention.ChildFamily
	}
	for c, job := range map[retention.Category]subjectJob{
		retention.Administration: jobAdministration,
		contact:                  jobContact,
		retention.Health:         jobHealth,
		retention.Staff:          jobStaff,
		retention.Applicant:      jobApplicant,
	} {
		if _, ok := cfg.Policies[c]; !ok {
			continue
		}
		if err := e.Register(c, subjectStore{s: s, c: c, job: job}); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// RunRetention is central's scheduled retention run: it brings the care
// periods up to date with the rosters, then deletes or anonymises what is
// due at the database clock's now, and audits the run (retention_run). It
// is the one entry point a scheduler calls (cmd/central -retention-every).
func (s *Subjects) RunRetention(ctx context.Context, cfg retention.Config, auditFn retention.AuditFunc) (retention.Result, error) {
	e, err := s.NewRetentionEngine(cfg, auditFn)
	if err != nil {
		return retention.Result{}, err
	}
	return e.Run(ctx, s.db.Now())
}

// LastRetentionRun returns the newest retention_run audit entry (time and
// details), ErrNotFound when retention never ran.
func (s *Subjects) LastRetentionRun(ctx context.Context) (time.Time, string, error) {
	var at, details string
	err := s.db.QueryRow(ctx, nil, "SELECT at, details FROM audit_log WHERE action = 'retention_run' ORDER BY seq DESC LIMIT 1").Scan(&at, &details)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, "", fmt.Errorf("central: retention never ran: %w", ErrNotFound)
	}
	if err != nil {
		return time.Time{}, "", fmt.Errorf("central: last retention run: %w", err)
	}
	t, err := time.Parse(audit.TimeLayout, at)
	if err != nil {
		return time.Time{}, "", fmt.Errorf("central: last retention run: %w", err)
	}
	return t, details, nil
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
