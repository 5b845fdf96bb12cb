// Package attendance holds the kiosk's core domain types: who may be at the
// door (children, guardians, pickup persons, staff), their badges, and the
// events a tap produces. It knows no screen, network or chip. Presence is
// always derived from events (see Presence), never kept as a mutable flag.
package attendance

import (
	"errors"
	"fmt"
	"time"
)

// Role says what kind of person a badge belongs to.
type Role string

const (
	RoleGuardian Role = "guardian" // parental authority: may always check own children in and out
	RolePickup   Role = "pickup"   // third party: grandparent, neighbour, announced pickup
	RoleStaff    Role = "staff"    // pedagogisch medewerker, gastouder
	RoleChild    Role = "child"    // a child's own badge (BSO)
)

// ReaderRole limits what a reader does: a door with two readers may have
// one for arriving and one for leaving. The reader configuration (hw/readers)
// and the door rules share this one type.
type ReaderRole string

const (
	ReaderIn   ReaderRole = "in"   // check-in only
	ReaderOut  ReaderRole = "out"  // check-out only
	ReaderBoth ReaderRole = "both" // the tap's meaning follows the child's state
)

// EventType names what happened. The strings are part of the sync protocol
// and of the stored history: never rename one.
type EventType string

const (
	ChildCheckIn  EventType = "child_check_in"
	ChildCheckOut EventType = "child_check_out"
	StaffIn       EventType = "staff_in"
	StaffOut      EventType = "staff_out"
	// PickupRefused records that staff refused to hand a child to a person.
	PickupRefused EventType = "pickup_refused"
	// DeniedTap records a refused tap that staff must know of (a contact ban).
	DeniedTap EventType = "denied_tap"
	// RatioOverride records a staff override of a ratio block, with a reason.
	RatioOverride EventType = "ratio_override"
	// RollCallMark records that a child or staff member was accounted for in an
	// emergency roll call.
	RollCallMark EventType = "roll_call_mark"
	// CorrectionEvent supersedes part of a child's stay (Event.Correction):
	// a check-in or check-out time, a missed stay, a wrong one. The events
	// it corrects stay as they were.
	CorrectionEvent EventType = "correction"
	// RequestClosed records that a request for staff closed without a staff
	// decision: Reason resolved (the situation resolved itself), expired,
	// superseded (the same person asked again) or state_changed (a child's
	// state changed before staff confirmed). One per child of the request.
	RequestClosed EventType = "request_closed"
)

// Event is one durable fact recorded at the door. Seq is assigned by the
// store when the event commits; ID is a UUIDv7 used for identity only, never
// for ordering. The JSON form is the sync wire form: the same event is always
// resent with the same bytes.
type Event struct {
	ID       string    `json:"event_id"`
	DeviceID string    `json:"device_id"`
	Seq      int64     `json:"seq"`
	Type     EventType `json:"type"`

	LocationID string `json:"location_id,omitempty"`
	GroupID    string `json:"group_id,omitempty"`
	ChildID    string `json:"child_id,omitempty"`
	StaffID    string `json:"staff_id,omitempty"`

	// Who tapped (or, for manual actions on the staff screen, who acted).
	ActorRole Role   `json:"actor_role,omitempty"`
	ActorID   string `json:"actor_id,omitempty"`
	Reader    string `json:"reader,omitempty"`

	// Honest time: a Pi has no RTC. Wall may be wrong (1970 after boot);
	// Mono and BootID let central correct events of the same boot.
	Wall        time.Time `json:"wall"`
	MonoNS      int64     `json:"mono_ns"`
	BootID      string    `json:"boot_id"`
	ClockSynced bool      `json:"clock_synced"`

	// Decision context.
	ConfirmedBy   string `json:"confirmed_by,omitempty"` // staff who confirmed a pickup or override
	IDChecked     string `json:"id_checked,omitempty"`   // ID document type checked by staff
	Reason        string `json:"reason,omitempty"`       // machine reason code
	Note          string `json:"note,omitempty"`         // free text from staff (override reason)
	Manual        bool   `json:"manual,omitempty"`       // entered on the staff screen, not by a badge
	PolicyVersion string `json:"policy_version,omitempty"`
	RosterVersion int64  `json:"roster_version,omitempty"`

	// Correction is set on CorrectionEvent only.
	Correction *Correction `json:"correction,omitempty"`
}

// Date is a civil date (no time zone), used for birth dates and days.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the civil date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// ParseDate parses YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("date %q: want YYYY-MM-DD", s)
	}
	return DateOf(t), nil
}

// MustDate is ParseDate for constants in code and tests.
func MustDate(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
}

// IsZero reports whether d is unset.
func (d Date) IsZero() bool { return d == Date{} }

// In returns midnight at the start of d in loc.
func (d Date) In(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// Before reports whether d is before e.
func (d Date) Before(e Date) bool {
	if d.Year != e.Year {
		return d.Year < e.Year
	}
	if d.Month != e.Month {
		return d.Month < e.Month
	}
	return d.Day < e.Day
}

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday { return d.In(time.UTC).Weekday() }

// AgeOn returns the age in whole years of someone born on d, on day on.
// Someone born on 29 February turns a year older on 1 March in common years.
func (d Date) AgeOn(on Date) int {
	age := on.Year - d.Year
	if on.Month < d.Month || (on.Month == d.Month && on.Day < d.Day) {
		age--
	}
	if age < 0 {
		return 0
	}
	return age
}

func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	p, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = p
	return nil
}

// ErrNotFound is returned when a person, badge or record does not exist.
var ErrNotFound = errors.New("not found")
