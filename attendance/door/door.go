// Package door runs the kiosk's tap path: a tap's badge is hashed and looked
// up, the rules decide, the resulting events commit to the store in one
// transaction, presence is updated from those committed events, and only
// then is the result published to the screen and answered. It also holds
// the short-lived state of the door: open choices, requests waiting for
// staff, the staff session and the emergency roll call.
//
// It knows no screen, network or chip: readers call Tap, the screen calls
// the intent methods (Select, Confirm, ...) and reads Subscribe; results
// are domain values (rules.Decision and friends), and the screen decides
// what of them the public may see.
//
// Concurrency: acts that change the door (taps, intents, a new roster, the
// other doors' presence, the tick) are serialised by the writer lock, which
// is held across the SQLite commit: one writer, like the store behind it.
// The door's state has its own short lock that is never held across the
// disk, a callback or a publication, so readers (Presence, Snapshot, the
// health check) never wait on an fsync.
package door

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/ratio"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/attendance/rules"
)

// Clock is the door's view of time on a device without a real-time clock.
type Clock interface {
	Now() time.Time
	MonoNS() int64 // monotonic nanoseconds since boot
	BootID() string
	Synced() bool
}

// Store is what the door needs of the event store (attendance/store.Store).
type Store interface {
	// Append commits events in one durable transaction and returns them
	// with their sequence numbers.
	Append(ctx context.Context, evs ...attendance.Event) ([]attendance.Event, error)
	// Events calls fn for every event after afterSeq, in order.
	Events(ctx context.Context, afterSeq int64, fn func(attendance.Event) error) error
	// Roster is the roster in force (attendance.ErrNotFound before the first).
	Roster(ctx context.Context) (roster.Roster, error)
	DeviceID() string
}

// Config builds a Service.
type Config struct {
	Store Store
	Key   attendance.BadgeKey
	// Readers maps reader names to their role; a tap from an unknown reader
	// is refused.
	Readers        map[string]attendance.ReaderRole
	Clock          Clock
	Policy         rules.Policy
	SessionTimeout time.Duration // how long a choice or request waits (default 20 s; staff requests 5 min)
	StaffLockAfter time.Duration // staff session lock after inactivity (default 60 s)
	// VerifyPIN checks a staff member's PIN; nil means PINs are not used.
	VerifyPIN func(staffID, pin string) error
	// OnCommit is called after events commit (the sync client pushes). It
	// is called with no lock of the door held.
	OnCommit func()
	// ThreeHourDay says which three-hour budget a group has on a date
	// (dagopvang, BSO school day, BSO vacation day); nil means
	// DefaultThreeHourDay. A daemon with a school calendar passes its own.
	ThreeHourDay func(g roster.Group, d attendance.Date) ratio.DayKind
	Logger       *slog.Logger
	// Observer is told each tap's outcome and latency and each commit's
	// timing (the daemon's metrics); nil: nobody.
	Observer Observer
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
	// ErrStateChanged: a child of the request changed state since it was
	// made (someone else checked it in or out); the request closed.
	ErrStateChanged = errors.New("door: state_changed: a child's state changed since the request")
)

// Service is the door: a thin front over the parts that each do one job.
// Decisions are serialised: one tap at a time, like the single writer
// behind it (see the package comment for the two locks).
type Service struct {
	cfg Config
	log *slog.Logger
	rec recorder   // the one place decisions become stored events
	pub *publisher // screen subscribers and the simulator's waiting taps

	// writer serialises every act that changes the door; held across the
	// commit, never taken by readers.
	writer sync.Mutex
	notify bool // events committed under the writer lock: OnCommit once it is released

	// mu guards the state below; held only for short, in-memory work.
	mu       sync.Mutex
	key      attendance.BadgeKey
	ix       *roster.Index
	pres     presence             // own events merged with the other doors' (remote.go)
	last     *rules.Tap           // the previous tap, for two-tap handovers
	sessions sessions             // choices and requests waiting for input, and the decision on screen
	staff    staffDesk            // the staff session and its PIN
	roll     *rollCall            // the emergency roll call (nil: none)
	three    *threeHour           // the live three-hour rule per group
	warn     warnings             // staff-visible warnings
	day      *attendance.DayStays // today's stays, for staff corrections (corrections.go)
	recent   rules.Recent         // the last act on each child and staff member, for the undo guard
	closed   []closedRequest      // requests closed without staff, to record (settle)
	storeErr error
}

