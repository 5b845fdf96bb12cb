package billing

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/calendar"
	"github.com/kinderdeur/kiosk/attendance/stays"
)

// Line is one invoice line: a child's day of one day type, or a month
// top-up (DayType "" and Date the last day of the month).
type Line struct {
	ChildID          string
	Date             attendance.Date
	DayType          calendar.DayType
	Minutes          int // presence
	BilledMinutes    int // after rounding, minimums and free minutes
	AmountCents      int64
	Rule             string // profile/method[+modifier...]
	ChildName        string
	GuardianID       string
	Stays            int
	RateCentsPerHour int64 // the base rate used (before multiplier); 0 for forfaits
	Flags            []string
	// TravelMinutes is the childminder's travel for the day's stays
	// (stays.Stay.TravelMinutes); with the profile's travel_is_care it is
	// in BilledMinutes and the rule has "+travel". Not a contract-8 column.
	TravelMinutes int
}

// Line flags.
const (
	FlagUnverifiedTime = "unverified_time"
	FlagCorrectedTime  = "corrected_time"
	FlagMissingTime    = "missing_time"
	FlagSplitMidnight  = stays.FlagSplitMidnight
	// FlagTravelNotBilled: the day's stays carry travel minutes but the
	// profile does not bill travel as care.
	FlagTravelNotBilled = "travel_not_billed"
)

// Engine prices stays with one profile and optional contracts. It keeps no
// state between calls and is safe for concurrent use.
type Engine struct {
	p         Profile
	contracts map[string]Contract
	// rules are the rule names, built once: a year has many lines.
	rules     map[ruleKey]string
	bandRules map[string][]string
	split     map[calendar.DayType]split
}

// split is a parsed DayPart.
type split struct {
	at      stays.Clock
	methods []string
}

type ruleKey struct {
	method     string
	dayType    calendar.DayType
	dayMinimum bool
}

// New checks p and returns an engine. contracts may be nil.
func New(p Profile, contracts map[string]Contract) (*Engine, error) {
	if err := p.Validate(""); err != nil {
		return nil, err
	}
	e := &Engine{p: p, contracts: contracts, rules: map[ruleKey]string{}, bandRules: map[string][]string{},
		split: map[calendar.DayType]split{}}
	for t, part := range p.SplitDay {
		at, _ := stays.ParseClock(part.At) // Validate checked it
		e.split[t] = split{at, part.Methods}
	}
	for name, m := range p.Methods {
		for _, b := range m.Bands {
			e.bandRules[name] = append(e.bandRules[name], p.Name+"/"+b.Name)
		}
		if m.Kind != "time" {
			continue
		}
		for _, t := range calendar.DayTypes {
			for _, dm := range []bool{false, true} {
				rule := p.Name + "/" + name
				if dm {
					rule += "+day-minimum"
				}
				if bp := e.multiplier(t); bp != 10000 {
					rule += fmt.Sprintf("+%s-%s", t, percent(bp))
				}
				e.rules[ruleKey{name, t, dm}] = rule
			}
		}
	}
	return e, nil
}

func (e *Engine) multiplier(t calendar.DayType) int64 {
	if v, ok := e.p.MultipliersBP[t]; ok {
		return v
	}
	return 10000
}

type dayKey struct {
	child   string
	date    attendance.Date
	dayType calendar.DayType
}

type dayGroup struct {
	key      dayKey
	stays    []int32 // indices into the input
	name     string
	guardian string
	minutes  int
	travel   int // billed as care when the profile says so
	flags    []string
}

// Bill prices stays and returns the lines sorted by child, date, day type
// (a month's top-up line right after the child's last line of that month).
// The input is not modified. It is BillWithAbsences without absences.
func (e *Engine) Bill(in []stays.Stay) []Line { return e.BillWithAbsences(in, nil, nil) }

