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
)

// Subject kinds: a child or a person (guardian or pickup person) of the
// roster. Subjects are written "child:ID" / "person:ID" in the audit trail
// and the retention engine.
const (
	SubjectChild  = "child"
	SubjectPerson = "person"
)

// ParseSubject checks "kind:id".
func ParseSubject(kind, id string) (string, error) {
	if (kind != SubjectChild && kind != SubjectPerson) || id == "" || len(id) > 200 || strings.ContainsAny(id, "\x00\n") {
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
	// Withheld explains what is not in the export and why.
	Withheld []string `json:"withheld"`
}

// SubjectRoster is the subject's part of one location's current roster.
type SubjectRoster struct {
	LocationID     string                          `json:"location_id"`
	LocationName   string                          `json:"location_name"`
	RosterVersion  int64                           `json:"roster_version"`
	Child          *roster.Child                   `json:"child,omitempty"`
	Person         *roster.Person                  `json:"person,omitempty"`
	Group          string                          `json:"group,omitempty"`
	Guardianships  []roster.Guardianship           `json:"guardianships,omitempty"`
	Authorisations []roster.Authorisation          `json:"authorisations,omitempty"`
	Announced      []roster.AnnouncedPickup        `json:"announced,omitempty"`
	Permissions    []roster.IndependencePermission `json:"permissions,omitempty"`
	Badges         []SubjectBadge                  `json:"badges,omitempty"`
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

// ExportSubject gathers what central holds on subject ("child:ID" or
// "person:ID") in every location. auditLog may be nil (no audit section).
func (d *DB) ExportSubject(ctx context.Context, subject string, auditLog *audit.Log) (SubjectExport, error) {
	kind, id, ok := strings.Cut(subject, ":")
	if _, err := ParseSubject(kind, id); !ok || err != nil {
		return SubjectExport{}, fmt.Errorf("%w: subject %q", ErrMalformed, subject)
	}
	out := SubjectExport{Subject: subject, GeneratedAt: d.now().UTC(),
		Locations: []SubjectRoster{}, Stays: []SubjectStay{}, Events: []SubjectEvent{}, Audit: []audit.Entry{}, Requests: []SubjectRequest{},
		Withheld: []string{
			"contact bans: their notes concern the safety of the child and third parties (AVG art. 15(4), art. 23); ask the location manager",
			"staff-only fields of other children and persons",
		}}
	locs, err := d.Locations(ctx)
	if err != nil {
		return out, err
	}
	found := false
	for _, l := range locs {
		r, _, err := d.Roster(ctx, l.ID)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return out, err
		}
		sr, hit := subjectInRoster(r, kind, id)
		if !hit {
			continue
		}
		found = true
		sr.LocationName = l.Name
		out.Locations = append(out.Locations, sr)
		if kind == SubjectChild {
			from := attendance.Date{Year: 1970, Month: time.January, Day: 1}
			st, err := d.Attendance(ctx, AttendanceQuery{From: from, To: attendance.DateOf(d.now().AddDate(0, 0, 1)), LocationID: l.ID, ChildID: id})
			if err != nil {
				return out, err
			}
			for _, s := range st {
				out.Stays = append(out.Stays, SubjectStay{Date: s.Date.String(), Location: s.Location, Group: s.Group,
					CheckIn: s.CheckIn.String(), CheckOut: s.CheckOut.String(), Minutes: s.Minutes, DayType: string(s.DayType),
					TimeQuality: string(s.Quality), Flags: s.Flags})
			}
		}
		evs, err := d.Events(ctx, EventFilter{LocationID: l.ID})
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
	reqs, err := d.SubjectRequests(ctx, subject)
	if err != nil {
		return out, err
	}
	out.Requests = append(out.Requests, reqs...)
	if !found && len(out.Events) == 0 && len(out.Requests) == 0 {
		return out, fmt.Errorf("central: %s: %w", subject, ErrNotFound)
	}
	return out, nil
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
	} else {
		for i := range r.People {
			if r.People[i].ID == id {
				p := r.People[i]
				sr.Person, hit = &p, true
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
		if b.HolderID == id && ((kind == SubjectChild && b.Role == attendance.RoleChild) || (kind == SubjectPerson && (b.Role == attendance.RoleGuardian || b.Role == attendance.RolePickup))) {
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
func (d *DB) LogSubjectRequest(ctx context.Context, kind, subject, actor string) (SubjectRequest, error) {
	if !slices.Contains(RequestKinds, kind) {
		return SubjectRequest{}, fmt.Errorf("%w: request kind %q", ErrMalformed, kind)
	}
	k, id, _ := strings.Cut(subject, ":")
	if _, err := ParseSubject(k, id); err != nil {
		return SubjectRequest{}, err
	}
	now := d.now().UTC()
	req := SubjectRequest{ID: "req-" + uuid.NewString(), Kind: kind, Subject: subject, Received: now,
		Deadline: retention.ErasureRequest{Received: now}.Deadline(), Actor: actor}
	if _, err := d.exec(ctx, d.sql, "INSERT INTO subject_requests (id, kind, subject, received_ns, deadline_ns, outcome, actor) VALUES (?, ?, ?, ?, ?, '', ?)",
		req.ID, req.Kind, req.Subject, req.Received.UnixNano(), req.Deadline.UnixNano(), req.Actor); err != nil {
		return req, fmt.Errorf("central: log request: %w", err)
	}
	return req, nil
}

// CompleteSubjectRequest marks a request done with its outcome.
func (d *DB) CompleteSubjectRequest(ctx context.Context, id, outcome string) error {
	res, err := d.exec(ctx, d.sql, "UPDATE subject_requests SET done_ns = ?, outcome = ? WHERE id = ? AND done_ns IS NULL", d.now().UnixNano(), outcome, id)
	if err != nil {
		return fmt.Errorf("central: complete request: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("central: open request %q: %w", id, ErrNotFound)
	}
	return nil
}

// SubjectRequest returns one request.
func (d *DB) SubjectRequest(ctx context.Context, id string) (SubjectRequest, error) {
	rs, err := d.subjectRequests(ctx, "WHERE id = ?", id)
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
func (d *DB) SubjectRequests(ctx context.Context, subject string) ([]SubjectRequest, error) {
	if subject == "" {
		return d.subjectRequests(ctx, "")
	}
	return d.subjectRequests(ctx, "WHERE subject = ?", subject)
}

func (d *DB) subjectRequests(ctx context.Context, where string, args ...any) ([]SubjectRequest, error) {
	rows, err := d.query(ctx, d.sql, "SELECT id, kind, subject, received_ns, deadline_ns, done_ns, outcome, actor FROM subject_requests "+where+" ORDER BY received_ns, id", args...)
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

// ---- retention stores ----

// NewRetentionEngine returns a retention engine over central's data:
// events (category attendance: anonymised when their term ends, counted
// from the end of the year of care) and roster entries of children and
// persons (category contact, or child_family for the be-vl profile:
// removed from every stored roster version when disposed of).
func (d *DB) NewRetentionEngine(cfg retention.Config, auditFn retention.AuditFunc) (*retention.Engine, error) {
	e, err := retention.NewEngine(cfg)
	if err != nil {
		return nil, err
	}
	e.Audit = auditFn
	if _, ok := cfg.Policies[retention.Attendance]; ok {
		if err := e.Register(retention.Attendance, eventStore{d}); err != nil {
			return nil, err
		}
	}
	rc := retention.Contact
	if _, ok := cfg.Policies[rc]; !ok {
		rc = retention.ChildFamily
	}
	if _, ok := cfg.Policies[rc]; ok {
		if err := e.Register(rc, rosterStore{d, rc}); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// eventStore is the attendance category over the events table. Record id:
// the event id; subject: child:ID; anchor: 1 January after the event (end
// of the year of care).
type eventStore struct{ d *DB }

func yearEnd(ns int64) time.Time {
	t := time.Unix(0, ns).UTC()
	return time.Date(t.Year()+1, time.January, 1, 0, 0, 0, 0, time.UTC)
}

func (s eventStore) records(ctx context.Context, where string, args ...any) ([]retention.Record, error) {
	rows, err := s.d.query(ctx, s.d.sql, "SELECT event_id, child_id, time_ns FROM events WHERE child_id IS NOT NULL AND child_id <> '' "+where+" ORDER BY time_ns", args...)
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
	tx, err := s.d.sql.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("central: anonymise events: %w", err)
	}
	defer tx.Rollback()
	var n int64
	for _, id := range ids {
		var dev, body string
		var seq int64
		err := s.d.queryRow(ctx, tx, "SELECT device_id, seq, body FROM events WHERE event_id = ?", id).Scan(&dev, &seq, &body)
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
		if _, err := s.d.exec(ctx, tx, "UPDATE events SET child_id = NULL, body = ? WHERE device_id = ? AND seq = ?", string(nb), dev, seq); err != nil {
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
	d *DB
	c retention.Category
}

func (s rosterStore) Candidates(context.Context, retention.Category, time.Time) ([]retention.Record, error) {
	return nil, nil // no anchor until a request: nothing falls due on its own
}

func (s rosterStore) BySubject(ctx context.Context, _ retention.Category, subject string) ([]retention.Record, error) {
	kind, id, _ := strings.Cut(subject, ":")
	if _, err := ParseSubject(kind, id); err != nil {
		return nil, nil
	}
	locs, err := s.d.Locations(ctx)
	if err != nil {
		return nil, err
	}
	var out []retention.Record
	for _, l := range locs {
		r, _, err := s.d.Roster(ctx, l.ID)
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
		cur, _, err := s.d.Roster(ctx, loc)
		if err != nil {
			return n, err
		}
		next := withoutSubject(cur, kind, id)
		next.Version = 0
		if _, err := s.d.PutRoster(ctx, next); err != nil {
			return n, err
		}
		if err := s.d.scrubRosterVersions(ctx, loc, kind, id); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func (d *DB) scrubRosterVersions(ctx context.Context, loc, kind, id string) error {
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("central: scrub rosters: %w", err)
	}
	defer tx.Rollback()
	rows, err := d.query(ctx, tx, "SELECT version, body FROM rosters WHERE location_id = ?", loc)
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
		if _, hit := subjectInRoster(r, kind, id); !hit {
			continue
		}
		b, _ := json.Marshal(withoutSubject(r, kind, id))
		if _, err := d.exec(ctx, tx, "UPDATE rosters SET body = ? WHERE location_id = ? AND version = ?", string(b), loc, x.v); err != nil {
			return fmt.Errorf("central: scrub roster v%d: %w", x.v, err)
		}
	}
	return tx.Commit()
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
