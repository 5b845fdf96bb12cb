package roster

import (
	"fmt"
	"slices"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
)

// Index is a roster prepared for the tap path: every lookup a door decision
// needs is a map access. Build one per roster version; it is read-only.
type Index struct {
	Roster   *Roster
	TZ       *time.Location
	badges   map[string]Badge
	children map[string]*Child
	people   map[string]*Person
	staff    map[string]*Staff
	groups   map[string]*Group

	guardianOf map[string][]string // person -> children, roster order
	isGuardian map[[2]string]bool  // {child, person}: authority not withdrawn
	until      map[[2]string]attendance.Date
	auths      map[[2]string][]Authorisation
	bans       map[[2]string]*ContactBan
	bannedFor  map[string][]string // person -> children they are banned from
	authFor    map[string][]string // person -> children with a standing authorisation or announcement
	announced  map[[2]string][]AnnouncedPickup
	announceOf map[string][]AnnouncedPickup // child -> announcements, roster order
	absences   map[attendance.Date]map[string]Absence
	perms      map[string][]IndependencePermission
}

// NewIndex validates r and indexes it.
func NewIndex(r *Roster) (*Index, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	tz := time.UTC
	if r.Location.TimeZone != "" {
		var err error
		if tz, err = time.LoadLocation(r.Location.TimeZone); err != nil {
			return nil, fmt.Errorf("roster: %w", err)
		}
	}
	ix := &Index{Roster: r, TZ: tz,
		badges: map[string]Badge{}, children: map[string]*Child{}, people: map[string]*Person{},
		staff: map[string]*Staff{}, groups: map[string]*Group{},
		guardianOf: map[string][]string{}, isGuardian: map[[2]string]bool{}, until: map[[2]string]attendance.Date{},
		auths: map[[2]string][]Authorisation{}, bans: map[[2]string]*ContactBan{},
		bannedFor: map[string][]string{}, authFor: map[string][]string{},
		announced: map[[2]string][]AnnouncedPickup{}, perms: map[string][]IndependencePermission{},
		announceOf: map[string][]AnnouncedPickup{}, absences: map[attendance.Date]map[string]Absence{},
	}
	for _, b := range r.Badges {
		ix.badges[b.Hash] = b
	}
	for i := range r.Children {
		ix.children[r.Children[i].ID] = &r.Children[i]
	}
	for i := range r.People {
		ix.people[r.People[i].ID] = &r.People[i]
	}
	for i := range r.Staff {
		ix.staff[r.Staff[i].ID] = &r.Staff[i]
	}
	for i := range r.Groups {
		ix.groups[r.Groups[i].ID] = &r.Groups[i]
	}
	listed, open := map[[2]string]bool{}, map[[2]string]bool{}
	for _, g := range r.Guardianships {
		k := [2]string{g.ChildID, g.PersonID}
		if !listed[k] { // a repeated row: the child is offered once
			listed[k] = true
			ix.guardianOf[g.PersonID] = append(ix.guardianOf[g.PersonID], g.ChildID)
		}
		if g.Withdrawn {
			continue
		}
		ix.isGuardian[k] = true
		switch {
		case g.Until.IsZero():
			open[k] = true
			delete(ix.until, k)
		case !open[k] && (ix.until[k].IsZero() || ix.until[k].Before(g.Until)):
			ix.until[k] = g.Until
		}
	}
	seen := map[[2]string]bool{}
	addAuth := func(child, person string) {
		k := [2]string{child, person}
		if !seen[k] {
			seen[k] = true
			ix.authFor[person] = append(ix.authFor[person], child)
		}
	}
	for _, a := range r.Authorisations {
		k := [2]string{a.ChildID, a.PersonID}
		ix.auths[k] = append(ix.auths[k], a)
		addAuth(a.ChildID, a.PersonID)
	}
	for _, a := range r.Announced {
		k := [2]string{a.ChildID, a.PersonID}
		ix.announced[k] = append(ix.announced[k], a)
		ix.announceOf[a.ChildID] = append(ix.announceOf[a.ChildID], a)
		addAuth(a.ChildID, a.PersonID)
	}
	for i, b := range r.ContactBans {
		ix.bans[[2]string{b.ChildID, b.PersonID}] = &r.ContactBans[i]
		ix.bannedFor[b.PersonID] = append(ix.bannedFor[b.PersonID], b.ChildID)
	}
	for _, a := range r.Absences {
		if ix.absences[a.Date] == nil {
			ix.absences[a.Date] = map[string]Absence{}
		}
		if _, dup := ix.absences[a.Date][a.ChildID]; !dup { // the first reported counts
			ix.absences[a.Date][a.ChildID] = a
		}
	}
	for _, p := range r.Permissions {
		ix.perms[p.ChildID] = append(ix.perms[p.ChildID], p)
	}
	return ix, nil
}

