// Package stays turns door events into stays (one row per check-in/check-out
// pair, in the location's local time) and reads and writes them in the
// attendance export format of contract 6:
//
//	child_id,child_name,group,date,check_in,check_out,minutes,day_type,location,guardian_id,time_quality,flags
//
// The first eight columns are the contract; the rest are extensions. date is
// YYYY-MM-DD, times HH:MM local, minutes the real elapsed whole minutes.
//
// Rules:
//   - A child may come more than once a day: every check-in opens a stay and
//     the next check-out of that child closes it.
//   - A check-in while a stay is still open closes nothing: the open stay is
//     emitted with an empty check_out, minutes 0 and the flag
//     missing_checkout (it is never billed silently). A check-out with no open
//     stay gives a row with an empty check_in and the flag missing_checkin.
//   - A stay across local midnight is split at midnight into one row per
//     day, each flagged split_midnight; the first part's check_out is "24:00"
//     (ISO 8601 end of day) and the next part starts at "00:00". Each part is
//     classified and billed on its own date.
//   - A check-out more than Options.MaxStay (default 24h) after its check-in
//     gives two flagged rows (missing_checkout, missing_checkin) instead.
//   - minutes is the real elapsed time, so on a daylight-saving day it may
//     differ by 60 from the wall-clock difference.
//   - time_quality is the worse of the two events' qualities as the caller
//     passes them (ok < corrected < unverified); by default an event whose
//     clock was not synchronised is unverified.
//   - pickup_confirmed is set when staff confirmed the check-out
//     (Event.ConfirmedBy).
//   - Corrections (attendance.CorrectionEvent) are folded in after pairing:
//     set_check_in, set_check_out, add_stay, remove_stay, a later one of the
//     same stay winning; a corrected stay's rows carry the flag corrected.
package stays

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/calendar"
)

// Quality says how far an event's time can be trusted.
type Quality string

const (
	QualityOK         Quality = "ok"
	QualityCorrected  Quality = "corrected"  // corrected at central (e.g. from monotonic time)
	QualityUnverified Quality = "unverified" // the clock was not synchronised and not corrected
)

func (q Quality) rank() int {
	switch q {
	case QualityOK, "":
		return 0
	case QualityCorrected:
		return 1
	default:
		return 2
	}
}

// Flag names on a stay, in the flags column separated by ';'.
const (
	FlagMissingCheckOut = "missing_checkout"
	FlagMissingCheckIn  = "missing_checkin"
	FlagOpen            = "open" // still present at export time
	FlagSplitMidnight   = "split_midnight"
	FlagPickupConfirmed = "pickup_confirmed"
	FlagActivity        = "activity"
	// FlagCorrected: staff or a manager corrected the stay (a correction
	// event; the door's own events are unchanged).
	FlagCorrected = "corrected"
)

// Clock is a local wall-clock time of day in minutes since midnight; 1440
// means 24:00 (end of day). NoTime marks an absent time.
type Clock int

// NoTime is an absent check-in or check-out.
const NoTime Clock = -1

func (c Clock) String() string {
	if c < 0 {
		return ""
	}
	return fmt.Sprintf("%02d:%02d", int(c)/60, int(c)%60)
}

// Stay is one row of the attendance export.
type Stay struct {
	ChildID    string
	ChildName  string
	Group      string
	Date       attendance.Date
	CheckIn    Clock
	CheckOut   Clock
	Minutes    int
	DayType    calendar.DayType
	Location   string
	GuardianID string
	Quality    Quality
	Flags      []string
	// TravelMinutes is the childminder's travel to fetch or bring the child
	// for this stay (seed 004 'Reistijd'), from the optional travel_minutes
	// column; door events never carry it. A profile with travel_is_care
	// bills it as care time.
	TravelMinutes int
	// StayID names the stay for a correction (attendance.Correction.Target):
	// the event id of its check-in, else of its check-out, else of the
	// add_stay correction that made it. Every row of a split stay has it.
	// Not an export column.
	StayID string
}

// Has reports whether s carries flag f.
func (s *Stay) Has(f string) bool {
	for _, g := range s.Flags {
		if g == f {
			return true
		}
	}
	return false
}

// Complete reports whether s has both times (it can be billed).
func (s *Stay) Complete() bool { return s.CheckIn >= 0 && s.CheckOut >= 0 }

