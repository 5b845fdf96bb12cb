package billing

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/calendar"
	"github.com/kinderdeur/kiosk/attendance/stays"
)

// Absences: the attendance CSV carries only actual stays, but the seeds bill
// some agreed (planned) care that did not take place. An absences CSV lists
// those days:
//
//	child_id,date,kind,agreed_minutes[,note]
//
// one row per child per day (a duplicate child+date is an error), kind one of
// AbsenceKinds, agreed_minutes the care agreed for that day (0-1440, whole
// minutes), note free text (not used for pricing). A profile's "absences"
// section (AbsenceRules) decides what each kind bills; every absence row
// becomes one invoice line (Minutes 0, Stays 0, the flag "absence_<kind>")
// named after its rule, also when it bills nothing, so the invoice shows why.
//
// Spells (limit_days, limit_calendar_days): a spell is a run of a child's
// absence rows of the same kind in date order. The next row of that kind
// continues the spell unless (a) the child has another absence row of a
// different kind between the two dates, (b) the child has a stay (any row
// of the attendance CSV) strictly between the two dates, or (c) the next
// row is more than break_days (default 7) calendar days after the previous
// one. Days without a row (weekends, days the child is not booked) neither
// count nor break a spell: a spell is the consecutive AGREED days the child
// was absent. limit_days counts those rows (De Burcht: the first two sick
// days); limit_calendar_days counts calendar days from the spell's first
// row, that day included (Bernefertier: one week = the first sick day and
// the 6 days after it).
//
// An absence row on a day the child also has a stay is the part of the
// agreed care the child did not take (sent home sick, fetched early):
// agreed_minutes is the whole day's agreed care, and the row bills what the
// day's stay lines did not, max(0, round(agreed) - billed minutes of the
// day's stay lines), so a day never bills more than its agreed minutes or
// its actual care, whichever is more. A rule's same_day_rule, when set,
// names such a row and bills it outside the rule's limit (seed 002: the
// hours a child is not present because it fell ill during care are billed
// 'op de gebruikelijke wijze', whatever the one-week limit of an absent
// sick child says).

// AbsenceKind is the reason care that was agreed did not take place.
type AbsenceKind string

// Absence kinds.
const (
	AbsenceSick         AbsenceKind = "sick"          // the child was ill
	AbsenceLateCancel   AbsenceKind = "late_cancel"   // cancelled less than 48 h before the agreed start
	AbsenceCancel       AbsenceKind = "cancel"        // cancelled in time
	AbsenceProviderAway AbsenceKind = "provider_away" // the childminder/location was closed, ill or away
	// AbsenceShortDay: the child came, but for less than the agreed time
	// (fetched early, brought late) without cancelling in time.
	AbsenceShortDay AbsenceKind = "short_day"
)

// AbsenceKinds lists the kinds in a stable order.
var AbsenceKinds = []AbsenceKind{AbsenceSick, AbsenceLateCancel, AbsenceCancel, AbsenceProviderAway, AbsenceShortDay}

// ParseAbsenceKind checks s against AbsenceKinds.
func ParseAbsenceKind(s string) (AbsenceKind, error) {
	for _, k := range AbsenceKinds {
		if string(k) == s {
			return k, nil
		}
	}
	names := make([]string, len(AbsenceKinds))
	for i, k := range AbsenceKinds {
		names[i] = string(k)
	}
	return "", fmt.Errorf("%w %q (want %s)", ErrAbsenceKind, s, strings.Join(names, ", "))
}

// Absence is one agreed day of care that did not take place.
type Absence struct {
	ChildID       string
	Date          attendance.Date
	Kind          AbsenceKind
	AgreedMinutes int
	Note          string
}

// AbsenceColumns is the absences CSV header; note is optional, the other
// four are required. Columns are found by name, in any order.
var AbsenceColumns = []string{"child_id", "date", "kind", "agreed_minutes", "note"}

// Sentinel errors of ReadAbsences (wrapped in *LineError within LinesError).
var (
	ErrAbsenceColumn    = errors.New("absences: bad header")
	ErrAbsenceKind      = errors.New("unknown absence kind")
	ErrAbsenceDate      = errors.New("absences: bad date")
	ErrAbsenceMinutes   = errors.New("absences: bad agreed_minutes")
	ErrAbsenceDuplicate = errors.New("absences: duplicate child and date")
	ErrAbsenceValue     = errors.New("absences: bad value")
)

// FlagAbsencePrefix starts the flag of an absence line: "absence_sick", ...
const FlagAbsencePrefix = "absence_"

