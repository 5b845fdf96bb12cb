// Package roster holds who may be at a location's door: groups, children,
// guardians and other pickup persons, staff, badges (as keyed hashes),
// standing pickup authorisations, announced pickups, contact bans and
// children's independence permissions. Central owns the roster and sends
// snapshots; the kiosk applies each one atomically and keeps working on the
// last good one when central is unreachable.
//
// It holds the minimum the door needs: first names, groups, badge hashes and
// who may pick up, plus staff-only alerts. There is no place here for a BSN,
// an address, a bank account or contract data.
package roster

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
)

// Roster is one version of a location's roster. Its JSON form is the sync
// wire form and the form stored on the kiosk.
type Roster struct {
	Version        int64                    `json:"version"`
	Location       Location                 `json:"location"`
	Groups         []Group                  `json:"groups"`
	Children       []Child                  `json:"children"`
	People         []Person                 `json:"people"` // guardians and other pickup persons
	Staff          []Staff                  `json:"staff"`
	Badges         []Badge                  `json:"badges"`
	Guardianships  []Guardianship           `json:"guardianships"`
	Authorisations []Authorisation          `json:"authorisations,omitempty"`
	Announced      []AnnouncedPickup        `json:"announced,omitempty"`
	ContactBans    []ContactBan             `json:"contact_bans,omitempty"`
	Permissions    []IndependencePermission `json:"permissions,omitempty"`
	// Absences are the absences parents reported in the portal for today
	// and tomorrow (central fills them in on every roster version it
	// writes): staff-only, for the group's expected-children list.
	Absences []Absence `json:"absences,omitempty"`
}

// Absence kinds a parent reports (the same words as billing's absences).
const (
	AbsenceSick       = "sick"
	AbsenceCancel     = "cancel"
	AbsenceLateCancel = "late_cancel"
)

// Absence is a day a parent reported a child will not come: the child, the
// day and the kind (sick, cancel, late_cancel). No free text: the parent's
// note stays at central.
type Absence struct {
	ChildID string          `json:"child_id"`
	Date    attendance.Date `json:"date"`
	Kind    string          `json:"kind"`
}

// Location is one site with a door kiosk.
type Location struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	TimeZone string `json:"time_zone"` // IANA, e.g. Europe/Amsterdam
	Country  string `json:"country"`   // NL or BE
	Kind     string `json:"kind"`      // kdv, bso, gastouder, bko
	// MaxChildren caps the children present at the location (0: no cap),
	// e.g. the mini-BSO's 6.
	MaxChildren int `json:"max_children,omitempty"`
	// RatioMode is what a check-in that breaks the ratio does: "warn"
	// (default) or "block" (staff may override, audited).
	RatioMode string `json:"ratio_mode,omitempty"`
	// MinPickupAge is the minimum age of a pickup person who is not a
	// guardian (0: no minimum), e.g. 16 for a sibling.
	MinPickupAge int `json:"min_pickup_age,omitempty"`
	// Hours are the opening hours per weekday; a weekday without an entry
	// is closed.
	Hours []Hours `json:"hours,omitempty"`
	// ThreeHourWindows are the times of the pedagogical plan in which the
	// three-hour rule allows staffing below the ratio.
	ThreeHourWindows []Window `json:"three_hour_windows,omitempty"`
}

// Hours are opening hours on one weekday, times as HH:MM local.
type Hours struct {
	Weekday time.Weekday `json:"weekday"` // 0 Sunday .. 6 Saturday
	Open    string       `json:"open"`
	Close   string       `json:"close"`
}

// Window is a period on one weekday, times as HH:MM local.
type Window struct {
	Weekday time.Weekday `json:"weekday"`
	From    string       `json:"from"`
	Until   string       `json:"until"`
}

// Group is a stamgroep (or BSO base group) with its ratio policy.
type Group struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Policy      string `json:"policy"` // ratio policy name, e.g. nl-kdv
	MaxChildren int    `json:"max_children,omitempty"`
}

// Child is a child as the door needs it.
type Child struct {
	ID        string          `json:"id"`
	FirstName string          `json:"first_name"`
	GroupID   string          `json:"group_id"`
	BirthDate attendance.Date `json:"birth_date"`
	// StaffAlert is staff-only (allergy, medication, medical): never shown
	// on a screen parents can see.
	StaffAlert   string `json:"staff_alert,omitempty"`
	PhotoConsent bool   `json:"photo_consent,omitempty"`
}

