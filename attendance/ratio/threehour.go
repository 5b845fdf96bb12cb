package ratio

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
)

// The three-hour rule (3-uursregeling): dagopvang may staff a group below
// its ratio for at most 3 hours a day, only at the times the pedagogical
// plan names (they may differ per weekday), only on days it is open at
// least 10 consecutive hours, and always with at least half the required
// staff. BSO: at most 30 minutes a day on school days (before and after
// school, free afternoons); on vacation and school-free days as dagopvang.
//
// Deviation time is real elapsed time; windows and opening hours are wall
// clock in the location's zone, so on DST change days in Europe/Amsterdam
// a window 02:00-03:00 is empty in March and two hours long in October.

// Clock is a wall-clock time of day in minutes after midnight, 0 (00:00) to
// 1440 (24:00, the end of the day).
type Clock int

// ParseClock parses "HH:MM" from 00:00 to 24:00.
func ParseClock(s string) (Clock, error) {
	hh, mm, ok := strings.Cut(s, ":")
	if !ok || len(hh) != 2 || len(mm) != 2 {
		return 0, fmt.Errorf("ratio: time %q: want HH:MM", s)
	}
	h, err1 := strconv.ParseUint(hh, 10, 8)
	m, err2 := strconv.ParseUint(mm, 10, 8)
	if err1 != nil || err2 != nil || m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("ratio: time %q: want HH:MM from 00:00 to 24:00", s)
	}
	return Clock(h*60 + m), nil
}

func (c Clock) String() string { return fmt.Sprintf("%02d:%02d", int(c)/60, int(c)%60) }

// Window is a wall-clock period [From, To) of a day.
type Window struct{ From, To Clock }

func (w Window) String() string { return w.From.String() + "-" + w.To.String() }

func (w Window) valid() bool { return w.From >= 0 && w.From < w.To && w.To <= 24*60 }

// Windows holds the windows of each weekday, sorted and not overlapping.
type Windows map[time.Weekday][]Window

// String formats the windows in the form ParseWindows reads, one entry per
// day from sun to sat.
func (ws Windows) String() string {
	var b strings.Builder
	for d := time.Sunday; d <= time.Saturday; d++ {
		list, ok := ws[d]
		if !ok {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString(strings.ToLower(d.String()[:3]))
		b.WriteByte('=')
		for i, w := range list {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(w.String())
		}
	}
	return b.String()
}

var weekdayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// ParseWindows parses the windows of the pedagogical plan, e.g.
//
//	mon-fri=07:00-08:30,17:00-18:30; wed=07:00-08:30,12:30-14:00
//
// Entries are separated by ";", each a day (sun, mon, ..., sat) or a day
// range (mon-fri; it may not wrap past sat) "=" comma-separated HH:MM-HH:MM
// windows. A day may appear once; its windows may not overlap. Days without
// an entry have no window: any deviation on them is outside a window. The
// empty string means no windows at all.
func ParseWindows(s string) (Windows, error) {
	ws := Windows{}
	for entry := range strings.SplitSeq(s, ";") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		days, spans, ok := strings.Cut(entry, "=")
		if !ok {
			return nil, fmt.Errorf("ratio: windows entry %q: want DAY=HH:MM-HH:MM[,...]", entry)
		}
		first, last, err := parseDayRange(strings.TrimSpace(days))
		if err != nil {
			return nil, err
		}
		var list []Window
		for span := range strings.SplitSeq(spans, ",") {
			w, err := parseWindow(strings.TrimSpace(span))
			if err != nil {
				return nil, fmt.Errorf("ratio: windows entry %q: %w", entry, err)
			}
			list = append(list, w)
		}
		list, err = sortWindows(list)
		if err != nil {
			return nil, fmt.Errorf("ratio: windows entry %q: %w", entry, err)
		}
		for d := first; d <= last; d++ {
			if _, dup := ws[d]; dup {
				return nil, fmt.Errorf("ratio: windows: %s given twice", strings.ToLower(d.String()[:3]))
			}
			ws[d] = list
		}
	}
	return ws, nil
}

