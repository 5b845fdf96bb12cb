package door

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/attendance/rules"
	"github.com/kinderdeur/kiosk/attendance/store"
)

// The tap path and the intents that finish a decision: Tap, Select,
// Confirm, Refuse, Cancel. Each takes the writer lock for the whole act
// and the state lock only around in-memory work; the store commits with
// the state lock released (see commit).

// Tap decides a card presented to a reader and returns the result. The
// error is for a tap that could not be handled at all (unknown reader); a
// refused or unrecorded tap is a Result with that outcome.
func (s *Service) Tap(ctx context.Context, reader string, uid []byte) (Result, error) {
	start := time.Now()
	r, err := s.decideTap(ctx, reader, uid)
	if err == nil {
		s.cfg.Observer.TapDecided(string(r.Outcome), time.Since(start))
	}
	return r, err
}

func (s *Service) decideTap(ctx context.Context, reader string, uid []byte) (Result, error) {
	role, ok := s.cfg.Readers[reader]
	if !ok {
		return Result{}, fmt.Errorf("%w %q", ErrUnknownReader, reader)
	}
	hash, err := s.hash(uid)
	if err != nil {
		s.mu.Lock()
		r := result(rules.Decision{Outcome: rules.Denied, Reason: "not_enrolled"}, s.now())
		s.mu.Unlock()
		s.pub.decision(r)
		s.pub.resolve(awaitKey(reader, ""), r)
		return r, nil
	}
	s.lockWriter()
	r, staffChanged := s.tap(ctx, reader, role, hash)
	if staffChanged {
		s.publishStaff()
	}
	s.pub.decision(r)
	s.settle(ctx)
	s.unlockWriter()
	s.pub.resolve(awaitKey(reader, hash), r)
	return r, nil
}

// tap decides one tap and carries the decision out; it reports whether the
// staff panel changed. s.writer held.
func (s *Service) tap(ctx context.Context, reader string, role attendance.ReaderRole, hash string) (Result, bool) {
	s.mu.Lock()
	now := s.now()
	if s.ix == nil {
		r := s.sessions.show(result(rules.Decision{Outcome: rules.Denied, Reason: "no_roster"}, now))
		s.mu.Unlock()
		return r, false
	}
	var badge *roster.Badge
	if b, ok := s.ix.Badge(hash); ok {
		badge = &b
	}
	// Anyone but staff at the reader: the staff panel locks at once, before
	// the decision shows (staff data is never on the glass with a parent).
	locked := false
	if s.staff.session != nil && (badge == nil || badge.Role != attendance.RoleStaff) {
		s.staff.session = nil
		locked = true
	}
	d := rules.Decide(rules.Input{Now: now, Role: role, Badge: badge, Roster: s.ix, Presence: s.pres.current(), Previous: s.last, Policy: s.cfg.Policy, Recent: &s.recent})
	s.last = d.Remember
	if d.Outcome == rules.Denied && d.Reason == rules.ReasonUnknownBadge {
		s.log.Info("tap: unknown badge", "reader", reader)
	}
	// A child's tap that completes a handover replaces the adult's open
	// choice: the pair decides.
	if d.Reason == rules.ReasonHandover {
		s.sessions.dropChoicesOf(d.Actor.ID)
	}
	if d.StaffAlert != "" && d.Outcome != rules.Denied {
		// A person banned from one child but allowed another: staff know.
		s.warn.add(rules.Warning{Code: rules.ReasonContactBan, Text: d.StaffAlert})
	}
	switch d.Outcome {
	case rules.StaffIn:
		s.staff.open(s.ix, d.Actor.ID, now, s.cfg.VerifyPIN != nil)
		// The panel opens at once, then shows the clock-in once committed.
		panel := s.staffPanel()
		s.mu.Unlock()
		s.pub.publish(Update{Type: "staff", Staff: panel})
		r, _ := s.commit(ctx, d, reader, attendance.Event{})
		return r, true
	case rules.StaffMenu:
		s.staff.open(s.ix, d.Actor.ID, now, s.cfg.VerifyPIN != nil)
		r := result(d, now)
		r.Committed = true
		r = s.sessions.show(r)
		s.mu.Unlock()
		return r, true
	case rules.CheckIn, rules.CheckOut:
		s.mu.Unlock()
		r, changed := s.commit(ctx, d, reader, attendance.Event{})
		return r, changed || locked
	case rules.ChooseChildren, rules.Confirm:
		// A choice, or a tap that would undo the person's own act of a
		// moment ago: nothing happens until they say so.
		r := s.openSession(d, reader, now, false)
		s.mu.Unlock()
		return r, true
	case rules.NeedsStaff:
		s.warn.add(d.Warnings...)
		release, request := rules.Split(d)
		if len(release.Children) == 0 {
			r := s.openSession(d, reader, now, true)
			s.mu.Unlock()
			return r, true
		}
		// Partly released: the children this person may take go now, the
		// rest wait for staff.
		s.mu.Unlock()
		done, _ := s.commit(ctx, release, reader, attendance.Event{})
		if !done.Committed || done.Outcome == rules.Denied {
			return done, true
		}
		s.mu.Lock()
		r := s.openSession(request, reader, s.now(), true)
		r.Decision = d
		r.Children = append(append([]rules.Child(nil), done.Children...), request.Children...)
		r.Committed = true
		r = s.sessions.show(r)
		s.mu.Unlock()
		return r, true
	case rules.Denied:
		r := result(d, now)
		r.Committed = true
		r = s.sessions.show(r)
		evs := s.rec.decision(s.ix, d, reader, attendance.Event{})
		if len(evs) > 0 {
			// Recorded for staff and the audit; the screen shows the public
			// only a neutral text.
			s.warn.add(rules.Warning{Code: rules.ReasonContactBan, Text: d.StaffAlert})
		}
		s.mu.Unlock()
		if len(evs) > 0 {
			if _, err := s.rec.append(ctx, evs...); err != nil {
				s.log.Error("record denied tap", "err", err)
			}
		}
		return r, locked || len(evs) > 0
	}
	r := s.sessions.show(result(d, now))
	s.mu.Unlock()
	return r, locked
}