// Badge finds a badge by its keyed hash.
func (ix *Index) Badge(hash string) (Badge, bool) { b, ok := ix.badges[hash]; return b, ok }

// Child finds a child.
func (ix *Index) Child(id string) (*Child, bool) { c, ok := ix.children[id]; return c, ok }

// Person finds a guardian or pickup person.
func (ix *Index) Person(id string) (*Person, bool) { p, ok := ix.people[id]; return p, ok }

// Staff finds a staff member.
func (ix *Index) Staff(id string) (*Staff, bool) { s, ok := ix.staff[id]; return s, ok }

// Group finds a group.
func (ix *Index) Group(id string) (*Group, bool) { g, ok := ix.groups[id]; return g, ok }

// ChildrenOf returns the children a person has (or had: see GuardianOn)
// parental authority over.
func (ix *Index) ChildrenOf(person string) []string { return ix.guardianOf[person] }

// IsGuardian reports parental authority that was not withdrawn (an end
// date is GuardianOn's business).
func (ix *Index) IsGuardian(child, person string) bool {
	return ix.isGuardian[[2]string{child, person}]
}

// GuardianOn reports parental authority on day d: not withdrawn and not
// past its end date.
func (ix *Index) GuardianOn(child, person string, d attendance.Date) bool {
	k := [2]string{child, person}
	if !ix.isGuardian[k] {
		return false
	}
	u, ok := ix.until[k]
	return !ok || !u.Before(d)
}

// Withdrawn reports that a person was a guardian of the child and is not
// on day d: their rights were withdrawn or ended.
func (ix *Index) Withdrawn(child, person string, d attendance.Date) bool {
	return slices.Contains(ix.guardianOf[person], child) && !ix.GuardianOn(child, person, d)
}

// GuardiansOf returns the people with parental authority over a child on
// day d, in roster order.
func (ix *Index) GuardiansOf(child string, d attendance.Date) []string {
	var out []string
	for _, g := range ix.Roster.Guardianships {
		if g.ChildID == child && ix.GuardianOn(child, g.PersonID, d) && !slices.Contains(out, g.PersonID) {
			out = append(out, g.PersonID)
		}
	}
	return out
}

// Linked returns the children a third party has a standing authorisation or
// an announcement for (valid or not today: the rules decide).
func (ix *Index) Linked(person string) []string { return ix.authFor[person] }

// BannedFrom returns the children a person is under a contact ban for.
func (ix *Index) BannedFrom(person string) []string { return ix.bannedFor[person] }

// Ban returns the contact ban between a person and a child, if any.
func (ix *Index) Ban(child, person string) (*ContactBan, bool) {
	b, ok := ix.bans[[2]string{child, person}]
	return b, ok
}

// Authorised reports whether a standing authorisation lets person take child
// on day d (local date).
func (ix *Index) Authorised(child, person string, d attendance.Date) bool {
	for _, a := range ix.auths[[2]string{child, person}] {
		if !a.From.IsZero() && d.Before(a.From) {
			continue
		}
		if !a.Until.IsZero() && a.Until.Before(d) {
			continue
		}
		if weekdayOK(a.Weekdays, d.Weekday()) {
			return true
		}
	}
	return false
}