func parseDayRange(s string) (first, last time.Weekday, err error) {
	a, b, isRange := strings.Cut(s, "-")
	first, ok := weekdayNames[strings.ToLower(a)]
	if !ok {
		return 0, 0, fmt.Errorf("ratio: windows: day %q: want sun, mon, tue, wed, thu, fri or sat", a)
	}
	if !isRange {
		return first, first, nil
	}
	last, ok = weekdayNames[strings.ToLower(b)]
	if !ok {
		return 0, 0, fmt.Errorf("ratio: windows: day %q: want sun, mon, tue, wed, thu, fri or sat", b)
	}
	if last < first {
		return 0, 0, fmt.Errorf("ratio: windows: day range %q runs backwards (weeks run sun to sat)", s)
	}
	return first, last, nil
}

func parseWindow(s string) (Window, error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return Window{}, fmt.Errorf("window %q: want HH:MM-HH:MM", s)
	}
	from, err := ParseClock(strings.TrimSpace(a))
	if err != nil {
		return Window{}, fmt.Errorf("window %q: %w", s, err)
	}
	to, err := ParseClock(strings.TrimSpace(b))
	if err != nil {
		return Window{}, fmt.Errorf("window %q: %w", s, err)
	}
	w := Window{from, to}
	if !w.valid() {
		return Window{}, fmt.Errorf("window %q: must end after it starts", s)
	}
	return w, nil
}

// sortWindows sorts a copy of list and rejects invalid or overlapping ones.
func sortWindows(list []Window) ([]Window, error) {
	list = slices.Clone(list)
	slices.SortFunc(list, func(a, b Window) int { return int(a.From - b.From) })
	for i, w := range list {
		if !w.valid() {
			return nil, fmt.Errorf("window %s: must lie within 00:00-24:00 and end after it starts", w)
		}
		if i > 0 && w.From < list[i-1].To {
			return nil, fmt.Errorf("windows %s and %s overlap", list[i-1], w)
		}
	}
	return list, nil
}

// DayKind says which budget a day has. The caller knows the calendar.
type DayKind int

const (
	// DayCare is a dagopvang day: the 3-hour budget.
	DayCare DayKind = iota
	// BSOSchoolDay is a BSO school day (before/after school, free
	// afternoons): the 30-minute budget.
	BSOSchoolDay
	// BSOVacationDay is a BSO vacation or school-free day: as dagopvang.
	BSOVacationDay
)

func (k DayKind) String() string {
	switch k {
	case DayCare:
		return "daycare"
	case BSOSchoolDay:
		return "bso_school_day"
	case BSOVacationDay:
		return "bso_vacation_day"
	}
	return "DayKind(" + strconv.Itoa(int(k)) + ")"
}

// Rounding says how "half the required staff" rounds.
type Rounding int

const (
	RoundUp   Rounding = iota // ceil(required/2): the default (unconfirmed)
	RoundDown                 // floor(required/2), but at least 1
)

// Rule holds the three-hour rule settings of a location or group.
type Rule struct {
	// Windows are the times the pedagogical plan allows a deviation, per
	// weekday (dagopvang and BSO school days).
	Windows Windows
	// VacationWindows, when not nil, replace Windows on BSO vacation days.
	VacationWindows Windows
	// Budget is the deviation allowed per day for DayCare and BSOVacationDay
	// (3 h); SchoolDayBudget for BSOSchoolDay (30 min).
	Budget, SchoolDayBudget time.Duration
	// MinOpen: a deviation is allowed only on days open at least this long
	// in one stretch (10 h) for DayCare and BSOVacationDay;
	// SchoolDayMinOpen for BSOSchoolDay (DOMAIN.md names none: 0).
	MinOpen, SchoolDayMinOpen time.Duration
	// Half is how at-least-half-the-staff rounds (RoundUp, unconfirmed).
	Half Rounding
}

