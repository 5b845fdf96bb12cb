package door

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/attendance/rules"
)

// RemoteCorrections is what the door reads of the corrections made
// elsewhere (a manager at central, staff at another door) that the kiosk
// holds (*store.Store): a Store that has them folds them in on rebuild.
type RemoteCorrections interface {
	RemoteCorrections(ctx context.Context, since time.Time) ([]attendance.Event, error)
}

// remoteCorrectionWindow is how far back a rebuild reads corrections made
// elsewhere: only a correction of a stay still open can change presence.
const remoteCorrectionWindow = 72 * time.Hour

func newDayStays(ix *roster.Index) *attendance.DayStays {
	if ix == nil {
		return attendance.NewDayStays(time.UTC)
	}
	return attendance.NewDayStays(ix.TZ)
}

// ApplyCorrections folds corrections made elsewhere, already stored by the
// kiosk, into presence: a manager who ends a forgotten stay at central
// drops the child here. Corrections of stays not open here change nothing.
func (s *Service) ApplyCorrections(evs []attendance.Event) {
	if len(evs) == 0 {
		return
	}
	s.lockWriter()
	defer s.unlockWriter()
	s.mu.Lock()
	s.pres.apply(evs)
	s.foldDay(evs)
	s.three.feed(s.ix, s.pres.current(), evs)
	s.mu.Unlock()
	s.publishStaff()
}

// foldDay keeps today's stays; s.mu held.
func (s *Service) foldDay(evs []attendance.Event) {
	if s.day == nil {
		s.day = newDayStays(s.ix)
	}
	for _, e := range evs {
		s.day.Apply(e)
	}
}

// foldRemoteCorrections applies the stored corrections made elsewhere to a
// presence and day being rebuilt.
func (s *Service) foldRemoteCorrections(ctx context.Context, p *attendance.Presence, day *attendance.DayStays) error {
	rc, ok := s.cfg.Store.(RemoteCorrections)
	if !ok {
		return nil
	}
	evs, err := rc.RemoteCorrections(ctx, s.cfg.Clock.Now().Add(-remoteCorrectionWindow))
	if err != nil {
		return fmt.Errorf("door: rebuild: corrections: %w", err)
	}
	for _, e := range evs {
		p.Apply(e)
		day.Apply(e)
	}
	return nil
}

// Correction is a staff correction of a stay of today, from the staff
// panel: times are local "HH:MM" of today.
type Correction struct {
	ChildID  string
	Kind     attendance.CorrectionKind
	Target   string // today's stay (DayStay.ID); empty for add_stay
	CheckIn  string
	CheckOut string
	Reason   string
}

// ErrNotToday: staff at the kiosk correct today's stays only (managers
// correct any day at central).
var ErrNotToday = errors.New("door: staff correct today's stays only; earlier days at central")

// TodayStays are today's stays at this kiosk, for the staff panel.
func (s *Service) TodayStays() []attendance.DayStay {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.day == nil || s.ix == nil || s.day.Day() != attendance.DateOf(s.now().In(s.ix.TZ)) {
		return []attendance.DayStay{}
	}
	return s.day.Today()
}

// Correct records the open staff session's correction of a stay of today:
// the original events stay, a correction event supersedes them (and syncs
// to central like any event). The reason is required.
func (s *Service) Correct(ctx context.Context, in Correction) error {
	s.lockWriter()
	defer s.unlockWriter()
	defer s.publishStaff()
	s.mu.Lock()
	now := s.now()
	staff, err := s.staff.unlocked(now)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	staff.lastSeen = now
	ix := s.ix
	if ix == nil {
		s.mu.Unlock()
		return ErrNoRoster
	}
	today := attendance.DateOf(now.In(ix.TZ))
	var target attendance.DayStay
	var found bool
	if s.day != nil && s.day.Day() == today {
		target, found = s.day.Find(in.Target)
	}
	s.mu.Unlock()
	clock := func(v string) (time.Time, error) {
		v = strings.TrimSpace(v)
		if v == "" {
			return time.Time{}, nil
		}
		t, err := time.ParseInLocation("2006-01-02 15:04", today.String()+" "+v, ix.TZ)
		if err != nil {
			return t, fmt.Errorf("%w: time %q: want HH:MM", ErrBadRequest, v)
		}
		return t, nil
	}
	c := attendance.Correction{Kind: in.Kind, Target: in.Target, Reason: in.Reason, By: "staff:" + staff.staffID}
	if c.CheckIn, err = clock(in.CheckIn); err != nil {
		return err
	}
	if c.CheckOut, err = clock(in.CheckOut); err != nil {
		return err
	}
	switch in.Kind {
	case attendance.SetCheckIn:
		c.CheckOut = time.Time{}
	case attendance.SetCheckOut:
		c.CheckIn = time.Time{}
	case attendance.RemoveStay:
		c.CheckIn, c.CheckOut = time.Time{}, time.Time{}
	case attendance.AddStay:
		c.Target = ""
		if _, ok := ix.Child(in.ChildID); !ok {
			return fmt.Errorf("%w: unknown child %q", ErrBadRequest, in.ChildID)
		}
	}
	if in.Kind != attendance.AddStay {
		if !found {
			return ErrNotToday
		}
		in.ChildID = target.ChildID
		if in.Kind == attendance.SetCheckOut && !target.In.IsZero() && !c.CheckOut.After(target.In) {
			return fmt.Errorf("%w: the check-out must be after the check-in", ErrBadRequest)
		}
		if in.Kind == attendance.SetCheckIn && !target.Out.IsZero() && !c.CheckIn.Before(target.Out) {
			return fmt.Errorf("%w: the check-in must be before the check-out", ErrBadRequest)
		}
	}
	if err := c.Validate(now); err != nil {
		return fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	ev := s.rec.context("")
	ev.ActorRole, ev.ActorID, ev.ConfirmedBy = attendance.RoleStaff, staff.staffID, staff.staffID
	return s.record(ctx, rules.CorrectionEvent(in.ChildID, c, ev, ix))
}

// TodayStay is a stay of today on the staff panel.
type TodayStay struct {
	attendance.DayStay
	Name, Group string
}

// todayOnPanel lists today's stays with names; s.mu held.
func (s *Service) todayOnPanel(now time.Time) []TodayStay {
	out := []TodayStay{}
	if s.day == nil || s.ix == nil || s.day.Day() != attendance.DateOf(now.In(s.ix.TZ)) {
		return out
	}
	for _, d := range s.day.Today() {
		if !d.In.IsZero() {
			d.In = d.In.In(s.ix.TZ)
		}
		if !d.Out.IsZero() {
			d.Out = d.Out.In(s.ix.TZ)
		}
		ts := TodayStay{DayStay: d, Name: d.ChildID}
		if c, ok := s.ix.Child(d.ChildID); ok {
			ts.Name = c.FirstName
			if g, ok := s.ix.Group(c.GroupID); ok {
				ts.Group = g.Name
			}
		}
		out = append(out, ts)
	}
	return out
}
