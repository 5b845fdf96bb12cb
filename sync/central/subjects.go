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

	"github.com/google/uuid"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/audit"
	"github.com/kinderdeur/kiosk/attendance/retention"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/sync/central/sqldb"
)

// Subject kinds: a child or a person (guardian or pickup person) of the
// roster. Subjects are written "child:ID" / "person:ID" in the audit trail
// and the retention engine.
const (
	SubjectChild  = "child"
	SubjectPerson = "person"
)

// ParseSubject checks "kind:id": a child, a person (guardian or pickup
// person), a staff member or a job applicant.
func ParseSubject(kind, id string) (string, error) {
	if _, _, err := checkRetentionSubject(kind + ":" + id); err != nil {
		return "", fmt.Errorf("%w: subject %q:%q", ErrMalformed, kind, id)
	}
	return kind + ":" + id, nil
}

// SubjectExport is everything central holds on one child or person: the
// access and portability answer (AVG art. 15 and 20), machine-readable.
type SubjectExport struct {
	Subject     string           `json:"subject"`
	GeneratedAt time.Time        `json:"generated_at"`
	Locations   []SubjectRoster  `json:"locations"`
	Stays       []SubjectStay    `json:"stays"`
	Events      []SubjectEvent   `json:"events"`
	Audit       []audit.Entry    `json:"audit"`
	Requests    []SubjectRequest `json:"requests"`
	// CarePeriods are the administration records (contract or employment
	// or application dates, legal name, BSN) per location.
	CarePeriods []CarePeriod `json:"care_periods"`
	// Contacts are the contact details (address, e-mail, phone, bank
	// account) per location.
	Contacts []ContactDetails `json:"contact_details"`
	// HealthAlerts are a child's staff alerts (allergy, medication,
	// medical) as held in the stored roster versions, each text once per
	// location with the versions that hold it.
	HealthAlerts []SubjectHealthAlert `json:"health_alerts"`
	// Withheld explains what is not in the export and why.
	Withheld []string `json:"withheld"`
}

// SubjectRoster is the subject's part of one location's current roster.
type SubjectRoster struct {
	LocationID    string             `json:"location_id"`
	LocationName  string             `json:"location_name"`
	RosterVersion int64              `json:"roster_version"`
	Child         *roster.Child      `json:"child,omitempty"`
	Person        *roster.Person     `json:"person,omitempty"`
	Staff         *SubjectStaffEntry `json:"staff,omitempty"`
	Group         string             `json:"group,omitempty"`
	// Left: the subject is not on the current roster; this is its entry
	// in the newest stored version naming it (held until retention).
	Left           bool                            `json:"left,omitempty"`
	Guardianships  []roster.Guardianship           `json:"guardianships,omitempty"`
	Authorisations []roster.Authorisation          `json:"authorisations,omitempty"`
	Announced      []roster.AnnouncedPickup        `json:"announced,omitempty"`
	Permissions    []roster.IndependencePermission `json:"permissions,omitempty"`
	Badges         []SubjectBadge                  `json:"badges,omitempty"`
}

// SubjectHealthAlert is a staff alert held in stored roster versions.
type SubjectHealthAlert struct {
	LocationID  string `json:"location_id"`
	Alert       string `json:"alert"`
	FromVersion int64  `json:"from_version"`
	ToVersion   int64  `json:"to_version"`
}

// SubjectStaffEntry is a staff member's roster entry (the PIN hash is never
// exported: it is a credential, not data about the person).
type SubjectStaffEntry struct {
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	Groups []string `json:"groups,omitempty"`
	HasPIN bool     `json:"has_pin"`
}

// SubjectBadge is a badge of the subject: only the keyed hash is held.
type SubjectBadge struct {
	Hash  string          `json:"hash"`
	Role  attendance.Role `json:"role"`
	Label string          `json:"label,omitempty"`
}

// SubjectStay is one attendance row (contract 6 fields).
type SubjectStay struct {
	Date        string   `json:"date"`
	Location    string   `json:"location"`
	Group       string   `json:"group"`
	CheckIn     string   `json:"check_in"`
	CheckOut    string   `json:"check_out"`
	Minutes     int      `json:"minutes"`
	DayType     string   `json:"day_type"`
	TimeQuality string   `json:"time_quality"`
	Flags       []string `json:"flags,omitempty"`
}