// IsAbsence reports whether l is an absence line (agreed care that did not
// take place) and its kind.
func IsAbsence(l *Line) (AbsenceKind, bool) {
	for _, f := range l.Flags {
		if k, ok := strings.CutPrefix(f, FlagAbsencePrefix); ok {
			return AbsenceKind(k), true
		}
	}
	return "", false
}

// ReadAbsences reads the absences CSV (AbsenceColumns). Every error is
// reported with its line and column; on error nothing is returned. Rows are
// returned sorted by child and date.
func ReadAbsences(r io.Reader) ([]Absence, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	col, errs := readHeader(cr, AbsenceColumns, AbsenceColumns[:4], ErrAbsenceColumn)
	if len(errs) > 0 {
		return nil, linesError(errs)
	}
	type key struct {
		child string
		date  attendance.Date
	}
	firstLine := map[key]int{}
	var out []Absence
	eachRow(cr, col, ErrAbsenceValue, &errs, func(line int, get func(string) string) {
		bad := func(c string, sentinel error, f string, a ...any) {
			errs = append(errs, &LineError{Line: line, Column: c, Err: fmt.Errorf("%w: "+f, append([]any{sentinel}, a...)...)})
		}
		a := Absence{ChildID: get("child_id"), Note: get("note")}
		rowOK := true
		if a.ChildID == "" {
			bad("child_id", ErrAbsenceValue, "empty")
			rowOK = false
		}
		if s := get("date"); s == "" {
			bad("date", ErrAbsenceDate, "empty")
			rowOK = false
		} else if d, err := attendance.ParseDate(s); err != nil {
			bad("date", ErrAbsenceDate, "%v", err)
			rowOK = false
		} else {
			a.Date = d
		}
		if k, err := ParseAbsenceKind(get("kind")); err != nil {
			errs = append(errs, &LineError{Line: line, Column: "kind", Err: err})
		} else {
			a.Kind = k
		}
		if s := get("agreed_minutes"); s == "" {
			bad("agreed_minutes", ErrAbsenceMinutes, "empty (want whole minutes 0-1440)")
		} else if v, err := strconv.Atoi(s); err != nil || v < 0 || v > 1440 || strings.HasPrefix(s, "+") {
			bad("agreed_minutes", ErrAbsenceMinutes, "%q: want whole minutes 0-1440", s)
		} else {
			a.AgreedMinutes = v
		}
		if rowOK {
			k := key{a.ChildID, a.Date}
			if first, dup := firstLine[k]; dup {
				bad("date", ErrAbsenceDuplicate, "%s %s already on line %d", a.ChildID, a.Date, first)
			} else {
				firstLine[k] = line
			}
		}
		out = append(out, a)
	})
	if len(errs) > 0 {
		return nil, linesError(errs)
	}
	SortAbsences(out)
	return out, nil
}

// SortAbsences sorts by child, then date.
func SortAbsences(a []Absence) {
	sort.SliceStable(a, func(i, j int) bool {
		if a[i].ChildID != a[j].ChildID {
			return a[i].ChildID < a[j].ChildID
		}
		return a[i].Date.Before(a[j].Date)
	})
}

// AbsenceRules is a profile's "absences" section.
type AbsenceRules struct {
	// Method is the time method that prices billed absence minutes: its
	// rounding (applied to the agreed minutes of the day), its (contract)
	// rate and the profile's day-type multipliers; not its day minimum.
	Method string `json:"method"`
	// Kinds maps an absence kind to its rule. A kind without an entry bills
	// nothing, with the rule "<profile>/absence-not-billed".
	Kinds map[AbsenceKind]AbsenceRule `json:"kinds"`
}

// AbsenceRule says what one absence kind bills.
type AbsenceRule struct {
	// Bill: "agreed" (the agreed minutes, rounded by the method) or "none".
	Bill string `json:"bill"`
	// Rule names the line: "<profile>/<rule>".
	Rule string `json:"rule"`
	// LimitDays bills only the first LimitDays rows of a spell (0 = no limit).
	LimitDays int `json:"limit_days,omitempty"`
	// LimitCalendarDays bills only rows less than LimitCalendarDays calendar
	// days after the spell's first row (0 = no limit).
	LimitCalendarDays int `json:"limit_calendar_days,omitempty"`
	// OverLimitRule names the unbilled lines past a limit.
	OverLimitRule string `json:"over_limit_rule,omitempty"`
	// BreakDays: a gap of more calendar days than this between two rows
	// starts a new spell (0 = DefaultBreakDays).
	BreakDays int `json:"break_days,omitempty"`
	// SameDayRule names a row on a day with a stay and bills it as agreed,
	// outside the limit ("" = such a row follows Bill and the limit).
	SameDayRule string `json:"same_day_rule,omitempty"`
}

