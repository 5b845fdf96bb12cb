package portal

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/audit"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/sync/central"
)

// Errors the handlers map to answers.
var (
	errBadInput = errors.New("portal: bad input")
	errBanned   = errors.New("portal: this person may not pick up these children")
	errNothing  = errors.New("portal: nothing to change")
)

// inputError is a validation error: key names its translation (texts,
// "v_"+key, formatted with args) for the pages; Error is the English
// message the API answers.
type inputError struct {
	key  string
	args []any
	msg  string
}

func (e *inputError) Error() string { return errBadInput.Error() + ": " + e.msg }
func (e *inputError) Unwrap() error { return errBadInput }

// bad is a validation error with a translatable key (texts["v_"+key],
// formatted with args) and the API's English message.
func bad(key string, format string, a ...any) error {
	return &inputError{key: key, args: a, msg: fmt.Sprintf(format, a...)}
}

// PickupRequest announces a pickup (contract 10).
type PickupRequest struct {
	Children   []string `json:"children"`
	PersonID   string   `json:"person_id,omitempty"`
	PersonName string   `json:"person_name,omitempty"`
	Relation   string   `json:"relation,omitempty"`
	IDDocument string   `json:"id_document,omitempty"` // what ID they will show, e.g. "rijbewijs"
	Date       string   `json:"date"`
	From       string   `json:"from,omitempty"`
	Until      string   `json:"until,omitempty"`
}

// Pickup is an announced pickup as the parent sees it.
type Pickup struct {
	ID         string   `json:"id"`
	Children   []string `json:"children"`
	ChildNames []string `json:"child_names"`
	PersonID   string   `json:"person_id"`
	PersonName string   `json:"person_name"`
	Relation   string   `json:"relation,omitempty"`
	IDDocument string   `json:"id_document,omitempty"`
	Date       string   `json:"date"`
	From       string   `json:"from,omitempty"`
	Until      string   `json:"until,omitempty"`
	CreatedBy  string   `json:"created_by,omitempty"` // name of the announcing parent
	CreatedAt  string   `json:"created_at,omitempty"` // RFC 3339
}

const (
	maxName      = 80
	maxAheadDays = 120
)

// cleanText trims s, drops control and invisible format characters
// (zero-width spaces and joiners, bidirectional overrides and isolates,
// invalid UTF-8) and cuts it to max characters: what a parent types is
// shown on the staff panel exactly as it reads.
func cleanText(s string, max int) string {
	s = strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, s))
	if len([]rune(s)) > max {
		s = string([]rune(s)[:max])
	}
	return s
}

func (s *Server) actor(f *Family) string { return "parent:" + f.Account.ID }

func (s *Server) record(ctx context.Context, f *Family, action audit.Action, subject string, details map[string]any) {
	if s.audit == nil {
		return
	}
	var d any
	if details != nil {
		d = details
	}
	if _, err := s.audit.Append(ctx, audit.Record{Actor: s.actor(f), Action: action, Subject: subject, Details: d}); err != nil {
		s.log.Error("portal: audit append failed", "action", action, "err", err)
	}
}

