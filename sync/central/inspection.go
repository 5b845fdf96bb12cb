package central

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/calendar"
	"github.com/kinderdeur/kiosk/attendance/ratio"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/attendance/stays"
)

// Span is one person's presence in a group on a day: arrival and
// departure as local clock times (stays.NoTime when missing).
type Span struct {
	ID      string        `json:"id"`
	Name    string        `json:"name"`
	In      stays.Clock   `json:"-"`
	Out     stays.Clock   `json:"-"`
	Quality stays.Quality `json:"time_quality"`
	Flags   []string      `json:"flags,omitempty"`
}

// Point is the state of a group from At until the next point.
type Point struct {
	At           time.Time `json:"at"`
	Clock        int       `json:"minute"` // minutes after local midnight
	Children     int       `json:"children"`
	Staff        int       `json:"staff"`
	Required     int       `json:"required"`
	NotPermitted bool      `json:"not_permitted,omitempty"` // the policy allows no staffing for this group
}

// GroupDay is what the inspection list and the chart show for one group on
// one day.
type GroupDay struct {
	Location roster.Location
	Group    roster.Group
	Date     attendance.Date
	DayType  calendar.DayType
	TZ       *time.Location
	Children []Span
	Staff    []Span
	Timeline []Point // change points, sorted; the first at the day's first arrival
	Report   ratio.DayReport
	Policy   string // the ratio policy version applied
}

// ErrNoGroup is returned for an unknown group.
var ErrNoGroup = errors.New("central: unknown group")

// GroupDay builds the inspection view of one group on one day from the
// location's current roster and central's events (best times).
func (s *Reports) GroupDay(ctx context.Context, locationID, groupID string, date attendance.Date) (GroupDay, error) {
	r, _, err := s.sites.Roster(ctx, locationID)
	if err != nil {
		return GroupDay{}, err
	}
	ix, err := roster.NewIndex(&r)
	if err != nil {
		return GroupDay{}, fmt.Errorf("central: group day: %w", err)
	}
	g, ok := ix.Group(groupID)
	if !ok {
		return GroupDay{}, fmt.Errorf("%w: %q", ErrNoGroup, groupID)
	}
	cal, err := CalendarFor(r.Location)
	if err != nil {
		return GroupDay{}, err
	}
	tz := cal.Location()
	gd := GroupDay{Location: r.Location, Group: *g, Date: date, DayType: cal.DayType(date), TZ: tz}
	st, err := s.Attendance(ctx, AttendanceQuery{From: date, To: date, LocationID: locationID, Group: groupID})
	if err != nil {
		return gd, err
	}
	for _, s := range st {
		gd.Children = append(gd.Children, Span{ID: s.ChildID, Name: s.ChildName, In: s.CheckIn, Out: s.CheckOut, Quality: s.Quality, Flags: s.Flags})
	}
	gd.Staff, err = s.staffSpans(ctx, &r, ix, groupID, date, tz)
	if err != nil {
		return gd, err
	}
	policy, err := ratio.Lookup(g.Policy)
	if err != nil {
		return gd, fmt.Errorf("central: group %s: %w", groupID, err)
	}
	gd.Policy = policy.Version()
	midnight := date.In(tz)
	endOfDay := s.dayEnd(date, tz)
	gd.Timeline = timeline(gd.Children, gd.Staff, midnight, endOfDay, func(ids []string) (int, bool) {
		cs := make([]ratio.Child, 0, len(ids))
		for _, id := range ids {
			age := 0
			if c, ok := ix.Child(id); ok {
				age = c.BirthDate.AgeOn(date)
			}
			cs = append(cs, ratio.Child{Age: age})
		}
		req, err := policy.Required(cs)
		if err != nil {
			return len(ids)/4 + 1, true
		}
		return req.Staff, false
	})
	rule := ratio.DefaultRule()
	for _, w := range r.Location.ThreeHourWindows {
		from, err1 := ratio.ParseClock(w.From)
		to, err2 := ratio.ParseClock(w.Until)
		if err1 == nil && err2 == nil && from < to {
			rule.Windows[w.Weekday] = append(rule.Windows[w.Weekday], ratio.Window{From: from, To: to})
		}
	}
	for wd := range rule.Windows {
		ws := rule.Windows[wd]
		sort.Slice(ws, func(i, j int) bool { return ws[i].From < ws[j].From })
	}
	day := ratio.Day{Date: date, Kind: ratio.DayCare}
	if r.Location.Kind == "bso" || r.Location.Kind == "bko" {
		day.Kind = ratio.BSOSchoolDay
		if gd.DayType == calendar.Vacation || gd.DayType == calendar.SchoolFree {
			day.Kind = ratio.BSOVacationDay
		}
	}
	for _, h := range r.Location.Hours {
		if h.Weekday == date.Weekday() {
			o, err1 := ratio.ParseClock(h.Open)
			c, err2 := ratio.ParseClock(h.Close)
			if err1 == nil && err2 == nil {
				day.Open, day.Close = o, c
			}
		}
	}
	samples := make([]ratio.Sample, len(gd.Timeline))
	for i, p := range gd.Timeline {
		samples[i] = ratio.Sample{At: p.At, Staff: p.Staff, Required: p.Required}
	}
	gd.Report, err = ratio.EvaluateDay(rule, tz, day, samples, endOfDay)
	if err != nil {
		return gd, fmt.Errorf("central: three-hour rule of %s: %w", groupID, err)
	}
	for i := range gd.Report.Alerts {
		a := &gd.Report.Alerts[i]
		a.From, a.To = a.From.In(tz), a.To.In(tz)
	}
	return gd, nil
}

