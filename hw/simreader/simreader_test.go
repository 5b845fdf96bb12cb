package simreader

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/kinderdeur/kiosk/hw"
	"github.com/kinderdeur/kiosk/hw/rc522"
)

// start runs r until the test ends and returns the tap channel.
func start(t *testing.T, r *Reader) <-chan hw.Tap {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	taps := make(chan hw.Tap, 16)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := r.Run(ctx, taps); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); wg.Wait() })
	return taps
}

func next(t *testing.T, taps <-chan hw.Tap) hw.Tap {
	t.Helper()
	select {
	case tp := <-taps:
		return tp
	case <-time.After(3 * time.Second):
		t.Fatal("no tap within 3s")
	}
	return hw.Tap{}
}

func quiet(t *testing.T, taps <-chan hw.Tap, d time.Duration) {
	t.Helper()
	select {
	case tp := <-taps:
		t.Fatalf("unexpected tap %x", tp.UID)
	case <-time.After(d):
	}
}

func TestTapPerUIDLength(t *testing.T) {
	for _, irq := range []bool{false, true} {
		r := New("entrance", WithPollInterval(5*time.Millisecond), WithIRQ(irq))
		taps := start(t, r)
		for _, uid := range [][]byte{
			{0x11, 0x22, 0x33, 0x44},
			{0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66},
			{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A},
		} {
			if err := r.Present(uid); err != nil {
				t.Fatal(err)
			}
			got := next(t, taps)
			if diff := cmp.Diff(hw.Tap{Reader: "entrance", UID: uid}, hw.Tap{Reader: got.Reader, UID: got.UID}); diff != "" {
				t.Errorf("irq=%v tap (-want +got):\n%s", irq, diff)
			}
			quiet(t, taps, 30*time.Millisecond) // resting card: one tap
			r.Remove()
		}
		if h := r.Health(); !h.OK || h.Kind != "sim" || h.Chip != "MFRC522 v2.0 (0x92)" {
			t.Errorf("health = %+v", h)
		}
	}
}

func TestRetapSameCardIsNewTap(t *testing.T) {
	r := New("exit", WithPollInterval(5*time.Millisecond))
	taps := start(t, r)
	uid := []byte{0x04, 0xA1, 0xB2, 0xC3, 0xD4, 0xE5, 0xF6}
	for i := 0; i < 3; i++ {
		if err := r.Present(uid); err != nil {
			t.Fatal(err)
		}
		next(t, taps)
		r.Remove()
	}
}

func TestPresentBadLength(t *testing.T) {
	r := New("x")
	if err := r.Present([]byte{1, 2, 3}); err == nil {
		t.Error("Present(3 bytes) = nil error")
	}
}

func TestCollisionEvent(t *testing.T) {
	events := make(chan rc522.Event, 16)
	r := New("entrance", WithPollInterval(5*time.Millisecond), WithOnEvent(func(e rc522.Event) {
		select {
		case events <- e:
		default:
		}
	}))
	taps := start(t, r)
	if err := r.PresentAll([]byte{0x11, 0x22, 0x33, 0x44}, []byte{0x11, 0x22, 0x33, 0x45}); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-events:
		if e.Kind != rc522.EventCollision || !errors.Is(e.Err, rc522.ErrCollision) {
			t.Errorf("event = %+v", e)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no collision event")
	}
	quiet(t, taps, 20*time.Millisecond)
}
