package door

import (
	"context"
	"fmt"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/rules"
)

// openStaffSession gives the screen to a staff member who tapped; s.mu held.
func (s *Service) openStaffSession(staffID string, now time.Time) {
	m, _ := s.ix.Staff(staffID)
	needPIN := s.cfg.VerifyPIN != nil && m != nil && m.PINHash != ""
	if s.staff != nil && s.staff.staffID == staffID && !s.staff.needPIN {
		needPIN = false // already unlocked: a second tap keeps the session
	}
	s.staff = &staffSession{staffID: staffID, name: m.Name, needPIN: needPIN, lastSeen: now}
	s.publishStaffLocked()
}

// staffLocked returns the unlocked staff session; s.mu held.
func (s *Service) staffLocked() (*staffSession, error) {
	if s.staff == nil {
		return nil, ErrNotStaff
	}
	if s.staff.needPIN {
		return nil, ErrPINRequired
	}
	if s.now().Sub(s.staff.lastSeen) > s.cfg.StaffLockAfter {
		s.staff = nil
		return nil, ErrNotStaff
	}
	return s.staff, nil
}

// PIN unlocks the staff session with the staff member's PIN.
func (s *Service) PIN(pin string) error {
	defer s.publishStaff()
	s.mu.Lock()
	if s.staff == nil {
		s.mu.Unlock()
		return ErrNotStaff
	}
	if !s.staff.needPIN {
		s.mu.Unlock()
		return nil
	}
	if s.cfg.VerifyPIN == nil {
		s.mu.Unlock()
		return fmt.Errorf("%w: PINs are not configured", ErrBadRequest)
	}
	session := s.staff
	s.mu.Unlock()
	// Verify without the lock: the check is slow (argon2id) and may look
	// things up in the door (the roster), and taps must not wait for it.
	if err := s.cfg.VerifyPIN(session.staffID, pin); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.staff != session {
		return ErrNotStaff // the session changed meanwhile (locked, another badge)
	}
	s.staff.needPIN = false
	s.staff.lastSeen = s.now()
	return nil
}

// Lock closes the staff session.
func (s *Service) Lock() {
	s.mu.Lock()
	s.staff = nil
	s.mu.Unlock()
	s.publish(Update{Type: "staff", Staff: nil})
}

// Activity keeps an open staff session alive.
func (s *Service) Activity() {
	s.mu.Lock()
	if s.staff != nil {
		s.staff.lastSeen = s.now()
	}
	s.mu.Unlock()
}

// Manual actions on the staff screen.
const (
	ManualCheckIn      = "check_in"       // a child without a card, or a forgotten one
	ManualCheckOut     = "check_out"      // also resolves a forgotten check-out
	ManualStaffOut     = "staff_out"      // the session's staff member clocks out
	ManualStaffOutSure = "staff_out_sure" // ... confirming a ratio warning
	ManualRollStart    = "roll_call_start"
	ManualRollMark     = "roll_call_mark"
	ManualRollEnd      = "roll_call_end"
)

// Manual performs a staff action. Every manual check-in/out is recorded as
// such, with the staff member and reason.
func (s *Service) Manual(ctx context.Context, action, subjectID, reason string) error {
	s.mu.Lock()
	defer s.publishStaff()
	defer s.mu.Unlock()
	staff, err := s.staffLocked()
	if err != nil {
		return err
	}
	now := s.now()
	staff.lastSeen = now
	ev := s.eventContext("")
	ev.ActorRole, ev.ActorID, ev.ConfirmedBy, ev.Manual, ev.Note = attendance.RoleStaff, staff.staffID, staff.staffID, true, reason
	ev.LocationID, ev.RosterVersion = s.ix.Roster.Location.ID, s.ix.Roster.Version
	switch action {
	case ManualCheckIn, ManualCheckOut:
		c, ok := s.ix.Child(subjectID)
		if !ok {
			return fmt.Errorf("%w: unknown child %q", ErrBadRequest, subjectID)
		}
		_, present := s.presence.Child(subjectID)
		if present == (action == ManualCheckIn) {
			return fmt.Errorf("%w: %s is already %s", ErrBadRequest, c.FirstName, map[bool]string{true: "present", false: "absent"}[present])
		}
		ev.ChildID, ev.GroupID = c.ID, c.GroupID
		ev.Type = attendance.ChildCheckIn
		if action == ManualCheckOut {
			ev.Type = attendance.ChildCheckOut
		}
		return s.appendLocked(ctx, ev)
	case ManualStaffOut, ManualStaffOutSure:
		if _, present := s.presence.Staff(staff.staffID); !present {
			return fmt.Errorf("%w: not clocked in", ErrBadRequest)
		}
		if ws := rules.StaffLeave(s.ix, s.presence, now, staff.staffID); len(ws) > 0 && action == ManualStaffOut {
			staff.pending = &rules.Decision{Outcome: rules.Confirm, Reason: rules.ReasonRatioAfterLeave, Warnings: ws}
			return nil // the panel now asks to confirm
		}
		staff.pending = nil
		ev.Type, ev.StaffID, ev.GroupID = attendance.StaffOut, staff.staffID, ""
		if st, ok := s.presence.Staff(staff.staffID); ok {
			ev.GroupID = st.GroupID
		}
		if err := s.appendLocked(ctx, ev); err != nil {
			return err
		}
		s.staff = nil // clocked out: the panel closes
		return nil
	case ManualRollStart:
		s.rollCall = &rollCall{started: now, marks: map[string]bool{}}
		return nil
	case ManualRollMark:
		if s.rollCall == nil {
			return ErrRollCallActive
		}
		_, child := s.presence.Child(subjectID)
		_, member := s.presence.Staff(subjectID)
		if !child && !member {
			return fmt.Errorf("%w: %q is not present", ErrBadRequest, subjectID)
		}
		ev.Type = attendance.RollCallMark
		if child {
			ev.ChildID = subjectID
		} else {
			ev.StaffID = subjectID
		}
		if err := s.appendLocked(ctx, ev); err != nil {
			return err
		}
		s.rollCall.marks[subjectID] = true
		return nil
	case ManualRollEnd:
		s.rollCall = nil
		return nil
	}
	return fmt.Errorf("%w: unknown action %q", ErrBadRequest, action)
}

