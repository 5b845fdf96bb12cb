package door

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/calendar"
	"github.com/kinderdeur/kiosk/attendance/ratio"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/attendance/rules"
)

// The live three-hour rule: one ratio.Tracker per group, fed with the
// group's staff present and staff required after every committed event,
// and rebuilt from the day's events at start-up and on a new roster. The
// staff panel shows each tracker's report (rules.GroupState.ThreeHour).

// DefaultThreeHourDay is the day kind used when Config.ThreeHourDay is nil:
// nl-bso groups have school days Monday to Friday and vacation days at the
// weekend; every other group has dagopvang days. A daemon with a school
// calendar passes its own function.
func DefaultThreeHourDay(g roster.Group, d attendance.Date) ratio.DayKind {
	if !strings.HasPrefix(g.Policy, "nl-bso") {
		return ratio.DayCare
	}
	if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return ratio.BSOVacationDay
	}
	return ratio.BSOSchoolDay
}

// ThreeHourRule turns a location's configured windows into a ratio.Rule
// with DOMAIN.md's budgets.
func ThreeHourRule(loc roster.Location) (ratio.Rule, error) {
	rule := ratio.DefaultRule()
	for _, w := range loc.ThreeHourWindows {
		from, err1 := ratio.ParseClock(w.From)
		to, err2 := ratio.ParseClock(w.Until)
		if err1 != nil || err2 != nil {
			return ratio.Rule{}, fmt.Errorf("door: three-hour window %s %s-%s: bad time", w.Weekday, w.From, w.Until)
		}
		rule.Windows[w.Weekday] = append(rule.Windows[w.Weekday], ratio.Window{From: from, To: to})
	}
	for wd, list := range rule.Windows {
		slices.SortFunc(list, func(a, b ratio.Window) int { return int(a.From - b.From) })
		rule.Windows[wd] = list
	}
	if err := rule.Validate(); err != nil {
		return ratio.Rule{}, fmt.Errorf("door: three-hour windows: %w", err)
	}
	return rule, nil
}

// openingDay is the ratio.Day of date d at a location (a location without
// opening hours is open all day).
func openingDay(loc roster.Location, d attendance.Date) ratio.Day {
	day := ratio.Day{Date: d}
	if len(loc.Hours) == 0 {
		day.Open, day.Close = 0, 24*60
		return day
	}
	for _, h := range loc.Hours {
		if h.Weekday != d.Weekday() {
			continue
		}
		open, err1 := ratio.ParseClock(h.Open)
		closing, err2 := ratio.ParseClock(h.Close)
		if err1 == nil && err2 == nil {
			day.Open, day.Close = open, closing
			return day
		}
	}
	return day // closed: Close <= Open
}

// threeHour is the live three-hour rule: one ratio.Tracker per group of
// the roster in force. It is guarded by the door's state lock.
type threeHour struct {
	log     *slog.Logger
	clock   Clock
	dayKind func(roster.Group, attendance.Date) ratio.DayKind

	trackers map[string]*ratio.Tracker // group -> tracker
	alerts   map[string]string         // group -> the alert last warned of
	replayAt time.Time                 // the trackers' clock while rebuilding
	fedDay   attendance.Date           // the day the trackers were last fed every group
}

// fresh is an empty threeHour with the same settings.
func (t *threeHour) fresh() *threeHour {
	return &threeHour{log: t.log, clock: t.clock, dayKind: t.dayKind}
}

// now is the trackers' clock: the replay time while rebuilding, the door's
// clock otherwise.
func (t *threeHour) now() time.Time {
	if !t.replayAt.IsZero() {
		return t.replayAt
	}
	return t.clock.Now()
}

// reset builds one tracker per group of ix (none when the location's
// windows are invalid: the panel then shows no three-hour state and the
// problem is logged).
func (t *threeHour) reset(ix *roster.Index) {
	t.trackers = nil
	rule, err := ThreeHourRule(ix.Roster.Location)
	if err != nil {
		t.log.Error("three-hour rule off", "err", err)
		return
	}
	dayKind := t.dayKind
	if dayKind == nil {
		dayKind = DefaultThreeHourDay
	}
	loc := ix.Roster.Location
	t.trackers = make(map[string]*ratio.Tracker, len(ix.Roster.Groups))
	for _, g := range ix.Roster.Groups {
		tr, err := ratio.NewTracker(rule, ix.TZ, func(d attendance.Date) ratio.Day {
			day := openingDay(loc, d)
			day.Kind = dayKind(g, d)
			return day
		}, t.now)
		if err != nil {
			t.log.Error("three-hour tracker", "group", g.ID, "err", err)
			continue
		}
		t.trackers[g.ID] = tr
	}
}

// replay feeds the trackers as of at (rebuilding from the event log).
func (t *threeHour) replay(ix *roster.Index, p *attendance.Presence, evs []attendance.Event, at time.Time) {
	t.replayAt = at
	t.feed(ix, p, evs)
	t.replayAt = time.Time{}
}