// DefaultRule returns the rule with DOMAIN.md's figures and no windows.
func DefaultRule() Rule {
	return Rule{
		Windows:         Windows{},
		Budget:          3 * time.Hour,
		SchoolDayBudget: 30 * time.Minute,
		MinOpen:         10 * time.Hour,
		Half:            RoundUp,
	}
}

// ErrInvalidRule is wrapped by the errors of Rule.Validate.
var ErrInvalidRule = errors.New("invalid three-hour rule")

// Validate checks the settings; EvaluateDay and NewTracker call it.
func (r Rule) Validate() error {
	for _, ws := range []Windows{r.Windows, r.VacationWindows} {
		for d, list := range ws {
			if d < time.Sunday || d > time.Saturday {
				return fmt.Errorf("ratio: %w: weekday %d", ErrInvalidRule, d)
			}
			sorted, err := sortWindows(list)
			if err != nil {
				return fmt.Errorf("ratio: %w: %s: %w", ErrInvalidRule, d, err)
			}
			if !slices.Equal(sorted, list) {
				return fmt.Errorf("ratio: %w: %s: windows not sorted", ErrInvalidRule, d)
			}
		}
	}
	if r.Budget < 0 || r.SchoolDayBudget < 0 || r.MinOpen < 0 || r.SchoolDayMinOpen < 0 {
		return fmt.Errorf("ratio: %w: negative duration", ErrInvalidRule)
	}
	if r.Half != RoundUp && r.Half != RoundDown {
		return fmt.Errorf("ratio: %w: rounding %d", ErrInvalidRule, r.Half)
	}
	return nil
}

// Floor is the least staff allowed while deviating: half the required,
// rounded as configured, and never zero while staff are required (rounding
// half of 1 down must not leave children alone).
func (r Rule) Floor(required int) int {
	if r.Half == RoundDown && required > 1 {
		return required / 2
	}
	return (required + 1) / 2
}

// Day is one calendar day as the caller's calendar knows it.
type Day struct {
	Date attendance.Date
	Kind DayKind
	// Open and Close are the opening hours that day (wall clock); a closed
	// day has Close <= Open.
	Open, Close Clock
}

// Sample is the state of a group from At until the next sample.
type Sample struct {
	At       time.Time
	Staff    int // staff present
	Required int // staff required by the ratio policy
}

func (s Sample) below() bool { return s.Staff < s.Required }

// AlertKind names why a deviation breaks the three-hour rule. The strings
// are stable: the UI and logs key on them.
type AlertKind string

const (
	// AlertOutsideWindow: below ratio at a time no window allows.
	AlertOutsideWindow AlertKind = "outside_window"
	// AlertOverBudget: below ratio after the day's budget is used up.
	AlertOverBudget AlertKind = "over_budget"
	// AlertBelowFloor: fewer than half the required staff present.
	AlertBelowFloor AlertKind = "below_floor"
	// AlertShortOpening: below ratio on a day not open long enough for any
	// deviation (less than 10 consecutive hours).
	AlertShortOpening AlertKind = "short_opening"
)

// Alert is one stretch of time during which a deviation breaks the rule.
// Kinds are independent: a stretch can raise several. A report lists its
// alerts by From, then Kind.
type Alert struct {
	Kind     AlertKind
	From, To time.Time
	// Ongoing reports that the stretch runs up to the end of the report
	// (now, for a Tracker) on a day not yet over.
	Ongoing         bool
	Staff, Required int
}

// Message words the alert in English, for logs; the UI words it by Kind.
func (a Alert) Message() string {
	switch a.Kind {
	case AlertOutsideWindow:
		return fmt.Sprintf("below ratio (%d staff, %d required) outside the plan's windows", a.Staff, a.Required)
	case AlertOverBudget:
		return fmt.Sprintf("below ratio (%d staff, %d required) beyond the day's budget", a.Staff, a.Required)
	case AlertBelowFloor:
		return fmt.Sprintf("%d staff, fewer than half of the %d required", a.Staff, a.Required)
	case AlertShortOpening:
		return fmt.Sprintf("below ratio (%d staff, %d required) on a day not open long enough to deviate", a.Staff, a.Required)
	}
	return fmt.Sprintf("%s (%d staff, %d required)", a.Kind, a.Staff, a.Required)
}