func (s *Service) appendLocked(ctx context.Context, evs ...attendance.Event) error {
	committed, err := s.cfg.Store.Append(ctx, evs...)
	if err != nil {
		s.storeErr = err
		return err
	}
	s.storeErr = nil
	for _, e := range committed {
		s.local.Apply(e)
	}
	s.merge()
	s.afterCommitLocked(committed)
	s.committed()
	return nil
}

// afterCommitLocked feeds the three-hour trackers the state after a commit
// and warns staff of a three-hour alert that started; s.mu held.
func (s *Service) afterCommitLocked(evs []attendance.Event) {
	if len(s.three) == 0 {
		return
	}
	s.feedTrackers(s.presence, evs)
}

// checkThreeHourLocked warns staff of a three-hour alert that started. It
// runs on the door's tick, not on the tap path: a whole-day evaluation per
// group is too much work to put between a card and its answer; s.mu held.
func (s *Service) checkThreeHourLocked() bool {
	if len(s.three) == 0 || s.ix == nil {
		return false
	}
	if s.threeAlerts == nil {
		s.threeAlerts = map[string]string{}
	}
	changed := false
	for _, g := range s.ix.Roster.Groups {
		th := s.threeHourLocked(g.ID)
		if th == nil || th.Alert == s.threeAlerts[g.ID] {
			continue
		}
		s.threeAlerts[g.ID] = th.Alert
		if th.Alert != "" {
			changed = true
			s.addWarnings([]rules.Warning{{Code: "three_hour", GroupID: g.ID,
				Text: fmt.Sprintf("%s: 3-uursregeling: %s (%d van %d minuten gebruikt)", g.Name, th.Alert, th.MinutesBelow, th.Budget)}})
		}
	}
	return changed
}

// forgotten reports whether a child present since since has a forgotten
// check-out at now: still in from an earlier day, or in while the
// location is closed.
func (s *Service) forgotten(since, now time.Time) bool {
	if attendance.DateOf(since.In(now.Location())) != attendance.DateOf(now) {
		return true
	}
	return len(s.ix.Roster.Location.Hours) > 0 && !s.ix.Open(now)
}

// warnForgottenLocked warns staff once per day and number when children
// are still checked in after closing or from an earlier day (they stay
// checked in until staff resolve them: nothing closes silently); it
// reports whether it warned. s.mu held.
func (s *Service) warnForgottenLocked(now time.Time) bool {
	if s.ix == nil {
		return false
	}
	n := 0
	for _, st := range s.presence.Children() {
		if s.forgotten(st.Since, now) {
			n++
		}
	}
	key := fmt.Sprintf("%s/%d", attendance.DateOf(now), n)
	if n == 0 || key == s.forgotWarned {
		return false
	}
	s.forgotWarned = key
	s.addWarnings([]rules.Warning{{Code: "forgotten_check_out",
		Text: fmt.Sprintf("%d kind(eren) nog ingecheckt na sluitingstijd of van een eerdere dag: controleer en check uit", n)}})
	return true
}

// StorageError is the last failure to record (nil when the last write
// worked): health checks and the staff screen show it.
func (s *Service) StorageError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.storeErr
}

// Run expires sessions and locks the staff session until ctx is done.
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			s.expire()
		}
	}
}

func (s *Service) expire() {
	s.mu.Lock()
	now := s.now()
	var done []string
	for id, ss := range s.sessions {
		if now.After(ss.expires) {
			delete(s.sessions, id)
			done = append(done, id)
		}
	}
	if s.current != nil && s.current.Session == "" && now.Sub(s.current.At) > 8*time.Second {
		done = append(done, s.current.ID)
		s.current = nil
	}
	if s.current != nil && s.current.Session != "" {
		if _, ok := s.sessions[s.current.Session]; !ok {
			s.current = nil
		}
	}
	if s.remote != nil && s.cfg.Clock.Now().Sub(s.remote.AsOf) > RemoteMaxAge {
		s.remote = nil // offline: decide on our own events alone
		s.merge()
	}
	locked := false
	if s.staff != nil && now.Sub(s.staff.lastSeen) > s.cfg.StaffLockAfter {
		s.staff = nil
		locked = true
	}
	changed := len(done) > 0 || locked || s.warnForgottenLocked(now)
	if s.checkThreeHourLocked() {
		changed = true
	}
	var staffView *StaffView
	if changed {
		staffView = s.staffViewLocked()
	}
	s.mu.Unlock()
	for _, id := range done {
		s.publish(Update{Type: "done", ID: id})
	}
	if changed {
		s.publish(Update{Type: "staff", Staff: staffView})
	}
}
