package door

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/calendar"
	"github.com/kinderdeur/kiosk/attendance/ratio"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/attendance/rules"
	"github.com/kinderdeur/kiosk/attendance/store"
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

// trackerNow is the trackers' clock: the replay time while rebuilding,
// the door's clock otherwise. s.mu is held whenever a tracker runs.
func (s *Service) trackerNow() time.Time {
	if !s.replayAt.IsZero() {
		return s.replayAt
	}
	return s.cfg.Clock.Now()
}

// newTrackers builds one tracker per group of ix (nil map when the
// location's windows are invalid: the panel then shows no three-hour state
// and the problem is logged).
func (s *Service) newTrackers(ix *roster.Index) map[string]*ratio.Tracker {
	rule, err := ThreeHourRule(ix.Roster.Location)
	if err != nil {
		s.log.Error("three-hour rule off", "err", err)
		return nil
	}
	dayKind := s.cfg.ThreeHourDay
	if dayKind == nil {
		dayKind = DefaultThreeHourDay
	}
	loc := ix.Roster.Location
	out := make(map[string]*ratio.Tracker, len(ix.Roster.Groups))
	for _, g := range ix.Roster.Groups {
		g := g
		tr, err := ratio.NewTracker(rule, ix.TZ, func(d attendance.Date) ratio.Day {
			day := openingDay(loc, d)
			day.Kind = dayKind(g, d)
			return day
		}, s.trackerNow)
		if err != nil {
			s.log.Error("three-hour tracker", "group", g.ID, "err", err)
			continue
		}
		out[g.ID] = tr
	}
	return out
}

// feedTrackers gives the trackers their group's state in p at the
// trackers' clock: the groups of evs, or every group when evs is empty or
// on the first feed of a day (ages change at midnight); s.mu held.
func (s *Service) feedTrackers(p *attendance.Presence, evs []attendance.Event) {
	if s.ix == nil || len(s.three) == 0 {
		return
	}
	now := s.trackerNow().In(s.ix.TZ)
	var states []rules.GroupState
	if today := attendance.DateOf(now); len(evs) == 0 || today != s.fedDay {
		s.fedDay = today
		states = rules.Groups(s.ix, p, now)
	} else {
		var groups []string
		for _, e := range evs {
			g := e.GroupID
			if c, ok := s.ix.Child(e.ChildID); ok {
				g = c.GroupID // ratio counts children in their roster group
			}
			if g != "" && !slices.Contains(groups, g) {
				groups = append(groups, g)
			}
		}
		states = rules.GroupsOf(s.ix, p, now, groups...)
	}
	for _, gs := range states {
		if tr, ok := s.three[gs.GroupID]; ok {
			if err := tr.Set(gs.Staff, gs.Required); err != nil {
				s.log.Error("three-hour tracker", "group", gs.GroupID, "err", err)
			}
		}
	}
}

// rebuild folds the whole event log into a fresh presence and, when a
// roster is in force, new trackers fed with today's history (the state at
// midnight, then every event since); s.mu held or not yet shared.
func (s *Service) rebuild(ctx context.Context, st *store.Store) error {
	p := attendance.NewPresence()
	var midnight time.Time
	if s.ix != nil {
		s.three = s.newTrackers(s.ix)
		midnight = attendance.DateOf(s.cfg.Clock.Now().In(s.ix.TZ)).In(s.ix.TZ)
	}
	crossed := false
	defer func() { s.replayAt = time.Time{} }()
	err := st.Events(ctx, 0, func(e attendance.Event) error {
		if s.ix != nil && !e.Wall.Before(midnight) {
			if !crossed {
				crossed = true
				s.replayAt = midnight
				s.feedTrackers(p, nil)
			}
			p.Apply(e)
			s.replayAt = e.Wall
			s.feedTrackers(p, []attendance.Event{e})
			return nil
		}
		p.Apply(e)
		return nil
	})
	if err != nil {
		return fmt.Errorf("door: rebuild presence: %w", err)
	}
	if s.ix != nil && !crossed {
		s.replayAt = midnight
		s.feedTrackers(p, nil)
	}
	s.local = p
	s.merge()
	return nil
}

// threeHourLocked is a group's three-hour state now, nil without a
// tracker; s.mu held.
func (s *Service) threeHourLocked(groupID string) *rules.ThreeHour {
	tr, ok := s.three[groupID]
	if !ok {
		return nil
	}
	rep, err := tr.Report()
	if err != nil {
		s.log.Error("three-hour report", "group", groupID, "err", err)
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
