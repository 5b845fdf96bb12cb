package door

import (
	"context"
	"testing"
	"time"
)

// TestPINVerifyMayUseTheDoor: the PIN check runs without the door's lock,
// so a verifier that reads the roster (as kioskd's does) cannot deadlock.
func TestPINVerifyMayUseTheDoor(t *testing.T) {
	r := newRig(t)
	r.s.cfg.VerifyPIN = func(staffID, pin string) error {
		if m, ok := r.s.Roster().Staff(staffID); !ok || m.PINHash == "" { // takes the door's lock
			t.Errorf("staff %s has no PIN in the roster", staffID)
		}
		if pin != "1234" {
			return ErrBadRequest
		}
		return nil
	}
	r.tap("E3C42D5E") // Priya: the demo roster gives her a PIN
	done := make(chan error, 1)
	go func() { done <- r.s.PIN("1234") }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("PIN deadlocked")
	}
	if err := r.s.Manual(context.Background(), ManualRollStart, "", ""); err != nil {
		t.Errorf("staff session not unlocked after the PIN: %v", err)
	}
}