// BillWithAbsences prices stays and absences (agreed care that did not take
// place, see ReadAbsences and AbsenceRules) and returns the lines sorted by
// child, date and day type, a stay line before an absence line of the same
// key, and a month's top-up line right after the child's last line of that
// month. Billed absence minutes count toward the monthly minimum; a month
// with no line but unbilled absences gets no top-up. dayType
// gives an absence's day type (the location's calendar.Calendar.DayType);
// nil means weekend on Saturday and Sunday, weekday otherwise. The inputs
// are not modified; abs need not be sorted.
func (e *Engine) BillWithAbsences(in []stays.Stay, abs []Absence, dayType func(attendance.Date) calendar.DayType) []Line {
	lines, counts := e.billStays(in)
	if len(abs) > 0 {
		sorted := append([]Absence(nil), abs...)
		SortAbsences(sorted)
		al, ac := e.billAbsences(sorted, in, lines, dayType)
		lines, counts = mergeLines(lines, counts, al, ac)
	}
	return e.addMonthMinimums(lines, counts)
}

// billStays prices stays into lines sorted by child, date and day type;
// counts says which lines count toward a monthly minimum.
//
// It sorts an index of the stays by child, date and day type and walks the
// runs, so lines come out in order and memory stays proportional to the
// input.
func (e *Engine) billStays(in []stays.Stay) ([]Line, []bool) {
	idx := make([]int32, len(in))
	for i := range idx {
		idx[i] = int32(i)
	}
	sort.SliceStable(idx, func(a, b int) bool {
		x, y := &in[idx[a]], &in[idx[b]]
		if x.ChildID != y.ChildID {
			return x.ChildID < y.ChildID
		}
		if x.Date != y.Date {
			return x.Date.Before(y.Date)
		}
		if x.DayType != y.DayType {
			return x.DayType < y.DayType
		}
		return !x.Complete() && y.Complete() // unpriced first
	})
	out := make([]Line, 0, len(in)/2+16)
	counts := make([]bool, 0, len(in)/2+16)
	settlingChild, settlingUsed := "", 0
	for a := 0; a < len(idx); {
		s := &in[idx[a]]
		if !s.Complete() {
			out = append(out, Line{ChildID: s.ChildID, Date: s.Date, DayType: s.DayType, Rule: e.p.Name + "/unpriced-missing-time",
				ChildName: s.ChildName, GuardianID: e.guardian(s.ChildID, s.GuardianID), Stays: 1,
				Flags: append([]string{FlagMissingTime}, s.Flags...)})
			counts = append(counts, false)
			a++
			continue
		}
		b := a + 1
		for b < len(idx) {
			t := &in[idx[b]]
			if t.ChildID != s.ChildID || t.Date != s.Date || t.DayType != s.DayType {
				break
			}
			b++
		}
		g := dayGroup{key: dayKey{s.ChildID, s.Date, s.DayType}, stays: idx[a:b], name: s.ChildName,
			guardian: e.guardian(s.ChildID, s.GuardianID)}
		for _, i := range g.stays {
			t := &in[i]
			g.minutes += t.Minutes
			g.travel += t.TravelMinutes
			switch t.Quality {
			case stays.QualityUnverified:
				g.flags = addFlag(g.flags, FlagUnverifiedTime)
			case stays.QualityCorrected:
				g.flags = addFlag(g.flags, FlagCorrectedTime)
			}
			if t.Has(stays.FlagSplitMidnight) {
				g.flags = addFlag(g.flags, FlagSplitMidnight)
			}
		}
		if settlingChild != s.ChildID {
			settlingChild, settlingUsed = s.ChildID, 0
		}
		l, usedSettling := e.priceDay(in, &g, settlingUsed)
		if usedSettling {
			settlingUsed++
		}
		out = append(out, l)
		counts = append(counts, !usedSettling && l.RateCentsPerHour > 0)
		a = b
	}
	return out, counts
}

// monthAcc sums a child's month for the monthly minimum.
type monthAcc struct {
	child  string
	year   int
	month  time.Month
	billed int // time-priced minutes, settling-in days excluded
	// byRate: the counted lines' minutes and cents per plain hourly rate, so a
	// top-up at rate r makes the month's lines at r add up to exactly
	// the minimum's price (each line rounds to the cent on its own).
	byRate         map[int64][2]int64
	name, guardian string
	// active: the month has a line other than an unbilled absence (a month
	// in which the childminder was only away gets no top-up).
	active bool
}