// closedRequest is a request for staff that closed without a staff
// decision, and why (rules.CloseResolved, ...).
type closedRequest struct {
	s   *session
	why string
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
	if cfg.Observer == nil {
		cfg.Observer = noObserver{}
	}
	s := &Service{cfg: cfg, log: cfg.Logger, key: cfg.Key, pub: newPublisher(),
		rec:      recorder{store: cfg.Store, clock: cfg.Clock, obs: cfg.Observer},
		pres:     newPresence(cfg.Clock, cfg.Store.DeviceID),
		sessions: newSessions(),
		staff:    staffDesk{lockAfter: cfg.StaffLockAfter},
		three:    &threeHour{log: cfg.Logger, clock: cfg.Clock, dayKind: cfg.ThreeHourDay},
	}
	s.warn.now = s.now
	r, err := cfg.Store.Roster(ctx)
	if err != nil && !errors.Is(err, attendance.ErrNotFound) {
		return nil, err
	}
	if err == nil {
		if s.ix, err = roster.NewIndex(&r); err != nil {
			return nil, fmt.Errorf("door: stored roster: %w", err)
		}
	}
	if err := s.rebuild(ctx); err != nil {
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
	s.lockWriter()
	defer s.unlockWriter()
	s.mu.Lock()
	s.ix = ix
	s.mu.Unlock()
	// New groups or windows: the trackers start again from today's events.
	if err := s.rebuild(context.Background()); err != nil {
		s.log.Error("set roster: three-hour trackers not rebuilt", "err", err)
	}
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

// StorageError is the last failure to record (nil when the last write
// worked): health checks and the staff screen show it.
func (s *Service) StorageError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.storeErr
}

// now is the door's time in the location's zone; s.mu held.
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

func (s *Service) lockWriter() { s.writer.Lock() }

// unlockWriter releases the writer lock, then tells the sync client when
// there is something to push: OnCommit runs with no lock of the door held.
func (s *Service) unlockWriter() {
	notify := s.notify
	s.notify = false
	s.writer.Unlock()
	if notify && s.cfg.OnCommit != nil {
		s.cfg.OnCommit()
	}
}

// rebuild folds the whole event log into a fresh presence and, when a
// roster is in force, new trackers fed with today's history (the state at
// midnight, then every event since). It reads the store without the state
// lock; s.writer held or the door not yet shared.
func (s *Service) rebuild(ctx context.Context) error {
	s.mu.Lock()
	ix := s.ix
	s.mu.Unlock()
	three := s.three.fresh()
	p := attendance.NewPresence()
	var recent rules.Recent
	var midnight time.Time
	if ix != nil {
		three.reset(ix)
		midnight = attendance.DateOf(s.cfg.Clock.Now().In(ix.TZ)).In(ix.TZ)
	}
	crossed := false
	day := newDayStays(ix)
	err := s.cfg.Store.Events(ctx, 0, func(e attendance.Event) error {
		day.Apply(e)
		recent.Fold(e)
		if ix != nil && !e.Wall.Before(midnight) {
			if !crossed {
				crossed = true
				three.replay(ix, p, nil, midnight)
			}
			p.Apply(e)
			three.replay(ix, p, []attendance.Event{e}, e.Wall)
			return nil
		}
		p.Apply(e)
		return nil
	})
	if err != nil {
		return fmt.Errorf("door: rebuild presence: %w", err)
	}
	if err := s.foldRemoteCorrections(ctx, p, day); err != nil {
		return err
	}
	if ix != nil && !crossed {
		three.replay(ix, p, nil, midnight)
	}
	s.mu.Lock()
	s.three = three
	s.day = day
	s.recent = recent
	s.pres.setLocal(p)
	s.mu.Unlock()
	return nil
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

// expire is the door's tick: sessions and the decision on screen time out,
// central's presence goes stale, the staff session locks, and staff are
// warned of forgotten check-outs and three-hour alerts.
func (s *Service) expire() {
	s.lockWriter()
	defer s.unlockWriter()
	s.mu.Lock()
	now := s.now()
	done, expired := s.sessions.expire(now)
	for _, ss := range expired {
		s.closed = append(s.closed, closedRequest{ss, rules.CloseExpired})
	}
	s.pres.expire()
	locked := s.staff.expire(now)
	warned := s.warn.forgottenCheckOuts(s.ix, s.pres.current(), now) // every tick, not only when nothing else changed
	changed := len(done) > 0 || locked || warned
	if s.ix != nil {
		for _, w := range s.three.newAlerts(s.ix) {
			s.warn.add(w)
			changed = true
		}
	}
	var panel *StaffPanel
	if changed {
		panel = s.staffPanel()
	}
	s.mu.Unlock()
	for _, id := range done {
		s.pub.publish(Update{Type: "done", ID: id})
	}
	if changed {
		s.pub.publish(Update{Type: "staff", Staff: panel})
	}
	s.settle(context.Background())
}

// settle closes the requests whose situation resolved by itself, records
// every request closed without staff (resolved, expired, superseded) and
// tells the screens. s.writer held, s.mu not.
func (s *Service) settle(ctx context.Context) {
	s.mu.Lock()
	if s.ix != nil {
		for _, ss := range s.sessions.resolved(s.pres.current()) {
			s.closed = append(s.closed, closedRequest{ss, rules.CloseResolved})
		}
	}
	closed := s.closed
	s.closed = nil
	var evs []attendance.Event
	var done []string
	for _, c := range closed {
		evs = append(evs, s.rec.closed(s.ix, c.s.decision, c.s.reader, c.why)...)
		s.sessions.clearScreen(c.s.id)
		// Every screen hears that the request is over (spec 5), also when
		// another decision replaced it on the glass: a page that does not
		// show it ignores the done.
		done = append(done, c.s.id)
	}
	s.mu.Unlock()
	if len(closed) == 0 {
		return
	}
	if len(evs) > 0 {
		if committed, err := s.rec.append(ctx, evs...); err != nil {
			s.log.Error("record closed requests", "err", err)
		} else {
			s.mu.Lock()
			s.applyCommitted(committed)
			s.mu.Unlock()
		}
	}
	for _, id := range done {
		s.pub.publish(Update{Type: "done", ID: id})
	}
	s.publishStaff()
}