// Child is what the export needs to know of a child beyond the events.
type Child struct {
	Name       string
	Group      string // overrides the event's GroupID when set
	GuardianID string
}

// Options configure Build.
type Options struct {
	// Calendar classifies dates and gives the time zone. Required.
	Calendar *calendar.Calendar
	// Location names the location in the location column.
	Location string
	// Child looks a child up; nil or a miss leaves name and guardian empty.
	Child func(id string) (Child, bool)
	// Quality grades an event's time; default: ok when ClockSynced, else
	// unverified.
	Quality func(e attendance.Event) Quality
	// Activity reports whether a child's care on a day was before/after an
	// activity (vacation_activity on vacation days).
	Activity func(childID string, d attendance.Date) bool
	// MaxStay is the longest plausible stay (default 24h). A check-out
	// later than that after its check-in is taken as a forgotten check-out
	// followed by a check-out without check-in (two flagged rows), so a
	// forgotten tap never bills days of care.
	MaxStay time.Duration
	// Now, when set, marks stays still open on Now's local date as open
	// instead of missing_checkout.
	Now func() time.Time
}

// side is one end of a stay: its time and how far it can be trusted.
type side struct {
	at      time.Time
	quality Quality
	ok      bool
}

// interval is a stay before it becomes rows: paired from door events, then
// corrected. ids are the event ids a correction may name it by.
type interval struct {
	id                     string // the stay's id (Stay.StayID)
	child, group, location string
	in, out                side
	confirmed              bool // staff confirmed the pickup (check-out)
	superseded             bool // another check-in came while it was open
	backwards              bool // the check-out came before the check-in
	corrected, removed     bool
}

// Build turns one location's events (check-ins and check-outs, in sequence
// order, times in UTC) into stays sorted by date, child and check-in.
// Correction events (attendance.CorrectionEvent) among them are folded in
// after the pairing, in the order of their time then id (a later correction
// of the same stay wins; the same event twice counts once): a correction
// names a stay by its check-in's or check-out's event id, or by the id of
// the add_stay correction that made it. A removed stay disappears; every
// row of a corrected stay carries the flag corrected, and a time a person
// entered counts as ok. A correction whose stay is not among the events is
// ignored. Other event types are ignored.
func Build(events []attendance.Event, opt Options) ([]Stay, error) {
	if opt.Calendar == nil {
		return nil, fmt.Errorf("stays: Build: no calendar")
	}
	b := builder{opt: opt, loc: opt.Calendar.Location(), dayTypes: map[attendance.Date]calendar.DayType{}}
	if b.opt.Quality == nil {
		b.opt.Quality = func(e attendance.Event) Quality {
			if e.ClockSynced {
				return QualityOK
			}
			return QualityUnverified
		}
	}
	maxStay := b.opt.MaxStay
	if maxStay <= 0 {
		maxStay = 24 * time.Hour
	}
	ivs := make([]*interval, 0, len(events)/2+1)
	byID := map[string]*interval{}
	open := map[string]*interval{}
	var corrections []attendance.Event
	for _, e := range events {
		switch e.Type {
		case attendance.ChildCheckIn:
			if prev, ok := open[e.ChildID]; ok {
				prev.superseded = true
			}
			iv := &interval{id: e.ID, child: e.ChildID, group: e.GroupID, location: e.LocationID,
				in: side{e.Wall, b.opt.Quality(e), true}}
			ivs = append(ivs, iv)
			byID[e.ID] = iv
			open[e.ChildID] = iv
		case attendance.ChildCheckOut:
			out := side{e.Wall, b.opt.Quality(e), true}
			iv, ok := open[e.ChildID]
			if ok {
				delete(open, e.ChildID)
				if start, end := iv.in.at.Truncate(time.Minute), e.Wall.Truncate(time.Minute); end.Sub(start) > maxStay {
					// a forgotten check-out days ago: two flagged rows
					iv.superseded, ok = true, false
				}
			}
			if !ok {
				iv = &interval{id: e.ID, child: e.ChildID, group: e.GroupID, location: e.LocationID}
				ivs = append(ivs, iv)
			}
			iv.out, iv.confirmed = out, e.ConfirmedBy != ""
			byID[e.ID] = iv
		case attendance.CorrectionEvent:
			if e.Correction != nil {
				corrections = append(corrections, e)
			}
		}
	}
	ivs = applyCorrections(ivs, byID, corrections)
	var today attendance.Date
	if opt.Now != nil {
		today = attendance.DateOf(opt.Now().In(b.loc))
	}
	out := make([]Stay, 0, len(ivs))
	for _, iv := range ivs {
		if iv.removed {
			continue
		}
		n := len(out)
		out = b.render(out, iv, maxStay, today)
		if iv.corrected {
			for i := n; i < len(out); i++ {
				out[i].Flags = append(out[i].Flags, FlagCorrected)
			}
		}
	}
	Sort(out)
	return out, nil
}

