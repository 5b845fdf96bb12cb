// Package door runs the kiosk's tap path: a tap's badge is hashed and looked
// up, the rules decide, the resulting events commit to the store in one
// transaction, presence is updated from those committed events, and only
// then is the decision published to the screen and answered. It also holds
// the short-lived state of the door: open choices, requests waiting for
// staff, the staff session and the emergency roll call.
//
// It knows no screen, network or chip: readers call Tap, the screen calls
// the intent methods (Select, Confirm, ...) and reads Updates.
package door

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/ratio"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/attendance/rules"
	"github.com/kinderdeur/kiosk/attendance/store"
)

// Clock is the door's view of time on a device without a real-time clock.
type Clock interface {
	Now() time.Time
	MonoNS() int64 // monotonic nanoseconds since boot
	BootID() string
	Synced() bool
}

// Config builds a Service.
type Config struct {
	Store *store.Store
	Key   attendance.BadgeKey
	// Readers maps reader names to their role; a tap from an unknown reader
	// is refused.
	Readers        map[string]rules.ReaderRole
	Clock          Clock
	Policy         rules.Policy
	SessionTimeout time.Duration // how long a choice or request waits (default 20 s; staff requests 5 min)
	StaffLockAfter time.Duration // staff session lock after inactivity (default 60 s)
	// VerifyPIN checks a staff member's PIN; nil means PINs are not used.
	VerifyPIN func(staffID, pin string) error
	// OnCommit is called after events commit (the sync client pushes).
	OnCommit func()
	// ThreeHourDay says which three-hour budget a group has on a date
	// (dagopvang, BSO school day, BSO vacation day); nil means
	// DefaultThreeHourDay. A daemon with a school calendar passes its own.
	ThreeHourDay func(g roster.Group, d attendance.Date) ratio.DayKind
	Logger       *slog.Logger
}

// Errors callers branch on.
var (
	ErrUnknownReader  = errors.New("door: unknown reader")
	ErrNoSession      = errors.New("door: no such session (expired or done)")
	ErrNotStaff       = errors.New("door: staff session required")
	ErrBadRequest     = errors.New("door: bad request")
	ErrNoRoster       = errors.New("door: no roster")
	ErrPINRequired    = errors.New("door: PIN required")
	ErrRollCallActive = errors.New("door: roll call not active")
	// ErrContactBan: staff tried to release a child to a person under a
	// contact ban; refused, whoever asks.
	ErrContactBan  = errors.New("door: contact ban: the child cannot be released to this person")
	ErrNotEnrolled = errors.New("door: no badge key yet (the kiosk is not enrolled)")
)

// Service is the door. Decisions are serialised: one tap at a time, like
// the single writer behind it.
type Service struct {
	cfg Config
	log *slog.Logger

	mu  sync.Mutex
	key attendance.BadgeKey
	ix  *roster.Index
	// presence is what the door decides on: local, folded from this
	// kiosk's own events, merged with remote, the other doors' presence
	// from central (see remote.go).
	presence *attendance.Presence
	local    *attendance.Presence
	remote   *Remote
	sessions map[string]*session
	last     *rules.Tap
	staff    *staffSession
	rollCall *rollCall
	current  *View // the public decision on screen
	warnings []rules.Warning
	storeErr error
	seq      int

	three        map[string]*ratio.Tracker // group -> live three-hour rule
	threeAlerts  map[string]string         // group -> the alert last warned of
	replayAt     time.Time                 // the trackers' clock while rebuilding
	fedDay       attendance.Date           // the day the trackers were last fed every group
	forgotWarned string                    // day/count of the last forgotten check-out warning

	subMu  sync.Mutex
	subs   map[chan Update]struct{}
	awaits map[string][]chan View // reader+"\x00"+hash -> waiting sim taps
}

type session struct {
	id       string
	decision rules.Decision
	view     *View
	reader   string
	expires  time.Time
	staff    bool // waits for staff (needs_staff)
}

type staffSession struct {
	staffID  string
	name     string
	needPIN  bool
	lastSeen time.Time
	pending  *rules.Decision // a confirm (staff out) waiting
}

type rollCall struct {
	started time.Time
	marks   map[string]bool
}