// addMonthMinimums inserts the month top-up lines into sorted lines. It
// finds the top-ups first, then moves lines back in place (no second copy
// of a year's lines).
func (e *Engine) addMonthMinimums(lines []Line, counts []bool) []Line {
	if e.p.MonthlyMinimum == nil {
		return lines
	}
	type insert struct {
		after int // index of the month's last line
		line  Line
	}
	var ins []insert
	month := monthAcc{}
	flush := func(last int) {
		if top := e.closeMonth(nil, &month); len(top) > 0 {
			ins = append(ins, insert{last, top[0]})
		}
	}
	for i := range lines {
		l := &lines[i]
		if month.child != l.ChildID || month.year != l.Date.Year || month.month != l.Date.Month {
			flush(i - 1)
			month = monthAcc{child: l.ChildID, year: l.Date.Year, month: l.Date.Month}
		}
		if month.name == "" {
			month.name = l.ChildName
		}
		if month.guardian == "" {
			month.guardian = l.GuardianID
		}
		if counts[i] {
			month.billed += l.BilledMinutes
			if r := l.RateCentsPerHour; r > 0 && l.AmountCents == Amount(l.BilledMinutes, r, 10000) { // at the plain rate
				if month.byRate == nil {
					month.byRate = map[int64][2]int64{}
				}
				mc := month.byRate[r]
				month.byRate[r] = [2]int64{mc[0] + int64(l.BilledMinutes), mc[1] + l.AmountCents}
			}
		}
		if _, abs := IsAbsence(l); !abs || l.BilledMinutes > 0 {
			month.active = true
		}
	}
	flush(len(lines) - 1)
	if len(ins) == 0 {
		return lines
	}
	n := len(lines)
	lines = slices.Grow(lines, len(ins))[:n+len(ins)]
	// Walk back: dst is where the next line from the back goes.
	dst := len(lines) - 1
	src := n - 1
	for k := len(ins) - 1; k >= 0; k-- {
		for src > ins[k].after {
			lines[dst] = lines[src]
			dst, src = dst-1, src-1
		}
		lines[dst] = ins[k].line
		dst--
	}
	return lines
}

// closeMonth appends a top-up line when the month's billed minutes stay
// under the profile's monthly minimum for the child's care kind. Only months
// in which the child has lines are considered.
//
// A child's contract bounds the minimum (seed 002: 'no month minimum
// applies before the contract starts'): a month wholly before the
// contract's start or after its end has none, and a month the contract
// covers only in part has the minimum pro-rated by calendar days,
// round(minimum * contract days / days in the month), half a minute up
// (the rule gets "-pro-rata"). Calendar days, not care days: the minimum
// is a monthly amount, and a contract from the 16th of a 30-day month owes
// half of it whatever weekdays the care falls on. Without a contract, or
// without start and end dates, every month has the full minimum.
func (e *Engine) closeMonth(out []Line, a *monthAcc) []Line {
	mm := e.p.MonthlyMinimum
	if mm == nil || a.child == "" || !a.active {
		return out
	}
	kind := mm.DefaultCareKind
	c, hasContract := e.contracts[a.child]
	if hasContract && c.CareKind != "" {
		kind = c.CareKind
	}
	minimum, ok := mm.Minutes[kind]
	if !ok {
		minimum = mm.Minutes[mm.DefaultCareKind]
	}
	first := attendance.Date{Year: a.year, Month: a.month, Day: 1}
	last := attendance.DateOf(time.Date(a.year, a.month+1, 0, 0, 0, 0, 0, time.UTC))
	from, to := first, last
	if hasContract && !c.Start.IsZero() && from.Before(c.Start) {
		from = c.Start
	}
	if hasContract && !c.End.IsZero() && c.End.Before(to) {
		to = c.End
	}
	if to.Before(from) {
		return out // the month is outside the contract
	}
	rule := fmt.Sprintf("%s/month-minimum-%s", e.p.Name, kind)
	if covered := daysBetween(from, to) + 1; covered < last.Day {
		minimum = (minimum*covered + last.Day/2) / last.Day
		rule += "-pro-rata"
	}
	if a.billed >= minimum {
		return out
	}
	short := minimum - a.billed
	r := e.rate(e.p.Methods[mm.Method], a.child)
	amount := Amount(short, r, 10000)
	if mc, ok := a.byRate[r]; ok && mc[0] > 0 {
		// The lines at this rate plus the top-up cost what their minutes
		// together cost: 507 + 693 minutes at EUR 5.50 are EUR 110.00,
		// not 46.48 + 63.53.
		amount = max(Amount(int(mc[0])+short, r, 10000)-mc[1], 0)
	}
	return append(out, Line{ChildID: a.child, Date: last, BilledMinutes: short, AmountCents: amount,
		Rule: rule, ChildName: a.name, GuardianID: a.guardian, RateCentsPerHour: r})
}

