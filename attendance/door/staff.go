package door

import (
	"context"
	"fmt"
	"time"

	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/attendance/rules"
)

// staffSession is the staff member who has the screen.
type staffSession struct {
	staffID  string
	name     string
	needPIN  bool
	lastSeen time.Time
	pending  *rules.Decision // a confirm (staff out) waiting
}

// staffDesk holds the staff session: who has the staff panel, whether the
// PIN is still to come, and when it locks. Guarded by the door's state
// lock; the slow PIN check runs outside it (see Service.PIN).
type staffDesk struct {
	lockAfter time.Duration
	session   *staffSession
}

// open gives the screen to a staff member who tapped; pinsOn: PINs are
// configured.
func (d *staffDesk) open(ix *roster.Index, staffID string, now time.Time, pinsOn bool) {
	m, _ := ix.Staff(staffID)
	needPIN := pinsOn && m != nil && m.PINHash != ""
	if d.session != nil && d.session.staffID == staffID && !d.session.needPIN {
		needPIN = false // already unlocked: a second tap keeps the session
	}
	d.session = &staffSession{staffID: staffID, name: m.Name, needPIN: needPIN, lastSeen: now}
}

// unlocked returns the open, unlocked staff session.
func (d *staffDesk) unlocked(now time.Time) (*staffSession, error) {
	if d.session == nil {
		return nil, ErrNotStaff
	}
	if d.session.needPIN {
		return nil, ErrPINRequired
	}
	if now.Sub(d.session.lastSeen) > d.lockAfter {
		d.session = nil
		return nil, ErrNotStaff
	}
	return d.session, nil
}

// expire locks an idle session; it reports whether it did.
func (d *staffDesk) expire(now time.Time) bool {
	if d.session != nil && now.Sub(d.session.lastSeen) > d.lockAfter {
		d.session = nil
		return true
	}
	return false
}

// PIN unlocks the staff session with the staff member's PIN.
func (s *Service) PIN(pin string) error {
	defer s.publishStaff()
	s.mu.Lock()
	session := s.staff.session
	needPIN := session != nil && session.needPIN
	s.mu.Unlock()
	if session == nil {
		return ErrNotStaff
	}
	if !needPIN {
		return nil
	}
	if s.cfg.VerifyPIN == nil {
		return fmt.Errorf("%w: PINs are not configured", ErrBadRequest)
	}
	// Verify without any lock: the check is slow (argon2id) and may look
	// things up in the door (the roster), and taps must not wait for it.
	if err := s.cfg.VerifyPIN(session.staffID, pin); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.staff.session != session {
		return ErrNotStaff // the session changed meanwhile (locked, another badge)
	}
	session.needPIN = false
	session.lastSeen = s.now()
	return nil
}

// Lock closes the staff session.
func (s *Service) Lock() {
	s.mu.Lock()
	s.staff.session = nil
	s.mu.Unlock()
	s.pub.publish(Update{Type: "staff", Staff: nil})
}

// Activity keeps an open staff session alive.
func (s *Service) Activity() {
	s.mu.Lock()
	if s.staff.session != nil {
		s.staff.session.lastSeen = s.now()
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
	s.lockWriter()
	defer s.unlockWriter()
	defer s.publishStaff()
	defer s.settle(ctx) // a manual check-out may resolve a request
	s.mu.Lock()
	now := s.now()
	staff, err := s.staff.unlocked(now)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	staff.lastSeen = now
	ix, p := s.ix, s.pres.current()
	switch action {
	case ManualCheckIn, ManualCheckOut:
		s.mu.Unlock()
		d, err := rules.ManualCheck(ix, p, staff.staffID, subjectID, action == ManualCheckIn)
		if err != nil {
			return badRequest(err)
		}
		return s.record(ctx, s.rec.manual(ix, d, staff.staffID, reason)...)
	case ManualStaffOut, ManualStaffOutSure:
		d, err := rules.ManualStaffOut(ix, p, now, staff.staffID, action == ManualStaffOutSure)
		if err != nil {
			s.mu.Unlock()
			return badRequest(err)
		}
		if d.Outcome == rules.Confirm {
			staff.pending = &d
			s.mu.Unlock()
			return nil // the panel now asks to confirm
		}
		staff.pending = nil
		s.mu.Unlock()
		if err := s.record(ctx, s.rec.manual(ix, d, staff.staffID, reason)...); err != nil {
			return err
		}
		s.mu.Lock()
		if s.staff.session == staff {
			s.staff.session = nil // clocked out: the panel closes
		}
		s.mu.Unlock()
		return nil
	case ManualRollStart:
		s.roll = newRollCall(now)
		s.mu.Unlock()
		return nil
	case ManualRollMark:
		if s.roll == nil {
			s.mu.Unlock()
			return ErrRollCallActive
		}
		s.mu.Unlock()
		child, err := rules.RollCallSubject(p, subjectID)
		if err != nil {
			return badRequest(err)
		}
		if err := s.record(ctx, s.rec.rollCall(ix, subjectID, child, staff.staffID, reason)); err != nil {
			return err
		}
		s.mu.Lock()
		if s.roll != nil {
			s.roll.mark(subjectID)
		}
		s.mu.Unlock()
		return nil
	case ManualRollEnd:
		s.roll = nil
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()
	return fmt.Errorf("%w: unknown action %q", ErrBadRequest, action)
}

// badRequest answers an act the rules refuse.
func badRequest(err error) error {
	return fmt.Errorf("%w: %w", ErrBadRequest, err)
}