// DefaultBreakDays is the largest gap, in calendar days, between two absence
// rows of one spell when a rule sets no break_days: a child booked one day
// a week who is ill on two successive booked days is one spell.
const DefaultBreakDays = 7

func validRuleName(s string) bool { return s != "" && !strings.ContainsAny(s, "/ ,\n+") }

func (a *AbsenceRules) validate(p *Profile, bad func(key, f string, args ...any) error) error {
	m, ok := p.Methods[a.Method]
	if !ok || m.Kind != "time" {
		return bad("absences.method", "%q: want a time method", a.Method)
	}
	kinds := make([]string, 0, len(a.Kinds))
	for k := range a.Kinds {
		kinds = append(kinds, string(k))
	}
	sort.Strings(kinds)
	for _, ks := range kinds {
		k := AbsenceKind(ks)
		key := "absences.kinds." + ks
		if _, err := ParseAbsenceKind(ks); err != nil {
			return bad(key, "%v", err)
		}
		r := a.Kinds[k]
		switch r.Bill {
		case "agreed", "none":
		default:
			return bad(key+".bill", "%q: want agreed or none", r.Bill)
		}
		if !validRuleName(r.Rule) {
			return bad(key+".rule", "%q: want a name without '/', '+', ',' or spaces", r.Rule)
		}
		if r.LimitDays < 0 || r.LimitDays > 366 {
			return bad(key+".limit_days", "%d: want 0-366", r.LimitDays)
		}
		if r.LimitCalendarDays < 0 || r.LimitCalendarDays > 366 {
			return bad(key+".limit_calendar_days", "%d: want 0-366", r.LimitCalendarDays)
		}
		if r.LimitDays > 0 && r.LimitCalendarDays > 0 {
			return bad(key+".limit_calendar_days", "set limit_days or limit_calendar_days, not both")
		}
		limited := r.LimitDays > 0 || r.LimitCalendarDays > 0
		if limited && r.Bill != "agreed" {
			return bad(key+".bill", "a limit needs bill agreed")
		}
		if limited && !validRuleName(r.OverLimitRule) {
			return bad(key+".over_limit_rule", "%q: a limited rule needs a name for the days past the limit", r.OverLimitRule)
		}
		if !limited && r.OverLimitRule != "" {
			return bad(key+".over_limit_rule", "only with limit_days or limit_calendar_days")
		}
		if r.SameDayRule != "" && !validRuleName(r.SameDayRule) {
			return bad(key+".same_day_rule", "%q: want a name without '/', '+', ',' or spaces", r.SameDayRule)
		}
		if r.BreakDays < 0 || r.BreakDays > 366 {
			return bad(key+".break_days", "%d: want 0-366", r.BreakDays)
		}
	}
	return nil
}

// weekendOrWeekday is the day type of absences when no calendar is given.
func weekendOrWeekday(d attendance.Date) calendar.DayType {
	if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return calendar.Weekend
	}
	return calendar.Weekday
}

// daysBetween is the number of calendar days from a to b.
func daysBetween(a, b attendance.Date) int {
	return int(b.In(time.UTC).Sub(a.In(time.UTC)).Hours()+12) / 24
}