// New builds the door from the store's roster and event log.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.SessionTimeout <= 0 {
		cfg.SessionTimeout = 20 * time.Second
	}
	if cfg.StaffLockAfter <= 0 {
		cfg.StaffLockAfter = 60 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Service{cfg: cfg, log: cfg.Logger, presence: attendance.NewPresence(), local: attendance.NewPresence(), key: cfg.Key,
		sessions: map[string]*session{}, subs: map[chan Update]struct{}{}, awaits: map[string][]chan View{}}
	r, err := cfg.Store.Roster(ctx)
	if err != nil && !errors.Is(err, attendance.ErrNotFound) {
		return nil, err
	}
	if err == nil {
		if s.ix, err = roster.NewIndex(&r); err != nil {
			return nil, fmt.Errorf("door: stored roster: %w", err)
		}
	}
	if err := s.rebuild(ctx, cfg.Store); err != nil {
		return nil, err
	}
	return s, nil
}

// SetRoster puts a new roster in force (after the store applied it).
func (s *Service) SetRoster(r roster.Roster) error {
	ix, err := roster.NewIndex(&r)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.ix = ix
	// New groups or windows: the trackers start again from today's events.
	if err := s.rebuild(context.Background(), s.cfg.Store); err != nil {
		s.log.Error("set roster: three-hour trackers not rebuilt", "err", err)
	}
	s.mu.Unlock()
	s.publishStaff()
	return nil
}

// SetKey puts the site's badge key in force (after enrolment).
func (s *Service) SetKey(k attendance.BadgeKey) {
	s.mu.Lock()
	s.key = k
	s.mu.Unlock()
}

func (s *Service) hash(uid []byte) (string, error) {
	s.mu.Lock()
	k := s.key
	s.mu.Unlock()
	if len(k) == 0 {
		return "", ErrNotEnrolled
	}
	return k.Hash(uid), nil
}

// Roster returns the index in force (nil before the first roster).
func (s *Service) Roster() *roster.Index {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ix
}

func (s *Service) now() time.Time {
	t := s.cfg.Clock.Now()
	if s.ix != nil {
		t = t.In(s.ix.TZ)
	}
	return t
}

