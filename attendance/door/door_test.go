package door

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/attendance/rules"
	"github.com/kinderdeur/kiosk/attendance/store"
)

// Demo cards (roster.Demo).
const (
	cardYoussef = "2B3C4D5E"       // guardian of Zoë (Vlinders) only
	cardSanne   = "04A11C2A6B5E80" // guardian of Noah, Emma, Sem
	cardFatima  = "4B6E2AD3"       // guardian of Mila and Daan
	cardEls     = "6D804CF5"       // neighbour, announced for Mila today
	cardTom     = "7E915D06"       // contact ban for Julia and Lucas
	cardLotte   = "E1A20B3C"       // staff, Rupsen
	cardAhmed   = "E2B31C4D"       // staff, Vlinders
	cardPriya   = "E3C42D5E"       // staff, BSO Bikkels
	cardFinn    = "04D44F5D9E81A3" // child, may leave alone
	cardAnna    = "04E5506EAF92B4" // child, may not
	cardUnknown = "A1B2C3D4"
)

var ams = func() *time.Location {
	l, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		panic(err)
	}
	return l
}()

// fakeClock is the door's Clock under the test's control.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) MonoNS() int64  { return c.Now().UnixNano() }
func (c *fakeClock) BootID() string { return "boot-test" }
func (c *fakeClock) Synced() bool   { return true }
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
func (c *fakeClock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// start is Wednesday 4 March 2026, 07:30 in Amsterdam.
var start = time.Date(2026, 3, 4, 7, 30, 0, 0, ams)

type rig struct {
	t     *testing.T
	s     *Service
	st    *store.Store
	clk   *fakeClock
	path  string
	cfg   Config
	today attendance.Date
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newRig opens a real store in a temp dir with the demo roster (modified by
// mods) and builds a door on it.
func newRig(t *testing.T, mods ...func(*roster.Roster)) *rig {
	t.Helper()
	return newRigWith(t, store.Options{}, mods...)
}

func newRigWith(t *testing.T, o store.Options, mods ...func(*roster.Roster)) *rig {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kiosk.db")
	st, err := store.OpenWith(path, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	today := attendance.DateOf(start)
	r, _ := roster.Demo(today)
	for _, m := range mods {
		m(&r)
	}
	ctx := context.Background()
	if err := st.ApplyRoster(ctx, r); err != nil {
		t.Fatal(err)
	}
	clk := &fakeClock{t: start}
	cfg := Config{Store: st, Key: roster.DemoBadgeKey, Readers: map[string]attendance.ReaderRole{"entrance": attendance.ReaderBoth},
		Clock: clk, Logger: quiet()}
	s, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &rig{t: t, s: s, st: st, clk: clk, path: path, cfg: cfg, today: today}
}

func (r *rig) tap(card string) Result {
	r.t.Helper()
	uid, err := attendance.ParseUID(card)
	if err != nil {
		r.t.Fatal(err)
	}
	v, err := r.s.Tap(context.Background(), "entrance", uid)
	if err != nil {
		r.t.Fatalf("tap %s: %v", card, err)
	}
	return v
}

// events returns the stored events after seq.
func (r *rig) events(after int64) []attendance.Event {
	r.t.Helper()
	var out []attendance.Event
	if err := r.st.Events(context.Background(), after, func(e attendance.Event) error { out = append(out, e); return nil }); err != nil {
		r.t.Fatal(err)
	}
	return out
}

func (r *rig) lastSeq() int64 {
	evs := r.events(0)
	if len(evs) == 0 {
		return 0
	}
	return evs[len(evs)-1].Seq
}

func (r *rig) staffView() *StaffPanel {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	return r.s.staffPanel()
}

func ids(pp []Person) []string {
	out := []string{}
	for _, p := range pp {
		out = append(out, p.ID)
	}
	return out
}

type evSum struct {
	Type                                attendance.EventType
	Child, Staff, Actor, Confirm, IDDoc string
	Reason                              string
	Manual                              bool
}

func sumEvents(evs []attendance.Event) []evSum {
	var out []evSum
	for _, e := range evs {
		out = append(out, evSum{e.Type, e.ChildID, e.StaffID, e.ActorID, e.ConfirmedBy, e.IDChecked, e.Reason, e.Manual})
	}
	return out
}

func TestTapCommitsAndPresenceComesFromTheStore(t *testing.T) {
	r := newRig(t)
	v := r.tap(cardYoussef)
	if v.Outcome != rules.CheckIn || !v.Committed || len(v.Children) != 1 || v.Children[0].Name != "Zoë" || !v.Children[0].Present {
		t.Fatalf("guardian tap = %+v", v)
	}
	if v := r.tap(cardAhmed); v.Outcome != rules.StaffIn || !v.Committed {
		t.Fatalf("staff tap = %+v", v)
	}
	want := []evSum{
		{Type: attendance.ChildCheckIn, Child: "c-zoe", Actor: "p-youssef"},
		{Type: attendance.StaffIn, Staff: "s-ahmed", Actor: "s-ahmed"},
	}
	if diff := cmp.Diff(want, sumEvents(r.events(0))); diff != "" {
		t.Errorf("stored events (-want +got):\n%s", diff)
	}
	for _, e := range r.events(0) {
		if e.LocationID != "loc-regenboog" || e.Reader != "entrance" || e.BootID != "boot-test" || e.DeviceID == "" || e.RosterVersion == 0 {
			t.Errorf("event context missing: %+v", e)
		}
	}
	before := r.s.Presence()

	// Restart: a new door on the reopened file derives the same presence.
	r.st.Close()
	st, err := store.Open(r.path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg := r.cfg
	cfg.Store = st
	s2, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	after := s2.Presence()
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("presence after restart (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"c-zoe"}, ids(after.Children)); diff != "" {
		t.Errorf("children (-want +got):\n%s", diff)
	}
}

func TestClockInUTCIsShownInLocalTime(t *testing.T) {
	r := newRig(t)
	// 23:30 UTC on 3 March is 00:30 on 4 March in Amsterdam.
	r.clk.set(time.Date(2026, 3, 3, 23, 30, 0, 0, time.UTC))
	v := r.tap(cardYoussef)
	if v.At.Location() != r.s.Roster().TZ || v.At.Day() != 4 || v.At.Hour() != 0 {
		t.Errorf("decision time %v, want 00:30 on the 4th in Amsterdam", v.At)
	}
	if since := v.Children[0].Since; !since.IsZero() && since.In(v.At.Location()).Format("15:04") != "00:30" {
		t.Errorf("since %v", since)
	}
}

func TestChooseChildrenSelectCommitsOnlyTheSelected(t *testing.T) {
	r := newRig(t)
	v := r.tap(cardSanne)
	if v.Outcome != rules.ChooseChildren || v.Session == "" || v.Committed || len(v.Children) != 3 {
		t.Fatalf("tap = %+v", v)
	}
	for _, c := range v.Children {
		if !c.Selected || c.Action != rules.ActCheckIn {
			t.Errorf("child not preselected for check-in: %+v", c)
		}
	}
	if n := len(r.events(0)); n != 0 {
		t.Fatalf("%d events before the choice", n)
	}
	ctx := context.Background()
	if _, err := r.s.Select(ctx, v.Session, []string{"c-julia"}); !errors.Is(err, ErrBadRequest) {
		t.Errorf("select a child not offered: %v", err)
	}
	if _, err := r.s.Select(ctx, v.Session, nil); !errors.Is(err, ErrBadRequest) {
		t.Errorf("select nothing: %v", err)
	}
	got, err := r.s.Select(ctx, v.Session, []string{"c-emma", "c-sem"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Outcome != rules.CheckIn || !got.Committed {
		t.Errorf("select = %+v", got)
	}
	want := []evSum{
		{Type: attendance.ChildCheckIn, Child: "c-emma", Actor: "p-sanne"},
		{Type: attendance.ChildCheckIn, Child: "c-sem", Actor: "p-sanne"},
	}
	if diff := cmp.Diff(want, sumEvents(r.events(0))); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if _, err := r.s.Select(ctx, v.Session, []string{"c-noah"}); !errors.Is(err, ErrNoSession) {
		t.Errorf("session used twice: %v", err)
	}
}

// els makes the neighbour's announcement for Mila tomorrow, not today.
func els(r *roster.Roster) {
	for i := range r.Announced {
		r.Announced[i].Date = attendance.DateOf(r.Announced[i].Date.In(time.UTC).AddDate(0, 0, 1))
	}
}

func TestNeedsStaffConfirm(t *testing.T) {
	r := newRig(t, els)
	ctx := context.Background()
	if err := r.s.Manual(ctx, ManualCheckIn, "c-mila", ""); !errors.Is(err, ErrNotStaff) {
		t.Fatalf("manual without staff: %v", err)
	}
	// Mila is brought by her mother.
	v := r.tap(cardFatima)
	if _, err := r.s.Select(ctx, v.Session, []string{"c-mila"}); err != nil {
		t.Fatal(err)
	}
	r.clk.advance(8 * time.Hour)
	v = r.tap(cardEls)
	// (The public view names no child: ui's TestPublicViewHidesStaffOnlyData.)
	if v.Outcome != rules.NeedsStaff || v.Reason != rules.ReasonNotAnnounced || v.Session == "" {
		t.Fatalf("unannounced tap = %+v", v)
	}
	if _, err := r.s.Confirm(ctx, v.Session, nil, "rijbewijs", ""); !errors.Is(err, ErrNotStaff) {
		t.Errorf("confirm without a staff session: %v", err)
	}
	r.tap(cardLotte)
	sv := r.staffView()
	if len(sv.Requests) != 1 || sv.Requests[0].Reason != rules.ReasonNotAnnounced || sv.Requests[0].Person != "Els K." ||
		len(sv.Requests[0].Children) != 1 || sv.Requests[0].Children[0].ID != "c-mila" || !sv.Requests[0].Photo {
		t.Errorf("staff request = %+v", sv.Requests)
	}
	if _, err := r.s.Confirm(ctx, v.Session, nil, " ", ""); !errors.Is(err, ErrBadRequest) {
		t.Errorf("confirm without an ID type: %v", err)
	}
	seq := r.lastSeq()
	got, err := r.s.Confirm(ctx, v.Session, nil, "rijbewijs", "")
	if err != nil {
		t.Fatal(err)
	}
	if got.Outcome != rules.CheckOut || !got.Committed {
		t.Errorf("confirm = %+v", got)
	}
	want := []evSum{{Type: attendance.ChildCheckOut, Child: "c-mila", Actor: "p-buurvrouw", Confirm: "s-lotte", IDDoc: "rijbewijs", Reason: rules.ReasonNotAnnounced}}
	if diff := cmp.Diff(want, sumEvents(r.events(seq))); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if _, ok := r.s.pres.current().Child("c-mila"); ok {
		t.Error("Mila still present")
	}
}

func TestConfirmNeverOverridesAContactBan(t *testing.T) {
	// Els is banned from Julia and not announced today. Anna (no
	// permission to leave alone) taps, then Els: a handover that goes to
	// staff. Staff may add other present children to an unannounced pickup,
	// but never Julia.
	r := newRig(t, els, func(ro *roster.Roster) {
		ro.ContactBans = append(ro.ContactBans, roster.ContactBan{ChildID: "c-julia", PersonID: "p-buurvrouw"})
	})
	ctx := context.Background()
	r.tap(cardLotte)
	for _, c := range []string{"c-julia", "c-anna"} {
		if err := r.s.Manual(ctx, ManualCheckIn, c, ""); err != nil {
			t.Fatal(err)
		}
	}
	r.clk.advance(time.Minute)
	if v := r.tap(cardAnna); v.Reason != rules.ReasonNeedsGrownUp {
		t.Fatalf("anna = %+v", v)
	}
	v := r.tap(cardEls)
	if v.Outcome != rules.NeedsStaff || v.Reason != rules.ReasonNotAnnounced {
		t.Fatalf("els = %+v", v)
	}
	r.tap(cardLotte)
	seq := r.lastSeq()
	if _, err := r.s.Confirm(ctx, v.Session, []string{"c-anna", "c-julia"}, "paspoort", ""); !errors.Is(err, ErrContactBan) {
		t.Errorf("staff released a child under a contact ban: %v", err)
	}
	if evs := r.events(seq); len(evs) != 0 {
		t.Errorf("events after a refused confirm: %+v", sumEvents(evs))
	}
	if _, err := r.s.Confirm(ctx, v.Session, []string{"c-anna"}, "paspoort", ""); err != nil {
		t.Errorf("confirm Anna alone: %v", err)
	}
	if _, ok := r.s.pres.current().Child("c-julia"); !ok {
		t.Error("Julia left")
	}
}

func TestRefuseIsRecorded(t *testing.T) {
	r := newRig(t, els)
	ctx := context.Background()
	r.tap(cardLotte)
	if err := r.s.Manual(ctx, ManualCheckIn, "c-mila", ""); err != nil {
		t.Fatal(err)
	}
	v := r.tap(cardEls)
	r.tap(cardLotte) // Els's tap locked the panel (issue 14 item 3)
	seq := r.lastSeq()
	if err := r.s.Refuse(ctx, v.Session, "niet aangemeld, moeder niet bereikbaar"); err != nil {
		t.Fatal(err)
	}
	want := []evSum{{Type: attendance.PickupRefused, Child: "c-mila", Actor: "p-buurvrouw", Confirm: "s-lotte", Reason: rules.ReasonNotAnnounced}}
	if diff := cmp.Diff(want, sumEvents(r.events(seq))); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if _, ok := r.s.pres.current().Child("c-mila"); !ok {
		t.Error("Mila left after a refusal")
	}
	r.tap(cardLotte) // a refusal locks the panel (issue 14 item 3)
	if err := r.s.Refuse(ctx, v.Session, "again"); !errors.Is(err, ErrNoSession) {
		t.Errorf("refuse twice: %v", err)
	}
}

func TestContactBanIsNeutralInPublic(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.tap(cardLotte)
	if err := r.s.Manual(ctx, ManualCheckIn, "c-julia", ""); err != nil {
		t.Fatal(err)
	}
	seq := r.lastSeq()
	ch, stop := r.s.Subscribe()
	defer stop()
	v := r.tap(cardTom)
	// The door answers the domain result; the screen shows the public only
	// a neutral text (ui's TestPublicViewHidesStaffOnlyData and TestSimTap).
	if v.Outcome != rules.Denied || v.Reason != rules.ReasonContactBan {
		t.Errorf("result = %+v", v)
	}
	// The published decision is the same result.
	for u := range ch {
		if u.Type == "decision" {
			if u.Decision.ID != v.ID || u.Decision.Reason != rules.ReasonContactBan {
				t.Errorf("published %+v", u.Decision)
			}
			break
		}
	}
	want := []evSum{{Type: attendance.DeniedTap, Actor: "p-tom", Reason: rules.ReasonContactBan}}
	if diff := cmp.Diff(want, sumEvents(r.events(seq))); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	r.tap(cardLotte) // Tom's tap locked the panel (issue 14 item 3)
	sv := r.staffView()
	found := false
	for _, w := range sv.Warnings {
		if w.Code == rules.ReasonContactBan && strings.Contains(w.Text, "Tom") && strings.Contains(w.Text, "rechtbank") {
			found = true
		}
	}
	if !found {
		t.Errorf("staff not alerted: %+v", sv.Warnings)
	}
}

func TestSessionExpiry(t *testing.T) {
	r := newRig(t)
	ch, stop := r.s.Subscribe()
	defer stop()
	v := r.tap(cardSanne)
	r.clk.advance(21 * time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.s.Run(ctx) }()
	deadline := time.After(10 * time.Second)
wait:
	for {
		select {
		case u := <-ch:
			if u.Type == "done" && u.ID == v.Session {
				break wait
			}
		case <-deadline:
			t.Fatal("no done update for the expired session")
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	if _, err := r.s.Select(context.Background(), v.Session, []string{"c-noah"}); !errors.Is(err, ErrNoSession) {
		t.Errorf("select after expiry: %v", err)
	}
	if snap := r.s.Snapshot(); snap.Decision != nil {
		t.Errorf("snapshot still shows %+v", snap.Decision)
	}
	if n := len(r.events(0)); n != 0 {
		t.Errorf("%d events from an expired choice", n)
	}
}

func TestStaffSessionLocks(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.tap(cardLotte)
	r.clk.advance(50 * time.Second)
	r.s.Activity()
	r.clk.advance(50 * time.Second)
	if err := r.s.Manual(ctx, ManualCheckIn, "c-noah", ""); err != nil {
		t.Fatalf("activity kept the session: %v", err)
	}
	r.clk.advance(61 * time.Second)
	r.s.expire()
	if sv := r.staffView(); sv != nil {
		t.Errorf("staff view after lock: %+v", sv)
	}
	if err := r.s.Manual(ctx, ManualCheckIn, "c-emma", ""); !errors.Is(err, ErrNotStaff) {
		t.Errorf("manual after lock: %v", err)
	}
	r.tap(cardLotte) // a present staff member: staff_menu, unlocked again
	if err := r.s.Manual(ctx, ManualCheckIn, "c-emma", ""); err != nil {
		t.Errorf("manual after a new tap: %v", err)
	}
	r.s.Lock()
	if err := r.s.Manual(ctx, ManualCheckIn, "c-sem", ""); !errors.Is(err, ErrNotStaff) {
		t.Errorf("manual after Lock: %v", err)
	}
}

func TestStaffPIN(t *testing.T) {
	errBadPIN := errors.New("wrong PIN")
	r := newRig(t, func(ro *roster.Roster) {
		for i := range ro.Staff {
			ro.Staff[i].PINHash = "set"
		}
	})
	var asked []string
	r.s.cfg.VerifyPIN = func(staffID, pin string) error {
		asked = append(asked, staffID)
		if pin != "2468" {
			return errBadPIN
		}
		return nil
	}
	ctx := context.Background()
	r.tap(cardLotte)
	sv := r.staffView()
	if sv == nil || !sv.PINRequired || len(sv.Present) != 0 || len(sv.Groups) != 0 {
		t.Fatalf("staff view before the PIN shows too much: %+v", sv)
	}
	if err := r.s.Manual(ctx, ManualCheckIn, "c-noah", ""); !errors.Is(err, ErrPINRequired) {
		t.Errorf("manual before the PIN: %v", err)
	}
	if err := r.s.PIN("1111"); !errors.Is(err, errBadPIN) {
		t.Errorf("wrong PIN: %v", err)
	}
	if err := r.s.PIN("2468"); err != nil {
		t.Fatal(err)
	}
	if err := r.s.Manual(ctx, ManualCheckIn, "c-noah", ""); err != nil {
		t.Errorf("manual after the PIN: %v", err)
	}
	if diff := cmp.Diff([]string{"s-lotte", "s-lotte"}, asked); diff != "" {
		t.Errorf("VerifyPIN calls (-want +got):\n%s", diff)
	}
}

func TestManualActions(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.tap(cardAhmed)
	seq := r.lastSeq()
	if err := r.s.Manual(ctx, ManualCheckIn, "c-zoe", "kaart vergeten"); err != nil {
		t.Fatal(err)
	}
	if err := r.s.Manual(ctx, ManualCheckIn, "c-zoe", ""); !errors.Is(err, ErrBadRequest) {
		t.Errorf("check in twice: %v", err)
	}
	if err := r.s.Manual(ctx, ManualCheckIn, "c-nobody", ""); !errors.Is(err, ErrBadRequest) {
		t.Errorf("unknown child: %v", err)
	}
	if err := r.s.Manual(ctx, "dance", "", ""); !errors.Is(err, ErrBadRequest) {
		t.Errorf("unknown action: %v", err)
	}
	if err := r.s.Manual(ctx, ManualCheckOut, "c-zoe", "opgehaald door vader"); err != nil {
		t.Fatal(err)
	}
	want := []evSum{
		{Type: attendance.ChildCheckIn, Child: "c-zoe", Actor: "s-ahmed", Confirm: "s-ahmed", Manual: true},
		{Type: attendance.ChildCheckOut, Child: "c-zoe", Actor: "s-ahmed", Confirm: "s-ahmed", Manual: true},
	}
	if diff := cmp.Diff(want, sumEvents(r.events(seq))); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if evs := r.events(seq); evs[0].Note != "kaart vergeten" {
		t.Errorf("note %q", evs[0].Note)
	}
}

func TestStaffOutThatBreaksTheRatioAsksFirst(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.tap(cardAhmed)
	r.tap(cardYoussef) // Zoë into Vlinders
	r.tap(cardAhmed)   // Youssef's tap locked the panel (issue 14 item 3)
	if err := r.s.Manual(ctx, ManualStaffOut, "", ""); err != nil {
		t.Fatal(err)
	}
	sv := r.staffView()
	if sv == nil || sv.Confirm == nil || len(sv.Confirm.Warnings) != 1 || sv.Confirm.Warnings[0].GroupID != "g-vlinders" {
		t.Fatalf("confirm = %+v", sv)
	}
	if _, ok := r.s.pres.current().Staff("s-ahmed"); !ok {
		t.Fatal("clocked out before confirming")
	}
	seq := r.lastSeq()
	if err := r.s.Manual(ctx, ManualStaffOutSure, "", ""); err != nil {
		t.Fatal(err)
	}
	want := []evSum{{Type: attendance.StaffOut, Staff: "s-ahmed", Actor: "s-ahmed", Confirm: "s-ahmed", Manual: true}}
	if diff := cmp.Diff(want, sumEvents(r.events(seq))); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if r.staffView() != nil {
		t.Error("the staff panel stays open after clocking out")
	}
	// Without children, clocking out needs no confirmation.
	r2 := newRig(t)
	r2.tap(cardLotte)
	if err := r2.s.Manual(ctx, ManualStaffOut, "", ""); err != nil {
		t.Fatal(err)
	}
	if _, ok := r2.s.pres.current().Staff("s-lotte"); ok {
		t.Error("still clocked in")
	}
}

func TestRatioBlockOverride(t *testing.T) {
	r := newRig(t, func(ro *roster.Roster) { ro.Location.RatioMode = "block" })
	ctx := context.Background()
	v := r.tap(cardYoussef)
	if v.Outcome != rules.NeedsStaff || v.Reason != rules.ReasonRatio || v.Session == "" {
		t.Fatalf("blocked check-in = %+v", v)
	}
	if n := len(r.events(0)); n != 0 {
		t.Fatalf("%d events for a blocked check-in", n)
	}
	r.tap(cardPriya) // staff of another group
	if _, err := r.s.Confirm(ctx, v.Session, nil, "", " "); !errors.Is(err, ErrBadRequest) {
		t.Errorf("override without a reason: %v", err)
	}
	seq := r.lastSeq()
	got, err := r.s.Confirm(ctx, v.Session, nil, "", "Ahmed staat in de gang")
	if err != nil {
		t.Fatal(err)
	}
	if got.Outcome != rules.CheckIn || !got.Committed {
		t.Errorf("override = %+v", got)
	}
	want := []evSum{
		{Type: attendance.RatioOverride, Actor: "s-priya", Reason: rules.ReasonRatio},
		{Type: attendance.ChildCheckIn, Child: "c-zoe", Actor: "p-youssef", Confirm: "s-priya", Reason: "override_ratio"},
	}
	if diff := cmp.Diff(want, sumEvents(r.events(seq))); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if evs := r.events(seq); evs[0].Note != "Ahmed staat in de gang" {
		t.Errorf("override note %q", evs[0].Note)
	}
}

func TestRollCall(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.tap(cardAhmed)
	r.tap(cardYoussef)
	r.tap(cardAhmed) // Youssef's tap locked the panel (issue 14 item 3)
	if err := r.s.Manual(ctx, ManualRollMark, "c-zoe", ""); !errors.Is(err, ErrRollCallActive) {
		t.Errorf("mark without a roll call: %v", err)
	}
	if err := r.s.Manual(ctx, ManualRollStart, "", ""); err != nil {
		t.Fatal(err)
	}
	if rc := r.staffView().RollCall; rc == nil || rc.Missing != 2 || len(rc.People) != 2 {
		t.Fatalf("roll call = %+v", rc)
	}
	seq := r.lastSeq()
	if err := r.s.Manual(ctx, ManualRollMark, "c-zoe", ""); err != nil {
		t.Fatal(err)
	}
	if err := r.s.Manual(ctx, ManualRollMark, "c-noah", ""); !errors.Is(err, ErrBadRequest) {
		t.Errorf("mark an absent child: %v", err)
	}
	if err := r.s.Manual(ctx, ManualRollMark, "s-ahmed", ""); err != nil {
		t.Fatal(err)
	}
	want := []evSum{
		{Type: attendance.RollCallMark, Child: "c-zoe", Actor: "s-ahmed", Confirm: "s-ahmed", Manual: true},
		{Type: attendance.RollCallMark, Staff: "s-ahmed", Actor: "s-ahmed", Confirm: "s-ahmed", Manual: true},
	}
	if diff := cmp.Diff(want, sumEvents(r.events(seq))); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if rc := r.staffView().RollCall; rc == nil || rc.Missing != 0 {
		t.Errorf("roll call after marks = %+v", rc)
	}
	// Roll call marks do not change presence.
	if diff := cmp.Diff([]string{"c-zoe"}, ids(r.s.Presence().Children)); diff != "" {
		t.Errorf("presence (-want +got):\n%s", diff)
	}
	if err := r.s.Manual(ctx, ManualRollEnd, "", ""); err != nil || r.staffView().RollCall != nil {
		t.Errorf("end roll call: %v", err)
	}
}

func TestDiskFull(t *testing.T) {
	r := newRigWith(t, store.Options{MaxPages: 80})
	ctx := context.Background()
	r.tap(cardYoussef) // Zoë in
	// Fill the database with filler events of shrinking size until not
	// even a small one fits.
	for _, size := range []int{2000, 200, 0} {
		for i := 0; i < 5000; i++ {
			e := attendance.Event{Type: attendance.RollCallMark, StaffID: "filler", Note: strings.Repeat("x", size), Wall: start}
			if _, err := r.st.Append(ctx, e); err != nil {
				if !errors.Is(err, store.ErrDiskFull) {
					t.Fatalf("filling: %v", err)
				}
				break
			}
		}
	}
	before := r.s.Presence()
	seq := r.lastSeq()
	v := r.tap(cardYoussef) // would check Zoë out
	if v.Outcome != "error" || v.Reason != "disk_full" || v.Committed {
		t.Errorf("tap on a full disk = %+v", v)
	}
	if diff := cmp.Diff(before, r.s.Presence()); diff != "" {
		t.Errorf("presence changed (-before +after):\n%s", diff)
	}
	if r.lastSeq() != seq {
		t.Error("an event was stored")
	}
	if !errors.Is(r.s.StorageError(), store.ErrDiskFull) {
		t.Errorf("StorageError = %v", r.s.StorageError())
	}
}

func TestSubscribeAndSnapshot(t *testing.T) {
	r := newRig(t)
	ch, stop := r.s.Subscribe()
	r.tap(cardAhmed)
	v := r.tap(cardSanne)
	var types []string
	var got *Result
	for len(ch) > 0 {
		u := <-ch
		types = append(types, u.Type)
		if u.Type == "decision" && u.Decision.ID == v.ID {
			got = u.Decision
		}
	}
	if got == nil || got.Outcome != rules.ChooseChildren || got.Session != v.Session {
		t.Errorf("published decision %+v (updates %v)", got, types)
	}
	snap := r.s.Snapshot()
	// Sanne's tap locked the staff panel (issue 14 item 3: it used to stay open).
	if snap.Location != "Kindercentrum De Regenboog" || snap.Decision == nil || snap.Decision.Session != v.Session || snap.Staff != nil {
		t.Errorf("snapshot = %+v", snap)
	}
	r.tap(cardAhmed)
	if snap = r.s.Snapshot(); snap.Staff == nil {
		t.Fatalf("snapshot after a staff tap = %+v", snap)
	}
	// (The snapshot's JSON on the wire: ui's TestSnapshotJSON.)
	for _, g := range snap.Staff.Groups {
		if g.ThreeHour == nil {
			t.Errorf("snapshot lacks the three-hour state of %s", g.GroupID)
		}
	}
	for len(ch) > 0 {
		<-ch
	}
	stop()
	if _, ok := <-ch; ok {
		t.Error("channel open after stop")
	}
	stop()             // idempotent
	r.tap(cardYoussef) // publishing to no one must not block or panic
}

func TestForgottenCheckOuts(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.tap(cardYoussef) // Zoë in at 07:30 on Wednesday
	r.clk.set(time.Date(2026, 3, 4, 16, 0, 0, 0, ams))
	r.tap(cardLotte)
	if sv := r.staffView(); len(sv.Forgotten) != 0 {
		t.Errorf("forgotten during opening hours: %+v", sv.Forgotten)
	}
	// After closing (18:30) Zoë is listed, and still present; the expiry
	// loop warns staff once.
	r.clk.set(time.Date(2026, 3, 4, 18, 45, 0, 0, ams))
	r.s.expire()
	r.s.expire()
	nWarn := 0
	r.s.mu.Lock()
	for _, w := range r.s.warn.list {
		if w.Code == "forgotten_check_out" {
			nWarn++
		}
	}
	r.s.mu.Unlock()
	if nWarn != 1 {
		t.Errorf("%d forgotten check-out warnings, want 1", nWarn)
	}
	r.s.Activity()
	r.tap(cardLotte)
	sv := r.staffView()
	want := []Person{{ID: "c-zoe", Name: "Zoë", GroupID: "g-vlinders", Group: "Vlinders", Since: time.Date(2026, 3, 4, 7, 30, 0, 0, ams)}}
	if diff := cmp.Diff(want, sv.Forgotten); diff != "" {
		t.Errorf("forgotten after closing (-want +got):\n%s", diff)
	}
	// The next morning, during opening hours: still listed (earlier day).
	r.clk.set(time.Date(2026, 3, 5, 8, 0, 0, 0, ams))
	r.tap(cardAhmed)
	sv = r.staffView()
	if diff := cmp.Diff(want, sv.Forgotten); diff != "" {
		t.Errorf("forgotten next morning (-want +got):\n%s", diff)
	}
	if _, ok := r.s.pres.current().Child("c-zoe"); !ok {
		t.Fatal("a forgotten child was checked out silently")
	}
	// Staff resolve it by hand; it is recorded.
	if err := r.s.Manual(ctx, ManualCheckOut, "c-zoe", "gisteren vergeten uit te checken"); err != nil {
		t.Fatal(err)
	}
	if sv := r.staffView(); len(sv.Forgotten) != 0 {
		t.Errorf("still forgotten: %+v", sv.Forgotten)
	}
}

// forgottenNotes lists the texts of the forgotten check-out notes.
func (r *rig) forgottenNotes() []string {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	var out []string
	for _, n := range r.s.warn.sorted() {
		if n.Code == "forgotten_check_out" {
			out = append(out, n.Text)
		}
	}
	return out
}

// TestForgottenCheckOutNoteIsOneLiveLine: the forgotten check-out warning
// is one line that follows the count as staff resolve the children, and
// goes when none is left (it used to add a line per count: "3 kinderen",
// "2 kinderen", "1 kind" all on the panel at once, and stay after).
func TestForgottenCheckOutNoteIsOneLiveLine(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.tap(cardYoussef) // Zoë in at 07:30
	v := r.tap(cardFatima)
	if _, err := r.s.Select(ctx, v.Session, []string{"c-mila", "c-daan"}); err != nil {
		t.Fatal(err)
	}
	r.clk.set(time.Date(2026, 3, 4, 18, 45, 0, 0, ams)) // after closing
	r.s.expire()
	if got := r.forgottenNotes(); len(got) != 1 || !strings.HasPrefix(got[0], "3 kinderen") {
		t.Fatalf("after closing: %q, want one note for 3 children", got)
	}
	// Twenty newer notes push it off the list; it comes back at the next
	// tick while the children are still in.
	r.clk.advance(time.Minute)
	r.s.mu.Lock()
	for i := range maxNotes {
		r.s.warn.add(rules.Warning{Code: "storage", Text: fmt.Sprint("note ", i)})
	}
	r.s.mu.Unlock()
	r.s.expire()
	if got := r.forgottenNotes(); len(got) != 1 || !strings.HasPrefix(got[0], "3 kinderen") {
		t.Fatalf("after twenty newer notes: %q, want the note for 3 children back", got)
	}
	r.tap(cardLotte)
	for i, child := range []string{"c-zoe", "c-mila"} {
		r.clk.advance(time.Minute)
		if err := r.s.Manual(ctx, ManualCheckOut, child, "vergeten uit te checken"); err != nil {
			t.Fatal(err)
		}
		r.s.expire()
		want := []string{"2 kinderen", "1 kind "}[i]
		if got := r.forgottenNotes(); len(got) != 1 || !strings.HasPrefix(got[0], want) {
			t.Errorf("after checking out %s: %q, want one note starting %q", child, got, want)
		}
	}
	r.clk.advance(time.Minute)
	if err := r.s.Manual(ctx, ManualCheckOut, "c-daan", "vergeten uit te checken"); err != nil {
		t.Fatal(err)
	}
	r.s.expire()
	if got := r.forgottenNotes(); len(got) != 0 {
		t.Errorf("all resolved, still noted: %q", got)
	}
	if sv := r.staffView(); len(sv.Forgotten) != 0 {
		t.Errorf("still forgotten: %+v", sv.Forgotten)
	}
}

func TestChildBadgesAtTheDoor(t *testing.T) {
	r := newRig(t)
	r.tap(cardPriya)
	if v := r.tap(cardAnna); v.Outcome != rules.CheckIn || !v.Committed || v.Actor.Name != "Anna" {
		t.Fatalf("Anna checks in: %+v", v)
	}
	seq := r.lastSeq()
	r.clk.advance(2 * time.Second)
	if v := r.tap(cardAnna); v.Outcome != rules.CheckIn || v.Reason != rules.ReasonAlreadyDone || !v.Committed {
		t.Errorf("second tap: %+v", v)
	}
	if evs := r.events(seq); len(evs) != 0 {
		t.Errorf("a second tap stored %+v", sumEvents(evs))
	}
	r.clk.set(time.Date(2026, 3, 4, 16, 30, 0, 0, ams))
	v := r.tap(cardAnna)
	if v.Outcome != rules.NeedsStaff || v.Reason != rules.ReasonNeedsGrownUp {
		t.Fatalf("Anna leaving alone: %+v", v)
	}
	r.clk.advance(3 * time.Second)
	r.tap(cardAnna)
	r.tap(cardPriya)
	if sv := r.staffView(); len(sv.Requests) != 1 {
		t.Errorf("a child tapping twice made %d requests", len(sv.Requests))
	}
	// Finn may cycle home.
	r.tap(cardFinn)
	r.clk.advance(time.Minute)
	if v := r.tap(cardFinn); v.Outcome != rules.CheckOut || v.Reason != rules.ReasonIndependent || !v.Committed {
		t.Errorf("Finn leaving: %+v", v)
	}
}

func TestUnknownCardAndReader(t *testing.T) {
	r := newRig(t)
	if v := r.tap(cardUnknown); v.Outcome != rules.Denied || v.Reason != rules.ReasonUnknownBadge {
		t.Errorf("unknown card: %+v", v)
	}
	if _, err := r.s.Tap(context.Background(), "back door", []byte{1, 2, 3, 4}); !errors.Is(err, ErrUnknownReader) {
		t.Errorf("unknown reader: %v", err)
	}
	if n := len(r.events(0)); n != 0 {
		t.Errorf("%d events", n)
	}
}

func TestHandoverWithABannedPersonRecordsThePair(t *testing.T) {
	const cardJulia = "0A0B0C0D"
	r := newRig(t, func(ro *roster.Roster) {
		uid, _ := attendance.ParseUID(cardJulia)
		ro.Badges = append(ro.Badges, roster.Badge{Hash: roster.DemoBadgeKey.Hash(uid), Role: attendance.RoleChild, HolderID: "c-julia"})
	})
	ctx := context.Background()
	r.tap(cardLotte)
	if err := r.s.Manual(ctx, ManualCheckIn, "c-julia", ""); err != nil {
		t.Fatal(err)
	}
	seq := r.lastSeq()
	r.clk.advance(time.Minute)
	r.tap(cardTom)
	r.clk.advance(5 * time.Second)
	v := r.tap(cardJulia)
	if v.Outcome != rules.Denied || v.Reason != rules.ReasonContactBan || len(v.Children) != 1 || v.Children[0].ID != "c-julia" {
		t.Errorf("result of the pair = %+v (the public view: ui's TestPublicViewHidesStaffOnlyData)", v)
	}
	want := []evSum{
		{Type: attendance.DeniedTap, Actor: "p-tom", Reason: rules.ReasonContactBan},
		{Type: attendance.DeniedTap, Child: "c-julia", Actor: "p-tom", Reason: rules.ReasonContactBan},
	}
	if diff := cmp.Diff(want, sumEvents(r.events(seq))); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if _, ok := r.s.pres.current().Child("c-julia"); !ok {
		t.Error("Julia left with a person under a contact ban")
	}
}

// TestClosedPanelIsSentOnce: every tap ends by publishing the staff
// panel's state; at a door without a staff session that is "closed" each
// time, and a repeat is not sent again (each one was a message to every
// screen after every tap). A panel that opens and closes is still sent
// both times, in order.
func TestClosedPanelIsSentOnce(t *testing.T) {
	r := newRig(t)
	ch, stop := r.s.Subscribe()
	defer stop()
	drain := func() (decisions int, staff []bool) {
		for {
			select {
			case u := <-ch:
				switch u.Type {
				case "decision":
					decisions++
				case "staff":
					staff = append(staff, u.Staff != nil)
				}
			default:
				return decisions, staff
			}
		}
	}
	for _, card := range []string{cardYoussef, cardFinn, cardUnknown, cardFinn} {
		r.tap(card)
		r.clk.advance(3 * time.Minute)
	}
	if d, staff := drain(); d != 4 || len(staff) > 1 || (len(staff) == 1 && staff[0]) {
		t.Errorf("4 taps without staff: %d decisions, staff updates %v; want 4 and at most one closed", d, staff)
	}
	r.tap(cardLotte) // the panel opens
	r.clk.advance(time.Minute)
	r.tap(cardYoussef) // a parent: the panel locks
	d, staff := drain()
	if d != 2 || len(staff) < 2 || !staff[0] || staff[len(staff)-1] {
		t.Fatalf("open then lock: %d decisions, staff updates %v; want open ... closed", d, staff)
	}
	for i, open := range staff[1:] {
		if !open && !staff[i] {
			t.Errorf("closed sent twice in a row: %v", staff)
		}
	}
	r.s.Lock() // already locked: nothing to send
	if _, staff := drain(); len(staff) != 0 {
		t.Errorf("Lock on a closed panel sent %v", staff)
	}
}