// announce stores an announcement in the roster of every location where
// one of the named children is; it answers the announcement.
func (s *Server) announce(ctx context.Context, f *Family, req PickupRequest) (Pickup, error) {
	if len(req.Children) == 0 || len(req.Children) > 20 {
		return Pickup{}, bad("children", "children: name 1 to 20 children")
	}
	byPlace := map[string][]string{} // location -> child ids
	var order []string
	for _, id := range req.Children {
		refs, err := f.Child(id)
		if err != nil {
			return Pickup{}, err
		}
		for _, c := range refs {
			if !slices.Contains(byPlace[c.Place.LocationID], c.Child.ID) {
				if byPlace[c.Place.LocationID] == nil {
					order = append(order, c.Place.LocationID)
				}
				byPlace[c.Place.LocationID] = append(byPlace[c.Place.LocationID], c.Child.ID)
			}
		}
	}
	date, err := attendance.ParseDate(req.Date)
	if err != nil {
		return Pickup{}, bad("date", "date: want YYYY-MM-DD")
	}
	var fromM, untilM int = -1, -1
	if req.From != "" {
		if fromM, err = roster.ParseClock(req.From); err != nil {
			return Pickup{}, bad("from", "from: want HH:MM")
		}
	}
	if req.Until != "" {
		if untilM, err = roster.ParseClock(req.Until); err != nil {
			return Pickup{}, bad("until", "until: want HH:MM")
		}
	}
	if fromM >= 0 && untilM >= 0 && untilM <= fromM {
		return Pickup{}, bad("until_after", "until must be after from")
	}
	name := cleanText(req.PersonName, maxName)
	if (req.PersonID == "") == (name == "") {
		return Pickup{}, bad("person", "give person_id or person_name")
	}
	now := s.now()
	id := "ann-" + uuid.NewString()[:13]
	out := Pickup{ID: id, Date: date.String(), From: req.From, Until: req.Until, CreatedBy: f.Name, CreatedAt: now.UTC().Format(time.RFC3339)}
	var done []string
	for _, loc := range order {
		pl := f.place(loc)
		if today := pl.today(now); date.Before(today) || date.In(time.UTC).Sub(today.In(time.UTC)) > maxAheadDays*24*time.Hour {
			return Pickup{}, bad("date_ahead", "date: from today up to %d days ahead", maxAheadDays)
		}
		kids := byPlace[loc]
		var person roster.Person
		_, err := s.sites.EditRoster(ctx, loc, func(r *roster.Roster) error {
			p, err := pickupPerson(r, pl, kids, req.PersonID, name, cleanText(req.Relation, 40))
			if err != nil {
				return err
			}
			person = p
			for _, cid := range kids {
				r.Announced = append(r.Announced, roster.AnnouncedPickup{ID: id, ChildID: cid, PersonID: p.ID, Date: date,
					From: req.From, Until: req.Until, CreatedBy: pl.PersonID, CreatedAt: now.UTC(), IDNote: cleanText(req.IDDocument, 40)})
			}
			return nil
		})
		if err != nil {
			for _, l := range done { // undo the places already stored
				s.removeAnnouncement(ctx, f, l, id)
			}
			return Pickup{}, err
		}
		done = append(done, loc)
		out.PersonID, out.PersonName, out.Relation, out.IDDocument = person.ID, person.Name, person.Relation, cleanText(req.IDDocument, 40)
		for _, cid := range kids {
			out.Children = append(out.Children, cid)
			for _, c := range pl.Children {
				if c.ID == cid {
					out.ChildNames = append(out.ChildNames, c.FirstName)
				}
			}
			s.record(ctx, f, audit.PickupAnnounced, "child:"+cid, map[string]any{"announcement": id, "location": loc,
				"person": person.ID, "date": date.String(), "from": req.From, "until": req.Until})
		}
	}
	return out, nil
}

// pickupPerson finds or adds the person of an announcement in r: a known
// person of the family by id, a known person by name, or a new person. A
// person (or name) under a contact ban for any of the family's children is
// refused: an announcement never overrides a ban.
func pickupPerson(r *roster.Roster, pl *Place, kids []string, personID, name, relation string) (roster.Person, error) {
	mine := pl.childIDs()
	cur, ok := buildPlace(*r, pl.PersonID)
	if !ok {
		return roster.Person{}, errNotYours // rights changed since the request began
	}
	banned := map[string]bool{}
	var bannedNames []string
	for _, b := range r.ContactBans {
		if mine[b.ChildID] {
			banned[b.PersonID] = true
		}
	}
	for _, p := range r.People {
		if banned[p.ID] {
			bannedNames = append(bannedNames, p.Name)
		}
	}
	known := cur.knownPeople()
	if personID != "" {
		if banned[personID] {
			return roster.Person{}, errBanned
		}
		for _, p := range known {
			if p.ID == personID {
				return p, nil
			}
		}
		return roster.Person{}, fmt.Errorf("%w: person %q", errNotYours, personID)
	}
	for _, b := range bannedNames {
		if sameBannedPerson(name, b) {
			return roster.Person{}, errBanned
		}
	}
	for _, p := range known {
		if normName(p.Name) == normName(name) {
			return p, nil
		}
	}
	p := roster.Person{ID: "p-" + uuid.NewString()[:13], Name: name, Relation: relation}
	r.People = append(r.People, p)
	return p, nil
}