// billAbsences prices absence rows (sorted by child and date) into lines in
// the same order; counts says which lines count toward a monthly minimum.
//
// stayLines are the priced stay lines (sorted by child and date): an
// absence on a day with a stay bills only what they did not.
func (e *Engine) billAbsences(abs []Absence, in []stays.Stay, stayLines []Line, dayType func(attendance.Date) calendar.DayType) ([]Line, []bool) {
	if dayType == nil {
		dayType = weekendOrWeekday
	}
	// Stay dates per child (spell breaks) and a name/guardian fallback.
	type who struct{ name, guardian string }
	want := map[string]bool{}
	for i := range abs {
		want[abs[i].ChildID] = true
	}
	stayDates := map[string][]attendance.Date{}
	names := map[string]who{}
	for i := range in {
		s := &in[i]
		if !want[s.ChildID] {
			continue
		}
		stayDates[s.ChildID] = append(stayDates[s.ChildID], s.Date)
		w := names[s.ChildID]
		if w.name == "" {
			w.name = s.ChildName
		}
		if w.guardian == "" {
			w.guardian = s.GuardianID
		}
		names[s.ChildID] = w
	}
	for _, d := range stayDates {
		sort.Slice(d, func(i, j int) bool { return d[i].Before(d[j]) })
	}
	stayBetween := func(child string, a, b attendance.Date) bool {
		d := stayDates[child]
		i := sort.Search(len(d), func(i int) bool { return a.Before(d[i]) }) // first date > a
		return i < len(d) && d[i].Before(b)
	}
	// Billed minutes of the stay lines per child and day, for children with
	// absences only.
	type childDay struct {
		child string
		date  attendance.Date
	}
	stayBilled := map[childDay]int{}
	for i := range stayLines {
		l := &stayLines[i]
		if want[l.ChildID] && l.Stays > 0 {
			stayBilled[childDay{l.ChildID, l.Date}] += l.BilledMinutes
		}
	}
	var rules *AbsenceRules
	var m Method
	if e.p.Absences != nil {
		rules = e.p.Absences
		m = e.p.Methods[rules.Method]
	}
	out := make([]Line, 0, len(abs))
	counts := make([]bool, 0, len(abs))
	var spellStart attendance.Date
	spellDays := 0
	for i := range abs {
		a := &abs[i]
		c := e.contracts[a.ChildID]
		l := Line{ChildID: a.ChildID, Date: a.Date, DayType: dayType(a.Date),
			ChildName:  firstNonEmpty(c.ChildName, names[a.ChildID].name),
			GuardianID: firstNonEmpty(names[a.ChildID].guardian, c.GuardianID),
			Flags:      []string{FlagAbsencePrefix + string(a.Kind)}}
		var r AbsenceRule
		ok := false
		if rules != nil {
			r, ok = rules.Kinds[a.Kind]
		}
		if !ok {
			l.Rule = e.p.Name + "/absence-not-billed"
			out, counts = append(out, l), append(counts, false)
			continue
		}
		// Spell bookkeeping for this row's kind.
		breakDays := r.BreakDays
		if breakDays == 0 {
			breakDays = DefaultBreakDays
		}
		cont := i > 0 && abs[i-1].ChildID == a.ChildID && abs[i-1].Kind == a.Kind &&
			daysBetween(abs[i-1].Date, a.Date) <= breakDays && !stayBetween(a.ChildID, abs[i-1].Date, a.Date)
		if !cont {
			spellStart, spellDays = a.Date, 0
		}
		spellDays++
		billed := r.Bill == "agreed"
		presentBilled, present := stayBilled[childDay{a.ChildID, a.Date}]
		switch {
		case present && r.SameDayRule != "" && billed:
			l.Rule = e.p.Name + "/" + r.SameDayRule
		case r.LimitDays > 0 && spellDays > r.LimitDays ||
			r.LimitCalendarDays > 0 && daysBetween(spellStart, a.Date) >= r.LimitCalendarDays:
			billed = false
			l.Rule = e.p.Name + "/" + r.OverLimitRule
		default:
			l.Rule = e.p.Name + "/" + r.Rule
		}
		if billed {
			l.BilledMinutes = max(m.Rounding.Apply(a.AgreedMinutes)-presentBilled, 0)
			l.RateCentsPerHour = e.rate(m, a.ChildID)
			bp := e.multiplier(l.DayType)
			l.AmountCents = Amount(l.BilledMinutes, l.RateCentsPerHour, bp)
			if bp != 10000 {
				l.Rule += fmt.Sprintf("+%s-%s", l.DayType, percent(bp))
			}
		}
		out, counts = append(out, l), append(counts, billed && l.BilledMinutes > 0)
	}
	return out, counts
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// lineLess orders lines by child, date, then day type.
func lineLess(a, b *Line) bool {
	if a.ChildID != b.ChildID {
		return a.ChildID < b.ChildID
	}
	if a.Date != b.Date {
		return a.Date.Before(b.Date)
	}
	return a.DayType < b.DayType
}

// mergeLines merges two sorted line lists (stay lines first on ties) with
// their monthly-minimum flags.
func mergeLines(a []Line, ac []bool, b []Line, bc []bool) ([]Line, []bool) {
	out := make([]Line, 0, len(a)+len(b))
	oc := make([]bool, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		if j == len(b) || i < len(a) && !lineLess(&b[j], &a[i]) {
			out, oc = append(out, a[i]), append(oc, ac[i])
			i++
		} else {
			out, oc = append(out, b[j]), append(oc, bc[j])
			j++
		}
	}
	return out, oc
}