// DayReport is the three-hour rule state of one group for one day.
type DayReport struct {
	Date attendance.Date
	Kind DayKind
	// Budget is the day's allowance; OpenFor how long the day is open
	// (real time); Qualifies whether that is long enough to deviate at all.
	Budget    time.Duration
	OpenFor   time.Duration
	Qualifies bool
	// Below is the total time below ratio (inside windows or not);
	// InWindow the part of it inside a window.
	Below, InWindow time.Duration
	Alerts          []Alert
}

// BelowMinutes is Below in whole minutes, rounded up.
func (d DayReport) BelowMinutes() int { return int((d.Below + time.Minute - 1) / time.Minute) }

// Remaining is the budget left (zero when used up or the day does not
// qualify).
func (d DayReport) Remaining() time.Duration {
	if !d.Qualifies || d.Below >= d.Budget {
		return 0
	}
	return d.Budget - d.Below
}

// Ongoing returns the alerts still running at the end of the report.
func (d DayReport) Ongoing() []Alert {
	var out []Alert
	for _, a := range d.Alerts {
		if a.Ongoing {
			out = append(out, a)
		}
	}
	return out
}

// ErrTimeline is wrapped when a timeline is out of order or has negative
// counts.
var ErrTimeline = errors.New("invalid timeline")

// span is a half-open real-time interval.
type span struct{ from, to time.Time }

// wallSpans returns the instants of date whose wall clock in loc lies in
// [from, to): one span on ordinary days, none for a window inside the
// spring-forward gap, two for a window that straddles the repeated hour in
// autumn.
func wallSpans(date attendance.Date, loc *time.Location, from, to Clock) []span {
	start := date.In(loc)
	end := nextDay(date).In(loc)
	var out []span
	for piece := start; piece.Before(end); {
		_, zoneEnd := piece.ZoneBounds()
		pieceEnd := end
		if !zoneEnd.IsZero() && zoneEnd.Before(end) {
			pieceEnd = zoneEnd
		}
		// Within a piece the offset is fixed, so wall time grows with real time.
		h, m, s := piece.Clock()
		wall := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second
		if piece.Equal(start) {
			wall = 0
		}
		lo := max(time.Duration(from)*time.Minute, wall)
		hi := min(time.Duration(to)*time.Minute, wall+pieceEnd.Sub(piece))
		if lo < hi {
			sp := span{piece.Add(lo - wall), piece.Add(hi - wall)}
			if n := len(out); n > 0 && out[n-1].to.Equal(sp.from) {
				out[n-1].to = sp.to
			} else {
				out = append(out, sp)
			}
		}
		piece = pieceEnd
	}
	return out
}

func nextDay(d attendance.Date) attendance.Date {
	return attendance.DateOf(time.Date(d.Year, d.Month, d.Day+1, 0, 0, 0, 0, time.UTC))
}