// Person is an adult (or older sibling) who brings or picks up children.
type Person struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"` // first name and initial; shown to staff only
	BirthDate attendance.Date `json:"birth_date,omitempty"`
	// Relation is shown to staff, e.g. "oma", "buurman".
	Relation string `json:"relation,omitempty"`
}

// Staff is a pedagogisch medewerker or childminder.
type Staff struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	PINHash string `json:"pin_hash,omitempty"` // staffpin hash; empty: no PIN set
	// Groups the staff member works in; the first is where a clock-in
	// counts for the ratio (staff can move on the staff screen).
	Groups []string `json:"groups,omitempty"`
}

// Badge links a card (by keyed hash) to its holder.
type Badge struct {
	Hash     string          `json:"hash"` // attendance.BadgeKey.Hash(uid)
	Role     attendance.Role `json:"role"`
	HolderID string          `json:"holder_id"`
	Label    string          `json:"label,omitempty"` // e.g. "sleutelhanger"
}

// Guardianship: the person has parental authority over the child. A
// guardianship whose rights were withdrawn (Withdrawn, or Until passed) is
// kept so the door can refuse the former guardian like a contact ban,
// instead of treating them as a stranger.
type Guardianship struct {
	ChildID  string `json:"child_id"`
	PersonID string `json:"person_id"`
	// Withdrawn: parental authority was withdrawn (court order); the person
	// may no longer bring or take the child.
	Withdrawn bool `json:"withdrawn,omitempty"`
	// Until is the last day of parental authority (inclusive); zero: no end.
	Until attendance.Date `json:"until,omitzero"`
}

// Authorisation is a standing permission for a third party to pick a child
// up, optionally limited to weekdays and a period.
type Authorisation struct {
	ChildID  string          `json:"child_id"`
	PersonID string          `json:"person_id"`
	Weekdays []time.Weekday  `json:"weekdays,omitempty"` // empty: every day
	From     attendance.Date `json:"from,omitempty"`
	Until    attendance.Date `json:"until,omitempty"` // inclusive
}

