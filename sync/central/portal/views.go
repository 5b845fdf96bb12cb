package portal

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/audit"
	"github.com/kinderdeur/kiosk/attendance/billing"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/sync/central"
)

// ChildToday is one child's state today.
type ChildToday struct {
	ID       string `json:"id"`
	Location string `json:"location_id"`
	LocName  string `json:"location_name"`
	Name     string `json:"name"`
	Group    string `json:"group"`
	Present  bool   `json:"present"`
	Since    string `json:"since,omitempty"` // HH:MM local: the last check-in or check-out today
	By       string `json:"by,omitempty"`    // who checked the child in or out (first name and initial)
	Absence  string `json:"absence,omitempty"`
}

// Today is the live page's data.
type Today struct {
	Date     string       `json:"date"`
	Children []ChildToday `json:"children"`
	Pickups  []Pickup     `json:"pickups"`
	// NotifyCheckout: this parent gets an e-mail when someone else checks
	// one of their children out (opt-in).
	NotifyCheckout bool `json:"notify_checkout"`
}

func (s *Server) today(ctx context.Context, f *Family) (Today, error) {
	now := s.now()
	out := Today{Children: []ChildToday{}, Pickups: []Pickup{}}
	nc, err := s.parents.NotifyCheckout(ctx, f.Account.Email)
	if err != nil {
		return out, err
	}
	out.NotifyCheckout = nc
	for _, pl := range f.Places {
		day := pl.today(now)
		out.Date = day.String()
		start := day.In(pl.TZ)
		evs, err := s.events.Events(ctx, central.EventFilter{LocationID: pl.LocationID, From: start, To: now.Add(time.Minute)})
		if err != nil {
			return out, err
		}
		abs, err := s.parents.Absences(ctx, pl.LocationID, day, day)
		if err != nil {
			return out, err
		}
		groups := map[string]string{}
		for _, g := range pl.Roster.Groups {
			groups[g.ID] = g.Name
		}
		for _, c := range pl.Children {
			ct := ChildToday{ID: c.ID, Location: pl.LocationID, LocName: pl.LocationName, Name: c.FirstName, Group: groups[c.GroupID]}
			for _, e := range evs {
				if e.ChildID != c.ID || (e.Type != attendance.ChildCheckIn && e.Type != attendance.ChildCheckOut) {
					continue
				}
				ct.Present = e.Type == attendance.ChildCheckIn
				ct.Since = e.Time.In(pl.TZ).Format("15:04")
				ct.By = pl.personName(e.ActorID)
				if ct.By == "" && e.ActorRole == attendance.RoleChild {
					ct.By = c.FirstName
				}
			}
			for _, a := range abs {
				if a.ChildID == c.ID {
					ct.Absence = a.Kind
				}
			}
			out.Children = append(out.Children, ct)
		}
	}
	for _, p := range s.pickups(f) {
		if p.Date == out.Date {
			out.Pickups = append(out.Pickups, p)
		}
	}
	return out, nil
}

// MonthStay is one stay in the history.
type MonthStay struct {
	Child    string   `json:"child_id"`
	Name     string   `json:"name"`
	Date     string   `json:"date"`
	CheckIn  string   `json:"check_in"`
	CheckOut string   `json:"check_out"`
	Minutes  int      `json:"minutes"`
	DayType  string   `json:"day_type"`
	Flags    []string `json:"flags,omitempty"` // corrected or unverified times are marked
}

// Month is a month of attendance and its billing preview.
type Month struct {
	Month    string         `json:"month"`
	Stays    []MonthStay    `json:"stays"`
	Lines    []billing.Line `json:"billing_lines"`
	TotalCts int64          `json:"total_cents"`
	Profile  []string       `json:"profiles"` // tariff profile per location
	Absences []central.ParentAbsence
}

func (s *Server) month(ctx context.Context, f *Family, month string) (Month, error) {
	t, err := time.Parse("2006-01", month)
	if err != nil {
		return Month{}, bad("month", "month: want YYYY-MM")
	}
	from := attendance.Date{Year: t.Year(), Month: t.Month(), Day: 1}
	to := attendance.DateOf(t.AddDate(0, 1, -1))
	out := Month{Month: month, Stays: []MonthStay{}, Lines: []billing.Line{}}
	for _, pl := range f.Places {
		for _, c := range pl.Children {
			st, err := s.reports.Attendance(ctx, central.AttendanceQuery{From: from, To: to, LocationID: pl.LocationID, ChildID: c.ID})
			if err != nil {
				return out, err
			}
			for _, x := range st {
				ms := MonthStay{Child: c.ID, Name: c.FirstName, Date: x.Date.String(), CheckIn: x.CheckIn.String(), CheckOut: x.CheckOut.String(),
					Minutes: x.Minutes, DayType: string(x.DayType), Flags: x.Flags}
				if x.Quality != "" && x.Quality != "ok" {
					ms.Flags = append(ms.Flags, "time_"+string(x.Quality))
				}
				out.Stays = append(out.Stays, ms)
			}
		}
		// The same pricing as the admins' preview and the billing runs:
		// the location's tariff, with the absences reported here.
		priced, err := s.billing.Price(ctx, pl.LocationID, "", from, to)
		if err != nil {
			return out, err
		}
		out.Profile = append(out.Profile, pl.LocationID+": "+priced.Profile)
		mine := pl.childIDs()
		for _, l := range priced.Lines {
			if mine[l.ChildID] {
				out.Lines = append(out.Lines, l)
				out.TotalCts += l.AmountCents
			}
		}
		abs, err := s.parents.Absences(ctx, pl.LocationID, from, to)
		if err != nil {
			return out, err
		}
		for _, a := range abs {
			if mine[a.ChildID] {
				out.Absences = append(out.Absences, a)
			}
		}
	}
	slices.SortStableFunc(out.Stays, func(a, b MonthStay) int { return strings.Compare(a.Date+a.CheckIn, b.Date+b.CheckIn) })
	return out, nil
}