func newID(prefix string) string {
	b := make([]byte, 6)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// Tap decides a card presented to a reader and returns the decision as
// shown. The error is for a tap that could not be handled at all (unknown
// reader); a refused or unrecorded tap is a View with that outcome.
func (s *Service) Tap(ctx context.Context, reader string, uid []byte) (View, error) {
	role, ok := s.cfg.Readers[reader]
	if !ok {
		return View{}, fmt.Errorf("%w %q", ErrUnknownReader, reader)
	}
	hash, err := s.hash(uid)
	if err != nil {
		v := View{ID: newID("d-"), Outcome: rules.Denied, Reason: "not_enrolled", At: s.now()}
		s.publishDecision(v)
		s.resolveAwaits(reader, "", v)
		return v, nil
	}
	s.mu.Lock()
	v := s.tapLocked(ctx, reader, role, hash)
	s.mu.Unlock()
	s.publishDecision(v)
	s.resolveAwaits(reader, hash, v)
	return v, nil
}

func (s *Service) tapLocked(ctx context.Context, reader string, role rules.ReaderRole, hash string) View {
	now := s.now()
	if s.ix == nil {
		return s.show(&View{ID: newID("d-"), Outcome: rules.Denied, Reason: "no_roster", At: now})
	}
	var badge *roster.Badge
	if b, ok := s.ix.Badge(hash); ok {
		badge = &b
	}
	in := rules.Input{Now: now, Role: role, Badge: badge, Roster: s.ix, Presence: s.presence, Previous: s.last, Policy: s.cfg.Policy}
	d := rules.Decide(in)
	s.last = d.Remember
	if d.Outcome == rules.Denied && d.Reason == rules.ReasonUnknownBadge {
		s.log.Info("tap: unknown badge", "reader", reader)
	}
	// A child's tap that completes a handover replaces the adult's open
	// choice: the pair decides.
	if d.Reason == rules.ReasonHandover {
		for id, ss := range s.sessions {
			if ss.decision.Actor.ID == d.Actor.ID && !ss.staff {
				delete(s.sessions, id)
			}
		}
	}
	if d.StaffAlert != "" && d.Outcome != rules.Denied {
		// A person banned from one child but allowed another: staff know.
		s.addWarnings([]rules.Warning{{Code: rules.ReasonContactBan, Text: d.StaffAlert}})
	}
	switch d.Outcome {
	case rules.StaffIn:
		s.openStaffSession(d.Actor.ID, now)
		return s.commit(ctx, d, reader, attendance.Event{})
	case rules.StaffMenu:
		s.openStaffSession(d.Actor.ID, now)
		v := s.view(d, now)
		v.Committed = true
		return s.show(v)
	case rules.CheckIn, rules.CheckOut:
		return s.commit(ctx, d, reader, attendance.Event{})
	case rules.ChooseChildren:
		return s.openSession(d, reader, now, false)
	case rules.NeedsStaff:
		s.addWarnings(d.Warnings)
		return s.openSession(d, reader, now, true)
	case rules.Denied:
		if d.Reason == rules.ReasonContactBan {
			// Recorded for staff and the audit; the public screen shows only
			// the neutral text.
			s.addWarnings([]rules.Warning{{Code: rules.ReasonContactBan, Text: d.StaffAlert}})
			ev := s.eventContext(reader)
			ev.Type, ev.ActorRole, ev.ActorID, ev.Reason = attendance.DeniedTap, d.Actor.Role, d.Actor.ID, d.Reason
			ev.LocationID, ev.RosterVersion = s.ix.Roster.Location.ID, s.ix.Roster.Version
			if len(d.Children) == 1 { // a handover: the pair is recorded
				ev.ChildID, ev.GroupID = d.Children[0].ID, d.Children[0].GroupID
			}
			if _, err := s.cfg.Store.Append(ctx, ev); err != nil {
				s.log.Error("record denied tap", "err", err)
			}
		}
		v := s.view(d, now)
		v.Committed = true
		return s.show(v)
	}
	v := s.view(d, now)
	return s.show(v)
}

func (s *Service) eventContext(reader string) attendance.Event {
	return attendance.Event{
		Reader: reader, Wall: s.cfg.Clock.Now(), MonoNS: s.cfg.Clock.MonoNS(),
		BootID: s.cfg.Clock.BootID(), ClockSynced: s.cfg.Clock.Synced(),
	}
}

// commit writes a final decision's events and applies them to presence.
func (s *Service) commit(ctx context.Context, d rules.Decision, reader string, extra attendance.Event) View {
	now := s.now()
	ev := s.eventContext(reader)
	ev.ConfirmedBy, ev.IDChecked, ev.Note, ev.Manual, ev.Reason = extra.ConfirmedBy, extra.IDChecked, extra.Note, extra.Manual, extra.Reason
	ev.PolicyVersion = d.PolicyVersion
	evs := rules.Events(d, ev, s.ix)
	if d.Outcome == rules.CheckIn || d.Outcome == rules.CheckOut || d.Outcome == rules.ChooseChildren || d.Outcome == rules.NeedsStaff {
		if len(evs) == 0 && d.Reason != rules.ReasonHandover && d.Reason != rules.ReasonAlreadyDone {
			return s.show(&View{ID: newID("d-"), Outcome: rules.Denied, Reason: rules.ReasonNothingToDo, At: now, Committed: true})
		}
	}
	committed, err := s.cfg.Store.Append(ctx, evs...)
	if err != nil {
		s.log.Error("tap not recorded", "err", err, "outcome", d.Outcome)
		s.storeErr = err
		reason := "storage"
		if errors.Is(err, store.ErrDiskFull) {
			reason = "disk_full"
		}
		s.addWarnings([]rules.Warning{{Code: reason, Text: "Niet opgeslagen: " + err.Error()}})
		return s.show(&View{ID: newID("d-"), Outcome: "error", Reason: reason, At: now})
	}
	s.storeErr = nil
	for _, e := range committed {
		s.local.Apply(e)
	}
	s.merge()
	s.afterCommitLocked(committed)
	s.committed()
	s.addWarnings(d.Warnings)
	// A guardian's choice becomes a plain check-in/out on screen.
	final := d
	if final.Outcome == rules.ChooseChildren || final.Outcome == rules.NeedsStaff {
		final.Outcome = summarise(committed)
	}
	v := s.view(final, now)
	v.Committed = true
	// Show the state after the commit.
	for i := range v.Children {
		_, v.Children[i].Present = s.presence.Child(v.Children[i].ID)
	}
	s.publishStaffLocked()
	return s.show(v)
}

// committed tells the sync client there is something to push.
func (s *Service) committed() {
	if s.cfg.OnCommit != nil {
		s.cfg.OnCommit()
	}
}

func summarise(evs []attendance.Event) rules.Outcome {
	in, out := 0, 0
	for _, e := range evs {
		switch e.Type {
		case attendance.ChildCheckIn:
			in++
		case attendance.ChildCheckOut:
			out++
		}
	}
	if in >= out {
		return rules.CheckIn
	}
	return rules.CheckOut
}

func (s *Service) openSession(d rules.Decision, reader string, now time.Time, staff bool) View {
	timeout := s.cfg.SessionTimeout
	if staff {
		timeout = 5 * time.Minute
	}
	if staff {
		// The same person asking again (a child tapping twice) replaces
		// the open request instead of adding a second one.
		for id, old := range s.sessions {
			if old.staff && old.decision.Actor.ID == d.Actor.ID && old.decision.Reason == d.Reason {
				delete(s.sessions, id)
			}
		}
	}
	ss := &session{id: newID("s-"), decision: d, reader: reader, expires: now.Add(timeout), staff: staff}
	v := s.view(d, now)
	v.Session, v.ExpiresInMS = ss.id, timeout.Milliseconds()
	ss.view = v
	s.sessions[ss.id] = ss
	s.publishStaffLocked()
	return s.show(v)
}

func (s *Service) show(v *View) View {
	s.current = v
	return *v
}

func (s *Service) addWarnings(ws []rules.Warning) {
	for _, w := range ws {
		if w.Text == "" {
			continue
		}
		s.warnings = append(s.warnings, w)
	}
	if n := len(s.warnings); n > 20 {
		s.warnings = s.warnings[n-20:]
	}
}

// Select completes a choose_children session with the children the user
// kept selected.
func (s *Service) Select(ctx context.Context, sessionID string, childIDs []string) (View, error) {
	s.mu.Lock()
	ss, ok := s.sessions[sessionID]
	if !ok || ss.staff {
		s.mu.Unlock()
		return View{}, ErrNoSession
	}
	d := ss.decision
	if err := selectOnly(&d, childIDs); err != nil {
		s.mu.Unlock()
		return View{}, err
	}
	// The ratio is assessed again on the final choice.
	a := rules.Assess(s.ix, s.presence, s.now(), d.Children)
	d.Warnings = a.Warnings
	if a.Block != "" {
		d.Outcome, d.Reason = rules.NeedsStaff, a.Block
		delete(s.sessions, sessionID)
		v := s.openSession(d, ss.reader, s.now(), true)
		s.mu.Unlock()
		s.publishDecision(v)
		return v, nil
	}
	delete(s.sessions, sessionID)
	v := s.commit(ctx, d, ss.reader, attendance.Event{})
	s.mu.Unlock()
	s.publishDecision(v)
	return v, nil
}

func selectOnly(d *rules.Decision, ids []string) error {
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	n := 0
	for i := range d.Children {
		c := &d.Children[i]
		c.Selected = want[c.ID] && c.Action != rules.ActNone
		if want[c.ID] {
			n++
			delete(want, c.ID)
		}
	}
	if len(want) > 0 {
		return fmt.Errorf("%w: child not offered in this session", ErrBadRequest)
	}
	if n == 0 {
		return fmt.Errorf("%w: %v", ErrBadRequest, rules.ErrNothingSelected)
	}
	return nil
}

// Cancel ends a session without effect.
func (s *Service) Cancel(sessionID string) error {
	s.mu.Lock()
	_, ok := s.sessions[sessionID]
	delete(s.sessions, sessionID)
	if ok && s.current != nil && s.current.Session == sessionID {
		s.current = nil
	}
	s.mu.Unlock()
	if !ok {
		return ErrNoSession
	}
	s.publish(Update{Type: "done", ID: sessionID})
	s.publishStaff()
	return nil
}

// Confirm is staff releasing children on a needs_staff request after
// checking ID (or overriding a ratio/capacity block with a reason).
func (s *Service) Confirm(ctx context.Context, sessionID string, childIDs []string, idType, note string) (View, error) {
	s.mu.Lock()
	staff, err := s.staffLocked()
	if err != nil {
		s.mu.Unlock()
		return View{}, err
	}
	ss, ok := s.sessions[sessionID]
	if !ok || !ss.staff {
		s.mu.Unlock()
		return View{}, ErrNoSession
	}
	d := ss.decision
	if len(childIDs) == 0 {
		for _, c := range d.Children {
			childIDs = append(childIDs, c.ID)
		}
	}
	if d.Reason == rules.ReasonNotAnnounced {
		// Staff checked ID and decide which present child goes with this
		// person, even one the roster does not link them to.
		d.Children = append([]rules.Child(nil), d.Children...)
		offered := map[string]bool{}
		for _, c := range d.Children {
			offered[c.ID] = true
		}
		for _, id := range childIDs {
			st, present := s.presence.Child(id)
			c, known := s.ix.Child(id)
			if offered[id] || !present || !known {
				continue
			}
			g, _ := s.ix.Group(c.GroupID)
			d.Children = append(d.Children, rules.Child{ID: id, Name: c.FirstName, GroupID: c.GroupID, Group: g.Name,
				Present: true, Since: st.Since, Action: rules.ActCheckOut})
		}
	}
	if err := selectOnly(&d, childIDs); err != nil {
		s.mu.Unlock()
		return View{}, err
	}
	// A contact ban is never overridable at the door, not even by staff.
	for _, c := range d.Children {
		if _, ban := s.ix.Ban(c.ID, d.Actor.ID); ban && c.Selected {
			s.mu.Unlock()
			return View{}, fmt.Errorf("%w: %s", ErrContactBan, c.Name)
		}
	}
	extra := attendance.Event{ConfirmedBy: staff.staffID, IDChecked: idType, Note: note}
	switch d.Reason {
	case rules.ReasonNotAnnounced, rules.ReasonTooYoung, rules.ReasonNeedsGrownUp:
		if strings.TrimSpace(idType) == "" && d.Actor.Role != attendance.RoleChild {
			s.mu.Unlock()
			return View{}, fmt.Errorf("%w: the ID type checked is required", ErrBadRequest)
		}
	case rules.ReasonRatio, rules.ReasonCapacity:
		if strings.TrimSpace(note) == "" {
			s.mu.Unlock()
			return View{}, fmt.Errorf("%w: an override needs a reason", ErrBadRequest)
		}
		extra.Reason = "override_" + d.Reason
		ov := s.eventContext(ss.reader)
		ov.Type, ov.ActorRole, ov.ActorID = attendance.RatioOverride, attendance.RoleStaff, staff.staffID
		ov.Note, ov.Reason, ov.LocationID, ov.RosterVersion = note, d.Reason, s.ix.Roster.Location.ID, s.ix.Roster.Version
		if _, err := s.cfg.Store.Append(ctx, ov); err != nil {
			s.mu.Unlock()
			return View{}, err
		}
	}
	delete(s.sessions, sessionID)
	staff.lastSeen = s.now()
	v := s.commit(ctx, d, ss.reader, extra)
	s.mu.Unlock()
	s.publishDecision(v)
	return v, nil
}

// Refuse is staff refusing a pickup; it is recorded.
func (s *Service) Refuse(ctx context.Context, sessionID, reason string) error {
	s.mu.Lock()
	defer s.publishStaff()
	defer s.mu.Unlock()
	staff, err := s.staffLocked()
	if err != nil {
		return err
	}
	ss, ok := s.sessions[sessionID]
	if !ok || !ss.staff {
		return ErrNoSession
	}
	delete(s.sessions, sessionID)
	var evs []attendance.Event
	for _, c := range ss.decision.Children {
		e := s.eventContext(ss.reader)
		e.Type, e.ChildID, e.GroupID = attendance.PickupRefused, c.ID, c.GroupID
		e.ActorRole, e.ActorID, e.ConfirmedBy, e.Note, e.Reason = ss.decision.Actor.Role, ss.decision.Actor.ID, staff.staffID, reason, ss.decision.Reason
		e.LocationID, e.RosterVersion = s.ix.Roster.Location.ID, s.ix.Roster.Version
		evs = append(evs, e)
	}
	if len(evs) == 0 {
		e := s.eventContext(ss.reader)
		e.Type, e.ActorRole, e.ActorID, e.ConfirmedBy, e.Note = attendance.PickupRefused, ss.decision.Actor.Role, ss.decision.Actor.ID, staff.staffID, reason
		evs = append(evs, e)
	}
	if _, err := s.cfg.Store.Append(ctx, evs...); err != nil {
		return err
	}
	if s.current != nil && s.current.Session == sessionID {
		s.current = nil
		s.publish(Update{Type: "done", ID: sessionID}) // non-blocking; takes only subMu
	}
	return nil
}