// SubjectEvent is one door event that names the subject.
type SubjectEvent struct {
	EventID     string    `json:"event_id"`
	Type        string    `json:"type"`
	Location    string    `json:"location"`
	Time        time.Time `json:"time"`
	TimeQuality string    `json:"time_quality"`
	Role        string    `json:"role"` // child (about the child) or actor (the person acted)
}

// Subjects answers data subjects (AVG): what central holds on a child or
// person, their logged requests with deadlines, and the retention engine
// over central's events and rosters.
type Subjects struct {
	db      *sqldb.DB
	sites   *Sites
	events  *EventStore
	reports *Reports
}

// ExportSubject gathers what central holds on subject ("child:ID",
// "person:ID", "staff:ID" or "applicant:ID") in every location: every
// category the retention run disposes of (roster entry, care period,
// contact details, health alerts in stored roster versions, attendance
// and door events), the audit entries naming the subject and its logged
// requests. auditLog may be nil (no audit section).
func (s *Subjects) ExportSubject(ctx context.Context, subject string, auditLog *audit.Log) (SubjectExport, error) {
	kind, id, ok := strings.Cut(subject, ":")
	if _, err := ParseSubject(kind, id); !ok || err != nil {
		return SubjectExport{}, fmt.Errorf("%w: subject %q", ErrMalformed, subject)
	}
	out := SubjectExport{Subject: subject, GeneratedAt: s.db.Now().UTC(),
		Locations: []SubjectRoster{}, Stays: []SubjectStay{}, Events: []SubjectEvent{}, Audit: []audit.Entry{}, Requests: []SubjectRequest{},
		CarePeriods: []CarePeriod{}, Contacts: []ContactDetails{}, HealthAlerts: []SubjectHealthAlert{},
		Withheld: []string{
			"contact bans: their notes concern the safety of the child and third parties (AVG art. 15(4), art. 23); ask the location manager",
			"staff-only fields of other children and persons",
		}}
	if kind == SubjectStaff {
		out.Withheld = append(out.Withheld, "the PIN hash: a credential, not data about the person")
	}
	locs, err := s.sites.Locations(ctx)
	if err != nil {
		return out, err
	}
	found := false
	for _, l := range locs {
		sr, hit, alerts, err := s.subjectInVersions(ctx, l.ID, kind, id)
		if err != nil {
			return out, err
		}
		out.HealthAlerts = append(out.HealthAlerts, alerts...)
		if hit {
			found = true
			sr.LocationName = l.Name
			out.Locations = append(out.Locations, sr)
		}
		if p, err := s.CarePeriodOf(ctx, subject, l.ID); err == nil {
			out.CarePeriods = append(out.CarePeriods, p)
		} else if !errors.Is(err, ErrNotFound) {
			return out, err
		}
		if c, err := s.ContactOf(ctx, subject, l.ID); err == nil {
			out.Contacts = append(out.Contacts, c)
		} else if !errors.Is(err, ErrNotFound) {
			return out, err
		}
		if kind == SubjectChild {
			from := attendance.Date{Year: 1970, Month: time.January, Day: 1}
			st, err := s.reports.Attendance(ctx, AttendanceQuery{From: from, To: attendance.DateOf(s.db.Now().AddDate(0, 0, 1)), LocationID: l.ID, ChildID: id})
			if err != nil {
				return out, err
			}
			for _, s := range st {
				out.Stays = append(out.Stays, SubjectStay{Date: s.Date.String(), Location: s.Location, Group: s.Group,
					CheckIn: s.CheckIn.String(), CheckOut: s.CheckOut.String(), Minutes: s.Minutes, DayType: string(s.DayType),
					TimeQuality: string(s.Quality), Flags: s.Flags})
			}
		}
		if kind == SubjectApplicant {
			continue // applicants are in no roster and at no door
		}
		evs, err := s.events.Events(ctx, EventFilter{LocationID: l.ID})
		if err != nil {
			return out, err
		}
		for _, e := range evs {
			role := ""
			switch {
			case kind == SubjectChild && e.ChildID == id:
				role = "child"
			case kind == SubjectPerson && e.ActorID == id:
				role = "actor"
			case kind == SubjectStaff && e.StaffID == id:
				role = "staff"
			case kind == SubjectStaff && e.ActorID == id:
				role = "actor"
			default:
				continue
			}
			out.Events = append(out.Events, SubjectEvent{EventID: e.ID, Type: string(e.Type), Location: l.ID,
				Time: e.Time.UTC(), TimeQuality: e.TimeQuality, Role: role})
		}
	}
	if auditLog != nil {
		es, err := auditLog.Entries(ctx, 1, 0)
		if err != nil {
			return out, fmt.Errorf("central: export %s: audit: %w", subject, err)
		}
		for _, e := range es {
			if e.Subject == subject || e.Actor == subject {
				out.Audit = append(out.Audit, e)
			}
		}
	}
	reqs, err := s.SubjectRequests(ctx, subject)
	if err != nil {
		return out, err
	}
	out.Requests = append(out.Requests, reqs...)
	if !found && len(out.Events) == 0 && len(out.Requests) == 0 && len(out.CarePeriods) == 0 && len(out.Contacts) == 0 {
		return out, fmt.Errorf("central: %s: %w", subject, ErrNotFound)
	}
	return out, nil
}