func addFlag(f []string, x string) []string {
	for _, y := range f {
		if y == x {
			return f
		}
	}
	return append(f, x)
}

func (e *Engine) guardian(child, fromStay string) string {
	if fromStay != "" {
		return fromStay
	}
	return e.contracts[child].GuardianID
}

// rate is the hourly rate of a time method for a child.
func (e *Engine) rate(m Method, child string) int64 {
	if m.ContractRate {
		if c, ok := e.contracts[child]; ok && c.RateCentsPerHour > 0 {
			return c.RateCentsPerHour
		}
	}
	return m.RateCentsPerHour
}

// Amount is round_half_up(minutes * rate * bp / 600000), in cents.
func Amount(minutes int, rateCentsPerHour, bp int64) int64 {
	n := int64(minutes) * rateCentsPerHour * bp
	const d = 60 * 10000
	return (n + d/2) / d
}

type priced struct {
	billed int
	amount int64
	rule   string
	rate   int64
}

// priceTime prices minutes (already split into stays when per=stay). With
// the profile's travel_is_care a stay's travel minutes are care time,
// rounded with the stay (per=stay) or the day (per=day).
func (e *Engine) priceTime(name string, m Method, in []stays.Stay, g *dayGroup, dayType calendar.DayType, applyMin bool, freeMinutes int) priced {
	billed := 0
	travel := e.p.TravelIsCare
	if m.Per == "stay" {
		// Free settling-in minutes come off the day's first stays.
		free := freeMinutes
		for _, i := range g.stays {
			mins := in[i].Minutes
			if travel {
				mins += in[i].TravelMinutes
			}
			take := min(free, mins)
			free -= take
			billed += m.Rounding.Apply(mins - take)
		}
	} else {
		mins := g.minutes
		if travel {
			mins += g.travel
		}
		billed = m.Rounding.Apply(max(mins-freeMinutes, 0))
	}
	dayMin := applyMin && m.MinDayMinutes > billed
	if dayMin {
		billed = m.MinDayMinutes
	}
	bp := e.multiplier(dayType)
	r := e.rate(m, g.key.child)
	return priced{billed, Amount(billed, r, bp), e.rules[ruleKey{name, dayType, dayMin}], r}
}

// percent renders basis points as a percentage: 15000 -> 150%, 12550 -> 125.5%.
func percent(bp int64) string {
	s := fmt.Sprintf("%d", bp/100)
	if bp%100 != 0 {
		s += strings.TrimRight(fmt.Sprintf(".%02d", bp%100), "0")
	}
	return s + "%"
}

func (e *Engine) priceForfait(name string, m Method, minutes int) priced {
	for i, b := range m.Bands {
		if b.UpToMinutes == 0 || minutes <= b.UpToMinutes {
			return priced{minutes, b.AmountCents, e.bandRules[name][i], 0}
		}
	}
	panic("billing: forfait without an unbounded band") // Validate forbids it
}