// normName is a name as a list of words, compared the way staff read it:
// case, accents, punctuation and invisible characters do not count
// ("Tóm  J." and "tom j" are one name).
func normName(s string) string {
	s, _, _ = transform.String(norm.NFKD, cleanText(s, 4*maxName))
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.Is(unicode.Mn, r):
			return -1
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			return unicode.ToLower(r)
		}
		return ' '
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// sameBannedPerson reports whether name may be the banned person: the
// roster keeps first name and initial ("Tom J."), so the same first name
// with an initial in common, or with no initial on either side, is taken
// to be that person ("Tom Jansen", "Tom"). Staff can still authorise such a
// person; a parent's announcement cannot.
func sameBannedPerson(name, banned string) bool {
	a, b := strings.Fields(normName(name)), strings.Fields(normName(banned))
	if len(a) == 0 || len(b) == 0 || a[0] != b[0] {
		return false
	}
	if len(a) == 1 || len(b) == 1 {
		return true
	}
	for _, wa := range a[1:] { // "Tom van Dijk" is "Tom v." and "Tom D."
		for _, wb := range b[1:] {
			ia, _ := utf8.DecodeRuneInString(wa)
			ib, _ := utf8.DecodeRuneInString(wb)
			if ia == ib {
				return true
			}
		}
	}
	return false
}

// withdrawPickup removes an announcement of the family's children from
// every place; another family's id is errNotYours.
func (s *Server) withdrawPickup(ctx context.Context, f *Family, id string) error {
	found := false
	for _, pl := range f.Places {
		n, err := s.removeAnnouncement(ctx, f, pl.LocationID, id)
		if err != nil {
			return err
		}
		found = found || n > 0
	}
	if !found {
		return fmt.Errorf("%w: announcement %q", errNotYours, id)
	}
	return nil
}

func (s *Server) removeAnnouncement(ctx context.Context, f *Family, loc, id string) (int, error) {
	pl := f.place(loc)
	if pl == nil {
		return 0, nil
	}
	mine := pl.childIDs()
	var removed []roster.AnnouncedPickup
	_, err := s.sites.EditRoster(ctx, loc, func(r *roster.Roster) error {
		removed = nil
		keep := r.Announced[:0:0]
		for _, a := range r.Announced {
			if a.ID == id && mine[a.ChildID] {
				removed = append(removed, a)
				continue
			}
			keep = append(keep, a)
		}
		if len(removed) == 0 {
			return errNothing
		}
		r.Announced = keep
		return nil
	})
	if errors.Is(err, errNothing) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	for _, a := range removed {
		s.record(ctx, f, audit.PickupWithdrawn, "child:"+a.ChildID, map[string]any{"announcement": id, "location": loc, "person": a.PersonID, "date": a.Date.String()})
	}
	return len(removed), nil
}

