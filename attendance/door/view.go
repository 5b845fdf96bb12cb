package door

import (
	"sort"
	"strings"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/rules"
)

// View is a decision as the public screen may show it: first names only,
// nothing sensitive. A contact ban is shown as the neutral "not_allowed".
type View struct {
	ID          string        `json:"id"`
	Outcome     rules.Outcome `json:"outcome"`
	Reason      string        `json:"reason,omitempty"`
	At          time.Time     `json:"at"`
	Actor       PublicActor   `json:"actor"`
	Children    []ChildView   `json:"children,omitempty"`
	Session     string        `json:"session,omitempty"`
	ExpiresInMS int64         `json:"expires_in_ms,omitempty"`
	Committed   bool          `json:"committed"`
}

// PublicActor is who tapped, by first name.
type PublicActor struct {
	Role attendance.Role `json:"role,omitempty"`
	Name string          `json:"name,omitempty"`
}

// ChildView is a child on the public screen.
type ChildView struct {
	ID       string       `json:"id"`
	Name     string       `json:"name"`
	Group    string       `json:"group"`
	Present  bool         `json:"present"`
	Action   rules.Action `json:"action"`
	Selected bool         `json:"selected"`
	Since    string       `json:"since,omitempty"` // HH:MM local
}

// firstName is the public form of a person's name.
func firstName(name string) string {
	if f := strings.Fields(name); len(f) > 0 {
		return f[0]
	}
	return ""
}

func (s *Service) view(d rules.Decision, now time.Time) *View {
	v := &View{ID: newID("d-"), Outcome: d.Outcome, Reason: d.Reason, At: now,
		Actor: PublicActor{Role: d.Actor.Role, Name: firstName(d.Actor.Name)}}
	switch d.Reason {
	case rules.ReasonContactBan:
		v.Reason = "not_allowed"
		v.Actor = PublicActor{}
		return v
	case rules.ReasonNotAnnounced, rules.ReasonTooYoung:
		return v // which child is at stake is for staff eyes
	}
	for _, c := range d.Children {
		cv := ChildView{ID: c.ID, Name: c.Name, Group: c.Group, Present: c.Present, Action: c.Action, Selected: c.Selected}
		if !c.Since.IsZero() {
			cv.Since = c.Since.In(now.Location()).Format("15:04")
		}
		v.Children = append(v.Children, cv)
	}
	return v
}

// Presence is contract 4: GET /api/v1/presence.
type Presence struct {
	At       time.Time          `json:"at"`
	Children []PresentPerson    `json:"children"`
	Staff    []PresentPerson    `json:"staff"`
	Groups   []rules.GroupState `json:"groups"`
}

// PresentPerson is a child or staff member present.
type PresentPerson struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	GroupID string    `json:"group_id"`
	Group   string    `json:"group"`
	Since   time.Time `json:"since"`
}

// Presence returns who is present now, derived from committed events.
func (s *Service) Presence() Presence {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.presenceLocked()
}

func (s *Service) presenceLocked() Presence {
	now := s.now()
	p := Presence{At: now, Children: []PresentPerson{}, Staff: []PresentPerson{}, Groups: []rules.GroupState{}}
	if s.ix == nil {
		return p
	}
	group := func(id string) string {
		if g, ok := s.ix.Group(id); ok {
			return g.Name
		}
		return ""
	}
	for _, st := range s.presence.Children() {
		name := st.ID
		if c, ok := s.ix.Child(st.ID); ok {
			name = c.FirstName
		}
		p.Children = append(p.Children, PresentPerson{ID: st.ID, Name: name, GroupID: st.GroupID, Group: group(st.GroupID), Since: st.Since.In(now.Location())})
	}
	for _, st := range s.presence.StaffPresent() {
		name := st.ID
		if m, ok := s.ix.Staff(st.ID); ok {
			name = m.Name
		}
		p.Staff = append(p.Staff, PresentPerson{ID: st.ID, Name: name, GroupID: st.GroupID, Group: group(st.GroupID), Since: st.Since.In(now.Location())})
	}
	p.Groups = rules.Groups(s.ix, s.presence, now)
	return p
}

// StaffView is the staff panel: sent only while a staff session is open.
//
// Each of Groups carries "three_hour" (rules.ThreeHour), the live
// three-hour rule state of the group today:
//
//	{"minutes_below": N, "budget": M, "alert": "..."}
//
// minutes_below: minutes below the ratio so far today (rounded up, inside
// or outside the windows); budget: minutes allowed today (180, or 30 on a
// BSO school day; 0 on a day not open long enough to deviate); alert: ""
// or the deviations running now, sorted, comma-separated: "outside_window",
// "over_budget", "below_floor" (fewer than half the required staff),
// "short_opening". The field is absent when the location's windows are
// invalid (logged).
//
// Forgotten lists the children still present from an earlier day, or
// present while the location is closed: staff check each one out (manual
// check_out) or leave it; nothing is closed automatically.
type StaffView struct {
	Name         string             `json:"name"`
	StaffID      string             `json:"staff_id"`
	LocksInMS    int64              `json:"locks_in_ms"`
	PINRequired  bool               `json:"pin_required"`
	Groups       []rules.GroupState `json:"groups"`
	Present      []StaffChild       `json:"present"`
	StaffPresent []PresentPerson    `json:"staff_present"`
	Requests     []Request          `json:"requests"`
	RollCall     *RollCallView      `json:"roll_call"`
	Forgotten    []StaffChild       `json:"forgotten"`
	Warnings     []rules.Warning    `json:"warnings"`
	Absent       []StaffChild       `json:"absent"`
	Confirm      *ConfirmStaffLeave `json:"confirm,omitempty"`
}