// applyCorrections folds corrections into the paired stays, in the order of
// their time, then id; an event id seen twice counts once.
func applyCorrections(ivs []*interval, byID map[string]*interval, cs []attendance.Event) []*interval {
	if len(cs) == 0 {
		return ivs
	}
	sort.SliceStable(cs, func(i, j int) bool {
		if c := cs[i].Wall.Compare(cs[j].Wall); c != 0 {
			return c < 0
		}
		return cs[i].ID < cs[j].ID
	})
	seen := map[string]bool{}
	for _, e := range cs {
		if seen[e.ID] {
			continue
		}
		seen[e.ID] = true
		c := e.Correction
		if c.Kind == attendance.AddStay {
			if c.CheckIn.IsZero() || c.CheckOut.IsZero() {
				continue
			}
			iv := &interval{id: e.ID, child: e.ChildID, group: e.GroupID, location: e.LocationID, corrected: true,
				in: side{c.CheckIn, QualityOK, true}, out: side{c.CheckOut, QualityOK, true}}
			ivs = append(ivs, iv)
			byID[e.ID] = iv
			continue
		}
		iv, ok := byID[c.Target]
		if !ok || iv.removed || (e.ChildID != "" && e.ChildID != iv.child) {
			continue
		}
		switch c.Kind {
		case attendance.SetCheckIn:
			if c.CheckIn.IsZero() {
				continue
			}
			iv.in = side{c.CheckIn, QualityOK, true}
		case attendance.SetCheckOut:
			if c.CheckOut.IsZero() {
				continue
			}
			iv.out = side{c.CheckOut, QualityOK, true}
			iv.superseded = false
		case attendance.RemoveStay:
			iv.removed = true
		default:
			continue
		}
		iv.corrected = true
		iv.backwards = false
	}
	return ivs
}

// render appends the rows of one stay.
func (b *builder) render(dst []Stay, iv *interval, maxStay time.Duration, today attendance.Date) []Stay {
	switch {
	case iv.in.ok && iv.out.ok && !iv.superseded:
		return b.closed(dst, iv, maxStay)
	case iv.in.ok && iv.out.ok: // a check-out too long after: two rows
		return append(dst, b.unclosed(iv, FlagMissingCheckOut), b.orphanOut(iv))
	case iv.in.ok:
		flag := FlagMissingCheckOut
		if !iv.superseded && b.opt.Now != nil && attendance.DateOf(iv.in.at.In(b.loc)) == today {
			flag = FlagOpen
		}
		return append(dst, b.unclosed(iv, flag))
	case iv.out.ok:
		return append(dst, b.orphanOut(iv))
	}
	return dst
}

// Sort orders stays by date, child, check-in (absent check-ins first).
func Sort(s []Stay) {
	sort.SliceStable(s, func(i, j int) bool {
		a, b := &s[i], &s[j]
		if a.Date != b.Date {
			return a.Date.Before(b.Date)
		}
		if a.ChildID != b.ChildID {
			return a.ChildID < b.ChildID
		}
		return a.CheckIn < b.CheckIn
	})
}

type builder struct {
	opt      Options
	loc      *time.Location
	dayTypes map[attendance.Date]calendar.DayType
}