// openSession opens a session for d and shows it; s.mu held.
func (s *Service) openSession(d rules.Decision, reader string, now time.Time, staff bool) Result {
	timeout := s.cfg.SessionTimeout
	if staff {
		timeout = 5 * time.Minute
	}
	ss, superseded := s.sessions.add(d, reader, now, timeout, staff)
	for _, old := range superseded {
		s.closed = append(s.closed, closedRequest{old, rules.CloseSuperseded})
	}
	r := result(d, now)
	r.Session, r.ExpiresIn = ss.id, timeout
	return s.sessions.show(r)
}

// commit writes a final decision's events and applies them to presence;
// it reports whether the staff panel changed. s.writer held, s.mu not.
func (s *Service) commit(ctx context.Context, d rules.Decision, reader string, extra attendance.Event) (Result, bool) {
	s.mu.Lock()
	now := s.now()
	evs := s.rec.decision(s.ix, d, reader, extra)
	if d.Outcome == rules.CheckIn || d.Outcome == rules.CheckOut || d.Outcome == rules.ChooseChildren || d.Outcome == rules.NeedsStaff {
		if len(evs) == 0 && d.Reason != rules.ReasonHandover && d.Reason != rules.ReasonAlreadyDone {
			r := result(rules.Decision{Outcome: rules.Denied, Reason: rules.ReasonNothingToDo}, now)
			r.Committed = true
			r = s.sessions.show(r)
			s.mu.Unlock()
			return r, false
		}
	}
	s.mu.Unlock()
	committed, err := s.rec.append(ctx, evs...)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.log.Error("tap not recorded", "err", err, "outcome", d.Outcome)
		s.storeErr = err
		reason := "storage"
		if errors.Is(err, store.ErrDiskFull) {
			reason = "disk_full"
		}
		s.warn.add(rules.Warning{Code: reason, Text: "Niet opgeslagen: " + err.Error()})
		return s.sessions.show(result(rules.Decision{Outcome: "error", Reason: reason}, now)), false
	}
	s.applyCommitted(committed)
	s.warn.add(d.Warnings...)
	// A choice becomes what was done on screen: check_in, check_out or
	// check_in_out, listing only the children acted on.
	final := d
	final.Children = append([]rules.Child(nil), final.Children...)
	if final.Outcome == rules.ChooseChildren || final.Outcome == rules.NeedsStaff {
		final.Outcome = rules.Summarise(committed)
		final.Children = slices.DeleteFunc(final.Children, func(c rules.Child) bool { return !c.Selected })
	}
	// Show the state after the commit.
	for i := range final.Children {
		_, final.Children[i].Present = s.pres.current().Child(final.Children[i].ID)
	}
	r := result(final, now)
	r.Committed = true
	return s.sessions.show(r), true
}