// AnnouncedPickup is a one-off pickup the parent announced.
type AnnouncedPickup struct {
	ID        string          `json:"id"`
	ChildID   string          `json:"child_id"`
	PersonID  string          `json:"person_id"`
	Date      attendance.Date `json:"date"`
	From      string          `json:"from,omitempty"`       // HH:MM, empty: all day
	Until     string          `json:"until,omitempty"`      // HH:MM
	CreatedBy string          `json:"created_by,omitempty"` // person id of the announcing parent
	// IDNote is what identity document the person will show (staff only,
	// e.g. "rijbewijs"); never its number.
	IDNote string `json:"id_note,omitempty"`
	// CreatedAt is when the parent announced it (the parents' portal sets
	// it), so the staff panel can say "aangekondigd door Fatima om 16:55".
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// ContactBan: the person may never take the child (court order). Note is
// staff-only.
type ContactBan struct {
	ChildID  string `json:"child_id"`
	PersonID string `json:"person_id"`
	Note     string `json:"note,omitempty"`
}

// IndependencePermission lets a child leave on its own (walk or cycle home,
// to a club, to a friend), granted in writing by a parent for a period.
type IndependencePermission struct {
	// ID names a permission granted in the parents' portal (so it can be
	// revoked); permissions entered by admins may have none.
	ID        string          `json:"id,omitempty"`
	ChildID   string          `json:"child_id"`
	Scope     string          `json:"scope"` // e.g. "home", "club", "friend"
	From      attendance.Date `json:"from"`
	Until     attendance.Date `json:"until"`              // inclusive
	Weekdays  []time.Weekday  `json:"weekdays,omitempty"` // empty: every day
	After     string          `json:"after,omitempty"`    // HH:MM: not before
	Before    string          `json:"before,omitempty"`   // HH:MM: not after
	GrantedBy string          `json:"granted_by"`         // person id of the parent
	GrantedAt time.Time       `json:"granted_at"`
}

// Validate checks references and formats, returning every problem found.
func (r *Roster) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if r.Location.ID == "" {
		bad("location: missing id")
	}
	if r.Location.TimeZone != "" {
		if _, err := time.LoadLocation(r.Location.TimeZone); err != nil {
			bad("location: time_zone %q: %v", r.Location.TimeZone, err)
		}
	}
	switch r.Location.RatioMode {
	case "", "warn", "block":
	default:
		bad("location: ratio_mode %q: want warn or block", r.Location.RatioMode)
	}
	for i, h := range r.Location.Hours {
		if _, err := ParseClock(h.Open); err != nil {
			bad("location: hours[%d].open: %v", i, err)
		}
		if _, err := ParseClock(h.Close); err != nil {
			bad("location: hours[%d].close: %v", i, err)
		}
	}
	groups := map[string]bool{}
	for _, g := range r.Groups {
		if g.ID == "" || groups[g.ID] {
			bad("group %q: missing or duplicate id", g.ID)
		}
		groups[g.ID] = true
	}
	children := map[string]bool{}
	for _, c := range r.Children {
		if c.ID == "" || children[c.ID] {
			bad("child %q: missing or duplicate id", c.ID)
		}
		children[c.ID] = true
		if !groups[c.GroupID] {
			bad("child %q: unknown group %q", c.ID, c.GroupID)
		}
		if strings.TrimSpace(c.FirstName) == "" {
			bad("child %q: missing first_name", c.ID)
		}
	}
	people := map[string]bool{}
	for _, p := range r.People {
		if p.ID == "" || people[p.ID] {
			bad("person %q: missing or duplicate id", p.ID)
		}
		people[p.ID] = true
	}
	staff := map[string]bool{}
	for _, s := range r.Staff {
		if s.ID == "" || staff[s.ID] {
			bad("staff %q: missing or duplicate id", s.ID)
		}
		staff[s.ID] = true
	}
	hashes := map[string]bool{}
	for i, b := range r.Badges {
		if len(b.Hash) != 64 || hashes[b.Hash] {
			bad("badges[%d]: hash must be 64 hex characters and unique", i)
		}
		hashes[b.Hash] = true
		var ok bool
		switch b.Role {
		case attendance.RoleGuardian, attendance.RolePickup:
			ok = people[b.HolderID]
		case attendance.RoleStaff:
			ok = staff[b.HolderID]
		case attendance.RoleChild:
			ok = children[b.HolderID]
		default:
			bad("badges[%d]: unknown role %q", i, b.Role)
			continue
		}
		if !ok {
			bad("badges[%d]: unknown %s %q", i, b.Role, b.HolderID)
		}
	}
	link := func(what string, i int, child, person string) {
		if !children[child] {
			bad("%s[%d]: unknown child %q", what, i, child)
		}
		if !people[person] {
			bad("%s[%d]: unknown person %q", what, i, person)
		}
	}
	for i, g := range r.Guardianships {
		link("guardianships", i, g.ChildID, g.PersonID)
	}
	for i, a := range r.Authorisations {
		link("authorisations", i, a.ChildID, a.PersonID)
	}
	for i, a := range r.Announced {
		link("announced", i, a.ChildID, a.PersonID)
		for _, t := range []string{a.From, a.Until} {
			if t == "" {
				continue
			}
			if _, err := ParseClock(t); err != nil {
				bad("announced[%d]: %v", i, err)
			}
		}
	}
	for i, b := range r.ContactBans {
		link("contact_bans", i, b.ChildID, b.PersonID)
	}
	for i, a := range r.Absences {
		if !children[a.ChildID] {
			bad("absences[%d]: unknown child %q", i, a.ChildID)
		}
		switch a.Kind {
		case AbsenceSick, AbsenceCancel, AbsenceLateCancel:
		default:
			bad("absences[%d]: kind %q: want sick, cancel or late_cancel", i, a.Kind)
		}
		if a.Date.IsZero() {
			bad("absences[%d]: missing date", i)
		}
	}
	for i, p := range r.Permissions {
		if !children[p.ChildID] {
			bad("permissions[%d]: unknown child %q", i, p.ChildID)
		}
		if p.Until.Before(p.From) {
			bad("permissions[%d]: until before from", i)
		}
	}
	return errors.Join(errs...)
}

// ParseClock parses HH:MM into minutes after midnight.
func ParseClock(s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("time %q: want HH:MM", s)
	}
	return t.Hour()*60 + t.Minute(), nil
}