// feed gives the trackers their group's state in p at the trackers'
// clock: the groups of evs, or every group when evs is empty or on the
// first feed of a day (ages change at midnight).
func (t *threeHour) feed(ix *roster.Index, p *attendance.Presence, evs []attendance.Event) {
	if ix == nil || len(t.trackers) == 0 {
		return
	}
	now := t.now().In(ix.TZ)
	var states []rules.GroupState
	if today := attendance.DateOf(now); len(evs) == 0 || today != t.fedDay {
		t.fedDay = today
		states = rules.Groups(ix, p, now)
	} else {
		var groups []string
		for _, e := range evs {
			g := e.GroupID
			if c, ok := ix.Child(e.ChildID); ok {
				g = c.GroupID // ratio counts children in their roster group
			}
			if g != "" && !slices.Contains(groups, g) {
				groups = append(groups, g)
			}
		}
		states = rules.GroupsOf(ix, p, now, groups...)
	}
	for _, gs := range states {
		if tr, ok := t.trackers[gs.GroupID]; ok {
			if err := tr.Set(gs.Staff, gs.Required); err != nil {
				t.log.Error("three-hour tracker", "group", gs.GroupID, "err", err)
			}
		}
	}
}

// report is a group's three-hour state now, nil without a tracker.
func (t *threeHour) report(groupID string) *rules.ThreeHour {
	tr, ok := t.trackers[groupID]
	if !ok {
		return nil
	}
	rep, err := tr.Report()
	if err != nil {
		t.log.Error("three-hour report", "group", groupID, "err", err)
		return nil
	}
	th := &rules.ThreeHour{MinutesBelow: rep.BelowMinutes()}
	if rep.Qualifies {
		th.Budget = int(rep.Budget / time.Minute)
	}
	var kinds []string
	for _, a := range rep.Ongoing() {
		if k := string(a.Kind); !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	slices.Sort(kinds)
	th.Alert = strings.Join(kinds, ",")
	return th
}

// newAlerts returns a warning per group whose three-hour alert started
// since the last call. It runs on the door's tick, not on the tap path: a
// whole-day evaluation per group is too much work to put between a card
// and its answer.
func (t *threeHour) newAlerts(ix *roster.Index) []rules.Warning {
	if len(t.trackers) == 0 {
		return nil
	}
	if t.alerts == nil {
		t.alerts = map[string]string{}
	}
	var ws []rules.Warning
	for _, g := range ix.Roster.Groups {
		th := t.report(g.ID)
		if th == nil || th.Alert == t.alerts[g.ID] {
			continue
		}
		t.alerts[g.ID] = th.Alert
		if th.Alert != "" {
			ws = append(ws, rules.Warning{Code: "three_hour", GroupID: g.ID,
				Text: fmt.Sprintf("%s: 3-uursregeling: %s (%d van %d minuten gebruikt)", g.Name, alertWords(th.Alert), th.MinutesBelow, th.Budget)})
		}
	}
	return ws
}

// alertWordsNL words the three-hour alert kinds for the staff note (the
// panel words the codes of rules.ThreeHour.Alert itself, in NL and EN).
var alertWordsNL = map[ratio.AlertKind]string{
	ratio.AlertOutsideWindow: "buiten de afwijkvensters",
	ratio.AlertOverBudget:    "budget op",
	ratio.AlertBelowFloor:    "minder dan de helft van de nodige medewerkers",
	ratio.AlertShortOpening:  "korte openingsdag, geen afwijking toegestaan",
}

// alertWords turns "below_floor,outside_window" into Dutch words: a note
// never shows a raw code.
func alertWords(alert string) string {
	var out []string
	for _, k := range strings.Split(alert, ",") {
		if w, ok := alertWordsNL[ratio.AlertKind(k)]; ok {
			out = append(out, w)
		} else if k != "" {
			out = append(out, strings.ReplaceAll(k, "_", " "))
		}
	}
	return strings.Join(out, ", ")
}

// CalendarThreeHourDay returns a Config.ThreeHourDay backed by a school
// calendar: nl-bso groups have a school day (30-minute budget) on ordinary
// weekdays and free-afternoon days, and a vacation day (3 hours) in school
// vacations, on school-free days, weekends and public holidays; every other
// group has dagopvang days.
func CalendarThreeHourDay(cal *calendar.Calendar) func(roster.Group, attendance.Date) ratio.DayKind {
	return func(g roster.Group, d attendance.Date) ratio.DayKind {
		if !strings.HasPrefix(g.Policy, "nl-bso") {
			return ratio.DayCare
		}
		switch cal.DayType(d) {
		case calendar.Weekday, calendar.Wednesday:
			return ratio.BSOSchoolDay
		}
		return ratio.BSOVacationDay
	}
}