// StaffChild is a child on the staff panel, with staff-only alerts.
type StaffChild struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Group string `json:"group"`
	Since string `json:"since,omitempty"`
	Alert string `json:"alert,omitempty"`
}

// Request is a needs_staff session waiting for staff.
type Request struct {
	Session  string       `json:"session"`
	Reason   string       `json:"reason"`
	Person   string       `json:"person"`
	Role     string       `json:"role"`
	Relation string       `json:"relation,omitempty"`
	Children []StaffChild `json:"children"`
	Photo    bool         `json:"photo"`
	Alert    string       `json:"alert,omitempty"`
	Warnings []string     `json:"warnings,omitempty"`
}

// RollCallView is the emergency roll call.
type RollCallView struct {
	Started string         `json:"started"`
	People  []RollCallLine `json:"people"`
	Missing int            `json:"missing"`
}

// RollCallLine is one person in the roll call.
type RollCallLine struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Group     string `json:"group"`
	Kind      string `json:"kind"` // child or staff
	Accounted bool   `json:"accounted"`
}

// ConfirmStaffLeave asks a staff member to confirm a clock-out that breaks
// the ratio.
type ConfirmStaffLeave struct {
	Warnings []rules.Warning `json:"warnings"`
}

func (s *Service) staffViewLocked() *StaffView {
	if s.staff == nil || s.ix == nil {
		return nil
	}
	now := s.now()
	st := s.staff
	v := &StaffView{Name: st.name, StaffID: st.staffID, PINRequired: st.needPIN,
		LocksInMS: max(0, st.lastSeen.Add(s.cfg.StaffLockAfter).Sub(now).Milliseconds()),
		Present:   []StaffChild{}, Requests: []Request{}, Forgotten: []StaffChild{}, Absent: []StaffChild{},
		Warnings: append([]rules.Warning{}, s.warnings...), StaffPresent: []PresentPerson{}}
	if st.needPIN {
		return v // nothing else until the PIN is entered
	}
	pres := s.presenceLocked()
	v.Groups, v.StaffPresent = pres.Groups, pres.Staff
	for i := range v.Groups {
		v.Groups[i].ThreeHour = s.threeHourLocked(v.Groups[i].GroupID)
	}
	present := map[string]bool{}
	for _, pp := range pres.Children {
		c, _ := s.ix.Child(pp.ID)
		sc := StaffChild{ID: pp.ID, Name: pp.Name, Group: pp.Group, Since: pp.Since.Format("15:04")}
		if c != nil {
			sc.Alert = c.StaffAlert
		}
		present[pp.ID] = true
		v.Present = append(v.Present, sc)
		// Forgotten check-outs: still in from an earlier day, or after closing.
		if s.forgotten(pp.Since, now) {
			sc.Since = pp.Since.Format("2006-01-02 15:04")
			v.Forgotten = append(v.Forgotten, sc)
		}
	}
	for _, c := range s.ix.Roster.Children {
		if !present[c.ID] {
			g, _ := s.ix.Group(c.GroupID)
			v.Absent = append(v.Absent, StaffChild{ID: c.ID, Name: c.FirstName, Group: g.Name})
		}
	}
	for _, ss := range s.sessions {
		if !ss.staff {
			continue
		}
		d := ss.decision
		r := Request{Session: ss.id, Reason: d.Reason, Person: d.Actor.Name, Role: string(d.Actor.Role), Relation: d.Actor.Relation, Alert: d.StaffAlert}
		for _, c := range d.Children {
			rc := StaffChild{ID: c.ID, Name: c.Name, Group: c.Group}
			if ch, ok := s.ix.Child(c.ID); ok {
				rc.Alert = ch.StaffAlert
				r.Photo = r.Photo || ch.PhotoConsent
			}
			r.Children = append(r.Children, rc)
		}
		for _, w := range d.Warnings {
			r.Warnings = append(r.Warnings, w.Text)
		}
		v.Requests = append(v.Requests, r)
	}
	sort.Slice(v.Requests, func(i, j int) bool { return v.Requests[i].Session < v.Requests[j].Session })
	if s.rollCall != nil {
		rc := &RollCallView{Started: s.rollCall.started.Format("15:04")}
		for _, pp := range pres.Children {
			rc.People = append(rc.People, RollCallLine{ID: pp.ID, Name: pp.Name, Group: pp.Group, Kind: "child", Accounted: s.rollCall.marks[pp.ID]})
		}
		for _, pp := range pres.Staff {
			rc.People = append(rc.People, RollCallLine{ID: pp.ID, Name: pp.Name, Group: pp.Group, Kind: "staff", Accounted: s.rollCall.marks[pp.ID]})
		}
		for _, l := range rc.People {
			if !l.Accounted {
				rc.Missing++
			}
		}
		v.RollCall = rc
	}
	if st.pending != nil {
		v.Confirm = &ConfirmStaffLeave{Warnings: st.pending.Warnings}
	}
	return v
}