// pickups lists the family's announcements from today on, grouped by id.
func (s *Server) pickups(f *Family) []Pickup {
	now := s.now()
	var out []Pickup
	idx := map[string]int{}
	for _, pl := range f.Places {
		mine := pl.childIDs()
		today := pl.today(now)
		for _, a := range pl.Roster.Announced {
			if !mine[a.ChildID] || a.Date.Before(today) {
				continue
			}
			i, ok := idx[a.ID]
			if !ok || a.ID == "" {
				p := Pickup{ID: a.ID, PersonID: a.PersonID, PersonName: pl.personName(a.PersonID), Date: a.Date.String(),
					From: a.From, Until: a.Until, IDDocument: a.IDNote, CreatedBy: pl.personName(a.CreatedBy)}
				for _, pp := range pl.Roster.People {
					if pp.ID == a.PersonID {
						p.Relation = pp.Relation
					}
				}
				if !a.CreatedAt.IsZero() {
					p.CreatedAt = a.CreatedAt.UTC().Format(time.RFC3339)
				}
				out = append(out, p)
				i = len(out) - 1
				idx[a.ID] = i
			}
			out[i].Children = append(out[i].Children, a.ChildID)
			for _, c := range pl.Children {
				if c.ID == a.ChildID {
					out[i].ChildNames = append(out[i].ChildNames, c.FirstName)
				}
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Pickup) int { return strings.Compare(a.Date+a.From, b.Date+b.From) })
	return out
}

// ---- independence (BSO: going home alone) ----

// PermissionWording is the text (seed 004, "Zelfstandigheid kind") the
// parent confirms; its version is stored with the grant.
const PermissionWording = "Ik geef toestemming dat mijn kind zelfstandig van de opvang vertrekt (naar huis, school, een club of vriendjes) op de hierboven gekozen dagen en tijden. Mijn kind heeft bevestigd zich aan de (verkeers-)regels te houden. Ik kan deze toestemming altijd direct intrekken."

// PermissionWordingEN is the English rendering shown with PermissionWording.
const PermissionWordingEN = "I give permission for my child to leave the centre on their own (home, school, a club or friends) on the days and times chosen above. My child has confirmed to keep to the (traffic) rules. I can withdraw this permission at any time, with immediate effect."

// PermissionRequest grants a child permission to leave alone.
type PermissionRequest struct {
	Child    string `json:"child"`
	Scope    string `json:"scope"` // home, school, club, friend
	From     string `json:"from"`  // YYYY-MM-DD
	Until    string `json:"until"` // YYYY-MM-DD, inclusive
	Weekdays []int  `json:"weekdays,omitempty"`
	After    string `json:"after,omitempty"`  // HH:MM
	Before   string `json:"before,omitempty"` // HH:MM
	// Confirm must be true: the parent read PermissionWording and agrees.
	Confirm bool `json:"confirm"`
}

var scopes = []string{"home", "school", "club", "friend"}

// outOfSchoolCare reports whether c is in out-of-school care (a BSO or BKO
// location, or a group under a BSO ratio policy): only those children may
// be given permission to leave alone (seed 004).
func outOfSchoolCare(pl *Place, c roster.Child) bool {
	if k := pl.Roster.Location.Kind; k == "bso" || k == "bko" {
		return true
	}
	for _, g := range pl.Roster.Groups {
		if g.ID == c.GroupID {
			return strings.Contains(g.Policy, "bso") || strings.Contains(g.Policy, "bko")
		}
	}
	return false
}

func (s *Server) grantPermission(ctx context.Context, f *Family, req PermissionRequest) (roster.IndependencePermission, error) {
	refs, err := f.Child(req.Child)
	if err != nil {
		return roster.IndependencePermission{}, err
	}
	for _, c := range refs {
		if !outOfSchoolCare(c.Place, c.Child) {
			return roster.IndependencePermission{}, bad("bso_only", "going home alone is for children in out-of-school care (BSO)")
		}
	}
	if !req.Confirm {
		return roster.IndependencePermission{}, bad("confirm", "confirm: read and confirm the permission text")
	}
	if !slices.Contains(scopes, req.Scope) {
		return roster.IndependencePermission{}, bad("scope", "scope: one of %s", strings.Join(scopes, ", "))
	}
	from, err1 := attendance.ParseDate(req.From)
	until, err2 := attendance.ParseDate(req.Until)
	if err1 != nil || err2 != nil || until.Before(from) {
		return roster.IndependencePermission{}, bad("period", "from and until: YYYY-MM-DD, until not before from")
	}
	if until.In(time.UTC).Sub(from.In(time.UTC)) > 400*24*time.Hour {
		return roster.IndependencePermission{}, bad("school_year", "a permission lasts at most a school year; grant it again next year")
	}
	var wds []time.Weekday
	for _, d := range req.Weekdays {
		if d < 0 || d > 6 {
			return roster.IndependencePermission{}, bad("weekdays", "weekdays: 0 (Sunday) to 6")
		}
		wds = append(wds, time.Weekday(d))
	}
	for _, t := range []string{req.After, req.Before} {
		if t != "" {
			if _, err := roster.ParseClock(t); err != nil {
				return roster.IndependencePermission{}, bad("times", "after/before: want HH:MM")
			}
		}
	}
	now := s.now().UTC()
	p := roster.IndependencePermission{ID: "perm-" + uuid.NewString()[:13], Scope: req.Scope, From: from, Until: until,
		Weekdays: wds, After: req.After, Before: req.Before, GrantedAt: now}
	for _, c := range refs {
		pp := p
		pp.ChildID, pp.GrantedBy = c.Child.ID, c.Place.PersonID
		if _, err := s.sites.EditRoster(ctx, c.Place.LocationID, func(r *roster.Roster) error {
			if _, ok := buildPlace(*r, c.Place.PersonID); !ok {
				return errNotYours
			}
			r.Permissions = append(r.Permissions, pp)
			return nil
		}); err != nil {
			return p, err
		}
		s.record(ctx, f, audit.IndependenceGrant, "child:"+c.Child.ID, map[string]any{"permission": p.ID, "location": c.Place.LocationID,
			"scope": p.Scope, "from": from.String(), "until": until.String(), "weekdays": req.Weekdays, "after": p.After, "before": p.Before,
			"wording": PermissionWording, "confirmed": true})
		p.ChildID, p.GrantedBy = pp.ChildID, pp.GrantedBy
	}
	return p, nil
}

func (s *Server) revokePermission(ctx context.Context, f *Family, id string) error {
	found := false
	for _, pl := range f.Places {
		mine := pl.childIDs()
		var gone []roster.IndependencePermission
		_, err := s.sites.EditRoster(ctx, pl.LocationID, func(r *roster.Roster) error {
			gone = nil
			keep := r.Permissions[:0:0]
			for _, p := range r.Permissions {
				if p.ID != "" && p.ID == id && mine[p.ChildID] {
					gone = append(gone, p)
					continue
				}
				keep = append(keep, p)
			}
			if len(gone) == 0 {
				return errNothing
			}
			r.Permissions = keep
			return nil
		})
		if errors.Is(err, errNothing) {
			continue
		}
		if err != nil {
			return err
		}
		found = true
		for _, p := range gone {
			s.record(ctx, f, audit.IndependenceEnd, "child:"+p.ChildID, map[string]any{"permission": id, "location": pl.LocationID})
		}
	}
	if !found {
		return fmt.Errorf("%w: permission %q", errNotYours, id)
	}
	return nil
}

// PermissionView is a permission as the parent sees it.
type PermissionView struct {
	roster.IndependencePermission
	ChildName     string `json:"child_name"`
	GrantedByName string `json:"granted_by_name"`
	Location      string `json:"location_id"`
}

func (s *Server) permissions(f *Family) []PermissionView {
	var out []PermissionView
	for _, pl := range f.Places {
		for _, p := range pl.Roster.Permissions {
			for _, c := range pl.Children {
				if c.ID == p.ChildID {
					out = append(out, PermissionView{IndependencePermission: p, ChildName: c.FirstName, GrantedByName: pl.personName(p.GrantedBy), Location: pl.LocationID})
				}
			}
		}
	}
	return out
}

// ---- absences ----

// AbsenceRequest reports a child sick or cancels a day.
type AbsenceRequest struct {
	Child string `json:"child"`
	Date  string `json:"date"`
	Kind  string `json:"kind"` // sick or cancel (a cancel too late becomes late_cancel)
	Note  string `json:"note,omitempty"`
}

// CancelDeadline is how long before the day's start a cancellation must
// come to be free (seed 004: 48 hours; configurable with Config).
const CancelDeadline = 48 * time.Hour

// dayStart is when care on d begins at a place: its opening time that
// weekday (07:00 when the roster has no hours).
func dayStart(pl *Place, d attendance.Date) time.Time {
	start := 7 * 60
	t := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, pl.TZ)
	for _, h := range pl.Roster.Location.Hours {
		if h.Weekday == t.Weekday() {
			if m, err := roster.ParseClock(h.Open); err == nil {
				start = m
			}
		}
	}
	return t.Add(time.Duration(start) * time.Minute)
}

