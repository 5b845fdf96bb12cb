package attendance

import (
	"slices"
	"strings"
	"time"
)

// DayStay is one stay of a child today, as the kiosk's staff see it to
// correct it: ID names it for a correction (its check-in's event id, or its
// check-out's when it has no check-in, or the add_stay correction's).
type DayStay struct {
	ID        string
	ChildID   string
	GroupID   string
	In, Out   time.Time // zero: missing (Out zero while present)
	Corrected bool
}

// DayStays are today's stays at this kiosk, folded from events like
// Presence (Apply is the only way in), corrections included, so the staff
// panel can offer today's stays for correction. A new day starts empty.
type DayStays struct {
	loc   *time.Location
	day   Date
	stays []DayStay
	byID  map[string]int // event id -> index in stays
	open  map[string]int // child id -> index of the open stay
}

// NewDayStays returns today's stays in loc, empty.
func NewDayStays(loc *time.Location) *DayStays {
	if loc == nil {
		loc = time.UTC
	}
	return &DayStays{loc: loc, byID: map[string]int{}, open: map[string]int{}}
}

// Apply folds one event in; an event of an earlier day than the one held
// is ignored, one of a later day starts that day.
func (d *DayStays) Apply(e Event) {
	day := DateOf(e.Wall.In(d.loc))
	if e.Type == CorrectionEvent {
		d.applyCorrection(e)
		return
	}
	if e.Type != ChildCheckIn && e.Type != ChildCheckOut {
		return
	}
	if d.day.Before(day) {
		d.day, d.stays, d.byID, d.open = day, nil, map[string]int{}, map[string]int{}
	} else if day.Before(d.day) {
		return
	}
	switch e.Type {
	case ChildCheckIn:
		d.open[e.ChildID] = len(d.stays)
		d.byID[e.ID] = len(d.stays)
		d.stays = append(d.stays, DayStay{ID: e.ID, ChildID: e.ChildID, GroupID: e.GroupID, In: e.Wall})
	case ChildCheckOut:
		i, ok := d.open[e.ChildID]
		if !ok {
			i = len(d.stays)
			d.stays = append(d.stays, DayStay{ID: e.ID, ChildID: e.ChildID, GroupID: e.GroupID})
		}
		delete(d.open, e.ChildID)
		d.stays[i].Out = e.Wall
		d.byID[e.ID] = i
	}
}

func (d *DayStays) applyCorrection(e Event) {
	c := e.Correction
	if c == nil {
		return
	}
	if c.Kind == AddStay {
		if DateOf(c.CheckIn.In(d.loc)) != d.day {
			return
		}
		d.byID[e.ID] = len(d.stays)
		d.stays = append(d.stays, DayStay{ID: e.ID, ChildID: e.ChildID, GroupID: e.GroupID, In: c.CheckIn, Out: c.CheckOut, Corrected: true})
		return
	}
	i, ok := d.byID[c.Target]
	if !ok || d.stays[i].ID == "" || d.stays[i].ChildID != e.ChildID {
		return
	}
	s := &d.stays[i]
	switch c.Kind {
	case SetCheckIn:
		s.In = c.CheckIn
	case SetCheckOut:
		s.Out = c.CheckOut
		if j, ok := d.open[s.ChildID]; ok && j == i {
			delete(d.open, s.ChildID)
		}
	case RemoveStay:
		s.ID = "" // gone; its ids stay mapped so later corrections find nothing
		if j, ok := d.open[s.ChildID]; ok && j == i {
			delete(d.open, s.ChildID)
		}
		return
	default:
		return
	}
	s.Corrected = true
}

// Today returns the stays of the day held, by child then check-in.
func (d *DayStays) Today() []DayStay {
	out := make([]DayStay, 0, len(d.stays))
	for _, s := range d.stays {
		if s.ID != "" {
			out = append(out, s)
		}
	}
	slices.SortStableFunc(out, func(a, b DayStay) int {
		if c := strings.Compare(a.ChildID, b.ChildID); c != 0 {
			return c
		}
		return a.In.Compare(b.In)
	})
	return out
}

// Day is the day held (zero before the first event).
func (d *DayStays) Day() Date { return d.day }

// Find returns today's stay named id.
func (d *DayStays) Find(id string) (DayStay, bool) {
	i, ok := d.byID[id]
	if !ok || d.stays[i].ID == "" {
		return DayStay{}, false
	}
	return d.stays[i], true
}