func (b *builder) base(iv *interval, d attendance.Date) Stay {
	s := Stay{ChildID: iv.child, Group: iv.group, Date: d, CheckIn: NoTime, CheckOut: NoTime, Location: b.opt.Location, StayID: iv.id}
	if s.Location == "" {
		s.Location = iv.location
	}
	if b.opt.Child != nil {
		if c, ok := b.opt.Child(iv.child); ok {
			s.ChildName, s.GuardianID = c.Name, c.GuardianID
			if c.Group != "" {
				s.Group = c.Group
			}
		}
	}
	dt, ok := b.dayTypes[d]
	if !ok {
		dt = b.opt.Calendar.DayType(d)
		b.dayTypes[d] = dt
	}
	activity := b.opt.Activity != nil && b.opt.Activity(iv.child, d)
	s.DayType = calendar.WithActivity(dt, activity)
	if activity {
		s.Flags = append(s.Flags, FlagActivity)
	}
	return s
}

func clockOf(t time.Time) Clock { return Clock(t.Hour()*60 + t.Minute()) }

func (b *builder) unclosed(iv *interval, flag string) Stay {
	in := iv.in.at.In(b.loc)
	s := b.base(iv, attendance.DateOf(in))
	s.CheckIn = clockOf(in)
	s.Quality = iv.in.quality
	s.Flags = append(s.Flags, flag)
	return s
}

func (b *builder) orphanOut(iv *interval) Stay {
	out := iv.out.at.In(b.loc)
	s := b.base(iv, attendance.DateOf(out))
	s.CheckOut = clockOf(out)
	s.Quality = iv.out.quality
	s.Flags = append(s.Flags, FlagMissingCheckIn)
	if iv.confirmed {
		s.Flags = append(s.Flags, FlagPickupConfirmed)
	}
	return s
}

// closed appends the stay from in to out, split at every local midnight.
func (b *builder) closed(dst []Stay, iv *interval, maxStay time.Duration) []Stay {
	q := iv.in.quality
	if oq := iv.out.quality; oq.rank() > q.rank() {
		q = oq
	}
	start := iv.in.at.In(b.loc).Truncate(time.Minute)
	end := iv.out.at.In(b.loc).Truncate(time.Minute)
	if end.Sub(start) > maxStay {
		return append(dst, b.unclosed(iv, FlagMissingCheckOut), b.orphanOut(iv))
	}
	if end.Before(start) {
		// A clock that went backwards (or a correction that put the
		// check-out before the check-in): keep the row, visible and
		// unbillable.
		s := b.base(iv, attendance.DateOf(start))
		s.CheckIn = clockOf(start)
		s.Quality = QualityUnverified
		s.Flags = append(s.Flags, FlagMissingCheckOut)
		return append(dst, s)
	}
	split := false
	for {
		d := attendance.DateOf(start)
		next := time.Date(d.Year, d.Month, d.Day+1, 0, 0, 0, 0, b.loc)
		s := b.base(iv, d)
		s.CheckIn = clockOf(start)
		s.Quality = q
		if end.Before(next) {
			s.CheckOut = clockOf(end)
			s.Minutes = int(end.Sub(start) / time.Minute)
			if split {
				s.Flags = append(s.Flags, FlagSplitMidnight)
			}
			if iv.confirmed {
				s.Flags = append(s.Flags, FlagPickupConfirmed)
			}
			return append(dst, s)
		}
		split = true
		s.CheckOut = 1440
		s.Minutes = int(next.Sub(start) / time.Minute)
		s.Flags = append(s.Flags, FlagSplitMidnight)
		dst = append(dst, s)
		start = next
	}
}

// FlagsString joins flags for the CSV flags column.
func FlagsString(flags []string) string { return strings.Join(flags, ";") }

// Filter selects stays for an export (the query of GET /api/v1/attendance
// and kioskctl export). Zero fields select everything; From and To are
// inclusive.
type Filter struct {
	From, To attendance.Date
	Location string
	Group    string
	ChildID  string
}

// Keep reports whether s passes f.
func (f Filter) Keep(s *Stay) bool {
	return (f.From.IsZero() || !s.Date.Before(f.From)) && (f.To.IsZero() || !f.To.Before(s.Date)) &&
		(f.Location == "" || s.Location == f.Location) && (f.Group == "" || s.Group == f.Group) &&
		(f.ChildID == "" || s.ChildID == f.ChildID)
}

// Apply returns the stays that pass f, in their order (a new slice).
func (f Filter) Apply(s []Stay) []Stay {
	var out []Stay
	for i := range s {
		if f.Keep(&s[i]) {
			out = append(out, s[i])
		}
	}
	return out
}