// DataExport is everything central holds about the family (AVG art. 15
// and 20), for the signed-in parent.
type DataExport struct {
	GeneratedAt time.Time               `json:"generated_at"`
	Account     ExportAccount           `json:"account"`
	Places      []ExportPlace           `json:"locations"`
	Subjects    []central.SubjectExport `json:"subjects"`
	Absences    []central.ParentAbsence `json:"absences"`
	Activity    []audit.Entry           `json:"portal_activity"`
	Withheld    []string                `json:"withheld"`
}

// ExportAccount is the portal account.
type ExportAccount struct {
	Email    string    `json:"email"`
	Created  time.Time `json:"created"`
	Passkeys []string  `json:"passkeys_registered"` // dates only: a passkey holds no personal data beyond its public key
}

// ExportPlace is the family at one location.
type ExportPlace struct {
	LocationID   string         `json:"location_id"`
	LocationName string         `json:"location_name"`
	Guardian     roster.Person  `json:"guardian"`
	Children     []roster.Child `json:"children"`
}

func (s *Server) export(ctx context.Context, f *Family) (DataExport, error) {
	out := DataExport{GeneratedAt: s.now().UTC(), Account: ExportAccount{Email: f.Account.Email, Created: f.Account.Created, Passkeys: []string{}},
		Places: []ExportPlace{}, Subjects: []central.SubjectExport{}, Activity: []audit.Entry{},
		Withheld: []string{
			"staff-only notes (alerts are shown here only for your own children; notes on contact bans are withheld, AVG art. 15(4))",
			"data of other families and of staff",
		}}
	pks, err := s.parents.Passkeys(ctx, f.Account.ID)
	if err != nil {
		return out, err
	}
	for _, p := range pks {
		out.Account.Passkeys = append(out.Account.Passkeys, p.Created.Format(time.RFC3339))
	}
	locs := map[string]bool{}
	for _, pl := range f.Places {
		locs[pl.LocationID] = true
		ep := ExportPlace{LocationID: pl.LocationID, LocationName: pl.LocationName, Children: pl.Children}
		for _, p := range pl.Roster.People {
			if p.ID == pl.PersonID {
				ep.Guardian = p
			}
		}
		out.Places = append(out.Places, ep)
	}
	seen := map[string]bool{}
	subjects := []string{}
	for _, pl := range f.Places {
		if !seen["person:"+pl.PersonID] {
			seen["person:"+pl.PersonID] = true
			subjects = append(subjects, "person:"+pl.PersonID)
		}
		for _, c := range pl.Children {
			if !seen["child:"+c.ID] {
				seen["child:"+c.ID] = true
				subjects = append(subjects, "child:"+c.ID)
			}
		}
	}
	for _, sub := range subjects {
		x, err := s.subjects.ExportSubject(ctx, sub, nil)
		if err != nil {
			continue // nothing held beyond the roster
		}
		// Only this family's locations: the same id elsewhere is someone else.
		x.Locations = slices.DeleteFunc(x.Locations, func(l central.SubjectRoster) bool { return !locs[l.LocationID] })
		x.Stays = slices.DeleteFunc(x.Stays, func(st central.SubjectStay) bool { return !locs[st.Location] })
		x.Events = slices.DeleteFunc(x.Events, func(e central.SubjectEvent) bool { return !locs[e.Location] })
		x.CarePeriods = slices.DeleteFunc(x.CarePeriods, func(p central.CarePeriod) bool { return !locs[p.LocationID] })
		x.Contacts = slices.DeleteFunc(x.Contacts, func(c central.ContactDetails) bool { return !locs[c.LocationID] })
		x.HealthAlerts = slices.DeleteFunc(x.HealthAlerts, func(a central.SubjectHealthAlert) bool { return !locs[a.LocationID] })
		out.Subjects = append(out.Subjects, x)
	}
	abs, err := s.absences(ctx, f)
	if err != nil {
		return out, err
	}
	out.Absences = append([]central.ParentAbsence{}, abs...)
	if s.audit != nil {
		es, err := s.audit.Entries(ctx, 1, 0)
		if err != nil {
			return out, err
		}
		for _, e := range es {
			if e.Actor == s.actor(f) {
				out.Activity = append(out.Activity, e)
			}
		}
	}
	return out, nil
}