// priceDay prices one day group; used reports whether it was a settling-in
// session (used sessions: the child's count so far).
func (e *Engine) priceDay(in []stays.Stay, g *dayGroup, used int) (l Line, settling bool) {
	l = Line{ChildID: g.key.child, Date: g.key.date, DayType: g.key.dayType, Minutes: g.minutes,
		ChildName: g.name, GuardianID: g.guardian, Stays: len(g.stays), Flags: g.flags, TravelMinutes: g.travel}
	free := 0
	if si := e.p.SettlingIn; si != nil {
		if c, ok := e.contracts[g.key.child]; ok && !c.Start.IsZero() && g.key.date.Before(c.Start) &&
			!g.key.date.Before(attendance.DateOf(c.Start.In(time.UTC).AddDate(0, 0, -si.WithinDays))) &&
			used < si.Sessions {
			free = si.MinutesPerSession
		}
	}
	var best priced
	if part, ok := e.split[g.key.dayType]; ok && free == 0 {
		best = e.priceSplit(in, g, part)
	} else {
		best = e.cheapest(e.p.MethodsFor(g.key.dayType), in, g, free)
	}
	l.BilledMinutes, l.AmountCents, l.Rule, l.RateCentsPerHour = best.billed, best.amount, best.rule, best.rate
	if free > 0 {
		l.Rule = e.p.Name + "/settling-in"
		if best.billed > 0 {
			l.Rule += "+" + strings.TrimPrefix(best.rule, e.p.Name+"/")
		}
	}
	if g.travel > 0 {
		if e.p.TravelIsCare {
			l.Rule += "+travel"
		} else {
			l.Flags = append(slices.Clip(l.Flags), FlagTravelNotBilled)
		}
	}
	return l, free > 0
}

// cheapest prices g with each of the methods and keeps the cheapest for
// the parent (the first listed wins a tie).
func (e *Engine) cheapest(methods []string, in []stays.Stay, g *dayGroup, free int) priced {
	var best *priced
	for _, name := range methods {
		m := e.p.Methods[name]
		var p priced
		switch m.Kind {
		case "time":
			p = e.priceTime(name, m, in, g, g.key.dayType, free == 0, free)
		case "forfait":
			mins := g.minutes
			if e.p.TravelIsCare {
				mins += g.travel
			}
			p = e.priceForfait(name, m, mins)
		}
		if best == nil || p.amount < best.amount {
			best = &p
		}
	}
	return *best
}

// priceSplit prices a day whose stays before part.At (the morning) have
// their own methods (seed 003: a Wednesday morning before school is
// ordinary before-school care; only the afternoon is 'most favourable').
// A stay across At is cut in two at At. Travel stays with the part the
// stay starts in.
func (e *Engine) priceSplit(in []stays.Stay, g *dayGroup, part split) priced {
	at := part.at
	var am, pm []stays.Stay
	for _, i := range g.stays {
		s := in[i]
		switch {
		case s.CheckOut <= at:
			am = append(am, s)
		case s.CheckIn >= at:
			pm = append(pm, s)
		default:
			a, b := s, s
			a.CheckOut, a.Minutes = at, min(int(at-s.CheckIn), s.Minutes)
			b.CheckIn, b.Minutes, b.TravelMinutes = at, s.Minutes-a.Minutes, 0
			am, pm = append(am, a), append(pm, b)
		}
	}
	if len(am) == 0 {
		return e.cheapest(e.p.MethodsFor(g.key.dayType), in, g, 0)
	}
	parts := append(am, pm...)
	group := func(from, to int) *dayGroup {
		sub := &dayGroup{key: g.key}
		for i := from; i < to; i++ {
			sub.stays = append(sub.stays, int32(i))
			sub.minutes += parts[i].Minutes
			sub.travel += parts[i].TravelMinutes
		}
		return sub
	}
	morning := e.cheapest(part.methods, parts, group(0, len(am)), 0)
	if len(pm) == 0 {
		return morning
	}
	afternoon := e.cheapest(e.p.MethodsFor(g.key.dayType), parts, group(len(am), len(parts)), 0)
	prefix := e.p.Name + "/"
	rate := morning.rate
	if rate == 0 {
		rate = afternoon.rate
	}
	return priced{
		billed: morning.billed + afternoon.billed,
		amount: morning.amount + afternoon.amount,
		rule:   prefix + "morning-" + strings.TrimPrefix(morning.rule, prefix) + "+afternoon-" + strings.TrimPrefix(afternoon.rule, prefix),
		rate:   rate,
	}
}