// dayEnd is the next midnight, or now for today.
func (s *Reports) dayEnd(date attendance.Date, tz *time.Location) time.Time {
	next := date.In(tz).AddDate(0, 0, 1)
	if now := s.db.Now(); now.Before(next) && !now.Before(date.In(tz)) {
		return now
	}
	return next
}

// staffSpans folds staff_in/staff_out events of the day into spans of the
// staff working in group (the event's group, else the staff member's first
// group).
func (s *Reports) staffSpans(ctx context.Context, r *roster.Roster, ix *roster.Index, groupID string, date attendance.Date, tz *time.Location) ([]Span, error) {
	start := date.In(tz)
	evs, err := s.events.Events(ctx, EventFilter{LocationID: r.Location.ID, From: start, To: start.AddDate(0, 0, 1)})
	if err != nil {
		return nil, err
	}
	clock := func(t time.Time) stays.Clock {
		t = t.In(tz)
		return stays.Clock(t.Hour()*60 + t.Minute())
	}
	open := map[string]int{} // staff id -> index in out
	var out []Span
	for _, se := range evs {
		e := se.Event
		if e.StaffID == "" || (e.Type != attendance.StaffIn && e.Type != attendance.StaffOut) {
			continue
		}
		g := e.GroupID
		name := e.StaffID
		if s, ok := ix.Staff(e.StaffID); ok {
			name = s.Name
			if g == "" && len(s.Groups) > 0 {
				g = s.Groups[0]
			}
		}
		if g != groupID {
			continue
		}
		q := stays.Quality(se.TimeQuality)
		switch e.Type {
		case attendance.StaffIn:
			if _, ok := open[e.StaffID]; ok {
				continue // a second clock-in while in: keep the first
			}
			open[e.StaffID] = len(out)
			out = append(out, Span{ID: e.StaffID, Name: name, In: clock(se.Time), Out: stays.NoTime, Quality: q})
		case attendance.StaffOut:
			i, ok := open[e.StaffID]
			if !ok {
				out = append(out, Span{ID: e.StaffID, Name: name, In: stays.NoTime, Out: clock(se.Time), Quality: q, Flags: []string{stays.FlagMissingCheckIn}})
				continue
			}
			delete(open, e.StaffID)
			out[i].Out = clock(se.Time)
			if q != stays.QualityOK && out[i].Quality == stays.QualityOK {
				out[i].Quality = q
			}
		}
	}
	for _, i := range open {
		out[i].Flags = append(out[i].Flags, stays.FlagMissingCheckOut)
	}
	return out, nil
}

// timeline computes the step function of children present, staff present
// and staff required over the day. A span without departure lasts until
// end; one without arrival starts at midnight.
func timeline(children, staff []Span, midnight, end time.Time, required func(childIDs []string) (int, bool)) []Point {
	endMin := int(end.Sub(midnight) / time.Minute)
	type change struct {
		at    int
		child bool
		id    string
		in    bool
	}
	var ch []change
	add := func(s Span, child bool) {
		in, out := int(s.In), int(s.Out)
		if s.In < 0 {
			in = 0
		}
		if s.Out < 0 || out > endMin {
			out = endMin
		}
		if out <= in {
			return
		}
		ch = append(ch, change{in, child, s.ID, true}, change{out, child, s.ID, false})
	}
	for _, s := range children {
		add(s, true)
	}
	for _, s := range staff {
		add(s, false)
	}
	sort.SliceStable(ch, func(i, j int) bool { return ch[i].at < ch[j].at })
	kids := map[string]int{}
	adults := map[string]int{}
	var pts []Point
	for i := 0; i < len(ch); {
		at := ch[i].at
		for ; i < len(ch) && ch[i].at == at; i++ {
			m := adults
			if ch[i].child {
				m = kids
			}
			if ch[i].in {
				m[ch[i].id]++
			} else if m[ch[i].id]--; m[ch[i].id] <= 0 {
				delete(m, ch[i].id)
			}
		}
		ids := make([]string, 0, len(kids))
		for id := range kids {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		req, bad := 0, false
		if len(ids) > 0 {
			req, bad = required(ids)
		}
		p := Point{At: midnight.Add(time.Duration(at) * time.Minute), Clock: at, Children: len(ids), Staff: len(adults), Required: req, NotPermitted: bad}
		if n := len(pts); n > 0 && pts[n-1].Children == p.Children && pts[n-1].Staff == p.Staff && pts[n-1].Required == p.Required {
			continue
		}
		pts = append(pts, p)
	}
	return pts
}
