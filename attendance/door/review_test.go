package door

// Found by the review walk of the door (both parents tap at the door):
// the undo guard also covers another adult's act on the same children.

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/attendance/rules"
)

// Fatima brings Mila and Daan; Kees, with her at the door, taps his card
// too 5 s later. His tap must not take them straight out again: it asks,
// nothing selected, and records nothing. After the guard his tap offers
// the pickup as usual.
func TestReviewSecondParentAtDropOffAsks(t *testing.T) {
	r := guarded(t)
	ctx := context.Background()
	v := r.tap(cardFatima)
	if _, err := r.s.Select(ctx, v.Session, []string{"c-mila", "c-daan"}); err != nil {
		t.Fatal(err)
	}
	r.clk.advance(5 * time.Second)
	seq := r.lastSeq()
	v = r.tap(cardKees)
	if v.Outcome != rules.Confirm || v.Reason != rules.ReasonUndoRecent ||
		!slices.Equal(childSums(v.Children), []string{"c-mila:check_out:-:present", "c-daan:check_out:-:present"}) {
		t.Fatalf("Kees's tap 5 s after Fatima's drop-off = %s %s %v", v.Outcome, v.Reason, childSums(v.Children))
	}
	if evs := r.events(seq); len(evs) != 0 {
		t.Fatalf("Kees's tap acted: %+v", sumEvents(evs))
	}
	if err := r.s.Cancel(v.Session); err != nil {
		t.Fatal(err)
	}
	r.clk.advance(3 * time.Minute)
	if v = r.tap(cardKees); v.Outcome != rules.ChooseChildren {
		t.Errorf("Kees's tap after the guard = %s %s %v", v.Outcome, v.Reason, childSums(v.Children))
	}
}