// applyCommitted folds committed events into presence and the three-hour
// trackers; s.writer and s.mu held.
func (s *Service) applyCommitted(committed []attendance.Event) {
	s.storeErr = nil
	s.pres.apply(committed)
	s.foldDay(committed)
	for _, e := range committed {
		s.recent.Fold(e)
	}
	s.three.feed(s.ix, s.pres.current(), committed)
	s.notify = true
}

// record commits the events of a staff act and folds them into the state;
// s.writer held, s.mu not.
func (s *Service) record(ctx context.Context, evs ...attendance.Event) error {
	committed, err := s.rec.append(ctx, evs...)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.storeErr = err
		return err
	}
	s.applyCommitted(committed)
	return nil
}

// Select completes a choose_children session with the children the user
// kept selected.
func (s *Service) Select(ctx context.Context, sessionID string, childIDs []string) (Result, error) {
	s.lockWriter()
	defer s.unlockWriter()
	s.mu.Lock()
	ss, ok := s.sessions.get(sessionID, false)
	if !ok {
		s.mu.Unlock()
		return Result{}, ErrNoSession
	}
	d, err := rules.Select(ss.decision, childIDs)
	if err != nil {
		s.mu.Unlock()
		return Result{}, badRequest(err)
	}
	defer s.settle(ctx)
	if d.Outcome == rules.StaffIn {
		// A staff member who clocked out a moment ago says yes: clock in.
		s.sessions.remove(sessionID)
		s.staff.open(s.ix, d.Actor.ID, s.now(), s.cfg.VerifyPIN != nil)
		panel := s.staffPanel()
		s.mu.Unlock()
		s.pub.publish(Update{Type: "staff", Staff: panel})
		r, _ := s.commit(ctx, d, ss.reader, attendance.Event{})
		s.publishStaff()
		s.pub.decision(r)
		return r, nil
	}
	// The ratio is assessed again on the final choice.
	now := s.now()
	a := rules.Assess(s.ix, s.pres.current(), now, d.Children)
	d.Warnings = a.Warnings
	s.sessions.remove(sessionID)
	if a.Block != "" {
		d.Outcome, d.Reason = rules.NeedsStaff, a.Block
		r := s.openSession(d, ss.reader, now, true)
		s.mu.Unlock()
		s.publishStaff()
		s.pub.decision(r)
		return r, nil
	}
	s.mu.Unlock()
	r, staffChanged := s.commit(ctx, d, ss.reader, attendance.Event{})
	if staffChanged {
		s.publishStaff()
	}
	s.pub.decision(r)
	return r, nil
}

// Cancel ends a session without effect.
func (s *Service) Cancel(sessionID string) error {
	s.mu.Lock()
	ok := s.sessions.remove(sessionID)
	if ok {
		s.sessions.clearScreen(sessionID)
	}
	s.mu.Unlock()
	if !ok {
		return ErrNoSession
	}
	s.pub.publish(Update{Type: "done", ID: sessionID})
	s.publishStaff()
	return nil
}