// reportAbsence records an absence for a child's day (once: a day already
// reported answers the standing absence, existed true). Rules (seeds 002,
// 004): "sick" is for today, as the parent learns it; a child reported
// sick for a later day is a cancellation, priced by the deadline: 48 h
// before the day's start or later is a late_cancel (seed 004: "dit geldt
// ook bij ziekte van het kind"), else a cancel. No day before today.
func (s *Server) reportAbsence(ctx context.Context, f *Family, req AbsenceRequest) (_ []central.ParentAbsence, existed bool, err error) {
	refs, err := f.Child(req.Child)
	if err != nil {
		return nil, false, err
	}
	d, err := attendance.ParseDate(req.Date)
	if err != nil {
		return nil, false, bad("date", "date: want YYYY-MM-DD")
	}
	if req.Kind != "sick" && req.Kind != "cancel" {
		return nil, false, bad("kind", "kind: sick or cancel")
	}
	now := s.now()
	var out []central.ParentAbsence
	existed = true
	for _, c := range refs {
		today := c.Place.today(now)
		if d.Before(today) || d.In(time.UTC).Sub(today.In(time.UTC)) > maxAheadDays*24*time.Hour {
			return nil, false, bad("date_ahead", "date: from today up to %d days ahead", maxAheadDays)
		}
		kind := absenceKind(req.Kind, d == today, dayStart(c.Place, d).Sub(now), s.cancelDeadline)
		a, had, err := s.parents.AddAbsence(ctx, central.ParentAbsence{AccountID: f.Account.ID, LocationID: c.Place.LocationID,
			ChildID: c.Child.ID, Date: d, Kind: kind, Note: cleanText(req.Note, 200)})
		if err != nil {
			return nil, false, err
		}
		if !had {
			existed = false
			s.record(ctx, f, audit.AbsenceReported, "child:"+c.Child.ID, map[string]any{"absence": a.ID, "location": c.Place.LocationID, "date": d.String(), "kind": kind, "asked": req.Kind})
		}
		out = append(out, a)
		s.absenceToDoor(ctx, c.Place.LocationID, d)
	}
	return out, existed, nil
}