// subjectInVersions reads every stored roster version of a location: the
// subject's entry in the newest version naming it (Left when that is not
// the current one) and, for a child, the staff alerts the versions hold.
func (s *Subjects) subjectInVersions(ctx context.Context, loc, kind, id string) (SubjectRoster, bool, []SubjectHealthAlert, error) {
	rows, err := s.db.Query(ctx, nil, "SELECT body FROM rosters WHERE location_id = ? ORDER BY version", loc)
	if err != nil {
		return SubjectRoster{}, false, nil, fmt.Errorf("central: export: rosters: %w", err)
	}
	defer rows.Close()
	var (
		last   SubjectRoster
		hit    bool
		newest int64
		alerts []SubjectHealthAlert
	)
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return last, false, nil, fmt.Errorf("central: export: rosters: %w", err)
		}
		var r roster.Roster
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			return last, false, nil, fmt.Errorf("central: export: roster: %w", err)
		}
		newest = r.Version
		if sr, ok := subjectInRoster(r, kind, id); ok {
			last, hit = sr, true
			if c := sr.Child; c != nil && c.StaffAlert != "" {
				if n := len(alerts); n > 0 && alerts[n-1].Alert == c.StaffAlert {
					alerts[n-1].ToVersion = r.Version
				} else {
					alerts = append(alerts, SubjectHealthAlert{LocationID: loc, Alert: c.StaffAlert, FromVersion: r.Version, ToVersion: r.Version})
				}
			}
		}
	}
	if err := rows.Err(); err != nil {
		return last, false, nil, fmt.Errorf("central: export: rosters: %w", err)
	}
	last.Left = hit && last.RosterVersion != newest
	return last, hit, alerts, nil
}

func subjectInRoster(r roster.Roster, kind, id string) (SubjectRoster, bool) {
	sr := SubjectRoster{LocationID: r.Location.ID, RosterVersion: r.Version}
	hit := false
	if kind == SubjectChild {
		for i := range r.Children {
			if r.Children[i].ID == id {
				c := r.Children[i]
				sr.Child, hit = &c, true
				for _, g := range r.Groups {
					if g.ID == c.GroupID {
						sr.Group = g.Name
					}
				}
			}
		}
	} else if kind == SubjectPerson {
		for i := range r.People {
			if r.People[i].ID == id {
				p := r.People[i]
				sr.Person, hit = &p, true
			}
		}
	} else if kind == SubjectStaff {
		for _, st := range r.Staff {
			if st.ID == id {
				sr.Staff, hit = &SubjectStaffEntry{ID: st.ID, Name: st.Name, Groups: st.Groups, HasPIN: st.PINHash != ""}, true
			}
		}
	}
	match := func(child, person string) bool {
		return (kind == SubjectChild && child == id) || (kind == SubjectPerson && person == id)
	}
	for _, g := range r.Guardianships {
		if match(g.ChildID, g.PersonID) {
			sr.Guardianships = append(sr.Guardianships, g)
		}
	}
	for _, a := range r.Authorisations {
		if match(a.ChildID, a.PersonID) {
			sr.Authorisations = append(sr.Authorisations, a)
		}
	}
	for _, a := range r.Announced {
		if match(a.ChildID, a.PersonID) {
			sr.Announced = append(sr.Announced, a)
		}
	}
	for _, p := range r.Permissions {
		if (kind == SubjectChild && p.ChildID == id) || (kind == SubjectPerson && p.GrantedBy == id) {
			sr.Permissions = append(sr.Permissions, p)
		}
	}
	for _, b := range r.Badges {
		if b.HolderID == id && ((kind == SubjectChild && b.Role == attendance.RoleChild) || (kind == SubjectPerson && (b.Role == attendance.RoleGuardian || b.Role == attendance.RolePickup)) ||
			(kind == SubjectStaff && b.Role == attendance.RoleStaff)) {
			sr.Badges = append(sr.Badges, SubjectBadge{Hash: b.Hash, Role: b.Role, Label: b.Label})
		}
	}
	return sr, hit
}

