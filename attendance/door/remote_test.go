package door

import (
	"testing"
	"time"
)

// Two doors: a child checked in at the other door is present here (a tap
// here checks the child out); a child we checked in and who left through
// the other door is gone; a stale remote view falls back to our own events.
func TestRemotePresenceFromTheOtherDoor(t *testing.T) {
	r := newRig(t)
	// Zoë came in through the back door (another kiosk) five minutes ago.
	r.s.SetRemote(Remote{AsOf: start, Children: []RemoteStay{{ID: "c-zoe", GroupID: "g-vlinders", Since: start.Add(-5 * time.Minute), DeviceID: "kiosk-back"}}})
	if p := r.s.Presence(); len(p.Children) != 1 || p.Children[0].ID != "c-zoe" {
		t.Fatalf("presence with the other door: %+v", p.Children)
	}
	if v := r.tap("2B3C4D5E"); v.Outcome != "check_out" {
		t.Fatalf("Youssef at this door = %s, want check_out", v.Outcome)
	}
	if p := r.s.Presence(); len(p.Children) != 0 {
		t.Fatalf("after the check-out here: %+v", p.Children)
	}

	// Levi checks in here (seq known to central after the ack) ...
	r.clk.advance(time.Minute)
	if v := r.tap("1C2D3E4F"); v.Outcome != "check_in" {
		t.Fatalf("Ruben = %s", v.Outcome)
	}
	seq := r.lastSeq()
	// ... central has it but no longer lists him: he left by the back door.
	r.clk.advance(time.Minute)
	r.s.SetRemote(Remote{AsOf: r.clk.Now(), AckedThrough: seq})
	if p := r.s.Presence(); len(p.Children) != 0 {
		t.Fatalf("Levi left through the other door but is still present: %+v", p.Children)
	}
	// A check-in central has not acknowledged yet is kept.
	r.clk.advance(time.Minute)
	r.tap("1C2D3E4F")
	r.s.SetRemote(Remote{AsOf: r.clk.Now(), AckedThrough: seq})
	if p := r.s.Presence(); len(p.Children) != 1 {
		t.Fatalf("an unacknowledged local check-in was dropped: %+v", p.Children)
	}
	// A stale view (the kiosk went offline) is ignored.
	r.s.SetRemote(Remote{AsOf: r.clk.Now(), AckedThrough: seq + 1,
		Children: []RemoteStay{{ID: "c-tess", GroupID: "g-vlinders", Since: r.clk.Now(), DeviceID: "kiosk-back"}}})
	r.clk.advance(RemoteMaxAge + time.Second)
	r.tap("E2B31C4D") // any commit recomputes
	for _, c := range r.s.Presence().Children {
		if c.ID == "c-tess" {
			t.Errorf("a stale remote view is still in force")
		}
	}
}