// EvaluateDay applies the rule to one group's timeline for one day, from
// the day's midnight to until (or the next midnight, if earlier). Each
// sample holds until the next; the state before the first sample is "no
// deviation"; samples before the day are carried into it. Pass the next
// midnight (or any later time) as until for a whole day, now for a day in
// progress. The inspection list and the Tracker both use it.
func EvaluateDay(r Rule, loc *time.Location, day Day, timeline []Sample, until time.Time) (DayReport, error) {
	if loc == nil {
		return DayReport{}, errors.New("ratio: evaluate day: nil location")
	}
	if err := r.Validate(); err != nil {
		return DayReport{}, err
	}
	for i, s := range timeline {
		if s.Staff < 0 || s.Required < 0 {
			return DayReport{}, fmt.Errorf("ratio: sample %d at %s: negative count: %w", i, s.At.Format(time.RFC3339), ErrTimeline)
		}
		if i > 0 && s.At.Before(timeline[i-1].At) {
			return DayReport{}, fmt.Errorf("ratio: sample %d at %s before the one before: %w", i, s.At.Format(time.RFC3339), ErrTimeline)
		}
	}

	rep := DayReport{Date: day.Date, Kind: day.Kind}
	windows, minOpen := r.Windows, r.MinOpen
	rep.Budget = r.Budget
	switch day.Kind {
	case BSOSchoolDay:
		rep.Budget, minOpen = r.SchoolDayBudget, r.SchoolDayMinOpen
	case BSOVacationDay:
		if r.VacationWindows != nil {
			windows = r.VacationWindows
		}
	}
	if day.Close > day.Open {
		for _, sp := range wallSpans(day.Date, loc, day.Open, day.Close) {
			rep.OpenFor += sp.to.Sub(sp.from)
		}
	}
	rep.Qualifies = rep.OpenFor >= minOpen

	var allowed []span
	for _, w := range windows[day.Date.Weekday()] {
		allowed = append(allowed, wallSpans(day.Date, loc, w.From, w.To)...)
	}
	slices.SortFunc(allowed, func(a, b span) int { return a.from.Compare(b.from) })

	dayStart, dayEnd := day.Date.In(loc), nextDay(day.Date).In(loc)
	end := dayEnd
	if until.Before(end) {
		end = until
	}
	add := func(kind AlertKind, from, to time.Time, s Sample) {
		if !from.Before(to) {
			return
		}
		// Extend the latest alert of this kind when it ends where this starts.
		for i := len(rep.Alerts) - 1; i >= 0; i-- {
			if last := &rep.Alerts[i]; last.Kind == kind {
				if last.To.Equal(from) && last.Staff == s.Staff && last.Required == s.Required {
					last.To = to
					return
				}
				break
			}
		}
		rep.Alerts = append(rep.Alerts, Alert{Kind: kind, From: from, To: to, Staff: s.Staff, Required: s.Required})
	}

	// stillBelow: the state at end is below ratio and no sample replaces
	// it at end, so alerts reaching end are ongoing.
	stillBelow := false
	for i, s := range timeline {
		from, to := s.At, end
		if i+1 < len(timeline) && !timeline[i+1].At.After(to) {
			to = timeline[i+1].At
		} else if !s.At.After(end) {
			stillBelow = s.below()
		}
		if from.Before(dayStart) {
			from = dayStart
		}
		if !from.Before(to) || !s.below() {
			continue
		}
		length := to.Sub(from)
		// Budget first: the part of this stretch past the allowance.
		if used := rep.Below; used+length > rep.Budget {
			overFrom := from
			if used < rep.Budget {
				overFrom = from.Add(rep.Budget - used)
			}
			add(AlertOverBudget, overFrom, to, s)
		}
		rep.Below += length
		if !rep.Qualifies {
			add(AlertShortOpening, from, to, s)
		}
		if f := r.Floor(s.Required); s.Staff < f {
			add(AlertBelowFloor, from, to, s)
		}
		// Split by the windows: inside counts as InWindow, outside alerts.
		cur := from
		for _, w := range allowed {
			if !w.to.After(cur) || !w.from.Before(to) {
				continue
			}
			if w.from.After(cur) {
				add(AlertOutsideWindow, cur, w.from, s)
				cur = w.from
			}
			inEnd := w.to
			if to.Before(inEnd) {
				inEnd = to
			}
			rep.InWindow += inEnd.Sub(cur)
			cur = inEnd
		}
		if cur.Before(to) {
			add(AlertOutsideWindow, cur, to, s)
		}
	}
	slices.SortStableFunc(rep.Alerts, func(a, b Alert) int {
		if c := a.From.Compare(b.From); c != 0 {
			return c
		}
		return strings.Compare(string(a.Kind), string(b.Kind))
	})
	if stillBelow && end.Before(dayEnd) {
		for i := range rep.Alerts {
			rep.Alerts[i].Ongoing = rep.Alerts[i].To.Equal(end)
		}
	}
	return rep, nil
}
