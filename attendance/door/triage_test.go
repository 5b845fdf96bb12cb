package door

// Regression tests from the triage of the morning model test (issue 14):
// the undo guard for any tap of the same adult soon after their own act,
// one-way readers that never act on a child the person did not choose, and
// a request that closes by itself while another decision is on the glass.

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/rules"
)

const (
	cardKees   = "5C7F3BE4" // guardian of Mila and Daan
	cardIngrid = "3A5F19C2" // guardian of Julia and Lucas
)

// oneWay is a guarded door with the morning test's three readers.
func oneWay(t *testing.T) *rig {
	t.Helper()
	r := newRig(t)
	r.cfg.Policy.UndoGuard = 2 * time.Minute
	r.cfg.Readers = map[string]attendance.ReaderRole{"entrance": attendance.ReaderBoth, "in": attendance.ReaderIn, "out": attendance.ReaderOut}
	s, err := New(context.Background(), r.cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.s = s
	return r
}

func (r *rig) tapAt(reader, card string) Result {
	r.t.Helper()
	uid, err := attendance.ParseUID(card)
	if err != nil {
		r.t.Fatal(err)
	}
	v, err := r.s.Tap(context.Background(), reader, uid)
	if err != nil {
		r.t.Fatalf("tap %s at %s: %v", card, reader, err)
	}
	return v
}

// Morning seed 1/3: Kees picks Mila only at the entrance reader; his card
// brushes the reader 2 s later: Daan (at home) is not checked in, the door
// asks, nothing selected.
func TestTriageSecondTapDoesNotBringTheSibling(t *testing.T) {
	r := oneWay(t)
	ctx := context.Background()
	v := r.tapAt("in", cardKees)
	if v.Outcome != rules.ChooseChildren {
		t.Fatalf("first tap = %s %v", v.Outcome, childSums(v.Children))
	}
	if _, err := r.s.Select(ctx, v.Session, []string{"c-mila"}); err != nil {
		t.Fatal(err)
	}
	r.clk.advance(2 * time.Second)
	seq := r.lastSeq()
	v = r.tapAt("in", cardKees)
	if v.Outcome != rules.Confirm || v.Reason != rules.ReasonUndoRecent || v.Session == "" ||
		!slices.Equal(childSums(v.Children), []string{"c-daan:check_in:-:absent"}) {
		t.Fatalf("second tap = %s %s %v", v.Outcome, v.Reason, childSums(v.Children))
	}
	if evs := r.events(seq); len(evs) != 0 {
		t.Fatalf("the second tap acted: %+v", sumEvents(evs))
	}
	r.s.Cancel(v.Session)
	if _, in := r.s.pres.current().Child("c-daan"); in {
		t.Fatal("Daan checked in")
	}
}

// Morning: Ingrid checks Lucas in; her second tap 2 s later offers Julia
// (in) and Lucas (out), neither preselected.
func TestTriageSecondTapPreselectsNothing(t *testing.T) {
	r := oneWay(t)
	ctx := context.Background()
	v := r.tap(cardIngrid)
	if _, err := r.s.Select(ctx, v.Session, []string{"c-lucas"}); err != nil {
		t.Fatal(err)
	}
	r.clk.advance(2 * time.Second)
	v = r.tap(cardIngrid)
	if v.Outcome != rules.Confirm || v.Reason != rules.ReasonUndoRecent {
		t.Fatalf("second tap = %s %s", v.Outcome, v.Reason)
	}
	for _, c := range v.Children {
		if c.Selected {
			t.Errorf("%s preselected (%s)", c.ID, c.Action)
		}
	}
}

// The lead's decision: a parent picking up at the entrance-only reader
// gets nothing done: all children present says which door this is; a
// sibling at home is offered, never checked in silently.
func TestTriageEntranceNeverActsOnAnUnchosenChild(t *testing.T) {
	r := oneWay(t)
	ctx := context.Background()
	v := r.tapAt("in", cardFatima)
	if _, err := r.s.Select(ctx, v.Session, []string{"c-mila"}); err != nil {
		t.Fatal(err)
	}
	r.clk.advance(3 * time.Hour)
	seq := r.lastSeq()
	v = r.tapAt("in", cardFatima) // came to pick Mila up; Daan is at home
	if v.Outcome != rules.ChooseChildren || v.Reader != attendance.ReaderIn ||
		!slices.Equal(childSums(v.Children), []string{"c-daan:check_in:-:absent"}) {
		t.Fatalf("entrance tap = %s reader %q %v", v.Outcome, v.Reader, childSums(v.Children))
	}
	if evs := r.events(seq); len(evs) != 0 {
		t.Fatalf("the entrance tap acted: %+v", sumEvents(evs))
	}
	r.s.Cancel(v.Session)
	// At the exit: Mila goes out; Daan would be offered at an entrance only.
	v = r.tapAt("out", cardFatima)
	if v.Outcome != rules.ChooseChildren || v.Reader != attendance.ReaderOut {
		t.Fatalf("exit tap = %s reader %q %v", v.Outcome, v.Reader, childSums(v.Children))
	}
	if _, err := r.s.Select(ctx, v.Session, []string{"c-mila"}); err != nil {
		t.Fatal(err)
	}
	// Both at home, at the exit: nothing to do, "Dit is de uitgang".
	r.clk.advance(3 * time.Minute)
	v = r.tapAt("out", cardFatima)
	if v.Outcome != rules.Denied || v.Reason != rules.ReasonNothingToDo || v.Reader != attendance.ReaderOut {
		t.Fatalf("exit tap, nobody here = %s %s reader %q", v.Outcome, v.Reason, v.Reader)
	}
}

// Morning seed 3: Henk's request for Mila is replaced on the glass by Els's
// tap, which releases Mila: the request closes and every screen hears
// "done" for it, not only a screen that still shows it.
func TestTriageResolvedRequestOffScreenSendsDone(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	v := r.tap(cardFatima)
	if _, err := r.s.Select(ctx, v.Session, []string{"c-mila", "c-daan"}); err != nil {
		t.Fatal(err)
	}
	r.clk.advance(8 * time.Hour)
	henk := r.tap(cardHenk)
	if henk.Outcome != rules.NeedsStaff || henk.Session == "" {
		t.Fatalf("Henk = %+v", henk)
	}
	updates, unsub := r.s.Subscribe()
	defer unsub()
	r.clk.advance(time.Minute)
	if els := r.tap(cardEls); !els.Committed {
		t.Fatalf("Els = %+v", els)
	}
	var done bool
	for {
		select {
		case u := <-updates:
			done = done || u.Type == "done" && u.ID == henk.Session
			continue
		default:
		}
		break
	}
	if !done {
		t.Error("Henk's request closed (Mila left) without a done for its session")
	}
	closed := false
	for _, e := range r.events(0) {
		closed = closed || e.Type == "request_closed" && e.ChildID == "c-mila" && e.Reason == rules.CloseResolved
	}
	if !closed {
		t.Error("the closing is not recorded")
	}
}