// ---- requests ----

// SubjectRequest is a logged data-subject request with its deadline (one
// month after receipt, AVG art. 12(3)).
type SubjectRequest struct {
	ID       string    `json:"id"`
	Kind     string    `json:"kind"` // access, portability, correction, erasure
	Subject  string    `json:"subject"`
	Received time.Time `json:"received"`
	Deadline time.Time `json:"deadline"`
	Done     time.Time `json:"done,omitzero"`
	Outcome  string    `json:"outcome,omitempty"`
	Actor    string    `json:"actor"`
}

// RequestKinds are the kinds of subject request.
var RequestKinds = []string{"access", "portability", "correction", "erasure"}

// LogSubjectRequest records a request received now.
func (s *Subjects) LogSubjectRequest(ctx context.Context, kind, subject, actor string) (SubjectRequest, error) {
	if !slices.Contains(RequestKinds, kind) {
		return SubjectRequest{}, fmt.Errorf("%w: request kind %q", ErrMalformed, kind)
	}
	k, id, _ := strings.Cut(subject, ":")
	if _, err := ParseSubject(k, id); err != nil {
		return SubjectRequest{}, err
	}
	now := s.db.Now().UTC()
	req := SubjectRequest{ID: "req-" + uuid.NewString(), Kind: kind, Subject: subject, Received: now,
		Deadline: retention.ErasureRequest{Received: now}.Deadline(), Actor: actor}
	if _, err := s.db.Exec(ctx, nil, "INSERT INTO subject_requests (id, kind, subject, received_ns, deadline_ns, outcome, actor) VALUES (?, ?, ?, ?, ?, '', ?)",
		req.ID, req.Kind, req.Subject, req.Received.UnixNano(), req.Deadline.UnixNano(), req.Actor); err != nil {
		return req, fmt.Errorf("central: log request: %w", err)
	}
	return req, nil
}

// CompleteSubjectRequest marks a request done with its outcome.
func (s *Subjects) CompleteSubjectRequest(ctx context.Context, id, outcome string) error {
	res, err := s.db.Exec(ctx, nil, "UPDATE subject_requests SET done_ns = ?, outcome = ? WHERE id = ? AND done_ns IS NULL", s.db.Now().UnixNano(), outcome, id)
	if err != nil {
		return fmt.Errorf("central: complete request: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("central: open request %q: %w", id, ErrNotFound)
	}
	return nil
}

// SubjectRequest returns one request.
func (s *Subjects) SubjectRequest(ctx context.Context, id string) (SubjectRequest, error) {
	rs, err := s.subjectRequests(ctx, "WHERE id = ?", id)
	if err != nil {
		return SubjectRequest{}, err
	}
	if len(rs) == 0 {
		return SubjectRequest{}, fmt.Errorf("central: request %q: %w", id, ErrNotFound)
	}
	return rs[0], nil
}

// SubjectRequests lists requests (of one subject, or all when ""), oldest
// first.
func (s *Subjects) SubjectRequests(ctx context.Context, subject string) ([]SubjectRequest, error) {
	if subject == "" {
		return s.subjectRequests(ctx, "")
	}
	return s.subjectRequests(ctx, "WHERE subject = ?", subject)
}

func (s *Subjects) subjectRequests(ctx context.Context, where string, args ...any) ([]SubjectRequest, error) {
	rows, err := s.db.Query(ctx, nil, "SELECT id, kind, subject, received_ns, deadline_ns, done_ns, outcome, actor FROM subject_requests "+where+" ORDER BY received_ns, id", args...)
	if err != nil {
		return nil, fmt.Errorf("central: requests: %w", err)
	}
	defer rows.Close()
	var out []SubjectRequest
	for rows.Next() {
		var r SubjectRequest
		var rec, dl int64
		var done sql.NullInt64
		if err := rows.Scan(&r.ID, &r.Kind, &r.Subject, &rec, &dl, &done, &r.Outcome, &r.Actor); err != nil {
			return nil, fmt.Errorf("central: requests: %w", err)
		}
		r.Received, r.Deadline, r.Done = time.Unix(0, rec).UTC(), time.Unix(0, dl).UTC(), nsTime(done).UTC()
		if !done.Valid {
			r.Done = time.Time{}
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
