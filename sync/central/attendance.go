package central

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/calendar"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/attendance/stays"
	"github.com/kinderdeur/kiosk/sync/central/sqldb"
	"github.com/kinderdeur/kiosk/sync/protocol"
)

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// CalendarFor builds the day-type calendar of a location from its roster:
// country NL or BE, the roster's time zone, the country's default region.
func CalendarFor(l roster.Location) (*calendar.Calendar, error) {
	cfg := calendar.DefaultConfig()
	if strings.EqualFold(l.Country, "be") {
		cfg.Country, cfg.Region = "be", "vlaanderen"
	}
	cfg.TimeZone = l.TimeZone
	key := cfg.Country + "|" + cfg.Region + "|" + cfg.TimeZone
	if c, ok := calendars.Load(key); ok {
		return c.(*calendar.Calendar), nil
	}
	c, err := calendar.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("central: calendar of %s: %w", l.ID, err)
	}
	calendars.Store(key, c)
	return c, nil
}

// calendars memoises CalendarFor (a calendar precomputes two centuries of
// holidays and is read-only afterwards): country|region|time zone -> *Calendar.
var calendars sync.Map

// Reports reads attendance out of the stored events and rosters: the
// contract-6 export, presence now, and the inspection timeline of a group
// and day.
type Reports struct {
	db          *sqldb.DB
	sites       *Sites
	events      *EventStore
	corrections *CorrectionStore
}

// AttendanceQuery selects an attendance export.
type AttendanceQuery struct {
	From, To   attendance.Date // inclusive
	LocationID string          // "": every location
	Group      string          // "": every group; else a group id or name
	ChildID    string          // "": every child
}

// Attendance returns the stays (contract 6) of the days From..To inclusive
// for one location, or every location when LocationID is "". The group
// column holds the group's name from the current roster. Event times
// are central's best times; each stay carries the worse time quality of its
// two events, so an unverifiable time is never billed silently.
func (s *Reports) Attendance(ctx context.Context, q AttendanceQuery) ([]stays.Stay, error) {
	locationID, from, to := q.LocationID, q.From, q.To
	if to.Before(from) {
		return nil, fmt.Errorf("central: attendance: to %s before from %s", to, from)
	}
	var locs []string
	if locationID != "" {
		locs = []string{locationID}
	} else {
		all, err := s.sites.Locations(ctx)
		if err != nil {
			return nil, err
		}
		for _, l := range all {
			locs = append(locs, l.ID)
		}
	}
	var out []stays.Stay
	for _, id := range locs {
		r, _, err := s.sites.Roster(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue // a location without a roster has no children to export
		}
		if err != nil {
			return nil, err
		}
		cal, err := CalendarFor(r.Location)
		if err != nil {
			return nil, err
		}
		tz := cal.Location()
		// A day's stays may start the day before (split at midnight) or
		// close later: read a margin of two days either side.
		evs, err := s.events.Events(ctx, EventFilter{LocationID: id,
			From: from.In(tz).AddDate(0, 0, -2), To: to.In(tz).AddDate(0, 0, 3)})
		if err != nil {
			return nil, err
		}
		quality := make(map[string]stays.Quality, len(evs))
		plain := make([]attendance.Event, 0, len(evs))
		for _, se := range evs {
			e := se.Event
			if e.Type == attendance.CorrectionEvent {
				continue // read from the corrections below, by the times they touch
			}
			e.Wall = se.Time
			quality[e.ID] = stays.Quality(se.TimeQuality)
			plain = append(plain, e)
		}
		if s.corrections != nil {
			cs, err := s.corrections.events(ctx, id, from.In(tz).AddDate(0, 0, -2), to.In(tz).AddDate(0, 0, 3))
			if err != nil {
				return nil, err
			}
			plain = append(plain, cs...)
		}
		groupName := map[string]string{}
		for _, g := range r.Groups {
			groupName[g.ID] = g.Name
		}
		children := map[string]stays.Child{}
		childGroup := map[string]string{}
		for _, c := range r.Children {
			name := groupName[c.GroupID]
			if name == "" {
				name = c.GroupID
			}
			children[c.ID] = stays.Child{Name: c.FirstName, Group: name}
			childGroup[c.ID] = c.GroupID
		}
		for _, g := range r.Guardianships {
			if c, ok := children[g.ChildID]; ok && c.GuardianID == "" {
				c.GuardianID = g.PersonID
				children[g.ChildID] = c
			}
		}
		built, err := stays.Build(plain, stays.Options{
			Calendar: cal,
			Location: id,
			Child:    func(cid string) (stays.Child, bool) { c, ok := children[cid]; return c, ok },
			Quality:  func(e attendance.Event) stays.Quality { return quality[e.ID] },
			Now:      s.db.Clock(),
		})
		if err != nil {
			return nil, fmt.Errorf("central: attendance of %s: %w", id, err)
		}
		for _, s := range built {
			if s.Date.Before(from) || to.Before(s.Date) {
				continue
			}
			if q.ChildID != "" && s.ChildID != q.ChildID {
				continue
			}
			if q.Group != "" && q.Group != s.Group && q.Group != childGroup[s.ChildID] {
				continue
			}
			out = append(out, s)
		}
	}
	stays.Sort(out)
	return out, nil
}

// Presence folds the events of all the location's devices of the last
// maxAge (and not in the future) into who is present now: a child or staff member whose latest
// in/out event (by central's best time, then arrival) is an "in".
func (s *Reports) Presence(ctx context.Context, locationID string, maxAge time.Duration) (protocol.Presence, error) {
	now := s.db.Now()
	p := protocol.Presence{LocationID: locationID, AsOf: now.UTC(), Children: []protocol.PresentPerson{}, Staff: []protocol.PresentPerson{}}
	// Events timed in the future (a wrong clock, generated demo history) are
	// not facts about now: they must not check anyone in or out.
	evs, err := s.events.Events(ctx, EventFilter{LocationID: locationID, From: now.Add(-maxAge), To: now.Add(futureSlack)})
	if err != nil {
		return p, err
	}
	children := map[string]*protocol.PresentPerson{}
	staff := map[string]*protocol.PresentPerson{}
	stayOf := map[string]string{} // child id -> the check-in event of the stay in force
	for _, se := range evs {
		e := se.Event
		switch e.Type {
		case attendance.ChildCheckIn:
			children[e.ChildID] = &protocol.PresentPerson{ID: e.ChildID, GroupID: e.GroupID, Since: se.Time, DeviceID: e.DeviceID}
			stayOf[e.ChildID] = e.ID
		case attendance.ChildCheckOut:
			delete(children, e.ChildID)
			delete(stayOf, e.ChildID)
		case attendance.StaffIn:
			staff[e.StaffID] = &protocol.PresentPerson{ID: e.StaffID, GroupID: e.GroupID, Since: se.Time, DeviceID: e.DeviceID}
		case attendance.StaffOut:
			delete(staff, e.StaffID)
		}
	}
	if s.corrections != nil && len(children) > 0 {
		cs, err := s.corrections.events(ctx, locationID, now.Add(-maxAge), time.Time{})
		if err != nil {
			return p, err
		}
		foldPresence(children, stayOf, cs)
	}
	for _, c := range children {
		p.Children = append(p.Children, *c)
	}
	for _, s := range staff {
		p.Staff = append(p.Staff, *s)
	}
	byID := func(s []protocol.PresentPerson) {
		sort.Slice(s, func(i, j int) bool { return s[i].ID < s[j].ID })
	}
	byID(p.Children)
	byID(p.Staff)
	return p, nil
}