// Announcement returns the announced pickup of child by person that covers
// local time t, if any.
func (ix *Index) Announcement(child, person string, t time.Time) (AnnouncedPickup, bool) {
	d := attendance.DateOf(t)
	m := t.Hour()*60 + t.Minute()
	for _, a := range ix.announced[[2]string{child, person}] {
		if a.Date != d {
			continue
		}
		if a.From != "" {
			if from, err := ParseClock(a.From); err == nil && m < from {
				continue
			}
		}
		if a.Until != "" {
			if until, err := ParseClock(a.Until); err == nil && m > until {
				continue
			}
		}
		return a, true
	}
	return AnnouncedPickup{}, false
}

// Independence returns the permission that lets child leave alone at local
// time t, if any.
func (ix *Index) Independence(child string, t time.Time) (IndependencePermission, bool) {
	d := attendance.DateOf(t)
	m := t.Hour()*60 + t.Minute()
	for _, p := range ix.perms[child] {
		if d.Before(p.From) || p.Until.Before(d) || !weekdayOK(p.Weekdays, d.Weekday()) {
			continue
		}
		if p.After != "" {
			if after, err := ParseClock(p.After); err == nil && m < after {
				continue
			}
		}
		if p.Before != "" {
			if before, err := ParseClock(p.Before); err == nil && m > before {
				continue
			}
		}
		return p, true
	}
	return IndependencePermission{}, false
}

// Open reports whether the location is open at local time t. A location
// without opening hours is always open.
func (ix *Index) Open(t time.Time) bool {
	hours := ix.Roster.Location.Hours
	if len(hours) == 0 {
		return true
	}
	m := t.Hour()*60 + t.Minute()
	for _, h := range hours {
		if h.Weekday != t.Weekday() {
			continue
		}
		open, err1 := ParseClock(h.Open)
		closing, err2 := ParseClock(h.Close)
		if err1 == nil && err2 == nil && m >= open && m < closing {
			return true
		}
	}
	return false
}

func weekdayOK(days []time.Weekday, wd time.Weekday) bool {
	if len(days) == 0 {
		return true
	}
	for _, d := range days {
		if d == wd {
			return true
		}
	}
	return false
}

// Announcer returns who announced a, by name, and when (zero when the
// announcement carries no time): what the staff panel shows as
// "aangekondigd door Fatima om 16:55".
func (ix *Index) Announcer(a AnnouncedPickup) (name string, at time.Time) {
	if p, ok := ix.people[a.CreatedBy]; ok {
		name = p.Name
	}
	if !a.CreatedAt.IsZero() {
		at = a.CreatedAt.In(ix.TZ)
	}
	return name, at
}

// AnnouncedOn returns the announced pickups of a child on day d (any
// person, inside their time window or not), in roster order: for the staff
// panel.
func (ix *Index) AnnouncedOn(child string, d attendance.Date) []AnnouncedPickup {
	var out []AnnouncedPickup
	for _, a := range ix.announceOf[child] {
		if a.Date == d {
			out = append(out, a)
		}
	}
	return out
}

// Covers reports whether an announcement's time window covers local time t
// (its day is the caller's business).
func (a AnnouncedPickup) Covers(t time.Time) bool {
	m := t.Hour()*60 + t.Minute()
	if a.From != "" {
		if from, err := ParseClock(a.From); err == nil && m < from {
			return false
		}
	}
	if a.Until != "" {
		if until, err := ParseClock(a.Until); err == nil && m > until {
			return false
		}
	}
	return true
}

// Absence returns the absence a parent reported for a child on day d.
func (ix *Index) Absence(child string, d attendance.Date) (Absence, bool) {
	a, ok := ix.absences[d][child]
	return a, ok
}
