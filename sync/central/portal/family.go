package portal

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/sync/central"
)

// Family is what one signed-in parent may see and act for: per location
// where the centre keeps their e-mail address for a guardian, that
// guardian's children. It is built afresh from the current rosters on
// every request, so a withdrawn right, a removed guardianship or a new
// contact ban takes effect at once.
type Family struct {
	Account central.ParentAccount
	Name    string  // the guardian's name (first place)
	Places  []Place // one per location
}

// Place is the family at one location.
type Place struct {
	LocationID   string
	LocationName string
	PersonID     string // the guardian at this location
	Roster       roster.Roster
	Children     []roster.Child
	TZ           *time.Location
}

// errNotYours answers every id outside the family: 404, so another
// family's ids are not even confirmed to exist.
var errNotYours = errors.New("portal: not found")

// loadFamily builds the family of an account. Guardian records whose
// rights were withdrawn, whose person is gone from the roster, or who are
// under a contact ban at that location contribute nothing.
func (s *Server) loadFamily(ctx context.Context, accountID string) (*Family, error) {
	acc, err := s.parents.AccountByID(ctx, accountID)
	if err != nil {
		return nil, err
	}
	links, err := s.parents.GuardianLinks(ctx, acc.Email)
	if err != nil {
		return nil, err
	}
	f := &Family{Account: acc}
	for _, l := range links {
		if l.Withdrawn {
			continue
		}
		r, _, err := s.sites.Roster(ctx, l.LocationID)
		if errors.Is(err, central.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		p, ok := buildPlace(r, l.PersonID)
		if !ok {
			continue
		}
		if loc, err := s.sites.Location(ctx, l.LocationID); err == nil {
			p.LocationName = loc.Name
		}
		if f.Name == "" {
			for _, pp := range r.People {
				if pp.ID == l.PersonID {
					f.Name = pp.Name
				}
			}
		}
		f.Places = append(f.Places, p)
	}
	return f, nil
}

func buildPlace(r roster.Roster, personID string) (Place, bool) {
	p := Place{LocationID: r.Location.ID, LocationName: r.Location.Name, PersonID: personID, Roster: r, TZ: time.UTC}
	if r.Location.TimeZone != "" {
		if tz, err := time.LoadLocation(r.Location.TimeZone); err == nil {
			p.TZ = tz
		}
	}
	known := false
	for _, pp := range r.People {
		known = known || pp.ID == personID
	}
	if !known {
		return p, false
	}
	for _, b := range r.ContactBans {
		if b.PersonID == personID {
			return p, false // a guardian under a contact ban sees nothing here
		}
	}
	mine := map[string]bool{}
	for _, g := range r.Guardianships {
		if g.PersonID == personID {
			mine[g.ChildID] = true
		}
	}
	for _, c := range r.Children {
		if mine[c.ID] {
			p.Children = append(p.Children, c)
		}
	}
	return p, len(p.Children) > 0
}

// ChildRef is one of the family's children at one place.
type ChildRef struct {
	Place *Place
	Child roster.Child
}

// Key is "location/child".
func (c ChildRef) Key() string { return c.Place.LocationID + "/" + c.Child.ID }

// Children lists every child of the family, place by place.
func (f *Family) Children() []ChildRef {
	var out []ChildRef
	for i := range f.Places {
		for _, c := range f.Places[i].Children {
			out = append(out, ChildRef{Place: &f.Places[i], Child: c})
		}
	}
	return out
}

// Child resolves a child id ("c-daan", or "loc/c-daan" when the same id
// exists at two locations) to the family's child(ren) with that id.
func (f *Family) Child(id string) ([]ChildRef, error) {
	loc, cid, scoped := strings.Cut(id, "/")
	if !scoped {
		cid, loc = id, ""
	}
	var out []ChildRef
	for _, c := range f.Children() {
		if c.Child.ID == cid && (loc == "" || c.Place.LocationID == loc) {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: child %q", errNotYours, id)
	}
	return out, nil
}

// Keys is the set of the family's "location/child" keys.
func (f *Family) Keys() map[string]bool {
	m := map[string]bool{}
	for _, c := range f.Children() {
		m[c.Key()] = true
	}
	return m
}

// place returns the family's place at a location.
func (f *Family) place(loc string) *Place {
	for i := range f.Places {
		if f.Places[i].LocationID == loc {
			return &f.Places[i]
		}
	}
	return nil
}

// childIDs of the place.
func (p *Place) childIDs() map[string]bool {
	m := map[string]bool{}
	for _, c := range p.Children {
		m[c.ID] = true
	}
	return m
}

// today is the local date at the place.
func (p *Place) today(now time.Time) attendance.Date { return attendance.DateOf(now.In(p.TZ)) }

// knownPeople are the people of a place the family may name for a pickup:
// the other guardians of their children and everyone with a standing
// authorisation or an announcement for one of them, less anyone under a
// contact ban for one of them.
func (p *Place) knownPeople() []roster.Person {
	kids := p.childIDs()
	ids := map[string]bool{}
	for _, g := range p.Roster.Guardianships {
		if kids[g.ChildID] && g.PersonID != p.PersonID {
			ids[g.PersonID] = true
		}
	}
	for _, a := range p.Roster.Authorisations {
		if kids[a.ChildID] {
			ids[a.PersonID] = true
		}
	}
	for _, a := range p.Roster.Announced {
		if kids[a.ChildID] {
			ids[a.PersonID] = true
		}
	}
	for _, b := range p.Roster.ContactBans {
		if kids[b.ChildID] {
			delete(ids, b.PersonID)
		}
	}
	var out []roster.Person
	for _, pp := range p.Roster.People {
		if ids[pp.ID] {
			out = append(out, pp)
		}
	}
	slices.SortFunc(out, func(a, b roster.Person) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func (p *Place) personName(id string) string {
	for _, pp := range p.Roster.People {
		if pp.ID == id {
			return pp.Name
		}
	}
	for _, st := range p.Roster.Staff {
		if st.ID == id {
			return st.Name
		}
	}
	return ""
}

// firstName is the part of a name before the first space ("Fatima B." ->
// "Fatima").
func firstName(n string) string {
	f, _, _ := strings.Cut(strings.TrimSpace(n), " ")
	return f
}