// Confirm is staff releasing children on a needs_staff request after
// checking ID (or overriding a ratio/capacity block with a reason).
func (s *Service) Confirm(ctx context.Context, sessionID string, childIDs []string, idType, note string) (Result, error) {
	return s.ConfirmTo(ctx, sessionID, childIDs, idType, note, rules.Handover{})
}

// ConfirmTo is Confirm releasing the children to the grown-up to (a
// person of the roster, or a name with idType checked): required for a
// child who may not leave alone. A child whose presence changed since the
// request is never acted on: the request closes (recorded) and the answer
// is ErrStateChanged. A confirm ends the staff session: the public result
// shows, then the screen returns to idle, never to the panel.
func (s *Service) ConfirmTo(ctx context.Context, sessionID string, childIDs []string, idType, note string, to rules.Handover) (Result, error) {
	s.lockWriter()
	defer s.unlockWriter()
	defer s.settle(ctx)
	s.mu.Lock()
	now := s.now()
	staff, err := s.staff.unlocked(now)
	if err != nil {
		s.mu.Unlock()
		return Result{}, err
	}
	ss, ok := s.sessions.get(sessionID, true)
	if !ok {
		s.mu.Unlock()
		return Result{}, ErrNoSession
	}
	ix := s.ix
	d, err := rules.Release(ix, s.pres.current(), now, ss.decision, childIDs, idType, note, to)
	if err != nil {
		s.mu.Unlock()
		var ban *rules.BanError
		if errors.As(err, &ban) {
			return Result{}, fmt.Errorf("%w: %s", ErrContactBan, ban.Child)
		}
		return Result{}, badRequest(err)
	}
	if changed := rules.Changed(d, s.pres.current()); len(changed) > 0 {
		// Someone else acted meanwhile: staff must not act on an old picture.
		s.sessions.remove(sessionID)
		s.closed = append(s.closed, closedRequest{ss, rules.ReasonStateChanged})
		s.mu.Unlock()
		return Result{}, fmt.Errorf("%w: %v", ErrStateChanged, changed)
	}
	extra := attendance.Event{ConfirmedBy: staff.staffID, IDChecked: idType, Note: rules.HandoverNote(to, note)}
	var override []attendance.Event
	if rules.Overridable(d.Reason) {
		extra.Reason = "override_" + d.Reason
		override = append(override, s.rec.override(ix, d, ss.reader, staff.staffID, note))
	}
	s.mu.Unlock()
	if len(override) > 0 {
		if _, err := s.rec.append(ctx, override...); err != nil {
			return Result{}, err
		}
	}
	s.mu.Lock()
	s.sessions.remove(sessionID)
	if s.staff.session == staff {
		s.staff.session = nil // the public result shows; the panel is locked
	}
	s.mu.Unlock()
	r, _ := s.commit(ctx, d, ss.reader, extra)
	s.publishStaff()
	s.pub.decision(r)
	return r, nil
}

// Refuse is staff refusing a pickup; it is recorded.
func (s *Service) Refuse(ctx context.Context, sessionID, reason string) error {
	s.lockWriter()
	defer s.unlockWriter()
	defer s.publishStaff()
	s.mu.Lock()
	staff, err := s.staff.unlocked(s.now())
	if err != nil {
		s.mu.Unlock()
		return err
	}
	ss, ok := s.sessions.get(sessionID, true)
	if !ok {
		s.mu.Unlock()
		return ErrNoSession
	}
	s.sessions.remove(sessionID)
	evs := s.rec.refusal(s.ix, ss.decision, ss.reader, staff.staffID, reason)
	s.mu.Unlock()
	if _, err := s.rec.append(ctx, evs...); err != nil {
		return err
	}
	s.mu.Lock()
	onScreen := s.sessions.clearScreen(sessionID)
	if s.staff.session == staff {
		s.staff.session = nil // the end of a staff act at the door locks the panel
	}
	s.mu.Unlock()
	if onScreen {
		s.pub.publish(Update{Type: "done", ID: sessionID})
	}
	return nil
}