// absenceKind is what a report becomes: sick only for today; a later day
// (sick or cancel) is a cancel, or a late_cancel when the day starts
// within the deadline.
func absenceKind(asked string, today bool, untilStart, deadline time.Duration) string {
	if asked == "sick" && today {
		return "sick"
	}
	if untilStart < deadline {
		return "late_cancel" // seed 004: the agreed hours are billed
	}
	return "cancel"
}

// errStarted: an absence of a day that has begun cannot be withdrawn.
var errStarted = errors.New("portal: the day has started; the absence counts for billing and cannot be withdrawn")

func (s *Server) withdrawAbsence(ctx context.Context, f *Family, id string) error {
	a, err := s.parents.Absence(ctx, id, f.Keys())
	if errors.Is(err, central.ErrNotFound) {
		return fmt.Errorf("%w: absence %q", errNotYours, id)
	}
	if err != nil {
		return err
	}
	if pl := f.place(a.LocationID); pl == nil || !s.now().Before(dayStart(pl, a.Date)) {
		return errStarted
	}
	if _, err := s.parents.WithdrawAbsence(ctx, id, f.Keys()); errors.Is(err, central.ErrNotFound) {
		return fmt.Errorf("%w: absence %q", errNotYours, id)
	} else if err != nil {
		return err
	}
	s.record(ctx, f, audit.AbsenceWithdrawn, "child:"+a.ChildID, map[string]any{"absence": id, "location": a.LocationID, "date": a.Date.String()})
	s.absenceToDoor(ctx, a.LocationID, a.Date)
	return nil
}

// absenceToDoor sends an absence of today or tomorrow to the location's
// kiosks (a new roster version). The absence is recorded either way: on a
// failure the job roster-absences sends it on.
func (s *Server) absenceToDoor(ctx context.Context, loc string, d attendance.Date) {
	if err := s.sites.AbsencesChanged(ctx, loc, d); err != nil {
		s.log.Error("portal: absence to the door", "location", loc, "date", d.String(), "err", err)
	}
}

func (s *Server) absences(ctx context.Context, f *Family) ([]central.ParentAbsence, error) {
	var out []central.ParentAbsence
	now := s.now()
	for _, c := range f.Children() {
		as, err := s.parents.ChildAbsences(ctx, c.Place.LocationID, c.Child.ID, attendance.DateOf(c.Place.today(now).In(time.UTC).AddDate(0, 0, -31)))
		if err != nil {
			return nil, err
		}
		out = append(out, as...)
	}
	slices.SortStableFunc(out, func(a, b central.ParentAbsence) int { return strings.Compare(a.Date.String(), b.Date.String()) })
	return out, nil
}

// ---- photo consent ----

func (s *Server) setPhotoConsent(ctx context.Context, f *Family, child string, consent bool) error {
	refs, err := f.Child(child)
	if err != nil {
		return err
	}
	for _, c := range refs {
		_, err := s.sites.EditRoster(ctx, c.Place.LocationID, func(r *roster.Roster) error {
			if _, ok := buildPlace(*r, c.Place.PersonID); !ok {
				return errNotYours
			}
			for i := range r.Children {
				if r.Children[i].ID == c.Child.ID {
					if r.Children[i].PhotoConsent == consent {
						return errNothing
					}
					r.Children[i].PhotoConsent = consent
				}
			}
			return nil
		})
		if errors.Is(err, errNothing) {
			continue
		}
		if err != nil {
			return err
		}
		s.record(ctx, f, audit.ConsentChange, "child:"+c.Child.ID, map[string]any{"photo_consent": consent, "location": c.Place.LocationID})
	}
	return nil
}
