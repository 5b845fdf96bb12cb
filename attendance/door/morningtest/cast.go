package morningtest

import (
	"sort"
	"strings"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/roster"
)

// Person is someone with a card at the door (or, with no Card, someone who
// asks staff in person).
type Person struct {
	ID       string
	Name     string
	Card     string // hex UID; "" when they have no card with them
	Role     attendance.Role
	Children []string // guardian: own children; pickup: the children linked to them
	// Announced lists the children a third party may take today (standing
	// authorisation or today's announcement); the rest of Children needs staff.
	Announced []string
	Banned    []string // contact bans
	NoAge     bool     // a third party with no birth date on file
	PIN       string   // staff PIN ("" none)
}

// Cast is who is who: the roster's people as the simulation uses them.
type Cast struct {
	Roster   roster.Roster
	People   map[string]*Person // by id: guardians, pickups, staff, children with a card
	Children map[string]roster.Child
	// StaffOnly are texts that must never be on a public screen (allergies,
	// ban notes, relations, full names).
	StaffOnly []string
	Unknown   string // a card not in the roster
	MinAge    int
}

// DemoCast is the cast of the demo roster (README: "The demo roster") on
// day today.
func DemoCast(today attendance.Date) *Cast {
	r, cards := roster.Demo(today)
	c := &Cast{Roster: r, People: map[string]*Person{}, Children: map[string]roster.Child{}, MinAge: r.Location.MinPickupAge}
	for _, ch := range r.Children {
		c.Children[ch.ID] = ch
		if ch.StaffAlert != "" {
			c.StaffOnly = append(c.StaffOnly, ch.StaffAlert)
		}
	}
	byHash := map[string]roster.Badge{}
	for _, b := range r.Badges {
		byHash[b.Hash] = b
	}
	for _, card := range cards {
		uid, _ := attendance.ParseUID(card.UID)
		b, ok := byHash[roster.DemoBadgeKey.Hash(uid)]
		if !ok {
			c.Unknown = card.UID
			continue
		}
		c.People[b.HolderID] = &Person{ID: b.HolderID, Card: card.UID, Role: b.Role, Name: card.Holder}
	}
	for _, p := range r.People {
		pp := c.People[p.ID]
		if pp == nil {
			pp = &Person{ID: p.ID, Role: attendance.RolePickup}
			c.People[p.ID] = pp
		}
		pp.Name = p.Name
		pp.NoAge = p.BirthDate.IsZero()
		if strings.Contains(p.Name, " ") {
			c.StaffOnly = append(c.StaffOnly, p.Name)
		}
		if p.Relation != "" {
			c.StaffOnly = append(c.StaffOnly, `"`+p.Relation+`"`)
		}
	}
	for _, s := range r.Staff {
		if pp := c.People[s.ID]; pp != nil {
			pp.Name = s.Name
			if s.PINHash != "" {
				pp.PIN = "1234" // the demo's documented PIN (Priya)
			}
		}
	}
	for _, g := range r.Guardianships {
		pp := c.People[g.PersonID]
		pp.Role = attendance.RoleGuardian
		pp.Children = append(pp.Children, g.ChildID)
		pp.Announced = append(pp.Announced, g.ChildID)
	}
	link := func(pid, cid string, ok bool) {
		pp := c.People[pid]
		if !contains(pp.Children, cid) {
			pp.Children = append(pp.Children, cid)
		}
		if ok && !contains(pp.Announced, cid) {
			pp.Announced = append(pp.Announced, cid)
		}
	}
	for _, a := range r.Authorisations {
		link(a.PersonID, a.ChildID, true)
	}
	for _, a := range r.Announced {
		link(a.PersonID, a.ChildID, a.Date == today)
	}
	for _, b := range r.ContactBans {
		pp := c.People[b.PersonID]
		pp.Banned = append(pp.Banned, b.ChildID)
		if b.Note != "" {
			c.StaffOnly = append(c.StaffOnly, b.Note)
		}
	}
	// Els is announced for Mila; her neighbour's other child Daan is the
	// "partly announced" case: she comes for both.
	for _, pp := range c.People {
		if pp.Role == attendance.RolePickup && len(pp.Announced) > 0 {
			for _, g := range r.Guardianships {
				if contains(pp.Announced, g.ChildID) {
					for _, g2 := range r.Guardianships {
						if g2.PersonID == g.PersonID && !contains(pp.Children, g2.ChildID) && !contains(pp.Banned, g2.ChildID) {
							pp.Children = append(pp.Children, g2.ChildID)
						}
					}
				}
			}
		}
	}
	for _, pp := range c.People {
		sort.Strings(pp.Children)
	}
	return c
}

// Of returns the people of a role, sorted by id (deterministic).
func (c *Cast) Of(role attendance.Role) []*Person {
	var out []*Person
	for _, p := range c.People {
		if p.Role == role {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Independent reports whether a child may leave on its own today.
func (c *Cast) Independent(child string) bool {
	for _, p := range c.Roster.Permissions {
		if p.ChildID == child {
			return true
		}
	}
	return false
}

// Guardian is a guardian of the child (for a child leaving with a grown-up).
func (c *Cast) Guardian(child string) *Person {
	for _, g := range c.Roster.Guardianships {
		if g.ChildID == child {
			return c.People[g.PersonID]
		}
	}
	return nil
}

func contains[T comparable](s []T, v T) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
